package exec

import (
	"context"
	"strings"
	"testing"
)

// TestMeasureArmPushdown checks that aggregates whose every argument is a
// CASE WHEN measure_name = 'x' arm read only those measures, that any
// other shape reads the whole table, and that the answers are those of
// the unrestricted scan.
func TestMeasureArmPushdown(t *testing.T) {
	db := fuzzDB(t) // 20 rows each of measures cpu, n and m
	e := New(db.cat, db, Options{})
	tests := []struct {
		name    string
		sql     string
		scanned int64
		want    string // rows sorted, as formatResult prints them
	}{
		{"one arm", `SELECT host, max(CASE WHEN measure_name = 'cpu' THEN measure_value::double ELSE NULL END) AS mx
			FROM fuzzdb.tbl GROUP BY host`, 20, "a | 27\nb | 28.5\nc | 25.5"},
		{"two arms, simple CASE, reversed equality", `SELECT host,
			sum(CASE measure_name WHEN 'n' THEN measure_value::bigint END) AS s,
			count(CASE WHEN 'cpu' = measure_name THEN measure_value::double END) AS c
			FROM fuzzdb.tbl GROUP BY host`, 40, "a | -7 | 7\nb | 0 | 7\nc | -3 | 6"},
		{"global aggregate", `SELECT min(CASE WHEN measure_name = 'm' THEN load END) FROM fuzzdb.tbl`, 20, "0"},
		{"count(*) reads everything", `SELECT host, count(*), max(CASE WHEN measure_name = 'cpu' THEN measure_value::double END)
			FROM fuzzdb.tbl GROUP BY host`, 60, "a | 21 | 27\nb | 21 | 28.5\nc | 18 | 25.5"},
		{"ELSE 0 reads everything", `SELECT host, sum(CASE WHEN measure_name = 'n' THEN measure_value::bigint ELSE 0 END)
			FROM fuzzdb.tbl GROUP BY host`, 60, "a | -7\nb | 0\nc | -3"},
		{"condition beyond measure_name", `SELECT host, sum(CASE WHEN measure_name = 'cpu' AND measure_value::double > 1 THEN 1 ELSE NULL END)
			FROM fuzzdb.tbl GROUP BY host`, 60, "a | 6\nb | 7\nc | 6"},
		{"plain argument", `SELECT host, max(CASE WHEN measure_name = 'cpu' THEN measure_value::double END), max(time)
			FROM fuzzdb.tbl GROUP BY host`, 60, "a | 27 | 2024-01-01 00:03:00.000000000\nb | 28.5 | 2024-01-01 00:03:10.000000000\nc | 25.5 | 2024-01-01 00:02:50.000000000"},
		{"array_agg keeps NULLs", `SELECT host, cardinality(array_agg(CASE WHEN measure_name = 'cpu' THEN 1 END))
			FROM fuzzdb.tbl GROUP BY host`, 60, "a | 21\nb | 21\nc | 18"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Query(context.Background(), tc.sql, nil)
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			rows := formatResult(res, true)
			if got := strings.Join(rows[1:], "\n"); got != tc.want {
				t.Errorf("rows:\n%s\nwant:\n%s", got, tc.want)
			}
			if res.Stats.RowsScanned != tc.scanned {
				t.Errorf("scanned %d rows, want %d", res.Stats.RowsScanned, tc.scanned)
			}
		})
	}
}
