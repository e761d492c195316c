package snapshot_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/objstore"
	"github.com/tidaldb/tidal/internal/testutil/s3server"
	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/snapshot"
)

var day0 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// server is a data directory with a catalog and a magnetic tier.
type server struct {
	dir string
	cat *catalog.Catalog
	mag *magnetic.Store
	id  uint64
}

func openServer(t testing.TB, dir string, obj *magnetic.ObjectOptions, create bool) *server {
	t.Helper()
	now := func() time.Time { return day0.Add(72 * time.Hour) }
	cat, err := catalog.Open(catalog.Options{Dir: dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if create {
		if _, err := cat.CreateDatabase("snapdb", "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := cat.CreateTable(catalog.Table{Database: "snapdb", Name: "cpu", Retention: catalog.Retention{MemoryHours: 1, MagneticDays: 100}}); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := cat.Table("snapdb", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	mag, err := magnetic.Open(magnetic.Options{Dir: filepath.Join(dir, "magnetic"), Catalog: cat, Now: now, Object: obj,
		PartitionWidth: magnetic.DefaultPartitionWidth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mag.Close() })
	return &server{dir: dir, cat: cat, mag: mag, id: tbl.ID}
}

// write adds one part: 10 hosts, n rows each from minute off of day0.
func (s *server) write(t testing.TB, off, n int) {
	t.Helper()
	var bs []*scan.Batch
	for h := range 10 {
		dims := []ingest.Dimension{{Name: "host", Value: fmt.Sprint("h", h)}}
		b := &scan.Batch{Series: scan.Series{Key: string(scan.AppendSeriesKey(nil, "cpu", dims)), Dimensions: dims, MeasureName: "cpu"}}
		c := scan.Column{Name: scan.ColMeasureValue, Type: ingest.TypeDouble}
		for i := range n {
			b.Time = append(b.Time, day0.Add(time.Duration(off+i)*time.Minute).UnixNano())
			b.Version = append(b.Version, 1)
			c.F = append(c.F, float64(h*100000+off+i))
		}
		b.Columns = []scan.Column{c}
		bs = append(bs, b)
	}
	if _, err := s.mag.WritePart(context.Background(), s.id, scan.NewSlice(bs)); err != nil {
		t.Fatal(err)
	}
}

// sum returns the row count and value sum of the table.
func (s *server) sum(t testing.TB) (int, float64) {
	t.Helper()
	cur, err := s.mag.Scan(context.Background(), &scan.Request{Database: "snapdb", Table: "cpu", MinTime: math.MinInt64, MaxTime: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	n, sum := 0, 0.0
	for cur.Next() {
		b := cur.Batch()
		n += b.Len()
		for _, v := range b.Columns[0].F {
			sum += v
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return n, sum
}

func (s *server) source() snapshot.Source {
	return snapshot.Source{CatalogFile: filepath.Join(s.dir, catalog.FileName), Parts: s.mag.SnapshotParts}
}

// checkSnapshots takes two snapshots (the second after one more write:
// it copies only the new part), restores each into an empty directory and
// compares the rows.
func checkSnapshots(t *testing.T, src *server, tgt snapshot.Target) {
	ctx := context.Background()
	src.write(t, 0, 100)
	src.write(t, 2000, 100) // the next day partition
	n1, s1 := src.sum(t)
	r1, err := snapshot.Create(ctx, tgt, src.source())
	if err != nil {
		t.Fatal(err)
	}
	if r1.PartsCopied != 2 || len(r1.Parts) != 2 || r1.BytesCopied != r1.Bytes {
		t.Fatalf("first snapshot %+v", r1)
	}
	src.write(t, 50, 100)
	n2, s2 := src.sum(t)
	r2, err := snapshot.Create(ctx, tgt, src.source())
	if err != nil {
		t.Fatal(err)
	}
	if r2.PartsCopied != 1 || len(r2.Parts) != 3 || r2.BytesCopied >= r2.Bytes {
		t.Fatalf("incremental snapshot copied %d parts (%d of %d bytes), want 1", r2.PartsCopied, r2.BytesCopied, r2.Bytes)
	}
	list, err := snapshot.List(ctx, tgt)
	if err != nil || len(list) != 2 || list[0].ID != r1.ID || list[1].ID != r2.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	for _, tc := range []struct {
		id   string
		n    int
		want float64
	}{{r1.ID, n1, s1}, {"", n2, s2}} {
		dir := filepath.Join(t.TempDir(), "restored")
		if _, err := snapshot.Restore(ctx, tgt, tc.id, dir); err != nil {
			t.Fatal(err)
		}
		rs := openServer(t, dir, nil, false)
		if n, sum := rs.sum(t); n != tc.n || sum != tc.want {
			t.Fatalf("restored %q: %d rows sum %v, want %d rows sum %v", tc.id, n, sum, tc.n, tc.want)
		}
		if _, err := snapshot.Restore(ctx, tgt, tc.id, dir); err == nil {
			t.Fatal("restore into a non-empty directory succeeded")
		}
	}
	if _, err := snapshot.Restore(ctx, tgt, "nosuch", t.TempDir()); !errors.Is(err, snapshot.ErrNotFound) {
		t.Fatalf("restore of a missing snapshot: %v", err)
	}
}

func TestFileTarget(t *testing.T) {
	src := openServer(t, t.TempDir(), nil, true)
	root := t.TempDir()
	tgt, err := snapshot.Open("file://"+root, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshots(t, src, tgt)
	// Parts are hard links into the data directory while it holds them.
	p := src.mag.Parts()[0]
	st, err := os.Stat(filepath.Join(root, "parts", fmt.Sprint(p.TableID)))
	if err != nil || !st.IsDir() {
		t.Fatalf("parts directory: %v", err)
	}
}

// TestBucketTarget snapshots an object-backed magnetic tier (parts in one
// bucket of s3rver) into another bucket and restores from it.
func TestBucketTarget(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "parts")
	srv.Bucket(t, "backups")
	conn := func(name, prefix string) (*objstore.Bucket, error) {
		b, err := objstore.New(objstore.Config{Endpoint: srv.Endpoint, Bucket: name, Prefix: prefix, PathStyle: true,
			AccessKeyID: s3server.AccessKeyID, SecretAccessKey: s3server.SecretAccessKey})
		if err == nil {
			t.Cleanup(b.Close)
		}
		return b, err
	}
	parts, err := conn("parts", "n1")
	if err != nil {
		t.Fatal(err)
	}
	src := openServer(t, t.TempDir(), &magnetic.ObjectOptions{Store: parts, UploadAge: 1}, true)
	tgt, err := snapshot.Open("s3://backups/tidal", conn)
	if err != nil {
		t.Fatal(err)
	}
	src.write(t, -3000, 10) // an extra partition, uploaded before the snapshots
	if n, err := src.mag.Upload(context.Background(), day0.Add(72*time.Hour)); err != nil || n != 1 {
		t.Fatalf("upload: %d, %v", n, err)
	}
	checkSnapshotsExtra(t, src, tgt)
}

func checkSnapshotsExtra(t *testing.T, src *server, tgt snapshot.Target) {
	t.Helper()
	ctx := context.Background()
	src.write(t, 0, 100)
	n1, s1 := src.sum(t)
	r1, err := snapshot.Create(ctx, tgt, src.source())
	if err != nil {
		t.Fatal(err)
	}
	if r1.PartsCopied != 2 {
		t.Fatalf("first snapshot copied %d parts, want 2 (one remote)", r1.PartsCopied)
	}
	src.write(t, 50, 100)
	r2, err := snapshot.Create(ctx, tgt, src.source())
	if err != nil {
		t.Fatal(err)
	}
	if r2.PartsCopied != 1 {
		t.Fatalf("incremental snapshot copied %d parts, want 1", r2.PartsCopied)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := snapshot.Restore(ctx, tgt, r1.ID, dir); err != nil {
		t.Fatal(err)
	}
	rs := openServer(t, dir, nil, false)
	if n, sum := rs.sum(t); n != n1 || sum != s1 {
		t.Fatalf("restored: %d rows sum %v, want %d rows sum %v", n, sum, n1, s1)
	}
}

func TestOpenTarget(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"file:///var/backups/tidal", true},
		{"file://relative/dir", false},
		{"file:///a//b", false},
		{"s3://bucket/prefix", false}, // no S3 connection configured
		{"http://x/y", false},
		{"s3:///nobucket", false},
	} {
		_, err := snapshot.Open(tc.url, nil)
		if (err == nil) != tc.ok {
			t.Errorf("Open(%q) = %v", tc.url, err)
		}
	}
}

// TestEmptyServer snapshots a data directory without a catalog file or
// parts, and restores it.
func TestEmptyServer(t *testing.T) {
	dir := t.TempDir()
	mag, err := magnetic.Open(magnetic.Options{Dir: filepath.Join(dir, "magnetic")})
	if err != nil {
		t.Fatal(err)
	}
	defer mag.Close()
	tgt := &snapshot.FileTarget{Root: t.TempDir()}
	res, err := snapshot.Create(context.Background(), tgt, snapshot.Source{CatalogFile: filepath.Join(dir, catalog.FileName), Parts: mag.SnapshotParts})
	if err != nil || res.PartCount != 0 || res.Catalog != "" {
		t.Fatalf("create = %+v, %v", res, err)
	}
	restored := filepath.Join(t.TempDir(), "r")
	if _, err := snapshot.Restore(context.Background(), tgt, "", restored); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(restored); err != nil || len(ents) != 0 {
		t.Fatalf("restored %v, %v", ents, err)
	}
}

// TestTombstonesKept: a snapshot carries the deletions, so rows that a
// tombstone hides in a not yet rewritten part stay deleted after restore.
func TestTombstonesKept(t *testing.T) {
	src := openServer(t, t.TempDir(), nil, true)
	src.write(t, 0, 100)
	tombs, err := tombstone.Open(tombstone.Options{Dir: filepath.Join(src.dir, snapshot.TombstoneDir)})
	if err != nil {
		t.Fatal(err)
	}
	want := tombstone.Tombstone{TableID: src.id, Database: "snapdb", Table: "cpu",
		Where:   []tombstone.Matcher{{Name: "host", Op: tombstone.OpEqual, Values: []string{"h3"}}},
		MinTime: day0.UnixNano(), MaxTime: day0.Add(time.Hour).UnixNano()}
	if _, err := tombs.Add([]tombstone.Tombstone{want}); err != nil {
		t.Fatal(err)
	}
	s := src.source()
	s.TombstoneFile = filepath.Join(src.dir, snapshot.TombstoneDir, snapshot.TombstoneName)
	tgt := &snapshot.FileTarget{Root: t.TempDir()}
	res, err := snapshot.Create(context.Background(), tgt, s)
	if err != nil || res.Tombstones == "" {
		t.Fatalf("create = %+v, %v", res, err)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := snapshot.Restore(context.Background(), tgt, "", dir); err != nil {
		t.Fatal(err)
	}
	got, err := tombstone.Open(tombstone.Options{Dir: filepath.Join(dir, snapshot.TombstoneDir)})
	if err != nil {
		t.Fatal(err)
	}
	list := got.List()
	if len(list) != 1 || list[0].TableID != src.id || list[0].MinTime != want.MinTime || list[0].MaxTime != want.MaxTime ||
		len(list[0].Where) != 1 || list[0].Where[0].Values[0] != "h3" {
		t.Fatalf("restored tombstones %+v, want one like %+v", list, want)
	}
}
