package promapi

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/scan"
)

// The benchmark data is the bench harness's small preset in the shape
// remote-write gives it: 100 hosts x 10 cpu metrics (cpu_usage_user, ...)
// with the ten TSBS host labels, one sample every 10 s for 3 h (1000 series
// x 1080 samples), random-walk values from a fixed seed.
const (
	benchHosts    = 100
	benchInterval = 10 * time.Second
	benchSpan     = 3 * time.Hour
)

var (
	benchStart   = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	benchMetrics = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq",
		"usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
)

// benchTiers holds the data written through a real memstore and flushed
// into the magnetic tier, read as cmd/tidal reads it: both tiers merged.
type benchTiers struct {
	dir   string
	mem   *memstore.DB
	mag   *magnetic.Store
	flush scan.Source // after a flush and merge: everything in magnetic parts
}

// benchData is one data set built once per process.
type benchData struct {
	// decimals rounds the values to 2 decimals, as bench/tsbs rounds
	// its fields (compact series then hold them as scaled integers).
	decimals bool
	// memOnly leaves the samples in the memory tier (no flush), as at
	// query time in the harness's large preset; metrics, if not 0,
	// writes only the first metrics of benchMetrics.
	memOnly bool
	metrics int
	once    sync.Once
	tiers   *benchTiers
	err     error
}

var (
	benchFull     benchData // benchHosts hosts, for benchmarks
	benchSmall    benchData // 10 hosts, for tests
	benchDec      = benchData{decimals: true}
	benchMem      = benchData{memOnly: true, metrics: 1, decimals: true} // benchMemHosts hosts, cpu_usage_user of 2 decimals, as bench/tsbs writes
	benchSmallMem = benchData{memOnly: true}                             // 10 hosts in the memory tier, for tests
)

// benchMemHosts is the host count of benchMem: the large preset's.
const benchMemHosts = 1000

type partWriter struct{ s *magnetic.Store }

func (w partWriter) WritePart(ctx context.Context, tableID uint64, src scan.Batches) error {
	_, err := w.s.WritePart(ctx, tableID, src)
	return err
}

// open builds the data of hosts hosts once per process.
func (d *benchData) open(tb testing.TB, hosts int) *benchTiers {
	tb.Helper()
	d.once.Do(func() { d.tiers, d.err = buildBenchTiers(hosts, d) })
	if d.err != nil {
		tb.Fatalf("build benchmark data: %v", d.err)
	}
	return d.tiers
}

