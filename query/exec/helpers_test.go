package exec

import (
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// memSeries is one series of a memTable, columns full length.
type memSeries struct {
	s    scan.Series
	time []int64
	cols []scan.Column
}

// memTable is a columnar in-memory scan.Source for tests and benchmarks.
type memTable struct {
	series []*memSeries
}

// testDB is a catalog plus one memTable per table.
type testDB struct {
	cat    *catalog.Catalog
	tables map[string]*memTable
}

func newTestDB(t testing.TB) *testDB {
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		t.Fatalf("open catalog: %v", err)
	}
	return &testDB{cat: cat, tables: map[string]*memTable{}}
}

func (d *testDB) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	mt := d.tables[req.Database+"."+req.Table]
	if mt == nil {
		return scan.NewSlice(nil), nil
	}
	var out []*scan.Batch
	for _, s := range mt.series {
		ok := true
		for i := range req.Where {
			m := &req.Where[i]
			var v string
			var present bool
			if m.Name == scan.ColMeasureName {
				v, present = s.s.MeasureName, true
			} else {
				v, present = s.s.Dimension(m.Name)
			}
			if !m.Matches(v, present) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		lo := sort.Search(len(s.time), func(i int) bool { return s.time[i] >= req.MinTime })
		hi := sort.Search(len(s.time), func(i int) bool { return s.time[i] > req.MaxTime })
		if lo >= hi {
			continue
		}
		// Emit in chunks of 1000 rows, as storage tiers do.
		for a := lo; a < hi; a += 1000 {
			z := min(hi, a+1000)
			b := &scan.Batch{Series: s.s, Time: s.time[a:z]}
			for _, c := range s.cols {
				if req.Columns != nil && !slices.Contains(req.Columns, c.Name) {
					continue
				}
				nc := scan.Column{Name: c.Name, Type: c.Type}
				switch c.Type {
				case ingest.TypeDouble:
					nc.F = c.F[a:z]
				case ingest.TypeBigint, ingest.TypeTimestamp:
					nc.I = c.I[a:z]
				case ingest.TypeVarchar:
					nc.S = c.S[a:z]
				case ingest.TypeBoolean:
					nc.B = c.B[a:z]
				}
				if c.Null != nil {
					nc.Null = c.Null[a:z]
				}
				b.Columns = append(b.Columns, nc)
			}
			out = append(out, b)
		}
	}
	return scan.NewSlice(out), nil
}

// load stores recs in db.tbl (replacing rows of equal series and time)
// and registers their columns in the catalog.
func (d *testDB) load(t testing.TB, db, tbl string, recs []ingest.Record) {
	t.Helper()
	if _, err := d.cat.Database(db); err != nil {
		if _, err := d.cat.CreateDatabase(db, "", nil); err != nil {
			t.Fatalf("create database: %v", err)
		}
	}
	ct, err := d.cat.EnsureTable(db, tbl)
	if err != nil {
		t.Fatalf("ensure table: %v", err)
	}
	var cols []catalog.Column
	seen := map[string]bool{}
	addCol := func(c catalog.Column) {
		k := c.Name + "/" + strconv.Itoa(int(c.Kind))
		if !seen[k] {
			seen[k] = true
			cols = append(cols, c)
		}
	}
	bySeries := map[string]*memSeries{}
	rows := map[string]map[int64]map[string]ingest.Value{}
	for _, r := range recs {
		dims := slices.Clone(r.Dimensions)
		sort.Slice(dims, func(i, j int) bool { return dims[i].Name < dims[j].Name })
		for _, dm := range dims {
			addCol(catalog.Column{Name: dm.Name, Kind: catalog.KindDimension, Type: ingest.TypeVarchar})
		}
		key := string(scan.AppendSeriesKey(nil, r.MeasureName, dims))
		if bySeries[key] == nil {
			bySeries[key] = &memSeries{s: scan.Series{Key: key, Dimensions: dims, MeasureName: r.MeasureName}}
			rows[key] = map[int64]map[string]ingest.Value{}
		}
		vals := map[string]ingest.Value{}
		if r.IsMulti() {
			addCol(catalog.Column{Name: r.MeasureName, Kind: catalog.KindMeasureName, Type: ingest.TypeMulti})
			for _, m := range r.Measures {
				addCol(catalog.Column{Name: m.Name, Kind: catalog.KindAttribute, Type: m.Value.Type})
				vals[m.Name] = m.Value
			}
		} else {
			addCol(catalog.Column{Name: r.MeasureName, Kind: catalog.KindMeasureName, Type: r.Value.Type})
			vals[scan.ColMeasureValue] = r.Value
		}
		rows[key][r.Time] = vals
	}
	if err := d.cat.AddColumns(ct.ID, cols); err != nil {
		t.Fatalf("add columns: %v", err)
	}
	mt := d.tables[db+"."+tbl]
	if mt == nil {
		mt = &memTable{}
		d.tables[db+"."+tbl] = mt
	}
	for key, s := range bySeries {
		byTime := rows[key]
		for _, old := range mt.series {
			if old.s.Key == key {
				t.Fatalf("load: series loaded twice")
			}
		}
		times := make([]int64, 0, len(byTime))
		for ts := range byTime {
			times = append(times, ts)
		}
		slices.Sort(times)
		s.time = times
		names := map[string]ingest.ValueType{}
		for _, v := range byTime {
			for n, x := range v {
				names[n] = x.Type
			}
		}
		var ns []string
		for n := range names {
			ns = append(ns, n)
		}
		sort.Strings(ns)
		for _, n := range ns {
			c := scan.Column{Name: n, Type: names[n]}
			for i, ts := range times {
				v, ok := byTime[ts][n]
				if !ok && c.Null == nil {
					c.Null = make([]bool, i)
				}
				if c.Null != nil {
					c.Null = append(c.Null, !ok)
				}
				switch c.Type {
				case ingest.TypeDouble:
					c.F = append(c.F, v.Float())
				case ingest.TypeBigint, ingest.TypeTimestamp:
					c.I = append(c.I, v.Int())
				case ingest.TypeVarchar:
					c.S = append(c.S, v.Str)
				case ingest.TypeBoolean:
					c.B = append(c.B, v.Bool())
				}
			}
			s.cols = append(s.cols, c)
		}
		mt.series = append(mt.series, s)
	}
	sort.Slice(mt.series, func(i, j int) bool { return mt.series[i].s.Key < mt.series[j].s.Key })
}

