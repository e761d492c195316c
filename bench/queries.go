package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// cpuMetrics are the TSBS cpu fields in the order TSBS picks them.
var cpuMetrics = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// queryKind is the shape of a TSBS devops query.
type queryKind uint8

const (
	kindSingleGroupBy queryKind = iota // max per bucket over a few hosts
	kindDoubleGroupBy                  // mean per bucket and host
	kindHighCPU                        // rows with usage_user > 90
	kindOrderByLimit                   // max per minute, last 5 minutes
	kindLastPoint                      // last value of every series
)

// Query is one instantiated TSBS devops or IoT query: its parameters,
// from which each language's text is rendered.
type Query struct {
	Name    string
	kind    queryKind
	metrics []string
	hosts   []string
	fleet   string // IoT queries: the fleet asked about ("" = all)
	// Start and End bound the window [Start, End); Bucket is the group-by
	// step (also the PromQL step).
	Start, End time.Time
	Bucket     time.Duration
}

// Naming says how the TSBS measurements are laid out in one system.
type Naming struct {
	// DB names the Timestream database (SQL only).
	DB string
	// Table, when set, is the one table that holds every measurement (the
	// Prometheus layout); empty means one table per measurement, named
	// after it (the TSBS Timestream loader's layout).
	Table string
	// Prefixed says that a measure name (SQL) and a metric name (PromQL)
	// is measurement_field, as in TSBS's Prometheus layout (cpu_usage_user);
	// otherwise it is the field name alone.
	Prefixed bool
	// Multi says that a point is one multi-measure record whose measures
	// are the fields (line protocol into TidalDB), not one record per
	// field. The query suite is written for one record per field and is
	// not run on this layout; the stored count is.
	Multi bool
}

// Namings of the two data layouts.
var (
	// NamingTimestream is the TSBS Timestream loader's layout: tables
	// benchmark.cpu, benchmark.readings, ..., measure names usage_user, ...
	NamingTimestream = Naming{DB: Database}
	// NamingPrometheus is TSBS's Prometheus layout (metric cpu_usage_user),
	// stored by TidalDB in its Prometheus table.
	NamingPrometheus = Naming{DB: "prometheus", Table: "metrics", Prefixed: true}
	// NamingInflux is line protocol's layout in TidalDB: tables
	// benchmark.cpu, ..., one multi-measure record per point.
	NamingInflux = Naming{DB: Database, Multi: true}
)

// from is the quoted table that holds measurement meas.
func (n Naming) from(meas string) string {
	t := n.Table
	if t == "" {
		t = meas
	}
	return fmt.Sprintf("%q.%q", n.DB, t)
}

// name is the measure (and metric) name of field of measurement meas.
func (n Naming) name(meas, field string) string {
	if n.Prefixed {
		return meas + "_" + field
	}
	return field
}

// strip turns a metric name back into its field name.
func (n Naming) strip(metric string) string {
	if n.Prefixed {
		if _, f, ok := strings.Cut(metric, "_"); ok {
			return f
		}
	}
	return metric
}

// buildQueries instantiates the TSBS devops query set for data in [start,
// end) from hosts hosts, with parameters drawn from seed. Windows longer
// than the data are shortened to it, and so are buckets, so that every
// query has data; windows are aligned to their bucket.
func buildQueries(start, end time.Time, hosts int, interval time.Duration, seed int64) []Query {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7469_6461_6c62)) //nolint:gosec // benchmark parameters, not secrets
	span := end.Sub(start)
	window := func(nominal, bucket time.Duration) (time.Time, time.Time, time.Duration) {
		w := min(nominal, span)
		b := min(bucket, w)
		w = w / b * b
		slots := int((span - w) / b)
		off := time.Duration(0)
		if slots > 0 {
			off = time.Duration(rng.IntN(slots+1)) * b
		}
		s := start.Add(off)
		return s, s.Add(w), b
	}
	pickHosts := func(n int) []string {
		n = min(n, hosts)
		out := make([]string, 0, n)
		for _, i := range rng.Perm(hosts)[:n] {
			out = append(out, fmt.Sprintf("host_%d", i))
		}
		return out
	}
	var qs []Query
	single := func(m, h, hrs int) {
		s, e, b := window(time.Duration(hrs)*time.Hour, time.Minute)
		qs = append(qs, Query{Name: fmt.Sprintf("single-groupby-%d-%d-%d", m, h, hrs), kind: kindSingleGroupBy,
			metrics: cpuMetrics[:m], hosts: pickHosts(h), Start: s, End: e, Bucket: b})
	}
	single(1, 1, 1)
	single(1, 1, 12)
	single(1, 8, 1)
	single(5, 1, 1)
	single(5, 1, 12)
	single(5, 8, 1)
	s, e, b := window(8*time.Hour, time.Hour)
	qs = append(qs, Query{Name: "cpu-max-all-1", kind: kindSingleGroupBy, metrics: cpuMetrics, hosts: pickHosts(1), Start: s, End: e, Bucket: b})
	for _, m := range []int{1, 5, 10} {
		s, e, b := window(12*time.Hour, time.Hour)
		name := fmt.Sprintf("double-groupby-%d", m)
		if m == 10 {
			name = "double-groupby-all"
		}
		qs = append(qs, Query{Name: name, kind: kindDoubleGroupBy, metrics: cpuMetrics[:m], Start: s, End: e, Bucket: b})
	}
	s, e, _ = window(12*time.Hour, time.Hour)
	qs = append(qs, Query{Name: "high-cpu-all", kind: kindHighCPU, Start: s, End: e, Bucket: interval})
	s, e, _ = window(12*time.Hour, time.Hour)
	qs = append(qs, Query{Name: "high-cpu-1", kind: kindHighCPU, hosts: pickHosts(1), Start: s, End: e, Bucket: interval})
	s, e, b = window(5*time.Minute, time.Minute)
	qs = append(qs, Query{Name: "groupby-orderby-limit", kind: kindOrderByLimit, Start: s, End: e, Bucket: b})
	last := start.Add((span - 1) / interval * interval)
	qs = append(qs, Query{Name: "lastpoint", kind: kindLastPoint, Start: last, End: last.Add(interval), Bucket: interval})
	return qs
}

