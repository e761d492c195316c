package exec

import (
	"context"
	"runtime"
	"sort"
	"sync"
	"testing"
)

var (
	benchOnce sync.Once
	benchDB   *testDB
)

// benchTable is the 100-host x 24 h TSBS devops cpu table (8.64M rows).
func benchTable(b *testing.B) *testDB {
	benchOnce.Do(func() {
		benchDB = newTestDB(b)
		benchDB.loadTSBS(b, 100, 24*3600e9)
	})
	return benchDB
}

func BenchmarkTSBS(b *testing.B) {
	db := benchTable(b)
	benchQueries(b, New(db.cat, db, Options{}), tsbsQueries)
}

// benchQueries runs each of queries as a sub-benchmark, in name order,
// reporting CPU time per op next to the wall time and rows scanned per
// second.
func benchQueries(b *testing.B, e *Engine, queries map[string]string) {
	names := make([]string, 0, len(queries))
	for n := range queries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var scanned int64
			cpu := processCPU()
			for b.Loop() {
				res, err := e.Query(context.Background(), queries[name], nil)
				if err != nil {
					b.Fatalf("query: %v", err)
				}
				scanned += res.Stats.RowsScanned
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(scanned)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkScanAggregate measures the scan-and-aggregate rate over the
// whole table with GROUP BY bin(time, 1h), hostname: on the batch path
// (plain measure columns) and on the row path (a row predicate forces
// per-row evaluation), with one worker and with GOMAXPROCS workers (one
// scan per worker over disjoint measure names).
func BenchmarkScanAggregate(b *testing.B) {
	db := benchTable(b)
	type run struct {
		name string
		par  int
		sql  string
	}
	const batchSQL = `SELECT bin(time, 1h), hostname, avg(measure_value::double), max(measure_value::double) FROM "benchmark"."cpu" GROUP BY 1, 2`
	const rowSQL = `SELECT bin(time, 1h), hostname, avg(measure_value::double), max(measure_value::double) FROM "benchmark"."cpu" WHERE measure_value::double >= 0 GROUP BY 1, 2`
	p := runtime.GOMAXPROCS(0)
	runs := []run{{"batch/parallelism=1", 1, batchSQL}, {"batch/parallelism=" + itoa(p), p, batchSQL},
		{"row/parallelism=1", 1, rowSQL}, {"row/parallelism=" + itoa(p), p, rowSQL}}
	for _, r := range runs {
		e := New(db.cat, db, Options{Parallelism: r.par})
		par := r.par
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			var scanned int64
			cpu := processCPU()
			for b.Loop() {
				res, err := e.Query(context.Background(), r.sql, nil)
				if err != nil {
					b.Fatalf("query: %v", err)
				}
				if len(res.Rows) != 2400 {
					b.Fatalf("got %d groups, want 2400", len(res.Rows))
				}
				scanned += res.Stats.RowsScanned
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			rate := float64(scanned) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "rows/s")
			b.ReportMetric(rate/float64(par), "rows/s/core")
		})
	}
}
