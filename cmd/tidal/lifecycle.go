package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"
)

// stage orders the shutdown of long-running components: every component of
// a stage has stopped before the next stage is told to stop, and the tiers
// close only after the last stage. So on SIGTERM intake stops first (no new
// request, message or record is accepted; in-flight ones drain), then the
// producers of internal writes, then the tiers' background work, and then
// the WAL is flushed and the tiers closed.
type stage int

const (
	// stageIntake: everything that accepts data or queries from outside
	// (the HTTP server; stream consumers; MQTT).
	stageIntake stage = iota
	// stageWork: components that write through the append path on their
	// own (the scheduled-query runner).
	stageWork
	// stageStorage: the tiers' background work (flushes, checkpoints,
	// merges, retention).
	stageStorage
	numStages
)

var stageNames = [numStages]string{"intake", "work", "storage"}

// component is one long-running part of the server.
type component struct {
	name string
	run  func(ctx context.Context) error
}

// runGroup runs the server's components and stops them in stage order.
// Adding a long-running component is one call to add.
type runGroup struct {
	logger  *slog.Logger
	stages  [numStages][]component
	closers []component // run after every stage stopped, last added first
	closed  bool
}

func newRunGroup(logger *slog.Logger) *runGroup { return &runGroup{logger: logger} }

// add registers a component: run must return when its context ends
// (returning nil or the context's error); an error before that stops the
// whole server.
func (g *runGroup) add(st stage, name string, run func(ctx context.Context) error) {
	g.stages[st] = append(g.stages[st], component{name: name, run: run})
}

// onClose registers what closes a resource once every component stopped.
// Closers run in the reverse order of registration: open a resource, then
// register its closer, and dependents close before what they depend on.
func (g *runGroup) onClose(name string, close func() error) {
	g.closers = append(g.closers, component{name: name, run: func(context.Context) error { return close() }})
}

// run starts every component and blocks until ctx ends or one of them
// fails; then it stops the stages in order and runs the closers. It returns
// the first component failure joined with any error met while stopping.
func (g *runGroup) run(ctx context.Context) error {
	trigger, stopAll := context.WithCancel(ctx)
	defer stopAll()
	var (
		ctxs    [numStages]context.Context
		cancels [numStages]context.CancelFunc
		groups  [numStages]*errgroup.Group
	)
	for st := range numStages {
		ctxs[st], cancels[st] = context.WithCancel(context.Background())
		groups[st] = new(errgroup.Group)
		for _, c := range g.stages[st] {
			sctx := ctxs[st]
			groups[st].Go(func() error {
				err := c.run(sctx)
				if sctx.Err() != nil {
					if errors.Is(err, context.Canceled) {
						err = nil
					}
				} else {
					// Ended before it was told to: the server cannot go on.
					if err == nil {
						err = errors.New("stopped unexpectedly")
					}
					g.logger.Error("component failed; stopping the server", "component", c.name, "err", err)
					stopAll()
				}
				if err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
				return nil
			})
		}
	}
	<-trigger.Done()
	var errs []error
	for st := range numStages {
		if len(g.stages[st]) > 0 {
			g.logger.Info("stopping", "stage", stageNames[st], "components", len(g.stages[st]))
		}
		cancels[st]()
		if err := groups[st].Wait(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, g.close())
	return errors.Join(errs...)
}

// close runs the closers once, last registered first.
func (g *runGroup) close() error {
	if g.closed {
		return nil
	}
	g.closed = true
	var errs []error
	for i := len(g.closers) - 1; i >= 0; i-- {
		c := g.closers[i]
		if err := c.run(context.Background()); err != nil {
			g.logger.Error("close", "component", c.name, "err", err)
			errs = append(errs, fmt.Errorf("close %s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}
