package parser

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// validQueries must parse; want is the canonical printed form (empty when
// it equals the input). Every entry is also a FuzzParse seed.
var validQueries = []struct{ in, want string }{
	{
		`SELECT bin(time, 60s) AS minute, max(case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as max_usage_user FROM "benchmark"."cpu" WHERE (measure_name = 'usage_user') AND (hostname = 'host_9' OR hostname = 'host_3' OR hostname = 'host_5') AND time >= '2024-01-01 04:32:07.646325 +0000' AND time < '2024-01-01 05:32:07.646325 +0000' GROUP BY 1 ORDER BY 1 ASC`,
		`SELECT bin(time, 1m) AS minute, max(CASE WHEN measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) AS max_usage_user FROM "benchmark"."cpu" WHERE measure_name = 'usage_user' AND (hostname = 'host_9' OR hostname = 'host_3' OR hostname = 'host_5') AND time >= '2024-01-01 04:32:07.646325 +0000' AND time < '2024-01-01 05:32:07.646325 +0000' GROUP BY 1 ORDER BY 1 ASC`,
	},
	{
		`SELECT bin(time, 60s) AS minute, max(measure_value::double) as max_usage_user FROM "benchmark"."cpu" WHERE time < '2024-01-01 05:32:07 +0000' AND measure_name = 'usage_user' GROUP BY 1 ORDER BY 1 DESC LIMIT 5`,
		`SELECT bin(time, 1m) AS minute, max(measure_value::double) AS max_usage_user FROM "benchmark"."cpu" WHERE time < '2024-01-01 05:32:07 +0000' AND measure_name = 'usage_user' GROUP BY 1 ORDER BY 1 DESC LIMIT 5`,
	},
	{
		`SELECT bin(time, 3600s) as hour, hostname, avg (case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as mean_usage_user FROM "benchmark"."cpu" WHERE time >= '2024-01-01 00:00:00 +0000' AND time < '2024-01-01 12:00:00 +0000' GROUP BY 1, 2`,
		`SELECT bin(time, 1h) AS hour, hostname, avg(CASE WHEN measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) AS mean_usage_user FROM "benchmark"."cpu" WHERE time >= '2024-01-01 00:00:00 +0000' AND time < '2024-01-01 12:00:00 +0000' GROUP BY 1, 2`,
	},
	{
		`WITH latest_recorded_time AS ( SELECT hostname, measure_name, max(time) as latest_time FROM "benchmark"."cpu" GROUP BY 1, 2 ) SELECT b.hostname, b.measure_name, b.measure_value::double, b.time FROM latest_recorded_time a JOIN "benchmark"."cpu" b ON a.hostname = b.hostname AND a.latest_time = b.time AND a.measure_name = b.measure_name ORDER BY hostname, measure_name`,
		`WITH latest_recorded_time AS (SELECT hostname, measure_name, max(time) AS latest_time FROM "benchmark"."cpu" GROUP BY 1, 2) SELECT b.hostname, b.measure_name, b.measure_value::double, b.time FROM latest_recorded_time AS a JOIN "benchmark"."cpu" AS b ON a.hostname = b.hostname AND a.latest_time = b.time AND a.measure_name = b.measure_name ORDER BY hostname, measure_name`,
	},
	{
		`WITH usage_over_ninety AS ( SELECT time, hostname FROM "benchmark"."cpu" WHERE measure_name = 'usage_user' AND measure_value::double > 90 AND time >= '2024-01-01 00:00:00 +0000' AND time < '2024-01-01 12:00:00 +0000' AND (hostname = 'host_5') ) SELECT * FROM "benchmark"."cpu" a JOIN usage_over_ninety b ON a.hostname = b.hostname AND a.time = b.time`,
		`WITH usage_over_ninety AS (SELECT time, hostname FROM "benchmark"."cpu" WHERE measure_name = 'usage_user' AND measure_value::double > 90 AND time >= '2024-01-01 00:00:00 +0000' AND time < '2024-01-01 12:00:00 +0000' AND hostname = 'host_5') SELECT * FROM "benchmark"."cpu" AS a JOIN usage_over_ninety AS b ON a.hostname = b.hostname AND a.time = b.time`,
	},
	{
		`select memory from "devops"."sample_devops" where time > ago(10m) and hostname='host1' order by time desc limit 1`,
		`SELECT memory FROM "devops"."sample_devops" WHERE time > ago(10m) AND hostname = 'host1' ORDER BY time DESC LIMIT 1`,
	},
	{
		`select bin(time, 1m) AS binned_time, max(cpu_utilization) as max_cpu_utilization from "devops"."sample_devops" where time > ago(10m) and hostname='host2' group by bin(time, 1m) order by binned_time asc`,
		`SELECT bin(time, 1m) AS binned_time, max(cpu_utilization) AS max_cpu_utilization FROM "devops"."sample_devops" WHERE time > ago(10m) AND hostname = 'host2' GROUP BY bin(time, 1m) ORDER BY binned_time ASC`,
	},
	{
		`SELECT region, az, hostname, CREATE_TIME_SERIES(time, measure_value::double) as cpu_utilization FROM "db"."t" WHERE measure_name = 'cpu_utilization' AND time > ago(2h) GROUP BY region, hostname, az`,
		`SELECT region, az, hostname, CREATE_TIME_SERIES(time, measure_value::double) AS cpu_utilization FROM "db"."t" WHERE measure_name = 'cpu_utilization' AND time > ago(2h) GROUP BY region, hostname, az`,
	},
	{`SELECT hostname, INTERPOLATE_LINEAR(CREATE_TIME_SERIES(time, measure_value::double), SEQUENCE(min(time), max(time), 15s)) AS interpolated FROM db.t WHERE measure_name = 'cpu' GROUP BY hostname`, ``},
	{`SELECT t.time, t.value FROM db.tbl CROSS JOIN UNNEST(ts) AS t(time, value)`, ``},
	{`SELECT * FROM UNNEST(ARRAY[1, 2, 3]) WITH ORDINALITY AS t(v, i)`, ``},
	{`SELECT interpolate_locf(ts, ago(1h)), interpolate_fill(ts, sequence(now() - 1h, now(), 1m), 0.0), interpolate_spline_cubic(ts, ARRAY[TIMESTAMP '2024-01-01 00:00:00'])`, ``},
	{`SELECT derivative_linear(ts, 1s), non_negative_derivative_linear(ts, 1m), integral_trapezoidal(ts), integral_trapezoidal(ts, 1h), correlate_pearson(a, b), correlate_spearman(a, b) FROM x`, ``},
	{`SELECT filter(ts, x -> x.value > 50.0), reduce(ts, 0.0, (s, x) -> s + x.value, s -> s), transform(arr, x -> x * 2) FROM x`, ``},
	{`SELECT position('b' IN 'abc' || x), position(x, y), POSITION(upper(a) in b) FROM t`, `SELECT strpos('abc' || x, 'b'), position(x, y), strpos(b, upper(a)) FROM t`},
	{`SELECT from_milliseconds(1700000000000), from_nanoseconds(1700000000000000000), to_milliseconds(now()), to_nanoseconds(1h)`, ``},
	{
		`SELECT date_trunc('hour', time), date_add('day', -1, now()), date_diff('second', a, b), extract(hour FROM time), EXTRACT(YEAR FROM date '2022-05-21' + 2d)`,
		`SELECT date_trunc('hour', time), date_add('day', -1, now()), date_diff('second', a, b), EXTRACT(HOUR FROM time), EXTRACT(YEAR FROM DATE '2022-05-21' + 2d)`,
	},
	{`SELECT current_date, current_time, current_timestamp, localtime, localtimestamp, now(), current_timezone()`, ``},
	{
		`SELECT CAST(x AS varchar), TRY_CAST('1' AS bigint), cast(y AS ARRAY(DOUBLE)), CAST(z AS row(a bigint, b varchar(10))), CAST(i AS INTERVAL DAY TO SECOND), CAST(v AS timeseries[row(timestamp, double)])`,
		`SELECT CAST(x AS VARCHAR), TRY_CAST('1' AS BIGINT), CAST(y AS ARRAY(DOUBLE)), CAST(z AS ROW(a BIGINT, b VARCHAR(10))), CAST(i AS INTERVAL DAY TO SECOND), CAST(v AS TIMESERIES(ROW(TIMESTAMP, DOUBLE)))`,
	},
	{
		`SELECT to_base64(CAST(hostname AS varbinary)), xxhash64(CAST(x AS VARBINARY)), typeof(x)`,
		`SELECT to_base64(CAST(hostname AS VARBINARY)), xxhash64(CAST(x AS VARBINARY)), typeof(x)`,
	},
	{`SELECT count(*), count(DISTINCT hostname), count_if(v > 1), approx_percentile(v, 0.99), sum(v) FILTER (WHERE v > 0) FROM t`, ``},
	{`SELECT row_number() OVER (PARTITION BY hostname ORDER BY time DESC), lag(v, 1) OVER (ORDER BY time), avg(v) OVER (PARTITION BY h ORDER BY time ROWS BETWEEN 5 PRECEDING AND CURRENT ROW), sum(v) OVER (RANGE UNBOUNDED PRECEDING), first_value(v) OVER (ORDER BY t GROUPS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) FROM t`, ``},
	{`SELECT CASE x WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END, CASE WHEN x > 1 THEN 'big' END, IF(x > 1, 'y', 'n'), COALESCE(a, b, 0), NULLIF(a, 0), TRY(1 / 0)`, ``},
	{`SELECT a FROM t WHERE a BETWEEN 1 AND 10 AND b NOT BETWEEN 2 AND 3 AND c IN (1, 2) AND d NOT IN ('x') AND e LIKE 'ab%' AND f NOT LIKE 'a\_%' ESCAPE '\' AND g IS NULL AND h IS NOT NULL AND i IS DISTINCT FROM j AND k IS NOT DISTINCT FROM l`, ``},
	{`SELECT a FROM t WHERE a IN (SELECT b FROM u) AND EXISTS (SELECT 1 FROM u WHERE u.x = t.x) AND NOT EXISTS (SELECT 1) AND a > ALL (SELECT b FROM u) AND a = ANY (SELECT b FROM u) AND a < SOME (SELECT 1)`, ``},
	{
		`SELECT (SELECT max(v) FROM u) AS m, a[1], m['k'], r.x, element_at(a, -1), cardinality(ARRAY[]), ROW(1, 'a'), (1, 2), 'a' || 'b' || c`,
		`SELECT (SELECT max(v) FROM u) AS m, a[1], m['k'], r.x, element_at(a, -1), cardinality(ARRAY[]), ROW(1, 'a'), ROW(1, 2), 'a' || 'b' || c`,
	},
	{`SELECT time AT TIME ZONE 'America/New_York', TIMESTAMP '2022-06-17 01:00', DATE '2022-05-21', TIME '01:02:03', INTERVAL '2' DAY, INTERVAL '1' HOUR TO SECOND, INTERVAL '3' YEAR TO MONTH`, ``},
	{
		`SELECT 1h, 15m, 10s, 100ms, 1d, 2us, 5ns, 12second, 3minute, 7hour, 2day, 90s, 1500ms, 1.5, .5, 1e3, 2.5E-3, 42, TRUE, FALSE, NULL`,
		`SELECT 1h, 15m, 10s, 100ms, 1d, 2us, 5ns, 12s, 3m, 7h, 2d, 90s, 1500ms, 1.5, .5, 1e3, 2.5E-3, 42, TRUE, FALSE, NULL`,
	},
	{`SELECT * FROM t WHERE time > now() - 1h AND time BETWEEN @scheduled_runtime - 1h AND @scheduled_runtime AND x = ? AND y = ?`, ``},
	{
		`SELECT a, b FROM t1 LEFT JOIN t2 ON t1.id = t2.id RIGHT OUTER JOIN t3 USING (id) FULL OUTER JOIN t4 ON true INNER JOIN t5 ON 1 = 1 CROSS JOIN t6, t7 AS x, (SELECT 1 AS y) AS s`,
		`SELECT a, b FROM t1 LEFT JOIN t2 ON t1.id = t2.id RIGHT JOIN t3 USING (id) FULL JOIN t4 ON TRUE JOIN t5 ON 1 = 1 CROSS JOIN t6, t7 AS x, (SELECT 1 AS y) AS s`,
	},
	{`SELECT * FROM (t1 JOIN t2 ON t1.a = t2.a) AS j, (VALUES (1, 'a'), (2, 'b')) AS v(id, name)`, ``},
	{`SELECT a FROM t UNION SELECT a FROM u INTERSECT SELECT a FROM w EXCEPT ALL SELECT a FROM z UNION DISTINCT SELECT 1`, ``},
	{`(SELECT a FROM t UNION SELECT b FROM u) INTERSECT SELECT c FROM w`, ``},
	{`SELECT a FROM t UNION (SELECT b FROM u ORDER BY b LIMIT 1) ORDER BY 1 OFFSET 2 LIMIT 10`, ``},
	{`VALUES 1, 2, 3`, ``},
	{`VALUES (1, 'a'), (2, 'b')`, ``},
	{
		`SELECT DISTINCT hostname, t.*, "quoted ""name""" FROM "db-1"."my table" t WHERE "Time" = 1 GROUP BY DISTINCT hostname HAVING count(*) > 1 ORDER BY 1 DESC NULLS LAST, 2 NULLS FIRST LIMIT ALL`,
		`SELECT DISTINCT hostname, t.*, "quoted ""name""" FROM "db-1"."my table" AS t WHERE "Time" = 1 GROUP BY DISTINCT hostname HAVING count(*) > 1 ORDER BY 1 DESC NULLS LAST, 2 NULLS FIRST LIMIT ALL`,
	},
	{`SELECT a, b, sum(c) FROM t GROUP BY GROUPING SETS ((a, b), (a), ()), ROLLUP (a, b), CUBE (a), ()`, ``},
	{
		`SELECT -a * b, -(a * b), - -a, +a, NOT a = b, NOT NOT a, a - (b - c), (a - b) - c, a / (b * c), a || (b || c), (a + b) * c, -x AT TIME ZONE 'UTC'`,
		`SELECT -a * b, -(a * b), - -a, +a, NOT a = b, NOT NOT a, a - (b - c), a - b - c, a / (b * c), a || (b || c), (a + b) * c, -x AT TIME ZONE 'UTC'`,
	},
	{`SHOW DATABASES`, ``},
	{`SHOW DATABASES LIKE 'dev%'`, ``},
	{`SHOW TABLES`, ``},
	{`SHOW TABLES FROM devops LIKE 'cpu%'`, ``},
	{`SHOW MEASURES FROM devops.cpu`, ``},
	{`SHOW MEASURES FROM "devops"."cpu" LIKE 'usage%'`, ``},
	{`DESCRIBE "devops"."cpu"`, ``},
	{`UNLOAD (SELECT * FROM db.t WHERE time > ago(1d)) TO 's3://bucket/prefix' WITH (format = 'PARQUET', compression = 'GZIP', partitioned_by = ARRAY['hostname'])`, ``},
	{
		`SELECT 1;`,
		`SELECT 1`,
	},
	{
		`SELECT a -- trailing comment`,
		`SELECT a`,
	},
	{`SELECT approx_percentile(v, 0.5) AS p50, min_by(a, b), max_by(a, b), arbitrary(x), array_agg(x), stddev(x), geometric_mean(x), regexp_like(s, '^h.*'), regexp_extract(s, '(\d+)', 1), split_part(s, '-', 2), lpad(s, 5, '0'), strpos(s, 'a'), levenshtein_distance(a, b)`, ``},
	{`SELECT hostname, measure_name, measure_value::bigint, measure_value::varchar, measure_value::boolean, measure_value::timestamp, MEASURE_VALUE::DOUBLE FROM t`, ``},
	{
		`SELECT sequence(date '2022-01-01', date '2022-01-31', 1d), date '2022-05-21' + 2d, from_unixtime(1700000000), to_unixtime(time), from_iso8601_timestamp('2022-01-01T00:00:00Z'), date_format(time, '%Y-%m-%d'), parse_duration('1h'), human_readable_seconds(96)`,
		`SELECT sequence(DATE '2022-01-01', DATE '2022-01-31', 1d), DATE '2022-05-21' + 2d, from_unixtime(1700000000), to_unixtime(time), from_iso8601_timestamp('2022-01-01T00:00:00Z'), date_format(time, '%Y-%m-%d'), parse_duration('1h'), human_readable_seconds(96)`,
	},
	{`SELECT zip_with(a, b, (x, y) -> x + y), transform(a, () -> 1), any_match(a, e -> e IS NULL)`, ``},
	{
		`SELECT f(x)[1].y, (a[1]).b`,
		`SELECT f(x)[1].y, a[1].b`,
	},
	{
		"SELECT a /* block\ncomment */ FROM t -- trailing\n",
		`SELECT a FROM t`,
	},
	{"select\n\tb.x\nfrom\n\t\"db\".\"t\" b;", `SELECT b.x FROM "db"."t" AS b`},
	{`SELECT "measure_value::double", "a""b" FROM t`, ``},
	{`SELECT x FROM t LIMIT 10 OFFSET 5`, `SELECT x FROM t OFFSET 5 LIMIT 10`},
	{`SELECT x FROM t OFFSET 5 ROWS LIMIT ?`, `SELECT x FROM t OFFSET 5 LIMIT ?`},
	{`SELECT a != b, a <> b`, `SELECT a <> b, a <> b`},
	{`SELECT CAST(x AS array<bigint>), CAST(y AS row(timestamp, double)), CAST(z AS decimal(10, 2))`, `SELECT CAST(x AS ARRAY(BIGINT)), CAST(y AS ROW(TIMESTAMP, DOUBLE)), CAST(z AS DECIMAL(10, 2))`},
	{`SELECT ((SELECT 1) + 1), x IN ((SELECT 1) UNION (SELECT 2)), ((SELECT 1) UNION SELECT 2)`, `SELECT (SELECT 1) + 1, x IN (SELECT 1 UNION SELECT 2), (SELECT 1 UNION SELECT 2)`},
	{`SELECT * FROM ((SELECT 1) UNION (SELECT 2)) AS u, ((SELECT 1) x JOIN y ON TRUE)`, `SELECT * FROM (SELECT 1 UNION SELECT 2) AS u, ((SELECT 1) AS x JOIN y ON TRUE)`},
	{`WITH a (x, y) AS (SELECT 1, 2), b AS (VALUES 3) SELECT * FROM a, b`, `WITH a(x, y) AS (SELECT 1, 2), b AS (VALUES 3) SELECT * FROM a, b`},
	{`SELECT "select", "FROM" AS "order", date, time, timestamp, interval, "array"[1], (array)[2], limit FROM t`, `SELECT "select", "FROM" AS "order", date, time, timestamp, interval, "array"[1], (array)[2], limit FROM t`},
	{`SELECT x FROM t limit 3`, `SELECT x FROM t LIMIT 3`},
	{`SELECT a.b.c.d, "A".b FROM t`, ``},
	{`SELECT count(ALL x), current_timestamp(3)`, `SELECT count(x), current_timestamp(3)`},
	{`SELECT (all), f((all)), a = (any(1)), (some) FROM t ORDER BY 1 LIMIT ? OFFSET ?`, ``},
	{`SELECT x FROM t OFFSET ? LIMIT ?`, ``},
	{`SELECT avg(v) OVER (ROWS (unbounded) PRECEDING), EXTRACT("a b" FROM x), (1).x, (1.5e3).y, ("t").z`, `SELECT avg(v) OVER (ROWS (unbounded) PRECEDING), EXTRACT("A B" FROM x), (1).x, (1.5e3).y, ("t").z`},
}

