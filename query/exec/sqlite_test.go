// The differential test is single-threaded: under the race detector it
// would only add a race-instrumented build of SQLite (modernc.org/sqlite and
// its libc, minutes of CPU) to `make test`. It runs in the plain test and fuzz
// phases.

//go:build !race

package exec

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	_ "modernc.org/sqlite"
)

// The differential test loads the same random rows into TidalDB (as
// multi-measure records of fuzzdb.diff) and SQLite (table t), generates
// random queries in a subset both dialects share, renders each query for
// both, and compares the results as sorted row multisets.

type diffRow struct {
	host, region string // "" is NULL
	t            int64
	v            *float64
	n            *int64
}

func genDiffRows(rng *rand.Rand, count int) []diffRow {
	var rows []diffRow
	for i := range count {
		r := diffRow{t: tsbsStart + int64(i)*1e9}
		if rng.IntN(8) > 0 {
			r.host = []string{"h1", "h2", "h3", "h4"}[rng.IntN(4)]
		}
		if rng.IntN(4) > 0 {
			r.region = []string{"eu", "us"}[rng.IntN(2)]
		}
		if rng.IntN(6) > 0 {
			v := float64(rng.IntN(2000)-1000) / 8
			r.v = &v
		}
		if rng.IntN(6) > 0 {
			n := int64(rng.IntN(200) - 100)
			r.n = &n
		}
		if r.v == nil && r.n == nil {
			n := int64(0)
			r.n = &n
		}
		rows = append(rows, r)
	}
	return rows
}

// gen renders one random expression or query in two dialects.
type gen struct {
	rng *rand.Rand
}

type pair struct{ ts, lite string }

func (g *gen) pick(ps ...pair) pair { return ps[g.rng.IntN(len(ps))] }

func same(s string) pair { return pair{s, s} }

func (g *gen) intExpr(depth int) pair {
	if depth <= 0 || g.rng.IntN(3) == 0 {
		switch g.rng.IntN(3) {
		case 0:
			return same("n")
		case 1:
			return same(strconv.Itoa(g.rng.IntN(20) - 5))
		}
		return same("n")
	}
	a, b := g.intExpr(depth-1), g.intExpr(depth-1)
	switch g.rng.IntN(6) {
	case 0:
		return pair{"(" + a.ts + " + " + b.ts + ")", "(" + a.lite + " + " + b.lite + ")"}
	case 1:
		return pair{"(" + a.ts + " - " + b.ts + ")", "(" + a.lite + " - " + b.lite + ")"}
	case 2:
		return pair{"(" + a.ts + " * " + b.ts + ")", "(" + a.lite + " * " + b.lite + ")"}
	case 3:
		return pair{"abs(" + a.ts + ")", "abs(" + a.lite + ")"}
	case 4:
		return pair{"coalesce(" + a.ts + ", " + b.ts + ")", "coalesce(" + a.lite + ", " + b.lite + ")"}
	}
	c := g.boolExpr(depth - 1)
	return pair{"CASE WHEN " + c.ts + " THEN " + a.ts + " ELSE " + b.ts + " END", "CASE WHEN " + c.lite + " THEN " + a.lite + " ELSE " + b.lite + " END"}
}

func (g *gen) dblExpr(depth int) pair {
	if depth <= 0 || g.rng.IntN(2) == 0 {
		return g.pick(same("v"), same("v"), same("1.5"))
	}
	a, b := g.dblExpr(depth-1), g.intExpr(depth-1)
	switch g.rng.IntN(3) {
	case 0:
		return pair{"(" + a.ts + " + " + b.ts + ")", "(" + a.lite + " + " + b.lite + ")"}
	case 1:
		return pair{"(" + a.ts + " * 2)", "(" + a.lite + " * 2)"}
	}
	return pair{"(" + a.ts + " - " + b.ts + ")", "(" + a.lite + " - " + b.lite + ")"}
}

