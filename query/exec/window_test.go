// Compared against SQLite: not built under the race detector, as
// sqlite_test.go says.

//go:build !race

package exec

import (
	"math/rand/v2"
	"testing"
)

// TestWindowFramesAgainstSQLite checks aggregates over window frames (the
// running state for frames from the partition's first row, a fresh state
// per row otherwise), LAG and LEAD against SQLite on the same rows. Times
// are distinct, so ORDER BY time has no peers; ORDER BY region has many.
func TestWindowFramesAgainstSQLite(t *testing.T) {
	e, lite := diffSetup(t, rand.New(rand.NewPCG(21, 22)))
	defer lite.Close()
	frames := []string{
		"PARTITION BY host ORDER BY time",
		"PARTITION BY host ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
		"PARTITION BY host ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND 2 FOLLOWING",
		"PARTITION BY host ORDER BY time ROWS BETWEEN 2 PRECEDING AND CURRENT ROW",
		"PARTITION BY host ORDER BY time ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING",
		"PARTITION BY host ORDER BY region NULLS LAST",
		"PARTITION BY host ORDER BY region NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
		"PARTITION BY region",
		"ORDER BY time",
	}
	aggs := []string{"sum(n)", "count(v)", "count(*)", "min(v)", "max(n)", "avg(n)"}
	i := 0
	for _, f := range frames {
		for _, a := range aggs {
			q := "SELECT host, time, " + a + " OVER (" + f + ") FROM "
			compareWithSQLite(t, e, lite, i, pair{q + "fuzzdb.diff", q + "t"})
			i++
		}
	}
	for _, q := range []string{
		"SELECT host, time, n, lag(n) OVER (PARTITION BY host ORDER BY time), lead(v, 2) OVER (PARTITION BY host ORDER BY time) FROM ",
		"SELECT host, time, lag(n, 1, -1) OVER (PARTITION BY region ORDER BY time), sum(n) OVER (PARTITION BY region ORDER BY time) FROM ",
	} {
		compareWithSQLite(t, e, lite, i, pair{q + "fuzzdb.diff", q + "t"})
		i++
	}
}
