package exec

import (
	"context"
	"testing"
)

// BenchmarkArmPushdown runs TSBS double-groupby-1 (one CASE WHEN
// measure_name arm, no measure_name filter) over the memstore tier with
// the arm pushed into the scan (after) and without (before).
func BenchmarkArmPushdown(b *testing.B) {
	cat, db := memstoreTable(b)
	e := New(cat, db, Options{})
	sql := `SELECT bin(time, 3600s) as hour, hostname,
			avg (case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as mean_usage_user
		FROM "benchmark"."cpu"
		WHERE time >= '2024-01-01 06:00:00 +0000' AND time < '2024-01-01 18:00:00 +0000'
		GROUP BY 1, 2`
	run := func(disable bool) func() {
		return func() {
			disableArmPushdown = disable
			defer func() { disableArmPushdown = false }()
			res, err := e.Query(context.Background(), sql, nil)
			if err != nil {
				b.Fatalf("query: %v", err)
			}
			if len(res.Rows) != 1200 {
				b.Fatalf("%d rows, want 1200", len(res.Rows))
			}
		}
	}
	benchPaired(b, []string{"before", "after"}, []func(){run(true), run(false)})
}
