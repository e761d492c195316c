// Package scantest is the acceptance suite of the scan contract: every
// scan.Source implementation (memstore, magnetic, both merged, and any later
// backend) runs the same checks against a naive in-memory model.
package scantest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// Database and Table name the table the suite writes to.
const (
	Database = "testdb"
	Table    = "tbl"
)

// Opener stores recs (all in Database.Table, times inside the window the
// implementation accepts) and returns a Source over them.
type Opener func(t *testing.T, recs []ingest.Record) scan.Source

// Config shapes the generated data.
type Config struct {
	Seed int64
	// Base is the earliest record time; records span Span nanoseconds.
	Base, Span int64
	// Rows is the number of records written.
	Rows int
	// Long makes Generate write few series (Hosts hosts, the cpu and
	// metrics measures), so that each gets enough rows for several
	// memory chunks or magnetic blocks; Hosts 0 means 1.
	Long  bool
	Hosts int
	// Scans is the number of random scans Run checks (0: the default).
	Scans int
}

// DefaultConfig returns a config with times in [base, base+1h).
func DefaultConfig(base int64) Config {
	return Config{Seed: 1, Base: base, Span: 3600e9, Rows: 3000}
}

// Run writes random data through open and checks many scans against the
// model.
func Run(t *testing.T, cfg Config, open Opener) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 99))
	recs := Generate(rng, cfg)
	model := NewModel(recs)
	src := open(t, slices.Clone(recs))
	n := scans
	if cfg.Scans > 0 {
		n = cfg.Scans
	}
	for i := range n {
		req := randomRequest(rng, cfg)
		got, err := Collect(context.Background(), src, req)
		if err != nil {
			t.Fatalf("scan %d %s: %v", i, describe(req), err)
		}
		want := model.Rows(req)
		if diff := Diff(want, got); diff != "" {
			t.Fatalf("scan %d %s:\n%s", i, describe(req), diff)
		}
		// The same scan asking for each series' newest row only: the
		// newest rows agree with the full scan's (pushdown vs none).
		req.Last = true
		got, err = Collect(context.Background(), src, req)
		if err != nil {
			t.Fatalf("scan %d %s last: %v", i, describe(req), err)
		}
		if diff := Diff(Newest(want), Newest(got)); diff != "" {
			t.Fatalf("scan %d %s last:\n%s", i, describe(req), diff)
		}
	}
	// Listing series (the source's index, or the scan fallback) selects
	// the series a scan over all time returns.
	for i := range 20 {
		req := randomRequest(rng, cfg)
		req.MinTime, req.MaxTime = math.MinInt64, math.MaxInt64
		series, err := scan.ListSeries(context.Background(), src, req)
		if err != nil {
			t.Fatalf("list series %d %s: %v", i, describe(req), err)
		}
		var got []string
		for _, s := range series {
			got = append(got, seriesString(s.MeasureName, s.Dimensions))
		}
		var want []string
		for _, r := range model.Rows(req) {
			if len(want) == 0 || want[len(want)-1] != r.Series {
				want = append(want, r.Series)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Fatalf("list series %d %s:\ngot  %v\nwant %v", i, describe(req), got, want)
		}
	}
}

// Newest keeps the last row of each series of rows (sorted by series and
// time), as a reader of a Request with Last does.
func Newest(rows []Row) []Row {
	var out []Row
	for i, r := range rows {
		if i+1 == len(rows) || rows[i+1].Series != r.Series {
			out = append(out, r)
		}
	}
	return out
}

func describe(r *scan.Request) string {
	return fmt.Sprintf("[%d,%d] cols=%v where=%+v", r.MinTime, r.MaxTime, r.Columns, r.Where)
}

var hosts = []string{"web-1", "web-2", "web-3", "db-1", "db-2", "cache-1"}