func buildBenchTiers(hosts int, d *benchData) (*benchTiers, error) {
	decimals, metrics := d.decimals, benchMetrics
	if d.metrics > 0 {
		metrics = metrics[:d.metrics]
	}
	dir, err := os.MkdirTemp("", "tidal-promapi-bench-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	t := &benchTiers{dir: dir}
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	if _, err := cat.CreateDatabase("prometheus", "", nil); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "prometheus", Name: "metrics",
		Retention: catalog.Retention{MemoryHours: 8766, MagneticDays: 73000}}); err != nil {
		return nil, fmt.Errorf("create table: %w", err)
	}
	t.mag, err = magnetic.Open(magnetic.Options{Dir: dir + "/magnetic", Catalog: cat, PartitionWidth: magnetic.DefaultPartitionWidth})
	if err != nil {
		return nil, fmt.Errorf("open magnetic: %w", err)
	}
	opts := memstore.DefaultOptions(dir + "/memstore")
	opts.CheckpointInterval = 0
	opts.Now = func() time.Time { return benchStart.Add(benchSpan) }
	opts.WAL = wal.Options{Sync: wal.SyncNever}
	opts.PartWriter, opts.FlushInterval = partWriter{t.mag}, time.Hour
	t.mem, err = memstore.Open(cat, opts)
	if err != nil {
		return nil, fmt.Errorf("open memstore: %w", err)
	}
	rng := rand.New(rand.NewPCG(123, 7))
	vals := make([][]float64, hosts)
	dims := make([][]ingest.Dimension, hosts)
	for h := range hosts {
		vals[h] = make([]float64, len(benchMetrics))
		for i := range vals[h] {
			vals[h][i] = float64(rng.IntN(100))
		}
		dims[h] = []ingest.Dimension{{Name: "arch", Value: "x64"}, {Name: "datacenter", Value: "eu-west-1" + string(rune('a'+h%3))},
			{Name: "hostname", Value: "host_" + strconv.Itoa(h)}, {Name: "os", Value: "Ubuntu16.04LTS"},
			{Name: "rack", Value: strconv.Itoa(h % 100)}, {Name: "region", Value: "eu-west-" + strconv.Itoa(h%3)},
			{Name: "service", Value: strconv.Itoa(h % 20)}, {Name: "service_environment", Value: "production"},
			{Name: "service_version", Value: "1"}, {Name: "team", Value: "NYC"}}
	}
	recs := make([]ingest.Record, 0, 1000)
	for step := range int(benchSpan / benchInterval) {
		at := benchStart.Add(time.Duration(step) * benchInterval).UnixNano()
		for h := range hosts {
			for f, name := range metrics {
				v := min(max(vals[h][f]+rng.Float64()*4-2, 0), 100)
				vals[h][f] = v
				if decimals {
					v = math.Round(v*100) / 100
				}
				recs = append(recs, ingest.Record{Time: at, Dimensions: dims[h], MeasureName: "cpu_" + name, Value: ingest.Float(v)})
			}
			if len(recs) == cap(recs) {
				if _, err := t.mem.Append(context.Background(), "prometheus", "metrics", recs, ingest.AppendOptions{}); err != nil {
					return nil, fmt.Errorf("append: %w", err)
				}
				recs = recs[:0]
			}
		}
	}
	if len(recs) > 0 {
		if _, err := t.mem.Append(context.Background(), "prometheus", "metrics", recs, ingest.AppendOptions{}); err != nil {
			return nil, fmt.Errorf("append: %w", err)
		}
	}
	if d.memOnly {
		t.flush = scan.Merge(t.mag, t.mem)
		return t, nil
	}
	if _, err := t.mem.Flush(context.Background(), true); err != nil {
		return nil, fmt.Errorf("flush: %w", err)
	}
	for {
		n, err := t.mag.Merge(context.Background())
		if err != nil {
			return nil, fmt.Errorf("merge parts: %w", err)
		}
		if n == 0 {
			break
		}
	}
	t.flush = scan.Merge(t.mag, t.mem)
	return t, nil
}

// TestMain removes the benchmark data after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []*benchData{&benchFull, &benchSmall, &benchDec, &benchMem, &benchSmallMem} {
		if t := d.tiers; t != nil {
			_ = t.mem.Close()
			_ = t.mag.Close()
			_ = os.RemoveAll(t.dir)
		}
	}
	os.Exit(code)
}

// benchQuery is one of the harness's PromQL texts (bench/queries.go) over
// the benchmark data.
type benchQuery struct {
	name       string
	expr       string
	start, end time.Time
	step       time.Duration
}

func benchQueries() []benchQuery {
	or := func(ms []string, f func(m string) string) string {
		if len(ms) == 1 {
			return f(ms[0])
		}
		parts := make([]string, len(ms))
		for i, m := range ms {
			parts[i] = fmt.Sprintf(`label_replace(%s, "measure", %q, "", "")`, f(m), m)
		}
		return strings.Join(parts, " or ")
	}
	end := benchStart.Add(benchSpan)
	last := end.Add(-benchInterval)
	return []benchQuery{
		{"double-groupby-all", or(benchMetrics, func(m string) string {
			return fmt.Sprintf("avg by (hostname) (avg_over_time(cpu_%s{}[3599999ms]))", m)
		}), benchStart.Add(time.Hour), end, time.Hour},
		{"double-groupby-1", or(benchMetrics[:1], func(m string) string {
			return fmt.Sprintf("avg by (hostname) (avg_over_time(cpu_%s{}[3599999ms]))", m)
		}), benchStart.Add(time.Hour), end, time.Hour},
		{"single-groupby-5-1-12", or(benchMetrics[:5], func(m string) string {
			return fmt.Sprintf(`max(max_over_time(cpu_%s{hostname="host_7"}[59999ms]))`, m)
		}), benchStart.Add(time.Minute), end, time.Minute},
		{"high-cpu-all", `cpu_usage_user{} > 90`, benchStart.Add(time.Hour), end.Add(-time.Hour), benchInterval},
		{"groupby-orderby-limit", `max(max_over_time(cpu_usage_user{}[59999ms]))`,
			benchStart.Add(time.Hour + time.Minute), benchStart.Add(time.Hour + 5*time.Minute), time.Minute},
		{"lastpoint", `{__name__=~"cpu_usage_.*"}`, last, last, benchInterval},
	}
}