func TestParseCanonical(t *testing.T) {
	for _, tc := range validQueries {
		st, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		want := tc.want
		if want == "" {
			want = tc.in
		}
		if got := Format(st); got != want {
			t.Errorf("Format(Parse(%q)):\n got  %s\n want %s", tc.in, got, want)
			continue
		}
		checkRoundTrip(t, st)
	}
}

// tree renders an expression fully parenthesised, to pin down precedence
// and associativity independently of the printer.
func tree(e Expr) string {
	switch e := e.(type) {
	case *Binary:
		return fmt.Sprintf("(%s %s %s)", tree(e.L), e.Op, tree(e.R))
	case *Unary:
		return fmt.Sprintf("(%s %s)", [...]string{"NOT", "-", "+"}[e.Op], tree(e.X))
	case *Between:
		return fmt.Sprintf("(BETWEEN %s %s %s)", tree(e.X), tree(e.Low), tree(e.High))
	case *Like:
		return fmt.Sprintf("(LIKE %s %s)", tree(e.X), tree(e.Pattern))
	case *IsNull:
		return fmt.Sprintf("(ISNULL %s)", tree(e.X))
	case *InList:
		return fmt.Sprintf("(IN %s)", tree(e.X))
	case *AtTimeZone:
		return fmt.Sprintf("(AT %s %s)", tree(e.X), tree(e.Zone))
	case *Subscript:
		return fmt.Sprintf("(INDEX %s %s)", tree(e.X), tree(e.Index))
	case *FieldAccess:
		return fmt.Sprintf("(FIELD %s %s)", tree(e.X), e.Field.Value)
	case *Lambda:
		return fmt.Sprintf("(LAMBDA %d %s)", len(e.Params), tree(e.Body))
	}
	return Format(e)
}

