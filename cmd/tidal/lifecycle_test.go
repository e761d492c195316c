package main

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

func TestRunGroupStopsInStageOrder(t *testing.T) {
	var mu sync.Mutex
	var events []string
	note := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	g := newRunGroup(slog.New(slog.DiscardHandler))
	started := make(chan struct{}, 3)
	comp := func(name string) func(context.Context) error {
		return func(ctx context.Context) error {
			started <- struct{}{}
			<-ctx.Done()
			note("stop " + name)
			return ctx.Err()
		}
	}
	g.add(stageStorage, "flusher", comp("flusher"))
	g.add(stageIntake, "http", comp("http"))
	g.add(stageWork, "scheduler", comp("scheduler"))
	g.onClose("magnetic", func() error { note("close magnetic"); return nil })
	g.onClose("memstore", func() error { note("close memstore"); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.run(ctx) }()
	for range 3 {
		<-started
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run = %v, want nil after a clean stop", err)
	}
	want := []string{"stop http", "stop scheduler", "stop flusher", "close memstore", "close magnetic"}
	if !slices.Equal(events, want) {
		t.Fatalf("order %v, want %v", events, want)
	}
	if err := g.close(); err != nil {
		t.Fatalf("second close = %v, want nil (closers run once)", err)
	}
}

func TestRunGroupFailureStopsEverything(t *testing.T) {
	g := newRunGroup(slog.New(slog.DiscardHandler))
	boom := errors.New("boom")
	stopped := make(chan struct{})
	g.add(stageIntake, "consumer", func(context.Context) error { return boom })
	g.add(stageStorage, "flusher", func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil })
	closed := false
	g.onClose("memstore", func() error { closed = true; return nil })
	err := g.run(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("run = %v, want the component's error", err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("the other components were not stopped")
	}
	if !closed {
		t.Fatal("closers did not run")
	}
}
