package magnetic

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// hostRecords returns one cpu row per minute for n minutes from base for
// each host.
func hostRecords(base int64, n int, hosts ...string) []ingest.Record {
	var recs []ingest.Record
	for _, h := range hosts {
		for i := range n {
			recs = append(recs, ingest.Record{MeasureName: "cpu", Dimensions: []ingest.Dimension{{Name: "host", Value: h}},
				Time: base + int64(i)*60e9, Value: ingest.Float(float64(i))})
		}
	}
	return recs
}

func partNames(s *Store) []string {
	var out []string
	for _, p := range s.Parts() {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

// countHost counts the rows of host h in the store.
func countHost(t *testing.T, s *Store, h string) int {
	t.Helper()
	n := 0
	for _, r := range collect(t, s, all()) {
		if r.Series == "cpu,host="+h {
			n++
		}
	}
	return n
}

// TestRewriteDeletedOnlyThatPart: a range deleted inside one part rewrites
// that part and no other; the rows are gone, the others kept; a part whose
// every row is deleted disappears; the tombstone is reported clean.
func TestRewriteDeletedOnlyThatPart(t *testing.T) {
	cat, id := newCatalog(t)
	set, err := tombstone.Open(tombstone.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: t.TempDir(), Catalog: cat, Now: coldNow, Deletes: set})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	day1 := day0 + int64(24*3600e9)
	writeRecords(t, s, id, hostRecords(day0, 60, "a", "b")) // part 1, day 0
	writeRecords(t, s, id, hostRecords(day1, 60, "a", "b")) // part 2, day 1
	writeRecords(t, s, id, hostRecords(day1+4e12, 10, "c")) // part 3, day 1, only host c
	before := partNames(s)
	if len(before) != 3 {
		t.Fatalf("parts %v, want 3", before)
	}
	// Minutes 10..19 of host a on day 1, and all of host c.
	if _, err := set.Add([]tombstone.Tombstone{
		{TableID: id, Database: scantest.Database, Table: scantest.Table, MinTime: day1 + 10*60e9, MaxTime: day1 + 19*60e9,
			Where: []tombstone.Matcher{{Name: "host", Op: tombstone.OpEqual, Values: []string{"a"}}}},
		{TableID: id, Database: scantest.Database, Table: scantest.Table, MinTime: day0, MaxTime: day1 + 1e15,
			Where: []tombstone.Matcher{{Name: "host", Op: tombstone.OpRegexp, Values: []string{"c|d"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	clean, err := s.RewriteDeleted(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(clean, []uint64{1, 2}) {
		t.Fatalf("clean %v, want [1 2]", clean)
	}
	after := partNames(s)
	if len(after) != 2 || after[0] != before[0] || after[1] == before[1] {
		t.Fatalf("parts %v → %v: want the day-0 part kept, the day-1 part rewritten, the host-c part gone", before, after)
	}
	if n := countHost(t, s, "a"); n != 110 {
		t.Errorf("host a: %d rows, want 110", n)
	}
	if n := countHost(t, s, "b"); n != 120 {
		t.Errorf("host b: %d rows, want 120", n)
	}
	if n := countHost(t, s, "c"); n != 0 {
		t.Errorf("host c: %d rows, want 0", n)
	}
	// A second pass finds nothing to do.
	if _, err := s.RewriteDeleted(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := partNames(s); !slices.Equal(got, after) {
		t.Fatalf("second pass changed parts %v → %v", after, got)
	}
	// Writes and merges leave deleted rows out.
	writeRecords(t, s, id, hostRecords(day1, 30, "a", "c"))
	if n := countHost(t, s, "c"); n != 0 {
		t.Errorf("host c after write: %d rows, want 0", n)
	}
	mergeAll(t, s)
	if n := countHost(t, s, "a"); n != 110 {
		t.Errorf("host a after merge: %d rows, want 110", n)
	}
}

// gatedBatches yields its batches, but waits on gate before the first.
type gatedBatches struct {
	*scan.Slice
	started chan struct{}
	gate    chan struct{}
	once    bool
}

func (g *gatedBatches) Next() bool {
	if !g.once {
		g.once = true
		close(g.started)
		<-g.gate
	}
	return g.Slice.Next()
}

// TestRewriteDeletedWaitsForWrites: a part write that started before a
// tombstone may install its rows, so the tombstone is not reported clean
// until that write is done and its part rewritten; the store reopened
// keeps the result.
func TestRewriteDeletedWaitsForWrites(t *testing.T) {
	cat, id := newCatalog(t)
	set, err := tombstone.Open(tombstone.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat, Now: coldNow, Deletes: set})
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedBatches{Slice: recordBatches(hostRecords(day0, 10, "a", "b")), started: make(chan struct{}), gate: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := s.WritePart(context.Background(), id, g)
		done <- err
	}()
	<-g.started
	if _, err := set.Add([]tombstone.Tombstone{{TableID: id, Database: scantest.Database, Table: scantest.Table, MinTime: day0, MaxTime: day0 + 1e12,
		Where: []tombstone.Matcher{{Name: "host", Op: tombstone.OpEqual, Values: []string{"a"}}}}}); err != nil {
		t.Fatal(err)
	}
	clean, err := s.RewriteDeleted(context.Background())
	if err != nil || len(clean) != 0 {
		t.Fatalf("clean %v %v with a write in flight, want none", clean, err)
	}
	close(g.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The write applied the tombstones it started with: none.
	if n := countHost(t, s, "a"); n != 10 {
		t.Fatalf("host a in parts: %d rows, want 10 (written before the tombstone)", n)
	}
	clean, err = s.RewriteDeleted(context.Background())
	if err != nil || !slices.Equal(clean, []uint64{1}) {
		t.Fatalf("clean %v %v, want [1]", clean, err)
	}
	if n := countHost(t, s, "a"); n != 0 {
		t.Fatalf("host a: %d rows after the rewrite, want 0", n)
	}
	names := partNames(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, cat)
	if got := partNames(s); !slices.Equal(got, names) || countHost(t, s, "a") != 0 || countHost(t, s, "b") != 10 {
		t.Fatalf("reopened: parts %v (want %v), host a %d, host b %d", got, names, countHost(t, s, "a"), countHost(t, s, "b"))
	}
}

// BenchmarkRewriteDeleted measures applying a deletion of one hour of one
// host to a part holding a TSBS devops day (every host, ten metrics): the
// check of every part plus the rewrite of the one that holds the rows.
func BenchmarkRewriteDeleted(b *testing.B) {
	cat, id := newCatalog(b)
	set, err := tombstone.Open(tombstone.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: b.TempDir(), Catalog: cat, Now: coldNow, Deletes: set})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if _, err := s.WritePart(context.Background(), id, tsbsSlice(0, benchRows)); err != nil {
		b.Fatal(err)
	}
	rows := s.Parts()[0].Rows
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// A different hour each time, so that every pass rewrites.
		lo := day0 + int64(i%24)*3600e9
		if _, err := set.Add([]tombstone.Tombstone{{TableID: id, Database: scantest.Database, Table: scantest.Table, MinTime: lo, MaxTime: lo + 3600e9 - 1,
			Where: []tombstone.Matcher{{Name: "hostname", Op: tombstone.OpEqual, Values: []string{"host_" + strconv.Itoa(i%benchHosts)}}}}}); err != nil {
			b.Fatal(err)
		}
		clean, err := s.RewriteDeleted(context.Background())
		if err != nil || len(clean) != 1 {
			b.Fatalf("rewrite: %v %v", clean, err)
		}
		if err := set.Remove(clean); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows), "rows/part")
}