func TestPrecedence(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a OR b AND c", "(a OR (b AND c))"},
		{"a AND b OR c", "((a AND b) OR c)"},
		{"NOT a AND b", "((NOT a) AND b)"},
		{"NOT a = b", "(NOT (a = b))"},
		{"a = b AND c <> d", "((a = b) AND (c <> d))"},
		{"a + b * c", "(a + (b * c))"},
		{"a * b + c", "((a * b) + c)"},
		{"a - b - c", "((a - b) - c)"},
		{"a / b % c", "((a / b) % c)"},
		{"a || b + c", "(a || (b + c))"},
		{"a + b || c", "((a + b) || c)"},
		{"-a * b", "((- a) * b)"},
		{"- -a", "(- (- a))"},
		{"-a AT TIME ZONE 'UTC'", "(- (AT a 'UTC'))"},
		{"a + b AT TIME ZONE 'UTC'", "(a + (AT b 'UTC'))"},
		{"a < b + 1", "(a < (b + 1))"},
		{"a BETWEEN b + 1 AND c * 2 AND d", "((BETWEEN a (b + 1) (c * 2)) AND d)"},
		{"a LIKE 'x' || 'y' OR b", "((LIKE a ('x' || 'y')) OR b)"},
		{"a + 1 IS NULL", "(ISNULL (a + 1))"},
		{"NOT a IN (1)", "(NOT (IN a))"},
		{"a[1][2]", "(INDEX (INDEX a 1) 2)"},
		{"f(x).y.z", "(FIELD (FIELD f(x) y) z)"},
		{"x -> x + 1", "(LAMBDA 1 (x + 1))"},
		{"(a OR b) AND c", "((a OR b) AND c)"},
		{"time > now() - 1h", "(time > (now() - 1h))"},
		{"@scheduled_runtime - 15m", "(@scheduled_runtime - 15m)"},
	}
	for _, tc := range tests {
		e, err := ParseExpr(tc.in)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", tc.in, err)
			continue
		}
		if got := tree(e); got != tc.want {
			t.Errorf("ParseExpr(%q) = %s, want %s", tc.in, got, tc.want)
		}
		back, err := ParseExpr(Format(e))
		if err != nil || !sameAST(e, back) {
			t.Errorf("ParseExpr(Format(%q)) = %v, %v: not the same tree", tc.in, back, err)
		}
	}
}

