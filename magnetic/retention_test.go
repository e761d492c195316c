package magnetic

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

const dayNs = int64(24 * time.Hour)

func partitionsOf(s *Store) []string {
	var out []string
	for _, p := range s.Parts() {
		if d := p.Partition.Format("20060102"); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func dayRecords(days ...int64) []ingest.Record {
	var recs []ingest.Record
	for _, d := range days {
		recs = append(recs, ingest.Record{MeasureName: "cpu", Dimensions: []ingest.Dimension{{Name: "host", Value: "a"}},
			Time: day0 + d*dayNs + 3600e9, Value: ingest.Float(float64(d))})
	}
	return recs
}

func TestApplyRetention(t *testing.T) {
	cat, id := newCatalog(t) // MagneticDays 10
	dir := t.TempDir()
	s := openStore(t, dir, cat)
	writeRecords(t, s, id, dayRecords(-20, -11, -10, -9, 0))
	if got := partitionsOf(s); len(got) != 5 {
		t.Fatalf("partitions %v, want 5", got)
	}
	now := time.Unix(0, day0+1800e9) // 00:30 on day 0
	if err := s.ApplyRetention(now); err != nil {
		t.Fatal(err)
	}
	// Cutoff 2026-11-15T00:30: the partition of day -10 ends at
	// 2026-11-16T00:00 and is kept; day -11 ends at 11-15T00:00, dropped.
	want := []string{"20261115", "20261116", "20261125"}
	if got := partitionsOf(s); !slices.Equal(got, want) {
		t.Fatalf("after retention partitions %v, want %v", got, want)
	}
	for _, gone := range []string{"20261105", "20261114"} {
		if _, err := os.Stat(filepath.Join(dir, strconv.FormatUint(id, 10), gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("partition %s still on disk: %v", gone, err)
		}
	}
	if rows := collect(t, s, all()); len(rows) != 3 {
		t.Errorf("%d rows after retention, want 3", len(rows))
	}

	// A retention change applies at the next call, without a restart.
	if _, err := cat.UpdateTable(scantest.Database, scantest.Table, catalog.TableUpdate{Retention: &catalog.Retention{MemoryHours: 1, MagneticDays: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyRetention(now); err != nil {
		t.Fatal(err)
	}
	if got := partitionsOf(s); !slices.Equal(got, []string{"20261125"}) {
		t.Fatalf("after shorter retention partitions %v", got)
	}

	// A deleted table's data goes entirely.
	if _, err := cat.DeleteTable(scantest.Database, scantest.Table); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyRetention(now); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Parts()); n != 0 {
		t.Errorf("%d parts after table deletion", n)
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.FormatUint(id, 10))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("table directory still present: %v", err)
	}
}

func TestBackgroundLoopAppliesRetentionChange(t *testing.T) {
	cat, id := newCatalog(t)
	done := make(chan struct{}, 16)
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: t.TempDir(), Catalog: cat, MergeInterval: time.Hour,
		Now: func() time.Time { return time.Unix(0, day0) }, maintained: func() { done <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- s.Run(context.Background()) }()
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := <-runDone; err != nil {
			t.Errorf("Run after Close = %v, want nil", err)
		}
	}()
	writeRecords(t, s, id, dayRecords(-5, 0))
	if _, err := cat.UpdateTable(scantest.Database, scantest.Table, catalog.TableUpdate{Retention: &catalog.Retention{MemoryHours: 1, MagneticDays: 2}}); err != nil {
		t.Fatal(err)
	}
	<-done // the catalog change kicked a retention pass
	if got := partitionsOf(s); !slices.Equal(got, []string{"20261125"}) {
		t.Fatalf("partitions %v after the retention change", got)
	}
}

func TestScanHoldsPartsDuringMergeAndRetention(t *testing.T) {
	cat, id := newCatalog(t)
	dir := t.TempDir()
	s := openStore(t, dir, cat)
	var recs []ingest.Record
	for i := range 3 {
		var g []ingest.Record
		for h := range 50 {
			g = append(g, ingest.Record{MeasureName: "cpu", Dimensions: []ingest.Dimension{{Name: "host", Value: "h" + strconv.Itoa(h)}},
				Time: day0 + int64(i)*1e9, Value: ingest.Float(float64(h*10 + i))})
		}
		writeRecords(t, s, id, g)
		recs = append(recs, g...)
	}
	before := s.Parts()
	if len(before) != 3 {
		t.Fatalf("%d parts, want 3", len(before))
	}
	cur, err := s.Scan(context.Background(), all2())
	if err != nil {
		t.Fatal(err)
	}
	if !cur.Next() {
		t.Fatal("empty scan")
	}
	rows := cur.Batch().Len()
	if n := mergeAll(t, s); n != 1 {
		t.Fatalf("%d merges, want 1", n)
	}
	// Retention for a table that is gone would drop everything too.
	if _, err := cat.DeleteTable(scantest.Database, scantest.Table); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyRetention(time.Unix(0, day0)); err != nil {
		t.Fatal(err)
	}
	if len(s.Parts()) != 0 {
		t.Fatalf("parts left: %v", s.Parts())
	}
	for _, p := range before {
		path := filepath.Join(dir, strconv.FormatUint(id, 10), "20261125", p.Name)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("part %s deleted under an open scan: %v", p.Name, err)
		}
	}
	series := 1
	for cur.Next() {
		rows += cur.Batch().Len()
		series++
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != len(recs) || series != 50 {
		t.Errorf("scan read %d rows of %d series, want %d of 50", rows, series, len(recs))
	}
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range before {
		path := filepath.Join(dir, strconv.FormatUint(id, 10), "20261125", p.Name)
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("part %s not deleted after the scan closed: %v", p.Name, err)
		}
	}
}

func TestBackgroundLoopMerges(t *testing.T) {
	cat, id := newCatalog(t)
	dir := t.TempDir()
	s := openStore(t, dir, cat)
	for i := range 3 {
		writeRecords(t, s, id, crashBatch(i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	passes := make(chan struct{}, 1)
	s2, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat, Now: coldNow, MergeInterval: time.Millisecond,
		maintained: func() {
			select {
			case passes <- struct{}{}:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	runDone := make(chan error, 1)
	go func() { runDone <- s2.Run(context.Background()) }()
	defer func() {
		if err := s2.Close(); err != nil {
			t.Error(err)
		}
		if err := <-runDone; err != nil {
			t.Errorf("Run after Close = %v, want nil", err)
		}
	}()
	for len(s2.Parts()) != 1 {
		<-passes
	}
	if p := s2.Parts()[0]; p.Rows != 1800 || p.Level != 1 || p.Creator != "merge" {
		t.Errorf("merged part %+v", p)
	}
}