// rangeRequest is the query_range request the harness sends for q.
func (q *benchQuery) rangeRequest() *http.Request {
	v := url.Values{
		"query": {q.expr},
		"start": {strconv.FormatInt(q.start.Unix(), 10)},
		"end":   {strconv.FormatInt(q.end.Unix(), 10)},
		"step":  {strconv.FormatFloat(q.step.Seconds(), 'f', -1, 64)},
	}
	return httptest.NewRequest(http.MethodGet, "/api/v1/query_range?"+v.Encode(), nil)
}

// BenchmarkPromQL runs the harness's PromQL query shapes through the HTTP
// API (parse, engine, storage.Queryable over the merged tiers, JSON) with
// the data flushed to magnetic parts, as after the harness's flush. Each
// shape runs over the baseline Select path, then over Queryable's: compare
// the two in the same run (benchstat on -count=6 output, or the ratio).
func BenchmarkPromQL(b *testing.B) {
	t := benchFull.open(b, benchHosts)
	q := &Queryable{Source: t.flush, Database: "prometheus", Table: "metrics"}
	paths := []struct {
		name string
		q    storage.Queryable
	}{{"baseline", baselineQueryable{q}},
		{"serial", &Queryable{Source: t.flush, Database: "prometheus", Table: "metrics", serialScans: true}},
		{"scan", q}}
	for _, bq := range benchQueries() {
		for _, p := range paths {
			b.Run(bq.name+"/path="+p.name, func(b *testing.B) {
				mux := http.NewServeMux()
				New(p.q, Options{}).Register(mux)
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					mux.ServeHTTP(w, bq.rangeRequest())
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body.String())
					}
				}
			})
		}
	}
}

// BenchmarkPromQLPaired runs every path once per iteration, in rotating
// order, and reports for each path the median of the per-iteration ratios
// to the baseline, of wall time (serial/baseline, scan/baseline) and of
// process CPU time (serial-cpu/baseline, scan-cpu/baseline), and each
// path's mean wall time per query in ms. The paths share whatever load the
// machine carries, so the ratios hold where absolute times do not; CPU
// time is the steadier measure of work on a busy machine, wall time the
// one that shows the prefetching of scan.
func BenchmarkPromQLPaired(b *testing.B) {
	t := benchFull.open(b, benchHosts)
	q := &Queryable{Source: t.flush, Database: "prometheus", Table: "metrics"}
	paths := []struct {
		name string
		q    storage.Queryable
	}{{"baseline", baselineQueryable{q}},
		{"serial", &Queryable{Source: t.flush, Database: "prometheus", Table: "metrics", serialScans: true}},
		{"scan", q}}
	pairedRun(b, paths)
}

// BenchmarkPromQLCompact compares, like BenchmarkPromQLPaired, the
// engine over series held uncompressed (plain, the reference) and compact
// from the first sample (compact): compact-cpu/plain is the CPU cost of
// decoding. Over full-precision values (data=full) compact series are XOR
// chunks, over values of 2 decimals (data=dec2) scaled integers.
func BenchmarkPromQLCompact(b *testing.B) {
	for _, d := range []struct {
		name string
		data *benchData
	}{{"full", &benchFull}, {"dec2", &benchDec}} {
		b.Run("data="+d.name, func(b *testing.B) {
			t := d.data.open(b, benchHosts)
			pairedRun(b, []pairedPath{
				{"plain", &Queryable{Source: t.flush, Database: "prometheus", Table: "metrics", plainSamples: true}},
				{"compact", &Queryable{Source: t.flush, Database: "prometheus", Table: "metrics", xorAll: true}}})
		})
	}
}

