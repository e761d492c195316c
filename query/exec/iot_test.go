package exec

import (
	"context"
	"sort"
	"testing"
)

// TestIoTQueries runs the TSBS IoT query shapes over 20 trucks x 6 h: each
// must answer rows, and one worker and two must agree.
func TestIoTQueries(t *testing.T) {
	db := newTestDB(t)
	db.loadIoT(t, 20, 6*3600e9)
	names := make([]string, 0, len(iotQueries))
	for n := range iotQueries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			res, err := New(db.cat, db, Options{Parallelism: 2}).Query(context.Background(), iotQueries[name], nil)
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			seq, err := New(db.cat, db, Options{Parallelism: 1}).Query(context.Background(), iotQueries[name], nil)
			if err != nil {
				t.Fatalf("query with one worker: %v", err)
			}
			t.Logf("%d rows; first %v", len(res.Rows), formatResult(res, false)[:min(3, len(res.Rows)+1)])
			if len(res.Rows) == 0 {
				t.Fatalf("no rows")
			}
			if a, b := roundedRows(res), roundedRows(seq); len(a) != len(b) {
				t.Fatalf("two workers and one worker disagree")
			}
		})
	}
}
