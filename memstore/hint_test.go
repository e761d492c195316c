package memstore

import (
	"context"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/cputime"
	"github.com/tidaldb/tidal/memstore/wal"
)

// hintBatches returns k batches of the tidal-bench remote-write shape: one
// sample of each of 100 hosts x 10 metrics per batch, each series' records
// sharing one dimension slice across batches (as remote-write's series
// cache gives them), with a SeriesHint per series when hinted.
func hintBatches(k int, start time.Time, hinted bool) [][]ingest.Record {
	g := newDevopsGen(100, start)
	type series struct {
		dims []ingest.Dimension
		hint *ingest.SeriesHint
	}
	ss := make([]series, 0, 1000)
	for h := range 100 {
		for range cpuFields {
			s := series{dims: slices.Clone(g.dims[h])}
			if hinted {
				s.hint = &ingest.SeriesHint{}
			}
			ss = append(ss, s)
		}
	}
	out := make([][]ingest.Record, k)
	for b := range k {
		at := start.UnixNano() + int64(b)*int64(10*time.Second)
		batch := make([]ingest.Record, 0, len(ss))
		for i, s := range ss {
			f := i % len(cpuFields)
			v := min(max(g.vals[i/len(cpuFields)][f]+float64(g.rng.IntN(5)-2), 0), 100)
			g.vals[i/len(cpuFields)][f] = v
			batch = append(batch, ingest.Record{Time: at, Dimensions: s.dims, MeasureName: cpuFields[f],
				Value: ingest.Float(v), Version: 1, Hint: s.hint})
		}
		out[b] = batch
	}
	return out
}

// BenchmarkAppendHinted appends batches of one sample of each of 1000
// series (tidal-bench's remote-write requests) with the WAL fsync off,
// without series hints (before: every record sorts its dimensions, builds
// its key and looks it up) and with them (after), alternating the two on
// two databases in one run, and reports the ratio after/before of the appending thread's CPU time:
//
//	go test -run '^$' -bench AppendHinted -benchtime 200x ./memstore
func BenchmarkAppendHinted(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const k = 50 // distinct batches, reused with shifted times
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var dbs [2]*DB
	var batches [2][][]ingest.Record
	for v := range 2 {
		dbs[v] = benchDB(b, wal.SyncNever, start.Add(300*24*time.Hour))
		batches[v] = hintBatches(k, start, v == 1)
	}
	span := int64(k) * int64(10*time.Second)
	ctx := context.Background()
	var took [2]time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for v := range 2 {
			batch := batches[v][i%k]
			if i >= k {
				for j := range batch {
					batch[j].Time += span
				}
			}
			t0 := cputime.Thread()
			res, err := dbs[v].Append(ctx, "bench", "cpu", batch, ingest.AppendOptions{IdempotentRewrite: true})
			took[v] += cputime.Thread() - t0
			if err != nil || res.MemoryStore != len(batch) {
				b.Fatalf("append: %+v %v", res, err)
			}
		}
		i++
	}
	b.ReportMetric(float64(took[0])/float64(b.N*1000), "before-cpu-ns/sample")
	b.ReportMetric(float64(took[1])/float64(b.N*1000), "after-cpu-ns/sample")
	b.ReportMetric(float64(took[1])/float64(max(took[0], 1)), "after/before")
}

