package exec

import (
	"context"
	"testing"
)

type countSink struct{ rows int }

func (s *countSink) Columns([]Column) error { return nil }
func (s *countSink) Row([]Value) error      { s.rows++; return nil }

// BenchmarkSmallQuery measures the fixed cost of a small query (TSBS
// single-groupby-1-1-1: one host, one metric, one hour, 61 rows, sorted)
// streamed as the Query API runs it: parse, plan, scan, aggregate, sort.
// before sorts into whole 4096-Value slab blocks from the first row (as
// the slab did); after grows them from 64.
func BenchmarkSmallQuery(b *testing.B) {
	db := benchTable(b)
	e := New(db.cat, db, Options{})
	sql := tsbsQueries["single-groupby-1-1-1"]
	run := func(first int) func() {
		return func() {
			old := slabMin
			slabMin = first
			defer func() { slabMin = old }()
			var s countSink
			if _, err := e.Stream(context.Background(), sql, nil, &s); err != nil {
				b.Fatalf("query: %v", err)
			}
			if s.rows != 61 {
				b.Fatalf("%d rows, want 61", s.rows)
			}
		}
	}
	b.ReportAllocs()
	benchPaired(b, []string{"before", "after"}, []func(){run(slabMax), run(64)})
}
