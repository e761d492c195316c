package exec

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/scan"
)

// kernelValues are the DOUBLE values the differential test draws from
// besides random ones: the special values every kernel must order and
// add as the per-value path does.
var kernelValues = []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e308, -1e308, 5e-324}

// kernelRecords returns random records of a single-measure DOUBLE
// series kind ("cpu") and a multi-measure kind ("m", attribute "a" set on
// some rows only, so it has NULLs), with some rows upserted later with a
// higher version.
func kernelRecords(rng *rand.Rand, base int64, n int) []ingest.Record {
	val := func() float64 {
		if rng.IntN(8) == 0 {
			return kernelValues[rng.IntN(len(kernelValues))]
		}
		return math.Round(rng.NormFloat64()*1e4) / 100
	}
	seen := map[string]bool{}
	var recs []ingest.Record
	for len(recs) < n {
		host := "h" + strconv.Itoa(rng.IntN(5))
		dims := []ingest.Dimension{{Name: "host", Value: host}}
		at := base + rng.Int64N(2*3600)*1e9
		r := ingest.Record{Time: at, Dimensions: dims, Version: 1}
		if rng.IntN(2) == 0 {
			r.MeasureName, r.Value = "cpu", ingest.Float(val())
		} else {
			r.MeasureName = "m"
			if rng.IntN(3) > 0 {
				r.Measures = append(r.Measures, ingest.Measure{Name: "a", Value: ingest.Float(val())})
			}
			r.Measures = append(r.Measures, ingest.Measure{Name: "b", Value: ingest.Float(val())})
		}
		id := r.MeasureName + host + strconv.FormatInt(at, 10)
		if seen[id] {
			continue
		}
		seen[id] = true
		recs = append(recs, r)
	}
	// Upserts: rows rewritten with a higher version and a new value.
	for i := range n / 10 {
		u := recs[rng.IntN(len(recs))]
		u.Version = 2 + int64(i)
		if u.IsMulti() {
			u.Measures = []ingest.Measure{{Name: "a", Value: ingest.Float(val())}}
		} else {
			u.Value = ingest.Float(val())
		}
		recs = append(recs, u)
	}
	return recs
}

