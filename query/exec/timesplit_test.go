package exec

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestTimeSplitAnswersUnchanged runs one-measure aggregates grouped by a
// time bucket, which split their scan by time across workers, and wants
// the same groups with bit-identical values as one scan (GROUP BY without
// ORDER BY leaves the row order free).
func TestTimeSplitAnswersUnchanged(t *testing.T) {
	db := newTestDB(t)
	db.loadTSBS(t, 10, 6*3600e9)
	const rng = ` time >= '2024-01-01 00:00:00 +0000' AND time < '2024-01-01 06:00:00 +0000'`
	queries := []struct {
		name, sql string
		split     bool // the scan is split at Parallelism 2
	}{
		{"double-groupby-1", `SELECT bin(time, 3600s) as hour, hostname, avg(case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as m FROM "benchmark"."cpu" WHERE` + rng + ` GROUP BY 1, 2`, true},
		{"odd range", `SELECT bin(time, 1h), hostname, sum(measure_value::double), count(*), min(measure_value::double), max(measure_value::double) FROM "benchmark"."cpu" WHERE measure_name = 'usage_idle' AND time >= '2024-01-01 00:17:00 +0000' AND time <= '2024-01-01 04:59:50 +0000' GROUP BY 1, 2`, true},
		{"minute buckets", `SELECT bin(time, 60s), avg(measure_value::double) FROM "benchmark"."cpu" WHERE measure_name = 'usage_user' AND` + rng + ` GROUP BY 1`, true},
		{"time itself", `SELECT time, hostname, max(measure_value::double) FROM "benchmark"."cpu" WHERE measure_name = 'usage_nice' AND time >= '2024-01-01 01:00:00 +0000' AND time < '2024-01-01 01:10:00 +0000' GROUP BY 1, 2`, true},
		{"one bucket", `SELECT bin(time, 1h), hostname, avg(measure_value::double) FROM "benchmark"."cpu" WHERE measure_name = 'usage_user' AND time >= '2024-01-01 01:00:00 +0000' AND time < '2024-01-01 02:00:00 +0000' GROUP BY 1, 2`, false},
		{"unbounded", `SELECT bin(time, 1h), hostname, avg(measure_value::double) FROM "benchmark"."cpu" WHERE measure_name = 'usage_user' GROUP BY 1, 2`, false},
		{"one host", `SELECT bin(time, 1h), avg(measure_value::double) FROM "benchmark"."cpu" WHERE measure_name = 'usage_user' AND hostname = 'host_3' AND` + rng + ` GROUP BY 1`, false},
		{"no time key", `SELECT hostname, avg(measure_value::double) FROM "benchmark"."cpu" WHERE measure_name = 'usage_user' AND` + rng + ` GROUP BY 1`, false},
	}
	sorted := func(rows [][]Value) string {
		lines := strings.Split(rowsText(rows), "\n")
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			one, err := New(db.cat, db, Options{Parallelism: 1}).Query(context.Background(), q.sql, nil)
			if err != nil {
				t.Fatalf("one worker: %v", err)
			}
			if len(one.Rows) == 0 {
				t.Fatal("no rows")
			}
			for _, workers := range []int{2, 3, 8} {
				e := New(db.cat, db, Options{Parallelism: workers})
				res, err := e.Query(context.Background(), q.sql, nil)
				if err != nil {
					t.Fatalf("%d workers: %v", workers, err)
				}
				if got, want := sorted(res.Rows), sorted(one.Rows); got != want {
					t.Errorf("%d workers: answers differ:\n%s", workers, firstDiff(got, want))
				}
			}
			before := timeSplitRuns.Load()
			if _, err := New(db.cat, db, Options{Parallelism: 2}).Query(context.Background(), q.sql, nil); err != nil {
				t.Fatal(err)
			}
			if split := timeSplitRuns.Load() > before; split != q.split {
				t.Errorf("split = %v, want %v", split, q.split)
			}
		})
	}
}