func (g *gen) boolExpr(depth int) pair {
	if depth <= 0 || g.rng.IntN(3) == 0 {
		switch g.rng.IntN(9) {
		case 0:
			h := []string{"'h1'", "'h2'", "'zz'"}[g.rng.IntN(3)]
			return same("host = " + h)
		case 1:
			return same("host IN ('h1', 'h3')")
		case 2:
			return same("region IS NULL")
		case 3:
			return same("host LIKE 'h%'")
		case 4:
			ts := tsbsStart + int64(g.rng.IntN(300))*1e9
			return pair{"time >= '" + FormatTimestamp(ts) + "'", "time >= " + strconv.FormatInt(ts, 10)}
		case 5:
			a, b := g.intExpr(1), strconv.Itoa(g.rng.IntN(40)-20)
			return pair{a.ts + " BETWEEN " + b + " AND " + b + " + 30", a.lite + " BETWEEN " + b + " AND " + b + " + 30"}
		case 6:
			return same("v IS NOT NULL")
		}
		a, b := g.intExpr(1), g.intExpr(1)
		op := []string{"=", "<>", "<", "<=", ">", ">="}[g.rng.IntN(6)]
		return pair{a.ts + " " + op + " " + b.ts, a.lite + " " + op + " " + b.lite}
	}
	a, b := g.boolExpr(depth-1), g.boolExpr(depth-1)
	switch g.rng.IntN(3) {
	case 0:
		return pair{"(" + a.ts + " AND " + b.ts + ")", "(" + a.lite + " AND " + b.lite + ")"}
	case 1:
		return pair{"(" + a.ts + " OR " + b.ts + ")", "(" + a.lite + " OR " + b.lite + ")"}
	}
	return pair{"NOT (" + a.ts + ")", "NOT (" + a.lite + ")"}
}

func (g *gen) query() pair {
	where := g.boolExpr(2)
	const from = ` FROM fuzzdb.diff`
	const lfrom = ` FROM t`
	if g.rng.IntN(2) == 0 {
		// Aggregation.
		keys := []pair{same("host"), same("region"), {"bin(time, 60s)", "(time / 60000000000) * 60000000000"}}
		k := keys[g.rng.IntN(len(keys))]
		aggs := []pair{same("count(*)"), same("count(v)"), same("sum(n)"), same("min(v)"), same("max(n)"), same("avg(v)"),
			{"count_if(n > 0)", "sum(CASE WHEN n > 0 THEN 1 ELSE 0 END)"}}
		a1, a2 := aggs[g.rng.IntN(len(aggs))], aggs[g.rng.IntN(len(aggs))]
		q := pair{"SELECT " + k.ts + ", " + a1.ts + ", " + a2.ts + from + " WHERE " + where.ts + " GROUP BY 1",
			"SELECT " + k.lite + ", " + a1.lite + ", " + a2.lite + lfrom + " WHERE " + where.lite + " GROUP BY 1"}
		if g.rng.IntN(3) == 0 {
			q.ts += " HAVING count(*) > 1"
			q.lite += " HAVING count(*) > 1"
		}
		return q
	}
	e1, e2 := g.intExpr(2), g.dblExpr(2)
	distinct := ""
	if g.rng.IntN(4) == 0 {
		distinct = "DISTINCT "
	}
	q := pair{"SELECT " + distinct + "host, " + e1.ts + ", " + e2.ts + from + " WHERE " + where.ts,
		"SELECT " + distinct + "host, " + e1.lite + ", " + e2.lite + lfrom + " WHERE " + where.lite}
	if g.rng.IntN(3) == 0 {
		lim := strconv.Itoa(g.rng.IntN(10))
		q.ts += " ORDER BY 1 NULLS LAST, 2 NULLS LAST, 3 NULLS LAST LIMIT " + lim
		q.lite += " ORDER BY 1 NULLS LAST, 2 NULLS LAST, 3 NULLS LAST LIMIT " + lim
	}
	return q
}

// joinRel is one side of a generated join: its FROM item in both
// dialects and whether it is a table scan (with host, region, time, v, n)
// or a one-column relation of minute buckets (bt).
type joinRel struct {
	from pair
	scan bool
}

