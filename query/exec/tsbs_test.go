package exec

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestTSBSQueries(t *testing.T) {
	db := newTestDB(t)
	db.loadTSBS(t, 10, 24*3600e9)
	e := New(db.cat, db, Options{})
	want := map[string]struct {
		rows, cols int
	}{
		"single-groupby-1-1-1":  {61, 2}, // 04:32..05:32 inclusive
		"single-groupby-5-1-12": {721, 6},
		"cpu-max-all-8":         {8, 11},
		"double-groupby-all":    {120, 12},
		"lastpoint":             {100, 4},
		"groupby-orderby-limit": {5, 2},
	}
	names := make([]string, 0, len(tsbsQueries))
	for n := range tsbsQueries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			res, err := e.Query(context.Background(), tsbsQueries[name], nil)
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			if w, ok := want[name]; ok {
				if len(res.Rows) != w.rows || len(res.Columns) != w.cols {
					t.Fatalf("got %d rows x %d cols, want %d x %d", len(res.Rows), len(res.Columns), w.rows, w.cols)
				}
			}
			seq, err := New(db.cat, db, Options{Parallelism: 1}).Query(context.Background(), tsbsQueries[name], nil)
			if err != nil {
				t.Fatalf("query with one worker: %v", err)
			}
			if a, b := sortedRows(res), sortedRows(seq); a != b {
				t.Fatalf("two workers and one worker disagree")
			}
		})
	}
}

func sortedRows(r *Result) string {
	rows := formatResult(r, true)
	return strings.Join(rows, "\n")
}

// TestTSBSDoubleGroupbyNaive checks double-groupby-all against a direct
// computation over the generated columns.
func TestTSBSDoubleGroupbyNaive(t *testing.T) {
	db := newTestDB(t)
	db.loadTSBS(t, 5, 24*3600e9)
	e := New(db.cat, db, Options{})
	res, err := e.Query(context.Background(), tsbsQueries["double-groupby-all"], nil)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	type key struct {
		hour int64
		host string
	}
	sums := map[key][]float64{}
	counts := map[key][]float64{}
	lo, hi := tsbsStart+6*3600e9, tsbsStart+18*3600e9
	for _, s := range db.tables["benchmark.cpu"].series {
		host, _ := s.s.Dimension("hostname")
		m := slices.Index(cpuMetrics, s.s.MeasureName)
		for i, ts := range s.time {
			if ts < lo || ts >= hi {
				continue
			}
			k := key{ts / 3600e9 * 3600e9, host}
			if sums[k] == nil {
				sums[k], counts[k] = make([]float64, 10), make([]float64, 10)
			}
			sums[k][m] += s.cols[0].F[i]
			counts[k][m]++
		}
	}
	if len(res.Rows) != len(sums) {
		t.Fatalf("got %d groups, want %d", len(res.Rows), len(sums))
	}
	for _, r := range res.Rows {
		k := key{r[0].I, r[1].S}
		for m := range 10 {
			want := sums[k][m] / counts[k][m]
			if got := r[2+m].F; math.Abs(got-want) > 1e-9 {
				t.Fatalf("%v %s: got %v, want %v", k, cpuMetrics[m], got, want)
			}
		}
	}
}