// Generate returns random records: single-measure DOUBLE, BIGINT, VARCHAR
// and BOOLEAN series, and a multi-measure series kind with sparse
// attributes; some rows are rewritten with higher versions.
func Generate(rng *rand.Rand, cfg Config) []ingest.Record {
	var recs []ingest.Record
	seen := map[string]bool{}
	for len(recs) < cfg.Rows {
		host := hosts[rng.IntN(len(hosts))]
		if cfg.Long {
			host = hosts[rng.IntN(max(cfg.Hosts, 1))]
		}
		dims := []ingest.Dimension{{Name: "host", Value: host}, {Name: "region", Value: []string{"eu", "us"}[len(host)%2]}}
		if !cfg.Long && rng.IntN(4) == 0 {
			dims = append(dims, ingest.Dimension{Name: "rack", Value: strconv.Itoa(rng.IntN(3))})
		}
		at := cfg.Base + rng.Int64N(cfg.Span/1e6)*1e6
		r := ingest.Record{Time: at, Dimensions: dims, Version: 1}
		kind := rng.IntN(5)
		if cfg.Long {
			kind = 4 * rng.IntN(2) // cpu or metrics
		}
		switch kind {
		case 0:
			r.MeasureName, r.Value = "cpu", ingest.Float(math.Round(rng.Float64()*10000)/100)
		case 1:
			r.MeasureName, r.Value = "bytes", ingest.Int(rng.Int64N(1<<40)-1<<39)
		case 2:
			r.MeasureName, r.Value = "state", ingest.String([]string{"up", "down", "", "degraded ✓"}[rng.IntN(4)])
		case 3:
			r.MeasureName, r.Value = "ok", ingest.Bool(rng.IntN(2) == 0)
		default:
			r.MeasureName = "metrics"
			if rng.IntN(3) > 0 {
				r.Measures = append(r.Measures, ingest.Measure{Name: "load", Value: ingest.Float(rng.NormFloat64())})
			}
			if rng.IntN(2) == 0 {
				r.Measures = append(r.Measures, ingest.Measure{Name: "procs", Value: ingest.Int(rng.Int64N(1000))})
			}
			if rng.IntN(3) == 0 {
				r.Measures = append(r.Measures, ingest.Measure{Name: "boot", Value: ingest.Timestamp(rng.Int64())})
			}
			if len(r.Measures) == 0 {
				r.Measures = append(r.Measures, ingest.Measure{Name: "note", Value: ingest.String("n" + strconv.Itoa(rng.IntN(9)))})
			}
		}
		id := identity(&r)
		if seen[id] {
			continue
		}
		seen[id] = true
		recs = append(recs, r)
		if rng.IntN(20) == 0 { // an upsert with a higher version and a new value
			u := r
			u.Version = 2 + rng.Int64N(5)
			if !u.IsMulti() && u.Value.Type == ingest.TypeDouble {
				u.Value = ingest.Float(u.Value.Float() + 1)
			}
			recs = append(recs, u)
		}
	}
	return recs
}

func identity(r *ingest.Record) string {
	dims := slices.Clone(r.Dimensions)
	sort.Slice(dims, func(i, j int) bool { return dims[i].Name < dims[j].Name })
	return fmt.Sprintf("%s|%v|%d", r.MeasureName, dims, r.Time)
}

func randomRequest(rng *rand.Rand, cfg Config) *scan.Request {
	req := &scan.Request{Database: Database, Table: Table, MinTime: math.MinInt64, MaxTime: math.MaxInt64}
	if rng.IntN(3) > 0 {
		a, b := cfg.Base+rng.Int64N(cfg.Span), cfg.Base+rng.Int64N(cfg.Span)
		req.MinTime, req.MaxTime = min(a, b), max(a, b)
		if rng.IntN(10) == 0 {
			req.MaxTime = req.MinTime // a single instant, inclusive
		}
	}
	switch rng.IntN(4) {
	case 0:
		req.Columns = []string{scan.ColMeasureValue}
	case 1:
		req.Columns = []string{"load", "boot"}
	case 2:
		req.Columns = []string{}
	}
	for range rng.IntN(3) {
		var m scan.Matcher
		switch rng.IntN(9) {
		case 0:
			m = scan.Matcher{Name: "host", Op: scan.MatchEqual, Values: []string{hosts[rng.IntN(len(hosts))]}}
		case 1:
			m = scan.Matcher{Name: "host", Op: scan.MatchIn, Values: []string{hosts[rng.IntN(len(hosts))], hosts[rng.IntN(len(hosts))], "nope"}}
		case 2:
			m = scan.Matcher{Name: "host", Op: scan.MatchPrefix, Values: []string{[]string{"web", "db", "c", ""}[rng.IntN(4)]}}
		case 3:
			m = scan.Matcher{Name: "region", Op: scan.MatchNotEqual, Values: []string{"eu"}}
		case 4:
			m = scan.Matcher{Name: scan.ColMeasureName, Op: scan.MatchIn, Values: []string{"cpu", "metrics"}}
		case 5:
			m = scan.Matcher{Name: "rack", Op: scan.MatchPresent}
		case 6:
			m = scan.Matcher{Name: "rack", Op: scan.MatchAbsent}
		case 7:
			m = scan.Matcher{Name: scan.ColMeasureName, Op: scan.MatchEqual, Values: []string{[]string{"cpu", "bytes", "metrics", "nope", "ok"}[rng.IntN(5)]}}
		default:
			m = scan.Matcher{Name: "host", Op: scan.MatchNotIn, Values: []string{"web-1", "db-2"}}
		}
		req.Where = append(req.Where, m)
	}
	return req
}