func TestParseValues(t *testing.T) {
	e, err := ParseExpr("bin(time, 15m) + 1500ms - 2d + 5ns + 12second")
	if err != nil {
		t.Fatal(err)
	}
	var durs []int64
	var walk func(Expr)
	walk = func(e Expr) {
		switch e := e.(type) {
		case *Binary:
			walk(e.L)
			walk(e.R)
		case *Call:
			for _, a := range e.Args {
				walk(a)
			}
		case *Duration:
			durs = append(durs, e.Nanos)
		}
	}
	walk(e)
	want := []int64{15 * 60e9, 1500e6, 2 * 86400e9, 5, 12e9}
	if fmt.Sprint(durs) != fmt.Sprint(want) {
		t.Errorf("durations = %v, want %v", durs, want)
	}

	st, err := Parse(`SELECT "Host", host, measure_value::double, 'it''s', ?, ?, @p FROM "my-db"."t" WHERE x = TIMESTAMP '2024-01-01 00:00:00'`)
	if err != nil {
		t.Fatal(err)
	}
	sel := st.(*Query).Body.(*Select)
	if got := sel.Items[0].Expr.(*Ident).Parts[0]; got != (Name{Value: "Host", Quoted: true}) {
		t.Errorf("quoted ident = %+v", got)
	}
	if got := sel.Items[1].Expr.(*Ident).Parts[0]; got != (Name{Value: "host"}) || !got.Matches("HOST") || (Name{Value: "Host", Quoted: true}).Matches("host") {
		t.Errorf("bare ident = %+v", got)
	}
	if got := sel.Items[2].Expr.(*Ident).Parts; len(got) != 1 || got[0].Value != "measure_value::double" {
		t.Errorf("measure_value::double = %+v", got)
	}
	if got := sel.Items[3].Expr.(*Literal); got.Kind != LitString || got.Value != "it's" {
		t.Errorf("string literal = %+v", got)
	}
	if a, b := sel.Items[4].Expr.(*Param), sel.Items[5].Expr.(*Param); a.Index != 1 || b.Index != 2 || a.Name != "" {
		t.Errorf("positional params = %+v %+v", a, b)
	}
	if got := sel.Items[6].Expr.(*Param); got.Name != "p" {
		t.Errorf("named param = %+v", got)
	}
	tbl := sel.From[0].(*Table)
	if got := fmt.Sprint(tbl.Name.Names()); got != "[my-db t]" {
		t.Errorf("table Names() = %s", got)
	}
	if got := tbl.Name.Parts; len(got) != 2 || got[0] != (Name{Value: "my-db", Quoted: true}) || got[1].Value != "t" {
		t.Errorf("table name = %+v", got)
	}
	if got := sel.Where.(*Binary).R.(*Literal); got.Kind != LitTimestamp || got.Value != "2024-01-01 00:00:00" {
		t.Errorf("timestamp literal = %+v", got)
	}
	if got := sel.Items[0].Position(); got != (Pos{Line: 1, Col: 8}) {
		t.Errorf("position of first item = %+v", got)
	}
	if got := tbl.Position(); got != (Pos{Line: 1, Col: 68}) {
		t.Errorf("position of table = %+v", got)
	}
}