func (g *gen) joinRel(alias string) joinRel {
	lo, hi := FormatTimestamp(tsbsStart-120e9), FormatTimestamp(tsbsStart+420e9)
	switch g.rng.IntN(5) {
	case 0:
		return joinRel{from: pair{"(SELECT DISTINCT bin(time, 60s) AS bt FROM fuzzdb.diff) " + alias,
			"(SELECT DISTINCT (time / 60000000000) * 60000000000 AS bt FROM t) " + alias}}
	case 1:
		return joinRel{from: pair{"UNNEST(SEQUENCE(TIMESTAMP '" + lo + "', TIMESTAMP '" + hi + "', 1m)) AS " + alias + "(bt)",
			fmt.Sprintf("(WITH RECURSIVE s(bt) AS (SELECT %d UNION ALL SELECT bt + 60000000000 FROM s WHERE bt < %d) SELECT bt FROM s) %s",
				tsbsStart-120e9, int64(tsbsStart+420e9), alias)}}
	case 2:
		return joinRel{scan: true, from: pair{"(SELECT host, region, time, v, n FROM fuzzdb.diff WHERE host <> 'h4') " + alias,
			"(SELECT host, region, time, v, n FROM t WHERE host <> 'h4') " + alias}}
	}
	return joinRel{scan: true, from: pair{"fuzzdb.diff " + alias, "t " + alias}}
}

// joinKey returns a key expression over rel (alias a) of the given class:
// 0 a time or minute bucket, 1 the host, 2 an integer.
func (g *gen) joinKey(rel joinRel, a string, class int) pair {
	if !rel.scan {
		return same(a + ".bt")
	}
	switch class {
	case 0:
		return g.pick(
			same(a+".time"),
			pair{"bin(" + a + ".time, 60s)", "(" + a + ".time / 60000000000) * 60000000000"},
			pair{"date_trunc('minute', " + a + ".time)", "(" + a + ".time / 60000000000) * 60000000000"},
			pair{a + ".time + 1s", a + ".time + 1000000000"})
	case 1:
		return g.pick(same(a+".host"), same("upper("+a+".host)"), same("coalesce("+a+".host, 'h1')"))
	}
	return g.pick(same(a+".n"), same(a+".n + 1"), same("abs("+a+".n)"))
}

// joinQuery renders a join whose ON compares expressions over either
// side, written either way round, of every kind, with UNNEST and buckets
// on either side and an optional residual predicate in ON.
func (g *gen) joinQuery() pair {
	l, r := g.joinRel("a"), g.joinRel("b")
	class := 0
	if l.scan && r.scan {
		class = g.rng.IntN(3)
	}
	lk, rk := g.joinKey(l, "a", class), g.joinKey(r, "b", class)
	on := pair{lk.ts + " = " + rk.ts, lk.lite + " = " + rk.lite}
	if g.rng.IntN(2) == 0 {
		on = pair{rk.ts + " = " + lk.ts, rk.lite + " = " + lk.lite}
	}
	if r.scan && g.rng.IntN(2) == 0 {
		h := []string{"'h1'", "'h2'"}[g.rng.IntN(2)]
		on.ts += " AND b.host = " + h
		on.lite += " AND b.host = " + h
	}
	if l.scan && r.scan && g.rng.IntN(3) == 0 {
		on.ts += " AND a.n < b.n"
		on.lite += " AND a.n < b.n"
	}
	kind := []string{"JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", ","}[g.rng.IntN(5)]
	col := func(rel joinRel, a string) string {
		if rel.scan {
			return a + ".host"
		}
		return a + ".bt"
	}
	cnt := func(rel joinRel, a string) string {
		if rel.scan {
			return "count(" + a + ".time)"
		}
		return "count(" + a + ".bt)"
	}
	sel := col(l, "a") + ", " + col(r, "b") + ", count(*), " + cnt(l, "a") + ", " + cnt(r, "b")
	if kind == "," {
		// A comma join: the equality in WHERE becomes the join key.
		return pair{"SELECT " + sel + " FROM " + l.from.ts + ", " + r.from.ts + " WHERE " + on.ts + " GROUP BY 1, 2",
			"SELECT " + sel + " FROM " + l.from.lite + ", " + r.from.lite + " WHERE " + on.lite + " GROUP BY 1, 2"}
	}
	return pair{"SELECT " + sel + " FROM " + l.from.ts + " " + kind + " " + r.from.ts + " ON " + on.ts + " GROUP BY 1, 2",
		"SELECT " + sel + " FROM " + l.from.lite + " " + kind + " " + r.from.lite + " ON " + on.lite + " GROUP BY 1, 2"}
}

func normCell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', 10, 64)
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v)
}

func normValue(v Value) any {
	if v.Null {
		return nil
	}
	switch v.Kind {
	case KindBigint, KindInteger, KindTimestamp:
		return v.I
	case KindDouble:
		return v.F
	case KindBoolean:
		return v.B
	}
	return v.S
}