// Row is one scanned row, flattened for comparison.
type Row struct {
	Series  string // measure_name + sorted dimensions
	Time    int64
	Version int64
	Values  string // sorted "name=TYPE:value" of non-null requested columns
}

// Collect drains a scan into rows sorted by (series, time), checking the
// per-batch invariants of the contract on the way.
func Collect(ctx context.Context, src scan.Source, req *scan.Request) ([]Row, error) {
	cur, err := src.Scan(ctx, req)
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	var rows []Row
	lastTime := map[string]int64{}
	for cur.Next() {
		b := cur.Batch()
		key := seriesString(b.Series.MeasureName, b.Series.Dimensions)
		if b.Version != nil && len(b.Version) != len(b.Time) {
			return nil, fmt.Errorf("series %s: %d versions for %d rows", key, len(b.Version), len(b.Time))
		}
		for c := range b.Columns {
			col := &b.Columns[c]
			if n := col.Len(); n != len(b.Time) {
				return nil, fmt.Errorf("series %s column %s: %d values for %d rows", key, col.Name, n, len(b.Time))
			}
			if col.Null != nil && len(col.Null) != len(b.Time) {
				return nil, fmt.Errorf("series %s column %s: %d null flags for %d rows", key, col.Name, len(col.Null), len(b.Time))
			}
			if req.Columns != nil && !slices.Contains(req.Columns, col.Name) {
				return nil, fmt.Errorf("series %s: column %s was not requested", key, col.Name)
			}
		}
		for i, ts := range b.Time {
			if last, ok := lastTime[key]; ok && ts <= last {
				return nil, fmt.Errorf("series %s: time %d after %d: not ascending", key, ts, last)
			}
			lastTime[key] = ts
			if ts < req.MinTime || ts > req.MaxTime {
				return nil, fmt.Errorf("series %s: time %d outside [%d,%d]", key, ts, req.MinTime, req.MaxTime)
			}
			ver := int64(1)
			if b.Version != nil {
				ver = b.Version[i]
			}
			var vals []string
			for c := range b.Columns {
				if !b.Columns[c].IsNull(i) {
					vals = append(vals, b.Columns[c].Name+"="+valueString(b.Columns[c].Value(i)))
				}
			}
			sort.Strings(vals)
			rows = append(rows, Row{Series: key, Time: ts, Version: ver, Values: strings.Join(vals, ",")})
		}
	}
	if err := cur.Err(); err != nil {
		return nil, err
	}
	sortRows(rows)
	return rows, nil
}

func sortRows(rows []Row) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Series != rows[j].Series {
			return rows[i].Series < rows[j].Series
		}
		return rows[i].Time < rows[j].Time
	})
}

func seriesString(measure string, dims []ingest.Dimension) string {
	d := slices.Clone(dims)
	sort.Slice(d, func(i, j int) bool { return d[i].Name < d[j].Name })
	var b strings.Builder
	b.WriteString(measure)
	for _, x := range d {
		b.WriteString("," + x.Name + "=" + x.Value)
	}
	return b.String()
}

func valueString(v ingest.Value) string {
	switch v.Type {
	case ingest.TypeDouble:
		return "DOUBLE:" + strconv.FormatUint(math.Float64bits(v.Float()), 16)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		return v.Type.String() + ":" + strconv.FormatInt(v.Int(), 10)
	case ingest.TypeBoolean:
		return "BOOLEAN:" + strconv.FormatBool(v.Bool())
	}
	return v.Type.String() + ":" + strconv.Quote(v.Str)
}

// Model is the naive reference: every record kept in a map, upserts applied
// by the highest version.
type Model struct {
	rows map[string]*modelRow
}

type modelRow struct {
	series  string
	dims    []ingest.Dimension
	measure string
	time    int64
	version int64
	vals    map[string]ingest.Value
}

// NewModel applies recs in order with Timestream's upsert rules.
func NewModel(recs []ingest.Record) *Model {
	m := &Model{rows: map[string]*modelRow{}}
	for i := range recs {
		r := &recs[i]
		id := identity(r)
		ver := max(r.Version, 1)
		if old, ok := m.rows[id]; ok && old.version >= ver {
			continue
		}
		row := &modelRow{series: seriesString(r.MeasureName, r.Dimensions), dims: r.Dimensions, measure: r.MeasureName,
			time: r.Time, version: ver, vals: map[string]ingest.Value{}}
		if r.IsMulti() {
			for _, x := range r.Measures {
				row.vals[x.Name] = x.Value
			}
		} else {
			row.vals[scan.ColMeasureValue] = r.Value
		}
		m.rows[id] = row
	}
	return m
}