// BenchmarkPromQLRange runs double-groupby-1 (avg by hostname of the
// hourly avg_over_time of cpu_usage_user, a 1 h step) over the large
// preset's 1000 hosts, 3 h of samples held in the memory tier, as at
// query time in the harness's large run, like BenchmarkPromQLPaired: the
// paths are before (the one selector scanned on one goroutine) and after
// (its time range split between GOMAXPROCS goroutines, scanParts, see
// scanSeries); after/before is the median ratio of wall times,
// after-cpu/before of process CPU.
func BenchmarkPromQLRange(b *testing.B) {
	t := benchMem.open(b, benchMemHosts)
	pairedRunQueries(b, benchQueries()[1:2], []pairedPath{
		{"before", &Queryable{Source: t.flush, Database: "prometheus", Table: "metrics"}},
		{"after", &Queryable{Source: t.flush, Database: "prometheus", Table: "metrics", scanParts: runtime.GOMAXPROCS(0)}}})
}

type pairedPath = struct {
	name string
	q    storage.Queryable
}

// pairedRun runs every benchmark query over every path once per
// iteration, in rotating order, and reports each path's ratios to the
// first one (see BenchmarkPromQLPaired).
func pairedRun(b *testing.B, paths []pairedPath) { pairedRunQueries(b, benchQueries(), paths) }

// pairedRunQueries is pairedRun over the queries qs.
func pairedRunQueries(b *testing.B, qs []benchQuery, paths []pairedPath) {
	for _, bq := range qs {
		b.Run(bq.name, func(b *testing.B) {
			muxes := make([]*http.ServeMux, len(paths))
			for i, p := range paths {
				muxes[i] = http.NewServeMux()
				New(p.q, Options{}).Register(muxes[i])
			}
			total := make([]time.Duration, len(paths))
			wall := make([][]float64, len(paths))
			cpu := make([][]float64, len(paths))
			round := 0
			for b.Loop() {
				took := make([]time.Duration, len(paths))
				used := make([]time.Duration, len(paths))
				for k := range paths {
					i := (k + round) % len(paths)
					w := httptest.NewRecorder()
					req := bq.rangeRequest()
					start, cpu0 := time.Now(), processCPU()
					muxes[i].ServeHTTP(w, req)
					took[i], used[i] = time.Since(start), processCPU()-cpu0
					if w.Code != http.StatusOK {
						b.Fatalf("%s: status %d: %s", paths[i].name, w.Code, w.Body.String())
					}
				}
				for i := range paths {
					total[i] += took[i]
					wall[i] = append(wall[i], float64(took[i])/float64(took[0]))
					cpu[i] = append(cpu[i], float64(used[i])/float64(max(used[0], 1)))
				}
				round++
			}
			median := func(xs []float64) float64 { slices.Sort(xs); return xs[len(xs)/2] }
			for i, p := range paths {
				b.ReportMetric(total[i].Seconds()*1e3/float64(round), p.name+"-ms")
				if i > 0 {
					b.ReportMetric(median(wall[i]), p.name+"/"+paths[0].name)
					b.ReportMetric(median(cpu[i]), p.name+"-cpu/"+paths[0].name)
				}
			}
		})
	}
}

// TestBenchQueriesAgree checks that the baseline path and Queryable give
// byte-identical answers to the benchmark's queries, over 10 hosts, in
// magnetic parts and in the memory tier; Queryable scans them in one
// scan or in 3 parts (scanParts, see scanSeries).
func TestBenchQueriesAgree(t *testing.T) {
	for _, c := range []struct {
		name  string
		data  *benchData
		parts int
	}{{"flushed", &benchSmall, 0}, {"flushed/parts", &benchSmall, 3}, {"memory", &benchSmallMem, 0}, {"memory/parts", &benchSmallMem, 3}} {
		t.Run(c.name, func(t *testing.T) { testBenchQueriesAgree(t, c.data.open(t, 10), c.parts) })
	}
}