// iot reports whether q is one of the TSBS IoT queries.
func (q *Query) iot() bool { return q.kind >= kindLastLoc }

// tabular reports whether q's SQL and InfluxQL answers have the same rows
// (time bucket, host, aggregates in order; or the named columns of spec),
// so they can be compared.
func (q *Query) tabular() bool {
	if q.iot() {
		return q.iotSpec() != nil
	}
	return q.kind == kindSingleGroupBy || q.kind == kindDoubleGroupBy || q.kind == kindOrderByLimit
}

// spec is how q's tabular answers line up: nil for the positional form.
func (q *Query) spec() *tableSpec {
	if q.iot() {
		return q.iotSpec()
	}
	return nil
}

// sqlTime formats t as TSBS's Timestream queries do.
func sqlTime(t time.Time) string {
	return "'" + t.UTC().Format("2006-01-02 15:04:05.999999 -0700") + "'"
}

func orChain(col string, vals []string) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = col + " = '" + v + "'"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// SQL renders q in Timestream SQL, following the TSBS Timestream query
// templates, for the data layout n.
func (q *Query) SQL(n Naming) string {
	if q.iot() {
		return q.iotSQL(n)
	}
	table := n.from("cpu")
	measures := make([]string, len(q.metrics))
	for i, m := range q.metrics {
		measures[i] = n.name("cpu", m)
	}
	bin := fmt.Sprintf("bin(time, %ds)", int(q.Bucket/time.Second))
	switch q.kind {
	case kindSingleGroupBy:
		sel := make([]string, len(q.metrics))
		for i, m := range q.metrics {
			sel[i] = fmt.Sprintf("max(case when measure_name = '%s' THEN measure_value::double ELSE NULL END) as max_%s", measures[i], m)
		}
		return fmt.Sprintf("SELECT %s AS minute,\n        %s\n        FROM %s\n        WHERE %s AND %s AND time >= %s AND time < %s\n        GROUP BY 1 ORDER BY 1 ASC",
			bin, strings.Join(sel, ",\n        "), table, orChain("measure_name", measures), orChain("hostname", q.hosts), sqlTime(q.Start), sqlTime(q.End))
	case kindDoubleGroupBy:
		sel := make([]string, len(q.metrics))
		for i, m := range q.metrics {
			sel[i] = fmt.Sprintf("avg (case when measure_name = '%s' THEN measure_value::double ELSE NULL END) as mean_%s", measures[i], m)
		}
		return fmt.Sprintf("SELECT %s as hour,\n\t\t\thostname,\n\t\t\t%s\n\t\tFROM %s\n\t\tWHERE time >= %s AND time < %s\n\t\tGROUP BY 1, 2",
			bin, strings.Join(sel, ",\n\t\t\t"), table, sqlTime(q.Start), sqlTime(q.End))
	case kindHighCPU:
		host := ""
		if len(q.hosts) > 0 {
			host = "AND " + orChain("hostname", q.hosts)
		}
		return fmt.Sprintf("WITH usage_over_ninety AS (\n\tSELECT time, hostname\n\tFROM %s\n\tWHERE measure_name = '%s' AND measure_value::double > 90\n\t\tAND time >= %s AND time < %s\n\t\t%s\n)\nSELECT *\nFROM %s a\nJOIN usage_over_ninety b ON a.hostname = b.hostname AND a.time = b.time",
			table, n.name("cpu", "usage_user"), sqlTime(q.Start), sqlTime(q.End), host, table)
	case kindOrderByLimit:
		return fmt.Sprintf("SELECT %s AS minute, max(measure_value::double) as max_usage_user\n        FROM %s\n        WHERE time < %s AND measure_name = '%s'\n        GROUP BY 1\n        ORDER BY 1 DESC\n        LIMIT 5",
			bin, table, sqlTime(q.End), n.name("cpu", "usage_user"))
	case kindLastPoint:
		return fmt.Sprintf("WITH latest_recorded_time AS (\n\tSELECT hostname, measure_name, max(time) as latest_time\n\tFROM %[1]s\n\tGROUP BY 1, 2\n)\nSELECT b.hostname, b.measure_name, b.measure_value::double, b.time\nFROM latest_recorded_time a\nJOIN %[1]s b\nON a.hostname = b.hostname AND a.latest_time = b.time AND a.measure_name = b.measure_name\nORDER BY hostname, measure_name", table)
	}
	return ""
}