// Rows answers req from the model as flattened rows.
func (m *Model) Rows(req *scan.Request) []Row {
	var out []Row
	for _, r := range m.rows {
		if !r.matches(req) {
			continue
		}
		var vals []string
		for name, v := range r.vals {
			if req.Columns == nil || slices.Contains(req.Columns, name) {
				vals = append(vals, name+"="+valueString(v))
			}
		}
		sort.Strings(vals)
		out = append(out, Row{Series: r.series, Time: r.time, Version: r.version, Values: strings.Join(vals, ",")})
	}
	sortRows(out)
	return out
}

// Diff describes the first differences between want and got, or "".
func Diff(want, got []Row) string {
	var b strings.Builder
	i, j, n := 0, 0, 0
	for (i < len(want) || j < len(got)) && n < 10 {
		switch {
		case j >= len(got) || (i < len(want) && less(want[i], got[j])):
			fmt.Fprintf(&b, "missing: %+v\n", want[i])
			i++
			n++
		case i >= len(want) || less(got[j], want[i]):
			fmt.Fprintf(&b, "extra:   %+v\n", got[j])
			j++
			n++
		default:
			if want[i] != got[j] {
				fmt.Fprintf(&b, "want %+v\ngot  %+v\n", want[i], got[j])
				n++
			}
			i++
			j++
		}
	}
	if b.Len() > 0 {
		fmt.Fprintf(&b, "(%d rows wanted, %d got)", len(want), len(got))
	}
	return b.String()
}

func less(a, b Row) bool {
	if a.Series != b.Series {
		return a.Series < b.Series
	}
	return a.Time < b.Time
}

func (r *modelRow) matches(req *scan.Request) bool {
	if r.time < req.MinTime || r.time > req.MaxTime {
		return false
	}
	for i := range req.Where {
		w := &req.Where[i]
		var v string
		var present bool
		if w.Name == scan.ColMeasureName {
			v, present = r.measure, true
		} else {
			for _, d := range r.dims {
				if d.Name == w.Name {
					v, present = d.Value, true
				}
			}
		}
		if !w.Matches(v, present) {
			return false
		}
	}
	return true
}

// Scan makes the model a scan.Source: one batch per series in key order,
// columns typed as written. Query-layer tests use it as a table with known
// contents.
func (m *Model) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	bySeries := map[string][]*modelRow{}
	for _, r := range m.rows {
		if r.matches(req) {
			k := string(scan.AppendSeriesKey(nil, r.measure, sortedDims(r.dims)))
			bySeries[k] = append(bySeries[k], r)
		}
	}
	keys := make([]string, 0, len(bySeries))
	for k := range bySeries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*scan.Batch
	for _, k := range keys {
		rows := bySeries[k]
		sort.Slice(rows, func(i, j int) bool { return rows[i].time < rows[j].time })
		b := &scan.Batch{Series: scan.Series{Key: k, Dimensions: sortedDims(rows[0].dims), MeasureName: rows[0].measure}}
		var names []string
		types := map[string]ingest.ValueType{}
		for _, r := range rows {
			for n, v := range r.vals {
				if _, ok := types[n]; !ok && (req.Columns == nil || slices.Contains(req.Columns, n)) {
					types[n] = v.Type
					names = append(names, n)
				}
			}
		}
		sort.Strings(names)
		for _, n := range names {
			b.Columns = append(b.Columns, scan.Column{Name: n, Type: types[n]})
		}
		for _, r := range rows {
			b.Time = append(b.Time, r.time)
			b.Version = append(b.Version, r.version)
			for ci := range b.Columns {
				b.Columns[ci].Append(r.vals[b.Columns[ci].Name], len(b.Time)-1)
			}
		}
		out = append(out, b)
	}
	return scan.NewSlice(out), nil
}

func sortedDims(d []ingest.Dimension) []ingest.Dimension {
	d = slices.Clone(d)
	sort.Slice(d, func(i, j int) bool { return d[i].Name < d[j].Name })
	return d
}

// Split splits recs at random into n groups for multi-source tests; the
// upserts of one identity keep their order within a group.
func Split(rng *rand.Rand, recs []ingest.Record, n int) [][]ingest.Record {
	out := make([][]ingest.Record, n)
	for _, r := range recs {
		i := rng.IntN(n)
		out[i] = append(out[i], r)
	}
	return out
}
