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

// TestMagneticStoreWritesGoStraightToParts checks that late records are
// written to the PartWriter before Append returns, never held in memory,
// and counted as MagneticStore.
func TestMagneticStoreWritesGoStraightToParts(t *testing.T) {
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
	opts := DefaultOptions(dir + "/memstore")
	opts.Now, opts.CheckpointInterval = func() time.Time { return testNow }, 0
	opts.PartWriter, opts.FlushInterval = col, time.Hour
	db, err := Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
	if len(col.recs) != 4 {
		t.Fatalf("parts hold %d records, want 4: %+v", len(col.recs), col.recs)
	}
	mem, err := scantest.Collect(context.Background(), db, &scan.Request{Database: "testdb", Table: "tbl", MinTime: math.MinInt64, MaxTime: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	if len(mem) != 1 || mem[0].Time != ts(-time.Hour) {
		t.Fatalf("memory holds %+v, want only the recent row", mem)
	}
	want := scantest.NewModel([]ingest.Record{recs[0], recs[2], multi, multi2})
	all := &scan.Request{Database: "testdb", Table: "tbl", MinTime: math.MinInt64, MaxTime: ts(-2 * time.Hour)}
	got, err := scantest.Collect(context.Background(), scantest.NewModel(col.recs), all)
	if err != nil {
		t.Fatal(err)
	}
	if d := scantest.Diff(want.Rows(all), got); d != "" {
		t.Fatal(d)
	}
}