// tsbsStart is 2024-01-01T00:00:00Z, the TSBS default start.
const tsbsStart = int64(1704067200) * 1e9

var cpuMetrics = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq",
	"usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// loadTSBS fills benchmark.cpu with the TSBS devops cpu shape: hosts x
// 10 metrics every 10 s for dur nanoseconds, random-walk values in
// [0,100], from a fixed seed. It builds the columns directly.
func (d *testDB) loadTSBS(t testing.TB, hosts int, dur int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 7))
	regions := []string{"us-east-1", "us-west-1", "eu-west-1", "ap-southeast-1"}
	n := int(dur / 10e9)
	times := make([]int64, n)
	for i := range times {
		times[i] = tsbsStart + int64(i)*10e9
	}
	var recs []ingest.Record
	mt := &memTable{}
	for h := range hosts {
		dims := []ingest.Dimension{
			{Name: "arch", Value: "x64"},
			{Name: "datacenter", Value: regions[h%4] + "a"},
			{Name: "hostname", Value: "host_" + strconv.Itoa(h)},
			{Name: "os", Value: "Ubuntu16.04LTS"},
			{Name: "rack", Value: strconv.Itoa(h % 100)},
			{Name: "region", Value: regions[h%4]},
			{Name: "service", Value: strconv.Itoa(h % 20)},
			{Name: "service_environment", Value: "production"},
			{Name: "service_version", Value: strconv.Itoa(h % 2)},
			{Name: "team", Value: "SF"},
		}
		for _, m := range cpuMetrics {
			vals := make([]float64, n)
			v := rng.Float64() * 100
			for i := range vals {
				v += rng.NormFloat64() * 2
				v = min(100, max(0, v))
				vals[i] = float64(int(v))
			}
			key := string(scan.AppendSeriesKey(nil, m, dims))
			mt.series = append(mt.series, &memSeries{s: scan.Series{Key: key, Dimensions: dims, MeasureName: m}, time: times,
				cols: []scan.Column{{Name: scan.ColMeasureValue, Type: ingest.TypeDouble, F: vals}}})
		}
		if h == 0 {
			for _, m := range cpuMetrics {
				recs = append(recs, ingest.Record{MeasureName: m, Dimensions: dims, Time: tsbsStart, Value: ingest.Float(0)})
			}
		}
	}
	sort.Slice(mt.series, func(i, j int) bool { return mt.series[i].s.Key < mt.series[j].s.Key })
	// Register the columns through load, then install the real data.
	d.load(t, "benchmark", "cpu", recs)
	d.tables["benchmark.cpu"] = mt
}