// PromRange is a PromQL range query: expression, first and last evaluation
// time and step.
type PromRange struct {
	Expr       string
	Start, End time.Time
	Step       time.Duration
}

// PromQL renders q as the equivalent PromQL range query for metric names
// spelled as n names them; an empty Expr means PromQL cannot say q. Evaluation times are the ends of the buckets:
// the point at T covers (T-bucket, T], the samples of the bucket's SQL bin
// shifted by one interval.
func (q *Query) PromQL(n Naming) PromRange {
	if q.iot() {
		return q.iotPromQL(n)
	}
	hostSel := ""
	if len(q.hosts) == 1 {
		hostSel = fmt.Sprintf(`hostname=%q`, q.hosts[0])
	} else if len(q.hosts) > 1 {
		hostSel = fmt.Sprintf(`hostname=~%q`, strings.Join(q.hosts, "|"))
	}
	sel := func(m string) string { return n.name("cpu", m) + "{" + hostSel + "}" }
	// One millisecond short of the bucket: Prometheus 2.x range selectors
	// include their left edge and 3.x ones do not, so a full-bucket range
	// would make the two disagree on the sample at the edge.
	rng := fmt.Sprintf("%dms", (q.Bucket-time.Millisecond)/time.Millisecond)
	perMetric := func(f func(m string) string) string {
		if len(q.metrics) == 1 {
			return f(q.metrics[0])
		}
		parts := make([]string, len(q.metrics))
		for i, m := range q.metrics {
			parts[i] = fmt.Sprintf(`label_replace(%s, "measure", %q, "", "")`, f(m), m)
		}
		return strings.Join(parts, " or ")
	}
	r := PromRange{Start: q.Start.Add(q.Bucket), End: q.End, Step: q.Bucket}
	switch q.kind {
	case kindSingleGroupBy:
		r.Expr = perMetric(func(m string) string { return fmt.Sprintf("max(max_over_time(%s[%s]))", sel(m), rng) })
	case kindDoubleGroupBy:
		r.Expr = perMetric(func(m string) string {
			return fmt.Sprintf("avg by (hostname) (avg_over_time(%s[%s]))", sel(m), rng)
		})
	case kindHighCPU:
		r.Expr = sel("usage_user") + " > 90"
		r.Start, r.End = q.Start, q.End.Add(-q.Bucket)
	case kindOrderByLimit:
		r.Expr = fmt.Sprintf("max(max_over_time(%s[%s]))", sel("usage_user"), rng)
	case kindLastPoint:
		r.Expr = fmt.Sprintf(`{__name__=~"%s"}`, n.name("cpu", "usage_.*"))
		r.Start, r.End = q.Start, q.Start
	}
	return r
}

// promDuration writes d in PromQL duration syntax (whole seconds or more).
func promDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// InfluxQL renders q in InfluxQL (measurement cpu, or readings and
// diagnostics), following TSBS's InfluxDB query templates; "" means
// InfluxQL cannot say q.
func (q *Query) InfluxQL() string {
	if q.iot() {
		return q.iotInfluxQL()
	}
	tr := fmt.Sprintf("time >= '%s' AND time < '%s'", q.Start.UTC().Format(time.RFC3339Nano), q.End.UTC().Format(time.RFC3339Nano))
	hosts := ""
	if len(q.hosts) > 0 {
		hosts = orChain("hostname", q.hosts) + " AND "
	}
	agg := func(fn string) string {
		parts := make([]string, len(q.metrics))
		for i, m := range q.metrics {
			parts[i] = fmt.Sprintf("%s(%s)", fn, m)
		}
		return strings.Join(parts, ", ")
	}
	switch q.kind {
	case kindSingleGroupBy:
		return fmt.Sprintf("SELECT %s FROM cpu WHERE %s%s GROUP BY time(%s)", agg("max"), hosts, tr, promDuration(q.Bucket))
	case kindDoubleGroupBy:
		return fmt.Sprintf("SELECT %s FROM cpu WHERE %s GROUP BY time(%s), hostname", agg("mean"), tr, promDuration(q.Bucket))
	case kindHighCPU:
		return fmt.Sprintf("SELECT * FROM cpu WHERE usage_user > 90.0 AND %s%s", hosts, tr)
	case kindOrderByLimit:
		return fmt.Sprintf("SELECT max(usage_user) FROM cpu WHERE time < '%s' AND time >= '%s' GROUP BY time(1m) ORDER BY time DESC LIMIT 5",
			q.End.UTC().Format(time.RFC3339Nano), q.Start.UTC().Format(time.RFC3339Nano))
	case kindLastPoint:
		return "SELECT last(*) FROM cpu GROUP BY hostname"
	}
	return ""
}