func TestDifferentialSQLite(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	e, lite := diffSetup(t, rng)
	defer lite.Close()
	g := &gen{rng: rng}
	for i := range 400 {
		compareWithSQLite(t, e, lite, i, g.query())
	}
}

// TestDifferentialSQLiteJoins compares joins on expression keys (issue 14).
func TestDifferentialSQLiteJoins(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	e, lite := diffSetup(t, rng)
	defer lite.Close()
	g := &gen{rng: rand.New(rand.NewPCG(14, 14))}
	for i := range 300 {
		compareWithSQLite(t, e, lite, i, g.joinQuery())
	}
}

// FuzzDifferentialSQLite generates queries from the fuzzed seed and
// compares TidalDB with SQLite on them.
func FuzzDifferentialSQLite(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42} {
		f.Add(s)
	}
	e, lite := diffSetup(f, rand.New(rand.NewPCG(11, 12)))
	defer lite.Close()
	f.Fuzz(func(t *testing.T, seed uint64) {
		g := &gen{rng: rand.New(rand.NewPCG(seed, seed>>32))}
		for i := range 5 {
			compareWithSQLite(t, e, lite, i, g.query())
		}
		compareWithSQLite(t, e, lite, 5, g.joinQuery())
	})
}

func diffSetup(t testing.TB, rng *rand.Rand) (*Engine, *sql.DB) {
	rows := genDiffRows(rng, 300)
	db := newTestDB(t)
	var recs []ingest.Record
	lite, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	lite.SetMaxOpenConns(1)
	if _, err := lite.Exec(`CREATE TABLE t (host TEXT, region TEXT, measure_name TEXT, time INTEGER, v REAL, n INTEGER)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	for _, r := range rows {
		rec := ingest.Record{MeasureName: "m", Time: r.t}
		var host, region any
		if r.host != "" {
			rec.Dimensions = append(rec.Dimensions, ingest.Dimension{Name: "host", Value: r.host})
			host = r.host
		}
		if r.region != "" {
			rec.Dimensions = append(rec.Dimensions, ingest.Dimension{Name: "region", Value: r.region})
			region = r.region
		}
		var v, n any
		if r.v != nil {
			rec.Measures = append(rec.Measures, ingest.Measure{Name: "v", Value: ingest.Float(*r.v)})
			v = *r.v
		}
		if r.n != nil {
			rec.Measures = append(rec.Measures, ingest.Measure{Name: "n", Value: ingest.Int(*r.n)})
			n = *r.n
		}
		recs = append(recs, rec)
		if _, err := lite.Exec(`INSERT INTO t VALUES (?, ?, 'm', ?, ?, ?)`, host, region, r.t, v, n); err != nil {
			t.Fatalf("insert: %v", err)
		}
	}
	db.load(t, "fuzzdb", "diff", recs)
	return New(db.cat, db, Options{Now: func() time.Time { return scriptNow }}), lite
}

func compareWithSQLite(t *testing.T, e *Engine, lite *sql.DB, i int, q pair) {
	t.Helper()
	{
		res, err := e.Query(context.Background(), q.ts, nil)
		if err != nil {
			t.Fatalf("query %d %s: %v", i, q.ts, err)
		}
		lr, err := lite.Query(q.lite)
		if err != nil {
			t.Fatalf("sqlite %d %s: %v", i, q.lite, err)
		}
		var want []string
		cols, _ := lr.Columns()
		for lr.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for j := range vals {
				ptrs[j] = &vals[j]
			}
			if err := lr.Scan(ptrs...); err != nil {
				t.Fatalf("scan sqlite row: %v", err)
			}
			var cells []string
			for _, v := range vals {
				cells = append(cells, normCell(v))
			}
			want = append(want, strings.Join(cells, "|"))
		}
		lr.Close()
		var got []string
		for _, r := range res.Rows {
			var cells []string
			for _, v := range r {
				cells = append(cells, normCell(normValue(v)))
			}
			got = append(got, strings.Join(cells, "|"))
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("query %d differs\ntidal:  %s\nsqlite: %s\ngot (%d):\n%s\nwant (%d):\n%s", i, q.ts, q.lite,
				len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
		}
	}
}