func TestParseStatements(t *testing.T) {
	st, err := Parse("SHOW MEASURES FROM devops.cpu LIKE 'usage%'")
	if err != nil {
		t.Fatal(err)
	}
	sm := st.(*ShowMeasures)
	if len(sm.From.Parts) != 2 || sm.From.Parts[1].Value != "cpu" || sm.Like.Value != "usage%" {
		t.Errorf("SHOW MEASURES = %+v", sm)
	}
	st, err = Parse("show tables in devops")
	if err != nil {
		t.Fatal(err)
	}
	if got := Format(st); got != "SHOW TABLES FROM devops" {
		t.Errorf("SHOW TABLES IN = %s", got)
	}
	st, err = Parse(`describe "db"."t"`)
	if err != nil {
		t.Fatal(err)
	}
	if d := st.(*Describe); d.Table.Parts[0] != (Name{Value: "db", Quoted: true}) {
		t.Errorf("DESCRIBE = %+v", d)
	}
}

func TestGroupingAndJoins(t *testing.T) {
	st, err := Parse("SELECT 1 FROM a LEFT OUTER JOIN b USING (k) CROSS JOIN UNNEST(x) AS u(v) GROUP BY ROLLUP (a, b), ()")
	if err != nil {
		t.Fatal(err)
	}
	sel := st.(*Query).Body.(*Select)
	outer := sel.From[0].(*Join)
	inner := outer.Left.(*Join)
	if outer.Kind != CrossJoin || inner.Kind != LeftJoin || len(inner.Using) != 1 || inner.Using[0].Value != "k" {
		t.Errorf("joins = %+v / %+v", outer, inner)
	}
	if u := outer.Right.(*Unnest); u.Alias.Name.Value != "u" || u.Alias.Columns[0].Value != "v" {
		t.Errorf("unnest alias = %+v", u.Alias)
	}
	g := sel.GroupBy.Elements
	if len(g) != 2 || g[0].Kind != GroupRollup || len(g[0].Sets[0]) != 2 || g[1].Kind != GroupEmpty {
		t.Errorf("grouping = %+v", g)
	}
}

func TestErrSyntax(t *testing.T) {
	_, err := Parse("SELECT FROM")
	var pe *Error
	if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
		t.Fatalf("error %v is not a *Error matching ErrSyntax", err)
	}
	if pe.Line != 1 || pe.Col != 8 || !strings.HasPrefix(pe.Msg, "mismatched input 'FROM'") {
		t.Errorf("error = %+v", pe)
	}
}
