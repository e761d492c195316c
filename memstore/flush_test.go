package memstore

import (
	"context"
	"math"
	"math/rand/v2"
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
