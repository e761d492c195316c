package exec

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/query/scan/scantest"
)

// TestSeriesJoinMatchesRowJoin runs joins with the series-aware probe and
// with the row-by-row probe over the same data, through 1000-row batches
// and through scantest's model (one batch per series): the rows must be
// the same and, between the two probes over one source, in the same order.
func TestSeriesJoinMatchesRowJoin(t *testing.T) {
	cfg := scantest.DefaultConfig(tsbsStart)
	cfg.Rows, cfg.Span = 4000, 4e9 // 4000 ms slots: many equal times across series
	recs := scantest.Generate(rand.New(rand.NewPCG(11, 12)), cfg)
	db := newTestDB(t)
	db.load(t, scantest.Database, scantest.Table, recs)
	model := scantest.NewModel(recs)
	queries := []struct {
		name, sql string
		series    bool // the series probe applies
	}{
		{"dimension and time", "SELECT a.host, a.time, a.measure_value::double, b.measure_name FROM testdb.tbl a JOIN testdb.tbl b ON a.host = b.host AND a.time = b.time WHERE a.measure_name = 'cpu'", true},
		{"keys written right to left", "SELECT a.host, a.time, b.measure_name FROM testdb.tbl a JOIN testdb.tbl b ON b.time = a.time AND b.host = a.host WHERE a.measure_name = 'ok'", true},
		{"nullable dimension", "SELECT a.rack, a.time, a.measure_name, b.measure_name FROM testdb.tbl a JOIN testdb.tbl b ON a.rack = b.rack AND a.time = b.time", true},
		{"no time key", "WITH c AS (SELECT DISTINCT host, rack FROM testdb.tbl WHERE measure_name = 'ok') SELECT a.host, a.rack, a.time, a.measure_name FROM testdb.tbl a JOIN c ON a.host = c.host AND a.rack = c.rack", true},
		{"duplicate build keys", "WITH d AS (SELECT host, time FROM testdb.tbl WHERE measure_name IN ('cpu', 'bytes', 'state')) SELECT a.measure_name, a.time, a.host, d.time FROM testdb.tbl a JOIN d ON a.host = d.host AND a.time = d.time", true},
		{"residual", "SELECT a.host, a.time, a.measure_name, b.measure_name FROM testdb.tbl a JOIN testdb.tbl b ON a.host = b.host AND a.time = b.time AND a.measure_name < b.measure_name", true},
		{"measure name key", "SELECT a.measure_name, a.time, a.host, b.host FROM testdb.tbl a JOIN testdb.tbl b ON a.measure_name = b.measure_name AND a.time = b.time WHERE a.host <> b.host", true},
		{"probe row predicate", "SELECT a.host, a.time, a.measure_value::double, b.measure_value::bigint FROM testdb.tbl a JOIN testdb.tbl b ON a.host = b.host AND a.time = b.time WHERE a.measure_value::double > 50 AND b.measure_name = 'bytes'", true},
		{"multi-measure attributes", "SELECT a.host, a.time, a.load, a.procs, a.boot, b.measure_value::boolean FROM testdb.tbl a JOIN testdb.tbl b ON a.host = b.host AND a.region = b.region AND a.time = b.time WHERE a.measure_name = 'metrics' AND b.measure_name = 'ok'", true},
		{"latest per series (build left)", "WITH l AS (SELECT host, measure_name, max(time) AS t FROM testdb.tbl GROUP BY 1, 2) SELECT b.host, b.measure_name, b.time, b.measure_value::varchar FROM l JOIN testdb.tbl b ON l.host = b.host AND l.t = b.time AND l.measure_name = b.measure_name", true},
		{"time only", "WITH x AS (SELECT time FROM testdb.tbl WHERE measure_name = 'state' AND measure_value::varchar = 'up') SELECT a.host, a.measure_name, a.time FROM testdb.tbl a JOIN x ON a.time = x.time", true},
		{"comma join", "SELECT a.host, a.time, b.measure_name FROM testdb.tbl a, testdb.tbl b WHERE a.host = b.host AND a.time = b.time AND a.measure_name = 'cpu' AND b.measure_name <> 'cpu'", true},
		{"left join (row probe)", "WITH x AS (SELECT host, time FROM testdb.tbl WHERE measure_name = 'ok') SELECT a.host, a.time, x.time FROM testdb.tbl a LEFT JOIN x ON a.host = x.host AND a.time = x.time WHERE a.measure_name = 'cpu'", false},
		{"build key an expression", "SELECT a.host, a.time, b.time FROM testdb.tbl a JOIN testdb.tbl b ON a.host = b.host AND a.time = b.time + 1ms WHERE a.measure_name = 'cpu' AND b.measure_name = 'ok'", true},
		{"probe key an expression (row probe)", "SELECT a.host, a.time, b.time FROM testdb.tbl a JOIN testdb.tbl b ON a.host = b.host AND a.time + 1ms = b.time WHERE a.measure_name = 'cpu' AND b.measure_name = 'ok'", false},
		{"two time keys (row probe)", "SELECT a.host, a.time, b.time FROM testdb.tbl a JOIN testdb.tbl b ON a.host = b.host AND a.time = b.time AND a.time = b.time WHERE a.measure_name = 'cpu'", false},
	}
	for _, tc := range queries {
		t.Run(tc.name, func(t *testing.T) {
			var sorted []string
			for _, src := range []struct {
				name string
				e    func(rowJoin bool) *Engine
			}{
				{"table", func(r bool) *Engine { return New(db.cat, db, Options{rowJoin: r}) }},
				{"model", func(r bool) *Engine { return New(db.cat, model, Options{rowJoin: r, Parallelism: 1}) }},
			} {
				series, err := src.e(false).Query(context.Background(), tc.sql, nil)
				if err != nil {
					t.Fatalf("%s, series probe: %v", src.name, err)
				}
				rows, err := src.e(true).Query(context.Background(), tc.sql, nil)
				if err != nil {
					t.Fatalf("%s, row probe: %v", src.name, err)
				}
				if len(rows.Rows) == 0 {
					t.Fatalf("%s: no rows", src.name)
				}
				a, b := formatResult(series, false), formatResult(rows, false)
				if strings.Join(a, "\n") != strings.Join(b, "\n") {
					t.Fatalf("%s: series and row probes disagree (%d vs %d rows)\n%s\n---\n%s", src.name, len(a), len(b),
						strings.Join(a[:min(len(a), 8)], "\n"), strings.Join(b[:min(len(b), 8)], "\n"))
				}
				s := strings.Join(formatResult(series, true), "\n")
				if sorted != nil && s != sorted[0] {
					t.Fatalf("table and model disagree")
				}
				sorted = []string{s}
			}
			var probes []bool
			e := New(db.cat, db, Options{traceJoin: func(series bool) { probes = append(probes, series) }})
			if _, err := e.Query(context.Background(), tc.sql, nil); err != nil {
				t.Fatalf("query: %v", err)
			}
			if len(probes) != 1 || probes[0] != tc.series {
				t.Fatalf("joins run with the series probe: %v, want [%v]", probes, tc.series)
			}
		})
	}
}

