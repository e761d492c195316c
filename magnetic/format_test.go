package magnetic

import (
	"context"
	"encoding/binary"
	"flag"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

var update = flag.Bool("update", false, "rewrite the committed parts of the current format version in testdata/format_v2")

// Committed parts of each format version, written from goldenRecords by the
// writer of their time. goldenV1Dir predates the layout file.
const (
	goldenV1Dir = "testdata/format_v1"
	goldenV2Dir = "testdata/format_v2"
)

// goldenRecords is the content of the committed parts of every version:
// every type, NULLs, several blocks per series, three partitions. The
// third write holds upserts.
func goldenRecords() (first, second, upserts []ingest.Record) {
	rng := rand.New(rand.NewPCG(42, 1))
	var recs []ingest.Record
	for _, host := range []string{"a", "b"} {
		dims := []ingest.Dimension{{Name: "host", Value: host}, {Name: "region", Value: "eu"}}
		v := 50.0
		for i := range 9500 { // 26.4 h at 10 s: three partitions, two blocks in one
			v = math.Max(0, math.Min(100, v+float64(rng.IntN(3)-1)))
			recs = append(recs, ingest.Record{MeasureName: "usage_user", Dimensions: dims, Time: day0 - 3600e9 + int64(i)*10e9, Value: ingest.Float(v)})
		}
	}
	dims := []ingest.Dimension{{Name: "host", Value: "a"}}
	for i := range 100 {
		at := day0 + int64(i)*60e9
		recs = append(recs,
			ingest.Record{MeasureName: "state", Dimensions: dims, Time: at, Value: ingest.String([]string{"up", "down", "", "degraded ✓"}[i%4])},
			ingest.Record{MeasureName: "ok", Dimensions: dims, Time: at, Value: ingest.Bool(i%3 == 0)},
			ingest.Record{MeasureName: "bytes", Dimensions: dims, Time: at, Value: ingest.Int(rng.Int64() - math.MaxInt64/2)},
			ingest.Record{MeasureName: "boot", Dimensions: dims, Time: at, Value: ingest.Timestamp(day0 - int64(i))},
			ingest.Record{MeasureName: "odd", Dimensions: dims, Time: at, Value: ingest.Float([]float64{math.NaN(), math.Inf(-1), math.Copysign(0, -1), 0.1}[i%4])},
		)
		m := ingest.Record{MeasureName: "metrics", Dimensions: dims, Time: at}
		if i%2 == 0 {
			m.Measures = append(m.Measures, ingest.Measure{Name: "load", Value: ingest.Float(float64(i) / 8)})
		}
		if i%3 == 0 {
			m.Measures = append(m.Measures, ingest.Measure{Name: "note", Value: ingest.String("n" + strconv.Itoa(i))})
		}
		if len(m.Measures) == 0 {
			m.Measures = append(m.Measures, ingest.Measure{Name: "procs", Value: ingest.Int(int64(i))})
		}
		recs = append(recs, m)
	}
	for i, r := range recs {
		if i%2 == 0 {
			first = append(first, r)
		} else {
			second = append(second, r)
		}
		if i%97 == 0 && !r.IsMulti() && r.Value.Type == ingest.TypeDouble {
			u := r
			u.Version = 2 + int64(i%3)
			u.Value = ingest.Float(-1)
			upserts = append(upserts, u)
		}
	}
	return first, second, upserts
}

func writeGolden(t *testing.T, goldenDir string) {
	if err := os.RemoveAll(goldenDir); err != nil {
		t.Fatal(err)
	}
	cat, id := newCatalog(t)
	// Parts are written at day0; merges run once the partitions are cold,
	// as the merge policy of version 1 did for these parts at any time.
	now := time.Unix(0, day0)
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: goldenDir, Catalog: cat, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	first, second, upserts := goldenRecords()
	writeRecords(t, s, id, first)
	writeRecords(t, s, id, second)
	now = time.Unix(0, day0+4*int64(24*time.Hour))
	mergeAll(t, s)
	now = time.Unix(0, day0)
	writeRecords(t, s, id, upserts)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFormatV1 reads the committed version 1 parts; every later version of
// the package must still pass it unchanged.
func TestFormatV1(t *testing.T) {
	checkGolden(t, goldenV1Dir, formatV1)
}

// TestFormatV2 reads the committed version 2 parts (rewritten by -update).
func TestFormatV2(t *testing.T) {
	if *update {
		writeGolden(t, goldenV2Dir)
	}
	checkGolden(t, goldenV2Dir, formatV2)
}

// checkGolden reads the committed parts of goldenDir, all of format
// version, and compares their rows with goldenRecords.
func checkGolden(t *testing.T, goldenDir string, version uint32) {
	t.Helper()
	dir := t.TempDir()
	err := os.CopyFS(dir, os.DirFS(goldenDir))
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := newCatalog(t)
	s := openStore(t, dir, cat)
	parts := s.Parts()
	if len(parts) != 6 {
		t.Fatalf("%d parts, want 6: %+v", len(parts), parts)
	}
	levels := map[int]int{}
	var rows int64
	for _, p := range parts {
		levels[p.Level]++
		rows += p.Rows
		if want := time.Unix(0, day0).UTC(); p.Level == 0 && !p.Created.Equal(want) {
			t.Errorf("part %s created %v, want %v", p.Name, p.Created, want)
		}
	}
	first, second, upserts := goldenRecords()
	if levels[0] != 3 || levels[1] != 3 || rows != int64(len(first)+len(second)+len(upserts)) {
		t.Errorf("levels %v, rows %d", levels, rows)
	}
	want := scantest.NewModel(append(append(first, second...), upserts...)).Rows(all())
	got := collect(t, s, all())
	if d := scantest.Diff(want, got); d != "" {
		t.Fatalf("committed parts read back differently:\n%s", d)
	}
	// Every file is a part of a partition of table 1.
	err = filepath.WalkDir(goldenDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Name() == layoutFile && version > formatV1 {
			return nil
		}
		if _, ok := parsePartName(d.Name()); !ok {
			t.Errorf("unexpected file %s", path)
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if v := binary.LittleEndian.Uint32(b[8:]); v != version {
			t.Errorf("part %s has format version %d, want %d", path, v, version)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWritePartCancelled checks that a cancelled context stops a write
// without leaving a part.
func TestWritePartCancelled(t *testing.T) {
	cat, id := newCatalog(t)
	s := openStore(t, t.TempDir(), cat)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	first, _, _ := goldenRecords()
	if _, err := s.WritePart(ctx, id, recordBatches(first)); err == nil {
		t.Fatal("write with a cancelled context succeeded")
	}
	if n := len(s.Parts()); n != 0 {
		t.Errorf("%d parts after a cancelled write", n)
	}
}

// TestMergeAcrossVersions merges the committed version 1 parts with a new
// version 2 part holding upserts and new rows: merges write version 2, and
// every row read back, from parts of either version, is the model's.
func TestMergeAcrossVersions(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(goldenV1Dir)); err != nil {
		t.Fatal(err)
	}
	cat, id := newCatalog(t)
	s := openStore(t, dir, cat)
	first, second, upserts := goldenRecords()
	var later []ingest.Record
	for i, r := range first {
		if i%50 == 0 && !r.IsMulti() && r.Value.Type == ingest.TypeDouble {
			u := r
			u.Version = 9
			u.Value = ingest.Float(float64(i) / 4)
			later = append(later, u)
		}
	}
	dims := []ingest.Dimension{{Name: "host", Value: "c"}}
	for i := range 300 { // regular times: blocks without a time chunk
		later = append(later, ingest.Record{MeasureName: "usage_user", Dimensions: dims, Time: day0 + int64(i)*10e9, Value: ingest.Float(float64(i % 7))})
	}
	writeRecords(t, s, id, later)
	if n := mergeAll(t, s); n == 0 {
		t.Fatal("nothing merged")
	}
	merged := 0
	for _, p := range s.Parts() {
		b, err := os.ReadFile(filepath.Join(dir, "1", p.Partition.Format("20060102"), p.Name))
		if err != nil {
			t.Fatal(err)
		}
		v := binary.LittleEndian.Uint32(b[8:])
		if v == FormatVersion && p.Creator == "merge" {
			merged++
		}
	}
	if merged == 0 {
		t.Error("no merged part of version 2")
	}
	replacedV1 := false // a merge read a committed version 1 part
	s.mu.RLock()
	for _, pt := range s.tables[id] {
		for _, p := range pt.parts {
			if p.seq <= 0xc { // a committed part (7..c) itself
				continue
			}
			for _, r := range p.meta.replaces {
				if seq, ok := parsePartName(r); ok && seq >= 7 && seq <= 0xc {
					replacedV1 = true
				}
			}
		}
	}
	s.mu.RUnlock()
	if !replacedV1 {
		t.Error("no merge replaced a version 1 part")
	}
	all3 := append(append(append(append([]ingest.Record(nil), first...), second...), upserts...), later...)
	want := scantest.NewModel(all3).Rows(all())
	if d := scantest.Diff(want, collect(t, s, all())); d != "" {
		t.Fatalf("merged parts read back differently:\n%s", d)
	}
}
