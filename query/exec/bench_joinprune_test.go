package exec

import (
	"context"
	"runtime"
	"testing"
)

// BenchmarkJoinBuildPrune runs joins of two table scans with whole build
// rows (prune=off, the path before build-side pruning) and with build
// rows cut to the columns the query uses (prune=on), in one run;
// B/op-ratio is on's bytes allocated per query over off's.
func BenchmarkJoinBuildPrune(b *testing.B) {
	type tc struct {
		name string
		db   func(b *testing.B) *testDB
		sql  string
	}
	cases := []tc{
		{"avg-vs-projected-fuel-consumption", func(b *testing.B) *testDB { return iotTable(b) }, iotQueries["avg-vs-projected-fuel-consumption"]},
		{"high-cpu-all", func(b *testing.B) *testDB { return joinTable(b) }, joinQueries["high-cpu-all"]},
		{"cross-join", func(b *testing.B) *testDB { return joinTable(b) }, `SELECT count(*), max(a.time) FROM "benchmark"."cpu" a CROSS JOIN "benchmark"."cpu" b
			WHERE a.hostname = 'host_1' AND b.hostname = 'host_2' AND a.measure_name = 'usage_user' AND b.measure_name = 'usage_user'`},
	}
	for _, c := range cases {
		db := c.db(b)
		e := New(db.cat, db, Options{})
		perOp := map[bool]float64{}
		for _, prune := range []bool{false, true} {
			name := c.name + "/prune=off"
			if prune {
				name = c.name + "/prune=on"
			}
			b.Run(name, func(b *testing.B) {
				defer func(old bool) { disableBuildPrune = old }(disableBuildPrune)
				disableBuildPrune = !prune
				b.ReportAllocs()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				before := ms.TotalAlloc
				n := 0
				for b.Loop() {
					res, err := e.Query(context.Background(), c.sql, nil)
					if err != nil {
						b.Fatalf("query: %v", err)
					}
					if len(res.Rows) == 0 {
						b.Fatal("no rows")
					}
					n++
				}
				runtime.ReadMemStats(&ms)
				perOp[prune] = float64(ms.TotalAlloc-before) / float64(n)
				if prune && perOp[false] > 0 {
					b.ReportMetric(perOp[true]/perOp[false], "B/op-ratio")
				}
			})
		}
	}
}
