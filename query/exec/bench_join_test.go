package exec

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

var (
	joinOnce sync.Once
	joinDB   *testDB
)

// joinTable is the 100-host x 3 h TSBS devops cpu table (1.08M rows), the
// size of tidal-bench's small preset.
func joinTable(b *testing.B) *testDB {
	joinOnce.Do(func() {
		joinDB = newTestDB(b)
		joinDB.loadTSBS(b, 100, 3*3600e9)
	})
	return joinDB
}

// joinQueries are TSBS's high-cpu-all and lastpoint over the 3 h table.
var joinQueries = map[string]string{
	"high-cpu-all": `WITH usage_over_ninety AS (
			SELECT time, hostname FROM "benchmark"."cpu"
			WHERE measure_name = 'usage_user' AND measure_value::double > 90
				AND time >= '2024-01-01 00:00:00 +0000' AND time < '2024-01-01 03:00:00 +0000')
		SELECT * FROM "benchmark"."cpu" a JOIN usage_over_ninety b ON a.hostname = b.hostname AND a.time = b.time`,
	"high-cpu-1": `WITH usage_over_ninety AS (
			SELECT time, hostname FROM "benchmark"."cpu"
			WHERE measure_name = 'usage_user' AND measure_value::double > 90
				AND time >= '2024-01-01 00:00:00 +0000' AND time < '2024-01-01 03:00:00 +0000' AND hostname = 'host_7')
		SELECT * FROM "benchmark"."cpu" a JOIN usage_over_ninety b ON a.hostname = b.hostname AND a.time = b.time`,
	"lastpoint": tsbsQueries["lastpoint"],
}

// BenchmarkJoin runs the TSBS join queries with the series-aware probe
// (path=series) and with the row-by-row probe it replaced (path=row), in
// one run so that the two compare as a ratio. peak-heap-B is the largest
// live heap seen while one extra query runs (sampled every 100 µs).
func BenchmarkJoin(b *testing.B) {
	db := joinTable(b)
	for _, name := range []string{"high-cpu-all", "high-cpu-1", "lastpoint"} {
		for _, path := range []string{"row", "series"} {
			e := New(db.cat, db, Options{rowJoin: path == "row"})
			b.Run(name+"/path="+path, func(b *testing.B) {
				b.ReportAllocs()
				var rows int
				cpu := processCPU()
				for b.Loop() {
					res, err := e.Query(context.Background(), joinQueries[name], nil)
					if err != nil {
						b.Fatalf("query: %v", err)
					}
					rows = len(res.Rows)
				}
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(peakHeap(b, func() { _, _ = e.Query(context.Background(), joinQueries[name], nil) })), "peak-heap-B")
			})
		}
	}
}

// peakHeap runs f and returns the largest heap-object bytes above the
// level before it, sampled on another goroutine.
func peakHeap(b *testing.B, f func()) uint64 {
	b.Helper()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var p uint64
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				peak <- max(p, read())
				return
			case <-t.C:
				p = max(p, read())
			}
		}
	}()
	f()
	close(done)
	p := <-peak
	if p < base {
		return 0
	}
	return p - base
}
