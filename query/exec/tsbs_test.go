package exec

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
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
			if len(res.Rows) > 0 {
				fmt.Println(name, res.Columns[0].Name, res.Rows[0][0], res.Rows[0][len(res.Columns)-1], len(res.Rows), res.Stats.RowsScanned)
			}
		})
	}
	_ = time.Second
}
