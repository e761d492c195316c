package memstore

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/wal"
)

// oooRound builds one remote-write shaped round: hosts x 10 cpu metrics x
// points samples 10 s apart from start, in batches of 1000 records with the
// samples of a series consecutive. seed changes the values, so that a round
// over an existing range rewrites (replaces) rows.
func oooRound(g *devopsGen, start int64, points int, seed float64) [][]ingest.Record {
	var out [][]ingest.Record
	batch := make([]ingest.Record, 0, 1000)
	for h := range g.hosts {
		for f, name := range cpuFields {
			dims := g.dims[h]
			for p := range points {
				v := float64(h*31+f*7+p) + seed
				batch = append(batch, ingest.Record{Time: start + int64(p)*int64(10*time.Second), Dimensions: dims,
					MeasureName: name, Value: ingest.Float(v), Version: 1})
				if len(batch) == cap(batch) {
					out = append(out, batch)
					batch = make([]ingest.Record, 0, 1000)
				}
			}
		}
	}
	if len(batch) > 0 {
		out = append(out, batch)
	}
	return out
}

// swappedRound is a round of in-order data as two line-protocol clients
// racing each other deliver it: batches of one point of every series
// (1000 series, one row each), the points in the order 1, 0, 3, 2, ...,
// so that every other row of a series lands before its last one.
func swappedRound(g *devopsGen, start int64, points int, seed float64, swap bool) [][]ingest.Record {
	var out [][]ingest.Record
	for q := range points {
		p := q
		if swap {
			p ^= 1
		}
		batch := make([]ingest.Record, 0, g.hosts*len(cpuFields))
		for h := range g.hosts {
			for f, name := range cpuFields {
				batch = append(batch, ingest.Record{Time: start + int64(p)*int64(10*time.Second), Dimensions: g.dims[h],
					MeasureName: name, Value: ingest.Float(float64(h*31+f*7+p) + seed), Version: 1})
			}
		}
		out = append(out, batch)
	}
	return out
}

// BenchmarkAppendOutOfOrder is the overlapping-rounds shape: rounds
// of 100 hosts x 10 metrics x 36 points (36K samples) written through
// Append (WAL without fsync) with IdempotentRewrite, as remote-write does.
// inorder advances each round by its whole range; overlap advances by half,
// so that half of every round rewrites rows of the previous one with new
// values (a backfill or a replay); late writes every round entirely inside
// the range already written; swapped is in-order data delivered with every
// other point late by one step (two clients racing, see swappedRound), to
// compare with bypoint, the same batches in order. Compare the samples/s of one run:
//
//	go test -run '^$' -bench AppendOutOfOrder -benchtime 12x ./memstore
func BenchmarkAppendOutOfOrder(b *testing.B) {
	const hosts, points = 100, 36
	span := int64(points) * int64(10*time.Second)
	for _, sc := range []struct {
		name    string
		advance func(round int) int64 // start of round r, relative
		bypoint bool                  // batches of one point of every series
		swapped bool
	}{
		{"inorder", func(r int) int64 { return int64(r) * span }, false, false},
		{"overlap", func(r int) int64 { return int64(r) * span / 2 }, false, false},
		{"late", func(r int) int64 { return int64(r%4) * span / 4 }, false, false},
		{"bypoint", func(r int) int64 { return int64(r) * span }, true, false},
		{"swapped", func(r int) int64 { return int64(r) * span }, true, true},
	} {
		b.Run(sc.name, func(b *testing.B) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			db := benchDB(b, wal.SyncNever, start.Add(300*24*time.Hour))
			g := newDevopsGen(hosts, start)
			ctx := context.Background()
			rounds := make([][][]ingest.Record, b.N)
			for r := range rounds {
				rounds[r] = oooRound(g, start.UnixNano()+sc.advance(r), points, float64(r))
				if sc.bypoint {
					rounds[r] = swappedRound(g, start.UnixNano()+sc.advance(r), points, float64(r), sc.swapped)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			var samples int
			for _, round := range rounds {
				for _, batch := range round {
					res, err := db.Append(ctx, "bench", "cpu", batch, ingest.AppendOptions{IdempotentRewrite: true})
					if err != nil || res.MemoryStore != len(batch) {
						b.Fatalf("append: %+v %v", res, err)
					}
					samples += len(batch)
				}
			}
			b.StopTimer()
			// CPU per sample holds up on a busy machine where the rate
			// does not.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(samples), "cpu-ns/sample")
			b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