// TestJoinBuildPrune checks that join build sides keep only the columns
// the query reads: a three-way CROSS JOIN of table scans fits a memory
// limit that whole build rows exceed, and joins answer the same with and
// without pruning.
func TestJoinBuildPrune(t *testing.T) {
	db := newTestDB(t)
	db.loadTSBS(t, 2, 1800e9) // 2 hosts x 10 metrics x 180 points
	cross := `SELECT a.hostname, a.time, a.measure_value::double FROM "benchmark"."cpu" a CROSS JOIN "benchmark"."cpu" b CROSS JOIN "benchmark"."cpu" c LIMIT 3`
	run := func(sql string, prune bool, limit int64) (*Result, error) {
		defer func(old bool) { disableBuildPrune = old }(disableBuildPrune)
		disableBuildPrune = !prune
		e := New(db.cat, db, Options{MaxMemoryBytes: limit})
		return e.Query(context.Background(), sql, nil)
	}
	const limit = 2 << 20
	var qe *Error
	if _, err := run(cross, false, limit); !errors.As(err, &qe) || qe.Kind != ErrMemory {
		t.Fatalf("whole build rows under a %d-byte limit: err %v, want ErrMemory", limit, err)
	}
	res, err := run(cross, true, limit)
	if err != nil {
		t.Fatalf("pruned build rows: %v", err)
	}
	if len(res.Rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(res.Rows))
	}
	for _, sql := range []string{
		`SELECT a.hostname, b.measure_name, a.time, a.measure_value::double, b.measure_value::double FROM "benchmark"."cpu" a JOIN "benchmark"."cpu" b ON a.hostname = b.hostname AND a.time = b.time WHERE a.measure_name = 'usage_user' AND b.measure_value::double > 90 ORDER BY 1, 2, 3`,
		`SELECT a.region, count(*), sum(b.measure_value::double) FROM "benchmark"."cpu" a LEFT JOIN "benchmark"."cpu" b ON a.time = b.time AND a.hostname <> b.hostname AND b.measure_name = 'usage_system' WHERE a.measure_name = 'usage_user' GROUP BY 1 ORDER BY 1`,
		`SELECT a.time, b.time, b.hostname FROM "benchmark"."cpu" a FULL JOIN "benchmark"."cpu" b ON a.time = b.time AND a.hostname = b.hostname AND a.measure_name = 'usage_idle' AND b.measure_value::double > 50 AND b.measure_name = 'usage_nice' ORDER BY 1, 2, 3`,
		`SELECT b.hostname, a.measure_value::double FROM "benchmark"."cpu" a RIGHT JOIN "benchmark"."cpu" b ON a.time = b.time AND a.hostname = b.hostname AND a.measure_name = 'usage_user' AND b.measure_name = 'usage_nice' WHERE b.measure_name = 'usage_nice' ORDER BY 1, 2`,
	} {
		want, err := run(sql, false, 0)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		got, err := run(sql, true, 0)
		if err != nil {
			t.Fatalf("%s (pruned): %v", sql, err)
		}
		if len(want.Rows) == 0 {
			t.Fatalf("%s: no rows", sql)
		}
		if a, b := rowsText(got.Rows), rowsText(want.Rows); a != b {
			t.Errorf("%s: pruned build rows answer differently:\n%s", sql, firstDiff(a, b))
		}
	}
}