// kernelSource writes recs to both tiers as the server reads them (the
// first half flushed to the magnetic tier, the rest with its upserts in
// memory) behind a tombstone set that deletes part of one host.
func kernelSource(t *testing.T, recs []ingest.Record, now time.Time) (*catalog.Catalog, scan.Source) {
	dir := t.TempDir()
	clock := func() time.Time { return now }
	cat, err := catalog.Open(catalog.Options{Dir: dir, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("kdb", "", nil); err != nil {
		t.Fatal(err)
	}
	tbl, err := cat.CreateTable(catalog.Table{Database: "kdb", Name: "tbl",
		Retention:      catalog.Retention{MemoryHours: 6, MagneticDays: 30},
		MagneticWrites: catalog.MagneticWrites{Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	mag, err := magnetic.Open(magnetic.Options{Dir: dir + "/magnetic", Catalog: cat, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mag.Close() })
	opts := memstore.DefaultOptions(dir + "/memstore")
	opts.Now, opts.CheckpointInterval = clock, 0
	opts.WAL = wal.Options{Sync: wal.SyncNever}
	opts.PartWriter, opts.FlushInterval = magWriter{mag}, time.Hour
	mem, err := memstore.Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	appendAll := func(rs []ingest.Record) {
		for i := 0; i < len(rs); i += 100 {
			res, err := mem.Append(context.Background(), "kdb", "tbl", rs[i:min(i+100, len(rs))], ingest.AppendOptions{})
			if err != nil || len(res.Rejected) > 0 {
				t.Fatalf("append: %+v %v", res, err)
			}
		}
	}
	half := len(recs) / 2
	appendAll(recs[:half])
	if _, err := mem.Flush(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	appendAll(recs[half:])
	tombs, err := tombstone.Open(tombstone.Options{Dir: dir + "/tombstones", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	base := now.Add(-2 * time.Hour).UnixNano()
	if _, err := tombs.Add([]tombstone.Tombstone{{TableID: tbl.ID, Database: "kdb", Table: "tbl",
		Where:   []tombstone.Matcher{{Name: "host", Op: tombstone.OpEqual, Values: []string{"h1"}}},
		MinTime: base + 1800e9, MaxTime: base + 2700e9}}); err != nil {
		t.Fatal(err)
	}
	return cat, tombs.Source(scan.Merge(mag, mem), cat)
}

// rowsText renders result rows with DOUBLEs by bit pattern, so that -0
// and the last bit of a sum count; NaN is one value (which NaN an
// addition of NaN and NaN returns depends on the operand order the
// compiler picks, and SQL shows every NaN alike).
func rowsText(rows [][]Value) string {
	var b strings.Builder
	for _, r := range rows {
		for _, v := range r {
			switch {
			case v.Null:
				b.WriteString("NULL")
			case v.Kind == KindDouble && v.F != v.F:
				b.WriteString("NaN")
			case v.Kind == KindDouble:
				b.WriteString("d" + strconv.FormatUint(math.Float64bits(v.F), 16))
			default:
				b.WriteString(v.String())
			}
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestAggregateKernelsMatchGenericPath runs aggregations over random data
// in both tiers (NULLs, NaN, infinities, upserts, tombstoned rows) with
// the batch kernels and with the per-value path, and wants identical
// results, bit for bit.
func TestAggregateKernelsMatchGenericPath(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	base := now.Add(-2 * time.Hour).UnixNano()
	queries := []string{
		`SELECT bin(time, 1m), host, avg(measure_value::double), max(measure_value::double), min(measure_value::double), count(*) FROM kdb.tbl WHERE measure_name = 'cpu' GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT bin(time, 10s), host, sum(measure_value::double), count(measure_value::double) FROM kdb.tbl WHERE measure_name = 'cpu' GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT bin(time, 1h), host, max(measure_value::double) FROM kdb.tbl WHERE measure_name = 'cpu' GROUP BY 1, 2 ORDER BY 1, 2`,
		// Sparse buckets: most prefixes spill from their slots.
		`SELECT bin(time, 1s), host, max(measure_value::double), count(*) FROM kdb.tbl WHERE measure_name = 'cpu' GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT bin(time, 1s), max(b), min(b), avg(a) FROM kdb.tbl WHERE measure_name = 'm' GROUP BY 1 ORDER BY 1`,
		`SELECT bin(time, 5m), host, avg(a), min(a), max(a), count(a), count(*) FROM kdb.tbl WHERE measure_name = 'm' GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT bin(time, 7m), sum(a), sum(b), min(b), max(a), min(time), max(time) FROM kdb.tbl WHERE measure_name = 'm' GROUP BY 1 ORDER BY 1`,
		`SELECT bin(time, 1m), host, measure_name, max(b), avg(b), min(b) FROM kdb.tbl GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		`SELECT bin(time, 2m), max(CASE WHEN measure_name = 'cpu' THEN measure_value::double END), avg(CASE WHEN measure_name = 'm' THEN a END) FROM kdb.tbl GROUP BY 1 ORDER BY 1`,
		`SELECT bin(time, 1m), host, avg(measure_value::double) FROM kdb.tbl WHERE measure_name = 'cpu' AND time BETWEEN from_nanoseconds(` +
			strconv.FormatInt(base+600e9+123, 10) + `) AND from_nanoseconds(` + strconv.FormatInt(base+5000e9, 10) + `) GROUP BY 1, 2 ORDER BY 1, 2`,
	}
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 20))
		cat, src := kernelSource(t, kernelRecords(rng, base, 4000), now)
		for _, par := range []int{1, 2} {
			e := New(cat, src, Options{Parallelism: par})
			for qi, sql := range queries {
				run := func(kernels bool) string {
					defer func(old bool) { batchKernels = old }(batchKernels)
					batchKernels = kernels
					res, err := e.Query(context.Background(), sql, nil)
					if err != nil {
						t.Fatalf("seed %d query %d (kernels %v): %v", seed, qi, kernels, err)
					}
					if len(res.Rows) == 0 {
						t.Fatalf("seed %d query %d: no rows", seed, qi)
					}
					return rowsText(res.Rows)
				}
				want, got := run(false), run(true)
				if got != want {
					t.Errorf("seed %d parallelism %d query %d %s:\n%s", seed, par, qi, sql, firstDiff(got, want))
				}
			}
		}
	}
}

// firstDiff describes the first line where the kernel result got and
// the generic result want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return "line " + strconv.Itoa(i) + ":\nkernels " + g[i] + "\ngeneric " + w[i]
		}
	}
	return "kernels " + strconv.Itoa(len(g)) + " lines, generic " + strconv.Itoa(len(w))
}

// TestTSBSAnswersUnchanged runs the TSBS devops and IoT queries with the
// batch kernels and pruned join build rows and without either, and wants
// the same answers.
func TestTSBSAnswersUnchanged(t *testing.T) {
	devops := newTestDB(t)
	devops.loadTSBS(t, 10, 6*3600e9)
	iot := newTestDB(t)
	iot.loadIoT(t, 20, 6*3600e9)
	for _, set := range []struct {
		db      *testDB
		queries map[string]string
	}{{devops, tsbsQueries}, {devops, joinQueries}, {iot, iotQueries}} {
		e := New(set.db.cat, set.db, Options{Parallelism: 1})
		for name, sql := range set.queries {
			run := func(fast bool) string {
				defer func(k, p bool) { batchKernels, disableBuildPrune = k, p }(batchKernels, disableBuildPrune)
				batchKernels, disableBuildPrune = fast, !fast
				res, err := e.Query(context.Background(), sql, nil)
				if err != nil {
					t.Fatalf("%s (fast %v): %v", name, fast, err)
				}
				return rowsText(res.Rows)
			}
			if got, want := run(true), run(false); got != want {
				t.Errorf("%s: answers differ:\n%s", name, firstDiff(got, want))
			}
		}
	}
}
