package memstore

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// TestMagneticStoreWritesReachPartsThroughTheWAL checks that late records
// are counted as MagneticStore, durable through the WAL (they survive a
// restart before any part is written), readable at once, reach the
// PartWriter in one part at the next flush, leave memory then, and follow
// Timestream's rules for magnetic writes: no synchronous version conflict,
// the higher version wins and of equal versions the later write.
func TestMagneticStoreWritesReachPartsThroughTheWAL(t *testing.T) {
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
	open := func() *DB {
		opts := DefaultOptions(dir + "/memstore")
		opts.Now, opts.CheckpointInterval = func() time.Time { return testNow }, 0
		opts.PartWriter, opts.FlushInterval = col, time.Hour
		db, err := Open(cat, opts)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	multi := ingest.Record{Time: ts(-10 * time.Hour), Dimensions: []ingest.Dimension{{Name: "host", Value: "a"}}, MeasureName: "metrics",
		Measures: []ingest.Measure{{Name: "load", Value: ingest.Float(1.5)}, {Name: "procs", Value: ingest.Int(7)}}}
	multi2 := multi
	multi2.Time, multi2.Measures = ts(-9*time.Hour), []ingest.Measure{{Name: "procs", Value: ingest.Int(9)}}
	recs := []ingest.Record{
		rec("a", "cpu", ts(-7*time.Hour), ingest.Float(1), 1),     // magnetic
		rec("a", "cpu", ts(-time.Hour), ingest.Float(2), 1),       // memory
		rec("b", "cpu", ts(-8*time.Hour), ingest.Float(3), 4),     // magnetic, version 4
		rec("a", "cpu", ts(-40*24*time.Hour), ingest.Float(1), 1), // beyond magnetic retention
		multi, multi2,
	}
	res, err := db.Append(context.Background(), "testdb", "tbl", recs, ingest.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MagneticStore != 4 || res.MemoryStore != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 3 {
		t.Fatalf("result %+v", res)
	}
	// Conflicts: a lower version and a rewrite with the same version, both
	// accepted; the version 4 row stays, the rewrite wins.
	later := []ingest.Record{
		rec("b", "cpu", ts(-8*time.Hour), ingest.Float(30), 2),
		rec("a", "cpu", ts(-7*time.Hour), ingest.Float(10), 1),
	}
	if res, err := db.Append(context.Background(), "testdb", "tbl", later, ingest.AppendOptions{}); err != nil || res.MagneticStore != 2 || len(res.Rejected) != 0 {
		t.Fatalf("conflicting late writes: %+v %v", res, err)
	}
	if len(col.recs) != 0 {
		t.Fatalf("parts written before a flush: %+v", col.recs)
	}
	final := []ingest.Record{later[1], recs[2], multi, multi2}
	all := &scan.Request{Database: "testdb", Table: "tbl", MinTime: math.MinInt64, MaxTime: ts(-2 * time.Hour)}
	want := scantest.NewModel(final)
	// Durable and readable before the flush, across a restart.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer db.Close()
	got, err := scantest.Collect(context.Background(), db, all)
	if err != nil {
		t.Fatal(err)
	}
	if d := scantest.Diff(want.Rows(all), got); d != "" {
		t.Fatalf("memory before the flush: %s", d)
	}
	st, err := db.Flush(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 4 || len(col.recs) != 4 {
		t.Fatalf("flush %+v, parts hold %d records, want 4: %+v", st, len(col.recs), col.recs)
	}
	mem, err := scantest.Collect(context.Background(), db, &scan.Request{Database: "testdb", Table: "tbl", MinTime: math.MinInt64, MaxTime: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	if len(mem) != 1 || mem[0].Time != ts(-time.Hour) {
		t.Fatalf("memory holds %+v after the flush, want only the recent row", mem)
	}
	got, err = scantest.Collect(context.Background(), scantest.NewModel(col.recs), all)
	if err != nil {
		t.Fatal(err)
	}
	if d := scantest.Diff(want.Rows(all), got); d != "" {
		t.Fatal(d)
	}
}