// TestHintOfRemovedSeries checks that a record whose hint names a series a
// flush emptied and took out of the index lands in the series that holds
// its key now, visible to scans, and that the hint then names that series.
func TestHintOfRemovedSeries(t *testing.T) {
	dir := t.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("testdb", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl", Retention: catalog.Retention{MemoryHours: 6, MagneticDays: 30}}); err != nil {
		t.Fatal(err)
	}
	clock := testNow
	opts := DefaultOptions(dir + "/memstore")
	opts.Now = func() time.Time { return clock }
	opts.CheckpointInterval = 0
	opts.PartWriter = &collector{}
	opts.FlushInterval = time.Hour // flushes run by hand here
	opts.WAL = wal.Options{Sync: wal.SyncNever}
	db, err := Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dims := []ingest.Dimension{{Name: "host", Value: "a"}}
	hint := &ingest.SeriesHint{}
	appendAt := func(at int64, v float64) {
		t.Helper()
		r := []ingest.Record{{Time: at, Dimensions: dims, MeasureName: "m", Value: ingest.Float(v), Version: 1, Hint: hint}}
		if res, err := db.Append(context.Background(), "testdb", "tbl", r, ingest.AppendOptions{}); err != nil || res.MemoryStore != 1 {
			t.Fatalf("append: %+v %v", res, err)
		}
	}
	appendAt(ts(-5*time.Hour), 1)
	first, _ := hint.Load().(*seriesHint)
	if first == nil {
		t.Fatal("Append left the hint empty")
	}
	clock = testNow.Add(3 * time.Hour) // the row ages out of the window
	if _, err := db.Flush(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	appendAt(ts(2*time.Hour), 2)
	got, _ := hint.Load().(*seriesHint)
	if got == nil || got.s == first.s || got.s.removed {
		t.Fatalf("hint after the flush names series %p (removed %v), before %p", got.s, got != nil && got.s.removed, first.s)
	}
	rows := scanAll(t, db)
	want := []scanned{{t: ts(2 * time.Hour), ver: 1, v: map[string]ingest.Value{measureValueCol: ingest.Float(2)}}}
	if !reflect.DeepEqual(rows["a/m"], want) || len(rows) != 1 {
		t.Fatalf("memory holds %v, want a/m: %v", rows, want)
	}
}

// BenchmarkAppendBuffers appends the batches of BenchmarkAppendHinted
// (hinted) with the per-Append staging and status buffers allocated anew
// (before) and reused (after), alternating on two databases in one run, and
// reports the ratios after/before of the appending thread's CPU time and
// of the bytes allocated:
//
//	go test -run '^$' -bench AppendBuffers -benchtime 200x ./memstore
func BenchmarkAppendBuffers(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const k = 50
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var dbs [2]*DB
	var batches [2][][]ingest.Record
	for v := range 2 {
		dbs[v] = benchDB(b, wal.SyncNever, start.Add(300*24*time.Hour))
		batches[v] = hintBatches(k, start, true)
	}
	defer func() { reuseAppendBuffers = true }()
	span := int64(k) * int64(10*time.Second)
	ctx := context.Background()
	var took [2]time.Duration
	var alloc [2]uint64
	var ms runtime.MemStats
	i := 0
	for b.Loop() {
		for v := range 2 {
			reuseAppendBuffers = v == 1
			batch := batches[v][i%k]
			if i >= k {
				for j := range batch {
					batch[j].Time += span
				}
			}
			runtime.ReadMemStats(&ms)
			a0, t0 := ms.TotalAlloc, cputime.Thread()
			res, err := dbs[v].Append(ctx, "bench", "cpu", batch, ingest.AppendOptions{IdempotentRewrite: true})
			took[v] += cputime.Thread() - t0
			runtime.ReadMemStats(&ms)
			alloc[v] += ms.TotalAlloc - a0
			if err != nil || res.MemoryStore != len(batch) {
				b.Fatalf("append: %+v %v", res, err)
			}
		}
		i++
	}
	b.ReportMetric(float64(alloc[0])/float64(b.N), "before-B/append")
	b.ReportMetric(float64(alloc[1])/float64(b.N), "after-B/append")
	b.ReportMetric(float64(alloc[1])/float64(max(alloc[0], 1)), "after/before-bytes")
	b.ReportMetric(float64(took[1])/float64(max(took[0], 1)), "after/before")
}

// BenchmarkAppendRepeats appends batches of 250 series x 4 consecutive
// samples sharing a dimension slice (remote-write requests that carry
// several samples per series) with the schema check of every repeat
// (before) and without it (after), alternating on two databases in one
// run, and reports the ratio after/before of the appending thread's CPU
// time:
//
//	go test -run '^$' -bench AppendRepeats -benchtime 300x ./memstore
func BenchmarkAppendRepeats(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer func() { repeatSkipsSchema = true }()
	const k = 50
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var dbs [2]*DB
	var batches [2][][]ingest.Record
	for v := range 2 {
		dbs[v] = benchDB(b, wal.SyncNever, start.Add(300*24*time.Hour))
		batches[v] = remoteWriteBatches(k, start, true)
	}
	span := int64(k*4) * int64(10*time.Second)
	ctx := context.Background()
	var took [2]time.Duration
	i := 0
	for b.Loop() {
		for v := range 2 {
			repeatSkipsSchema = v == 1
			batch := batches[v][i%k]
			if i >= k {
				for j := range batch {
					batch[j].Time += span
				}
			}
			t0 := cputime.Thread()
			res, err := dbs[v].Append(ctx, "bench", "cpu", batch, ingest.AppendOptions{})
			took[v] += cputime.Thread() - t0
			if err != nil || res.MemoryStore != len(batch) {
				b.Fatalf("append: %+v %v", res, err)
			}
		}
		i++
	}
	b.ReportMetric(float64(took[0])/float64(b.N*1000), "before-cpu-ns/sample")
	b.ReportMetric(float64(took[1])/float64(b.N*1000), "after-cpu-ns/sample")
	b.ReportMetric(float64(took[1])/float64(max(took[0], 1)), "after/before")
}

// TestHintMultiMeasure checks the hint of a multi-measure series: a record
// with the hint's dimension slice, measure name and attribute names and
// types in order takes it; any other record falls back to the lookup and
// the full checks. Each probe is appended after a warm-up that set the hint,
// to a store with hints and to one with every record owning its dimensions
// and no hint; both must report and store the same.
func TestHintMultiMeasure(t *testing.T) {
	attrs := func(kv ...any) []ingest.Measure {
		var out []ingest.Measure
		for i := 0; i < len(kv); i += 2 {
			out = append(out, ingest.Measure{Name: kv[i].(string), Value: kv[i+1].(ingest.Value)})
		}
		return out
	}
	warmAttrs := attrs("temp", ingest.Float(1), "rpm", ingest.Int(2), "note", ingest.String("ok"))
	for _, tc := range []struct {
		name string
		// probe changes the warm-up record (its dimensions are the
		// hint's slice; other is a slice with other values).
		probe    func(r *ingest.Record, other []ingest.Dimension)
		hit      bool // matchHint takes the hint
		rejected bool
	}{
		{"same attributes", func(*ingest.Record, []ingest.Dimension) {}, true, false},
		{"attribute type changed", func(r *ingest.Record, _ []ingest.Dimension) {
			r.Measures = attrs("temp", ingest.Float(1), "rpm", ingest.Float(2), "note", ingest.String("ok"))
		}, false, true},
		{"attribute subset", func(r *ingest.Record, _ []ingest.Dimension) {
			r.Measures = attrs("temp", ingest.Float(3), "rpm", ingest.Int(4))
		}, false, false},
		{"attributes reordered", func(r *ingest.Record, _ []ingest.Dimension) {
			r.Measures = attrs("rpm", ingest.Int(4), "temp", ingest.Float(3), "note", ingest.String("ok"))
		}, false, false},
		{"attribute renamed to a new column", func(r *ingest.Record, _ []ingest.Dimension) {
			r.Measures = attrs("temp", ingest.Float(1), "rpm", ingest.Int(2), "note2", ingest.String("ok"))
		}, false, false},
		{"duplicate attribute", func(r *ingest.Record, _ []ingest.Dimension) {
			r.Measures = attrs("temp", ingest.Float(1), "temp", ingest.Float(2), "note", ingest.String("ok"))
		}, false, true},
		{"attribute named as a dimension", func(r *ingest.Record, _ []ingest.Dimension) {
			r.Measures = attrs("temp", ingest.Float(1), "host", ingest.Int(2), "note", ingest.String("ok"))
		}, false, true},
		{"equal dimensions in another slice", func(r *ingest.Record, _ []ingest.Dimension) {
			r.Dimensions = slices.Clone(r.Dimensions)
		}, false, false},
		{"other dimensions", func(r *ingest.Record, other []ingest.Dimension) { r.Dimensions = other }, false, false},
		{"other measure name", func(r *ingest.Record, _ []ingest.Dimension) { r.MeasureName = "other" }, false, false},
		{"single-measure record of a multi-measure name", func(r *ingest.Record, _ []ingest.Dimension) {
			r.Measures, r.Value = nil, ingest.Float(1)
		}, false, true},
		{"bad version", func(r *ingest.Record, _ []ingest.Dimension) { r.Version = -1 }, true, true},
		{"outside the window", func(r *ingest.Record, _ []ingest.Dimension) { r.Time = ts(-10 * time.Hour) }, true, true},
		{"before the epoch", func(r *ingest.Record, _ []ingest.Dimension) { r.Time = -1 }, true, true},
		{"invalid VARCHAR value", func(r *ingest.Record, _ []ingest.Dimension) {
			r.Measures = attrs("temp", ingest.Float(1), "rpm", ingest.Int(2), "note", ingest.String("\xff"))
		}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hinted, plain := openLimited(t, 0), openLimited(t, 0)
			dims := []ingest.Dimension{{Name: "host", Value: "a"}, {Name: "site", Value: "s"}}
			other := []ingest.Dimension{{Name: "host", Value: "b"}, {Name: "site", Value: "s"}}
			hint := &ingest.SeriesHint{}
			warm := ingest.Record{Time: ts(-2 * time.Minute), Dimensions: dims, MeasureName: "telemetry",
				Measures: slices.Clone(warmAttrs), Version: 1, Hint: hint}
			probe := warm
			probe.Time = ts(-time.Minute)
			probe.Measures = slices.Clone(warmAttrs)
			tc.probe(&probe, other)
			for _, f := range []*fixture{hinted, plain} {
				w, p := warm, probe
				if f == plain {
					w.Hint, p.Hint = nil, nil
					w.Dimensions, p.Dimensions = slices.Clone(w.Dimensions), slices.Clone(p.Dimensions)
				}
				if res := f.append(t, w); res.MemoryStore != 1 {
					t.Fatalf("warm-up: %+v", res)
				}
			}
			if hint.Load() == nil {
				t.Fatal("the warm-up left the hint empty")
			}
			tbl, err := hinted.db.table("testdb", "tbl", false)
			if err != nil {
				t.Fatal(err)
			}
			if got := matchHint(&probe, tbl) != nil; got != tc.hit {
				t.Fatalf("matchHint took the hint: %v, want %v", got, tc.hit)
			}
			plainProbe := probe
			plainProbe.Hint, plainProbe.Dimensions = nil, slices.Clone(probe.Dimensions)
			want := plain.append(t, plainProbe)
			// Twice: a rejected record stays rejected, and its hint is
			// not replaced by a failed one.
			for range 2 {
				got := hinted.append(t, probe)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("hinted probe: %+v, without hints: %+v", got, want)
				}
				if (len(got.Rejected) == 1) != tc.rejected {
					t.Fatalf("probe result %+v, want rejected %v", got, tc.rejected)
				}
				if h, _ := hint.Load().(*seriesHint); h == nil || h.s.removed {
					t.Fatalf("hint after the probe: %+v", h)
				}
				plain.append(t, plainProbe)
			}
			if got, want := scanAll(t, hinted.db), scanAll(t, plain.db); !reflect.DeepEqual(got, want) {
				t.Fatalf("hinted store holds %v, without hints %v", got, want)
			}
		})
	}
}

