package bench

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// IngestResult is what one ingest run measured.
type IngestResult struct {
	Samples  int64
	Points   int64
	Requests int64
	Elapsed  time.Duration
}

// Rate is samples per second.
func (r IngestResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Samples) / r.Elapsed.Seconds()
}

// runIngest sends the points of w it through d with
// clients concurrent clients, batch samples per request (capped by the
// driver). Every host goes to one client, so each series arrives in time
// order (Prometheus refuses anything else); the generator runs ahead of
// the clients by at most a few batches.
func runIngest(ctx context.Context, d Driver, w *workload, clients, batch int, progressW io.Writer, label string) (IngestResult, error) {
	if m := d.MaxBatch(); m > 0 && batch > m {
		batch = m
	}
	prog := startProgress(progressW, label, "samples", w.samples)
	g, gctx := errgroup.WithContext(ctx)
	queues := make([]chan []tsbs.Point, clients)
	for i := range queues {
		queues[i] = make(chan []tsbs.Point, 4)
	}
	var res IngestResult
	start := time.Now()
	g.Go(func() error {
		defer func() {
			for _, q := range queues {
				close(q)
			}
		}()
		pending := make([][]tsbs.Point, clients)
		counts := make([]int, clients)
		send := func(c int) error {
			select {
			case queues[c] <- pending[c]:
			case <-gctx.Done():
				return gctx.Err()
			}
			res.Requests++
			pending[c], counts[c] = nil, 0
			return nil
		}
		err := w.each(func(p *tsbs.Point) error {
			c := clientOf(p, clients)
			pending[c] = append(pending[c], clonePoint(p))
			counts[c] += len(p.Fields)
			res.Points++
			res.Samples += int64(len(p.Fields))
			if counts[c] >= batch {
				return send(c)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for c := range pending {
			if len(pending[c]) > 0 {
				if err := send(c); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for c := range clients {
		g.Go(func() error {
			for pts := range queues[c] {
				if err := d.Write(gctx, pts); err != nil {
					return err
				}
				prog.Add(int64(samplesIn(pts)))
			}
			return nil
		})
	}
	err := g.Wait()
	res.Elapsed = time.Since(start)
	prog.Stop()
	if err != nil {
		return res, fmt.Errorf("ingest with %s: %w", d.Name(), err)
	}
	return res, nil
}

// clientOf maps a point to a client by its first tag (hostname or truck
// name).
func clientOf(p *tsbs.Point, clients int) int {
	if clients == 1 || len(p.Tags) == 0 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(p.Tags[0].Value))
	return int(h.Sum32() % uint32(clients))
}

// clonePoint copies p by value with its own slices (the generator reuses
// p).
func clonePoint(p *tsbs.Point) tsbs.Point {
	return tsbs.Point{
		Measurement: p.Measurement,
		Tags:        append([]tsbs.Tag(nil), p.Tags...),
		Fields:      append([]tsbs.Field(nil), p.Fields...),
		Time:        p.Time,
	}
}