// tsbsQueries are the TSBS devops queries exactly as TSBS prints them for
// Timestream (benchmarks.md A.7), over 2024-01-01.
var tsbsQueries = map[string]string{
	"single-groupby-1-1-1": `SELECT bin(time, 60s) AS minute,
        max(case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as max_usage_user
        FROM "benchmark"."cpu"
        WHERE (measure_name = 'usage_user') AND (hostname = 'host_9') AND time >= '2024-01-01 04:32:07.646325 +0000' AND time < '2024-01-01 05:32:07.646325 +0000'
        GROUP BY 1 ORDER BY 1 ASC`,
	"single-groupby-5-1-12": `SELECT bin(time, 60s) AS minute,
        max(case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as max_usage_user,
max(case when measure_name = 'usage_system' THEN measure_value::double ELSE NULL END) as max_usage_system,
max(case when measure_name = 'usage_idle' THEN measure_value::double ELSE NULL END) as max_usage_idle,
max(case when measure_name = 'usage_nice' THEN measure_value::double ELSE NULL END) as max_usage_nice,
max(case when measure_name = 'usage_iowait' THEN measure_value::double ELSE NULL END) as max_usage_iowait
        FROM "benchmark"."cpu"
        WHERE (measure_name = 'usage_user' OR measure_name = 'usage_system' OR measure_name = 'usage_idle' OR measure_name = 'usage_nice' OR measure_name = 'usage_iowait') AND (hostname = 'host_3') AND time >= '2024-01-01 07:12:45.1 +0000' AND time < '2024-01-01 19:12:45.1 +0000'
        GROUP BY 1 ORDER BY 1 ASC`,
	"cpu-max-all-8": `SELECT bin(time, 3600s) AS hour,
			max(case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as max_usage_user,
			max(case when measure_name = 'usage_system' THEN measure_value::double ELSE NULL END) as max_usage_system,
			max(case when measure_name = 'usage_idle' THEN measure_value::double ELSE NULL END) as max_usage_idle,
			max(case when measure_name = 'usage_nice' THEN measure_value::double ELSE NULL END) as max_usage_nice,
			max(case when measure_name = 'usage_iowait' THEN measure_value::double ELSE NULL END) as max_usage_iowait,
			max(case when measure_name = 'usage_irq' THEN measure_value::double ELSE NULL END) as max_usage_irq,
			max(case when measure_name = 'usage_softirq' THEN measure_value::double ELSE NULL END) as max_usage_softirq,
			max(case when measure_name = 'usage_steal' THEN measure_value::double ELSE NULL END) as max_usage_steal,
			max(case when measure_name = 'usage_guest' THEN measure_value::double ELSE NULL END) as max_usage_guest,
			max(case when measure_name = 'usage_guest_nice' THEN measure_value::double ELSE NULL END) as max_usage_guest_nice
		FROM "benchmark"."cpu"
		WHERE (hostname = 'host_9' OR hostname = 'host_3' OR hostname = 'host_5' OR hostname = 'host_1' OR hostname = 'host_7' OR hostname = 'host_2' OR hostname = 'host_8' OR hostname = 'host_4') AND time >= '2024-01-01 08:00:00 +0000' AND time < '2024-01-01 16:00:00 +0000'
		GROUP BY 1 ORDER BY 1`,
	"double-groupby-all": `
        SELECT bin(time, 3600s) as hour, 
			hostname,
			avg (case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as mean_usage_user,
			avg (case when measure_name = 'usage_system' THEN measure_value::double ELSE NULL END) as mean_usage_system,
			avg (case when measure_name = 'usage_idle' THEN measure_value::double ELSE NULL END) as mean_usage_idle,
			avg (case when measure_name = 'usage_nice' THEN measure_value::double ELSE NULL END) as mean_usage_nice,
			avg (case when measure_name = 'usage_iowait' THEN measure_value::double ELSE NULL END) as mean_usage_iowait,
			avg (case when measure_name = 'usage_irq' THEN measure_value::double ELSE NULL END) as mean_usage_irq,
			avg (case when measure_name = 'usage_softirq' THEN measure_value::double ELSE NULL END) as mean_usage_softirq,
			avg (case when measure_name = 'usage_steal' THEN measure_value::double ELSE NULL END) as mean_usage_steal,
			avg (case when measure_name = 'usage_guest' THEN measure_value::double ELSE NULL END) as mean_usage_guest,
			avg (case when measure_name = 'usage_guest_nice' THEN measure_value::double ELSE NULL END) as mean_usage_guest_nice
		FROM "benchmark"."cpu"
		WHERE time >= '2024-01-01 06:00:00 +0000' AND time < '2024-01-01 18:00:00 +0000'
		GROUP BY 1, 2`,
	"high-cpu-all": `
		WITH usage_over_ninety AS (
			SELECT time, 
				hostname
			FROM "benchmark"."cpu"
			WHERE measure_name = 'usage_user' AND measure_value::double > 90
				AND time >= '2024-01-01 06:00:00 +0000' AND time < '2024-01-01 18:00:00 +0000'
				
		)
		SELECT * 
		FROM "benchmark"."cpu" a
		JOIN usage_over_ninety b ON a.hostname = b.hostname AND a.time = b.time`,
	"lastpoint": `
	WITH latest_recorded_time AS (
		SELECT 
			hostname,
			measure_name,
			max(time) as latest_time
		FROM "benchmark"."cpu"
		GROUP BY 1, 2
	)
	SELECT b.hostname, 
		b.measure_name, 
		b.measure_value::double, 
		b.time
	FROM latest_recorded_time a
	JOIN "benchmark"."cpu" b
	ON a.hostname = b.hostname AND a.latest_time = b.time AND a.measure_name = b.measure_name
	ORDER BY hostname, measure_name`,
	"groupby-orderby-limit": `SELECT bin(time, 60s) AS minute, max(measure_value::double) as max_usage_user
        FROM "benchmark"."cpu"
        WHERE time < '2024-01-01 12:37:01 +0000' AND measure_name = 'usage_user'
        GROUP BY 1
        ORDER BY 1 DESC
        LIMIT 5`,
}