// TestHintRejectedFirst checks that a record rejected on its first Append
// leaves its hint empty, and is rejected again when sent again.
func TestHintRejectedFirst(t *testing.T) {
	f := openLimited(t, 0)
	f.append(t, ingest.Record{Time: ts(-time.Minute), Dimensions: []ingest.Dimension{{Name: "host", Value: "x"}},
		MeasureName: "telemetry", Measures: []ingest.Measure{{Name: "temp", Value: ingest.Int(1)}}, Version: 1})
	hint := &ingest.SeriesHint{}
	r := ingest.Record{Time: ts(-time.Minute), Dimensions: []ingest.Dimension{{Name: "host", Value: "a"}},
		MeasureName: "telemetry", Measures: []ingest.Measure{{Name: "temp", Value: ingest.Float(1)}}, Version: 1, Hint: hint}
	for i := range 2 {
		if res := f.append(t, r); len(res.Rejected) != 1 || res.MemoryStore != 0 {
			t.Fatalf("append %d of a record whose attribute type conflicts: %+v", i, res)
		}
		if h := hint.Load(); h != nil {
			t.Fatalf("append %d: a rejected record set its hint to %+v", i, h)
		}
	}
}

// TestWALDefinesSeriesOnce checks that an Append whose records of new
// series are interleaved (each record its own run) logs each series'
// definition once, and that a replay restores every row: hinted records
// of a series an earlier record of the batch created, and records that
// carry their own dimension slices.
func TestWALDefinesSeriesOnce(t *testing.T) {
	dir := t.TempDir()
	f := openFixture(t, dir)
	if _, err := f.cat.CreateDatabase("testdb", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl",
		Retention: catalog.Retention{MemoryHours: 6, MagneticDays: 30}}); err != nil {
		t.Fatal(err)
	}
	hosts := []string{"a", "b", "c"}
	shared := map[string][]ingest.Dimension{}
	hints := map[string]*ingest.SeriesHint{}
	for _, h := range hosts {
		shared[h], hints[h] = []ingest.Dimension{{Name: "host", Value: h}}, &ingest.SeriesHint{}
	}
	var batch []ingest.Record
	for i := range 12 {
		h := hosts[i%len(hosts)]
		r := rec(h, "m", ts(-time.Duration(12-i)*time.Second), ingest.Float(float64(i)), 1)
		if i%2 == 0 {
			r.Dimensions, r.Hint = shared[h], hints[h]
		}
		batch = append(batch, r)
	}
	if res := f.append(t, batch...); res.MemoryStore != len(batch) {
		t.Fatalf("append: %+v", res)
	}
	defs := map[uint64]int{}
	rows := 0
	err := f.db.wal.Replay(0, func(_ int, b []byte) error {
		return decodeWALRecord(b, func(e *walEntry) error {
			switch e.kind {
			case entrySeries:
				defs[e.ref]++
			case entryRow:
				rows++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != len(hosts) || rows != len(batch) {
		t.Fatalf("WAL defines series %v and holds %d rows, want %d series once each and %d rows", defs, rows, len(hosts), len(batch))
	}
	for ref, n := range defs {
		if n != 1 {
			t.Errorf("series %d defined %d times", ref, n)
		}
	}
	want := scanAll(t, f.db)
	if len(want) != len(hosts) || len(want["a/m"]) != 4 {
		t.Fatalf("store holds %v", want)
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	g := openFixture(t, dir)
	defer g.db.Close()
	if got := scanAll(t, g.db); !reflect.DeepEqual(got, want) {
		t.Fatalf("replay restores %v, want %v", got, want)
	}
}

// TestHintNewSeriesInBatch checks records of new series in one batch,
// interleaved, whose later records skip the checks an earlier record of
// their series passed: each must be stored or rejected as without hints,
// whether each series has its hint or one hint serves every record.
func TestHintNewSeriesInBatch(t *testing.T) {
	a := []ingest.Dimension{{Name: "site", Value: "s"}, {Name: "host", Value: "a"}}
	b := []ingest.Dimension{{Name: "site", Value: "s"}, {Name: "host", Value: "b"}}
	bad := []ingest.Dimension{{Name: "site", Value: "s"}, {Name: "host", Value: ""}}
	multi := func(dims []ingest.Dimension, sec int, kv ...any) ingest.Record {
		r := ingest.Record{Time: ts(-time.Duration(60-sec) * time.Second), Dimensions: dims, MeasureName: "telemetry", Version: 1}
		for i := 0; i < len(kv); i += 2 {
			r.Measures = append(r.Measures, ingest.Measure{Name: kv[i].(string), Value: kv[i+1].(ingest.Value)})
		}
		return r
	}
	batch := func() []ingest.Record {
		recs := []ingest.Record{
			multi(a, 1, "temp", ingest.Float(1), "rpm", ingest.Int(1)),
			multi(b, 1, "temp", ingest.Float(2), "rpm", ingest.Int(2)),
			multi(bad, 1, "temp", ingest.Float(2), "rpm", ingest.Int(2)), // empty dimension value
			multi(a, 2, "temp", ingest.Int(3), "rpm", ingest.Int(3)),     // type conflict
			multi(b, 2, "temp", ingest.Float(4), "rpm", ingest.Int(4)),
			multi(a, 3, "temp", ingest.Float(5), "rpm", ingest.Int(5)),
			multi(a, 4, "temp", ingest.Float(6), "rpm", ingest.Int(6)), // bad version below
			multi(b, 3, "rpm", ingest.Int(7), "temp", ingest.Float(7)),
			multi(a, 5, "temp", ingest.Float(8), "rpm", ingest.Int(8), "new", ingest.Bool(true)),
			multi(a, 6, "temp", ingest.Float(9), "site", ingest.Int(9)),     // attribute named as a dimension
			multi(b, 4, "temp", ingest.Float(10), "host", ingest.Int(10)),   // attribute named as a dimension
			multi(b, 5, "temp", ingest.Float(11), "temp", ingest.Float(11)), // duplicate attribute
			multi(a, 7, "temp", ingest.Float(12), "rpm", ingest.Int(12)),
			{Time: ts(-time.Second), Dimensions: a, MeasureName: "telemetry", Value: ingest.Float(1), Version: 1}, // single under a multi name
			{Time: ts(-time.Second), Dimensions: a, MeasureName: "other", Value: ingest.Float(1), Version: 1},
			{Time: ts(-2 * time.Second), Dimensions: a, MeasureName: "other", Value: ingest.Int(1), Version: 1}, // type conflict
			{Time: ts(-3 * time.Second), Dimensions: a, MeasureName: "other", Value: ingest.Float(3), Version: 1},
			multi(b, 6, "temp", ingest.Float(13), "rpm", ingest.Int(13)),
		}
		recs[6].Version = -1
		return recs
	}
	for _, mode := range []string{"hint per series", "one hint"} {
		t.Run(mode, func(t *testing.T) {
			hinted, plain := openLimited(t, 0), openLimited(t, 0)
			one := &ingest.SeriesHint{}
			hints := map[string]*ingest.SeriesHint{}
			recs := batch()
			for i := range recs {
				r := &recs[i]
				if mode == "one hint" {
					r.Hint = one
					continue
				}
				k := r.MeasureName + "/" + r.Dimensions[1].Value
				if hints[k] == nil {
					hints[k] = &ingest.SeriesHint{}
				}
				r.Hint = hints[k]
			}
			own := batch()
			for i := range own {
				own[i].Dimensions = slices.Clone(own[i].Dimensions)
			}
			got, want := hinted.append(t, recs...), plain.append(t, own...)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("hinted: %+v\nwithout hints: %+v", got, want)
			}
			if len(want.Rejected) != 8 {
				t.Fatalf("%d records rejected, want 8: %+v", len(want.Rejected), want.Rejected)
			}
			if got, want := scanAll(t, hinted.db), scanAll(t, plain.db); !reflect.DeepEqual(got, want) {
				t.Fatalf("hinted store holds %v, without hints %v", got, want)
			}
		})
	}
}

// TestHintBeforeEpoch checks that a hinted record without a VARCHAR value,
// which skips most of ingest.ValidateSample, still gets its time checked.
func TestHintBeforeEpoch(t *testing.T) {
	for _, multi := range []bool{false, true} {
		f := openLimited(t, 0)
		hint := &ingest.SeriesHint{}
		r := ingest.Record{Time: ts(-time.Minute), Dimensions: []ingest.Dimension{{Name: "host", Value: "a"}},
			MeasureName: "m", Value: ingest.Float(1), Version: 1, Hint: hint}
		if multi {
			r.Value, r.Measures = ingest.Value{}, []ingest.Measure{{Name: "temp", Value: ingest.Float(1)}}
		}
		if res := f.append(t, r); res.MemoryStore != 1 || hint.Load() == nil {
			t.Fatalf("multi=%v warm-up: %+v", multi, res)
		}
		r.Time = -1
		want := ingest.ValidateSample(&r)
		if res := f.append(t, r); len(res.Rejected) != 1 || res.Rejected[0].Reason != want || want == "" {
			t.Fatalf("multi=%v: a hinted record before the epoch gives %+v, want the reason %q", multi, res, want)
		}
	}
}
