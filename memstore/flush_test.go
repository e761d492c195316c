package memstore

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// collector is a PartWriter that keeps every flushed row as a record.
type collector struct {
	mu   sync.Mutex
	recs []ingest.Record
}

func (c *collector) WritePart(_ context.Context, _ uint64, src scan.Batches) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for src.Next() {
		b := src.Batch()
		for i, at := range b.Time {
			r := ingest.Record{Time: at, Dimensions: append([]ingest.Dimension(nil), b.Series.Dimensions...), MeasureName: b.Series.MeasureName, Version: 1}
			if b.Version != nil {
				r.Version = b.Version[i]
			}
			for c := range b.Columns {
				if b.Columns[c].IsNull(i) {
					continue
				}
				if b.Columns[c].Name == scan.ColMeasureValue {
					r.Value = b.Columns[c].Value(i)
				} else {
					r.Measures = append(r.Measures, ingest.Measure{Name: b.Columns[c].Name, Value: b.Columns[c].Value(i)})
				}
			}
			c.recs = append(c.recs, r)
		}
	}
	return src.Err()
}

func TestFlushMovesAgedRows(t *testing.T) {
	dir := t.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("testdb", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl", Retention: catalog.Retention{MemoryHours: 6, MagneticDays: 30},
		MagneticWrites: catalog.MagneticWrites{Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	clock := testNow
	open := func() *DB {
		opts := DefaultOptions(dir + "/memstore")
		opts.Now = func() time.Time { return clock }
		opts.CheckpointInterval = 0
		opts.PartWriter = col
		opts.FlushInterval = time.Hour // flushes run by hand here
		db, err := Open(cat, opts)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	// Random data over the last 5 hours, all inside the memory window;
	// then 3 hours pass, and the oldest 2 hours have aged out.
	cfg := scantest.DefaultConfig(ts(-5 * time.Hour))
	cfg.Span = int64(5 * time.Hour)
	recs := scantest.Generate(newRand(), cfg)
	for i := 0; i < len(recs); i += 100 {
		res, err := db.Append(context.Background(), "testdb", "tbl", recs[i:min(i+100, len(recs))], ingest.AppendOptions{})
		if err != nil || len(res.Rejected) > 0 {
			t.Fatalf("append: %+v %v", res, err)
		}
	}
	clock = testNow.Add(3 * time.Hour)
	st, err := db.Flush(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	cutoff := ts(-3 * time.Hour)
	if st.Rows == 0 || st.Kept != 0 || int64(len(col.recs)) != st.Rows {
		t.Fatalf("flush stats %+v, collected %d", st, len(col.recs))
	}
	for _, r := range col.recs {
		if r.Time >= cutoff {
			t.Fatalf("flushed a row inside the memory window: %d", r.Time)
		}
	}
	// Memory keeps only the window; memory + flushed answer like all data.
	all := &scan.Request{Database: "testdb", Table: "tbl", MinTime: math.MinInt64, MaxTime: math.MaxInt64}
	rows, err := scantest.Collect(context.Background(), db, all)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Time < cutoff {
			t.Fatalf("aged row still in memory: %+v", r)
		}
	}
	check := func(db *DB) {
		t.Helper()
		got, err := scantest.Collect(context.Background(), scan.Merge(scantest.NewModel(col.recs), db), all)
		if err != nil {
			t.Fatal(err)
		}
		if d := scantest.Diff(scantest.NewModel(recs).Rows(all), got); d != "" {
			t.Fatal(d)
		}
	}
	check(db)
	// Restart: the checkpoint written by the flush keeps flushed rows out.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer db.Close()
	check(db)
	// Flush everything: the memory empties, the series leave the index,
	// and appending to them again works.
	before := db.SeriesCount()
	if _, err := db.Flush(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if n := db.SeriesCount(); n != 0 || before == 0 {
		t.Fatalf("series after full flush %d (before %d)", n, before)
	}
	check(db)
	res, err := db.Append(context.Background(), "testdb", "tbl", recs[:1], ingest.AppendOptions{})
	if err != nil || res.Total() != 1 {
		t.Fatalf("append after flush: %+v %v", res, err)
	}
	if db.SeriesCount() != 1 {
		t.Fatalf("series %d", db.SeriesCount())
	}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(11, 12)) }

// hookWriter is a collector that runs during once the rows are written,
// before the flush drops them: writes that land while a flush runs.
type hookWriter struct {
	collector
	during func()
}

func (h *hookWriter) WritePart(ctx context.Context, id uint64, src scan.Batches) error {
	if err := h.collector.WritePart(ctx, id, src); err != nil {
		return err
	}
	h.during()
	return nil
}

// TestFlushDropsRowsUnchangedBeforeCutoff: a series written while a flush
// runs still loses its flushed rows when the write is newer than the
// cutoff (the steady state of a server under constant writes), and keeps
// them when a row before the cutoff changed.
func TestFlushDropsRowsUnchangedBeforeCutoff(t *testing.T) {
	tests := []struct {
		name     string
		at       time.Duration // time of the row written during the flush, from the flush's clock
		wantKept bool
	}{
		{"newer row written during the flush", -time.Hour, false},
		{"row before the cutoff changed during the flush", -7*time.Hour - 30*time.Minute, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
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
			hw := &hookWriter{}
			opts := DefaultOptions(dir + "/memstore")
			opts.Now = func() time.Time { return clock }
			opts.CheckpointInterval = 0
			opts.PartWriter = hw
			opts.FlushInterval = time.Hour // flushes run by hand here
			db, err := Open(cat, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rec := func(at int64, v float64) ingest.Record {
				return ingest.Record{Time: at, Dimensions: []ingest.Dimension{{Name: "host", Value: "a"}}, MeasureName: "cpu", Value: ingest.Float(v), Version: 1}
			}
			// Two hours of rows, every 10 minutes, from 5h ago.
			var recs []ingest.Record
			for m := 0; m < 120; m += 10 {
				recs = append(recs, rec(ts(-5*time.Hour+time.Duration(m)*time.Minute), float64(m)))
			}
			if res, err := db.Append(context.Background(), "testdb", "tbl", recs, ingest.AppendOptions{}); err != nil || len(res.Rejected) > 0 {
				t.Fatalf("append: %+v %v", res, err)
			}
			// Two hours pass: the first hour is older than the 6h window.
			clock = testNow.Add(2 * time.Hour)
			cutoff := clock.Add(-6 * time.Hour).UnixNano()
			changed := clock.Add(tc.at).UnixNano()
			hw.during = func() {
				db.mu.RLock()
				var tbl *table
				for _, x := range db.byID {
					tbl = x
				}
				db.mu.RUnlock()
				for _, s := range tbl.selectSeries(nil, db.nextRef.Load()) {
					s.mu.Lock()
					if err := s.apply(changed, 1, []string{measureValueCol}, []ingest.Value{ingest.Float(-1)}, &db.oooBuffered); err != nil {
						t.Error(err)
					}
					s.mu.Unlock()
				}
			}
			st, err := db.Flush(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			if st.Rows != 6 || len(hw.recs) != 6 {
				t.Fatalf("flush stats %+v, collected %d; want 6 rows (the first hour)", st, len(hw.recs))
			}
			if got := st.Kept == 1; got != tc.wantKept {
				t.Fatalf("kept %d series, want kept: %v", st.Kept, tc.wantKept)
			}
			all := &scan.Request{Database: "testdb", Table: "tbl", MinTime: math.MinInt64, MaxTime: math.MaxInt64}
			rows, err := scantest.Collect(context.Background(), db, all)
			if err != nil {
				t.Fatal(err)
			}
			var old int
			for _, r := range rows {
				if r.Time < cutoff {
					old++
				}
			}
			want, wantRows := 0, 7 // the second hour and the changed row
			if tc.wantKept {
				want, wantRows = 7, 13 // every row, the changed one among the old
			}
			if old != want || len(rows) != wantRows {
				t.Fatalf("in memory after the flush: %d rows, %d before the cutoff; want %d and %d", len(rows), old, wantRows, want)
			}
		})
	}
}

// sortedChecker is a PartWriter that checks the flush cursor's promise to
// the magnetic store (magnetic.SortedSource): each series once, in
// ascending key order, and Bounds agreeing with what comes.
type sortedChecker struct {
	t          *testing.T
	rows       int
	minT, maxT int64
	bounds     [3]int64
	keys       []string
}

func (c *sortedChecker) WritePart(_ context.Context, _ uint64, src scan.Batches) error {
	ss, ok := src.(interface {
		SeriesSorted() bool
		Bounds() (int, int64, int64)
	})
	if !ok || !ss.SeriesSorted() {
		c.t.Fatalf("flush source %T does not declare sorted series", src)
	}
	rows, lo, hi := ss.Bounds()
	c.bounds = [3]int64{int64(rows), lo, hi}
	c.minT, c.maxT = math.MaxInt64, math.MinInt64
	for src.Next() {
		b := src.Batch()
		c.keys = append(c.keys, b.Series.Key)
		c.rows += len(b.Time)
		c.minT, c.maxT = min(c.minT, b.Time[0]), max(c.maxT, b.Time[len(b.Time)-1])
	}
	return src.Err()
}

func TestFlushYieldsSeriesInKeyOrder(t *testing.T) {
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
	chk := &sortedChecker{t: t}
	opts := DefaultOptions(dir + "/memstore")
	opts.Now, opts.CheckpointInterval = func() time.Time { return testNow }, 0
	opts.PartWriter, opts.FlushInterval = chk, time.Hour
	db, err := Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Series created in an order unlike their keys' order.
	var recs []ingest.Record
	for i := range 50 {
		host := strconv.Itoa((i * 37) % 50)
		for j := range 20 {
			recs = append(recs, rec(host, "cpu", ts(time.Duration(j-60)*time.Minute), ingest.Float(float64(j)), 1))
		}
	}
	if res, err := db.Append(context.Background(), "testdb", "tbl", recs, ingest.AppendOptions{}); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("append: %+v %v", res, err)
	}
	if _, err := db.Flush(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if len(chk.keys) != 50 || !slices.IsSorted(chk.keys) || len(slices.Compact(slices.Clone(chk.keys))) != 50 {
		t.Fatalf("flushed keys %q: want 50 distinct, ascending", chk.keys)
	}
	if want := [3]int64{int64(chk.rows), chk.minT, chk.maxT}; chk.rows != len(recs) || chk.bounds != want {
		t.Errorf("Bounds %v, flushed rows and range %v (%d records)", chk.bounds, want, len(recs))
	}
}