func testBenchQueriesAgree(t *testing.T, tr *benchTiers, parts int) {
	q := &Queryable{Source: tr.flush, Database: "prometheus", Table: "metrics", scanParts: parts}
	answer := func(sq storage.Queryable, bq *benchQuery) string {
		mux := http.NewServeMux()
		New(sq, Options{}).Register(mux)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, bq.rangeRequest())
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", bq.name, w.Code, w.Body.String())
		}
		return w.Body.String()
	}
	xq := &Queryable{Source: tr.flush, Database: "prometheus", Table: "metrics", xorAll: true, scanParts: parts}
	for _, bq := range benchQueries() {
		want, got := answer(baselineQueryable{q}, &bq), answer(q, &bq)
		if got != want {
			t.Errorf("%s: answers differ:\nbaseline %.300s\nscan     %.300s", bq.name, want, got)
		}
		if xor := answer(xq, &bq); xor != want {
			t.Errorf("%s: answers differ:\nbaseline %.300s\nxor      %.300s", bq.name, want, xor)
		}
		if !strings.Contains(got, `"values":[[`) {
			t.Errorf("%s: no points: %.300s", bq.name, got)
		}
	}
}

// BenchmarkQueryCostBudget compares, in one run, the engine with its
// query-cost budget (before: two context checks per sample read) and
// without it, MaxSeries enforced by seriesLimit (after), over the
// harness's query shapes on the flushed tiers. It reports each path's mean
// ms per query and the median per-iteration ratio after/before.
func BenchmarkQueryCostBudget(b *testing.B) {
	t := benchFull.open(b, benchHosts)
	q := &Queryable{Source: t.flush, Database: "prometheus", Table: "metrics", serialScans: true}
	names := []string{"before", "after"}
	for _, bq := range benchQueries() {
		b.Run(bq.name, func(b *testing.B) {
			muxes := make([]*http.ServeMux, 2)
			for i := range muxes {
				muxes[i] = http.NewServeMux()
				New(q, Options{queryCost: i == 0}).Register(muxes[i])
			}
			var total [2]time.Duration
			var ratio []float64
			round := 0
			for b.Loop() {
				var took [2]time.Duration
				for k := range 2 {
					i := (k + round) % 2
					w := httptest.NewRecorder()
					start := time.Now()
					muxes[i].ServeHTTP(w, bq.rangeRequest())
					took[i] = time.Since(start)
					if w.Code != http.StatusOK {
						b.Fatalf("%s: status %d: %s", names[i], w.Code, w.Body.String())
					}
				}
				total[0] += took[0]
				total[1] += took[1]
				ratio = append(ratio, float64(took[1])/float64(max(took[0], 1)))
				round++
			}
			slices.Sort(ratio)
			for i, n := range names {
				b.ReportMetric(total[i].Seconds()*1e3/float64(round), n+"-ms")
			}
			b.ReportMetric(ratio[len(ratio)/2], "after/before")
		})
	}
}

// BenchmarkSeriesDedup orders and de-duplicates the label sets of 100,000
// series as /api/v1/series does: before keyed a map by each set's string
// and sorted the keys; after sorts the sets and drops adjacent repeats.
func BenchmarkSeriesDedup(b *testing.B) {
	var sets []labels.Labels
	for i := range 100_000 {
		sets = append(sets, labels.FromStrings("__name__", "m"+strconv.Itoa(i%10), "host", "host_"+strconv.Itoa(i/10), "region", "r"+strconv.Itoa(i%7)))
	}
	before := func(in []labels.Labels) []labels.Labels {
		seen := map[string]labels.Labels{}
		for _, l := range in {
			seen[l.String()] = l
		}
		keys := make([]string, 0, len(seen))
		for k := range seen {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return labels.Compare(seen[keys[i]], seen[keys[j]]) < 0 })
		out := make([]labels.Labels, len(keys))
		for i, k := range keys {
			out[i] = seen[k]
		}
		return out
	}
	var cpu [2]time.Duration
	for b.Loop() {
		for i, f := range []func([]labels.Labels) []labels.Labels{before, sortedUnique} {
			in := slices.Clone(sets)
			slices.Reverse(in)
			c0 := processCPU()
			if n := len(f(in)); n != len(sets) {
				b.Fatalf("%d sets, want %d", n, len(sets))
			}
			cpu[i] += processCPU() - c0
		}
	}
	b.ReportMetric(cpu[0].Seconds()*1e3/float64(b.N), "before-cpu-ms")
	b.ReportMetric(cpu[1].Seconds()*1e3/float64(b.N), "after-cpu-ms")
	b.ReportMetric(float64(cpu[1])/float64(max(cpu[0], 1)), "after/before")
}
