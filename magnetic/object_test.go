package magnetic

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/objstore"
	"github.com/tidaldb/tidal/internal/testutil/s3server"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// newBucket starts s3rver and returns a bucket on it, closed at the end.
func newBucket(t testing.TB) (*objstore.Bucket, *s3server.Server) {
	t.Helper()
	srv := s3server.Start(t)
	name := srv.Bucket(t, "parts")
	b, err := objstore.New(objstore.Config{Endpoint: srv.Endpoint, Bucket: name, Prefix: "node1", PathStyle: true,
		AccessKeyID: s3server.AccessKeyID, SecretAccessKey: s3server.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b, srv
}

func openObjectStore(t testing.TB, dir string, cat *catalog.Catalog, b ObjectStore, cache int) *Store {
	t.Helper()
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat, Now: coldNow, CacheBytes: cache,
		Object: &ObjectOptions{Store: b, UploadAge: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func objectKeys(t testing.TB, b ObjectStore) []string {
	t.Helper()
	objs, err := b.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

// localFiles lists the part and stub files under dir, relative to it.
func localFiles(t testing.TB, dir string) (parts, stubs []string) {
	t.Helper()
	if err := walkPartitions(dir, func(d string, ents []os.DirEntry) error {
		rel, _ := filepath.Rel(dir, d)
		for _, e := range ents {
			switch {
			case strings.HasSuffix(e.Name(), partSuffix):
				parts = append(parts, filepath.ToSlash(filepath.Join(rel, e.Name())))
			case strings.HasSuffix(e.Name(), remoteSuffix):
				stubs = append(stubs, filepath.ToSlash(filepath.Join(rel, e.Name())))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return parts, stubs
}

// TestObjectLifecycle uploads parts to s3rver, reads them back by range
// without and with the cache, merges remote with local parts (deleting
// the replaced objects), and rebuilds the index on an empty disk.
func TestObjectLifecycle(t *testing.T) {
	b, _ := newBucket(t)
	cat, id := newCatalog(t)
	dir := t.TempDir()
	s := openObjectStore(t, dir, cat, b, -1)
	// Three writes over two day partitions (day0-1 and day0).
	rng := rand.New(rand.NewPCG(5, 5))
	cfg := scantest.DefaultConfig(day0 - 1800e9)
	cfg.Rows = 600
	recs := scantest.Generate(rng, cfg)
	groups := scantest.Split(rng, recs, 3)
	writeRecords(t, s, id, groups[0])
	writeRecords(t, s, id, groups[1])
	want := collect(t, s, all())

	n, err := s.Upload(context.Background(), coldNow())
	if err != nil {
		t.Fatal(err)
	}
	parts := s.Parts()
	if n != len(parts) || n < 3 {
		t.Fatalf("uploaded %d of %d parts", n, len(parts))
	}
	var wantKeys []string
	for _, p := range parts {
		if p.Object == "" {
			t.Fatalf("part %s not remote", p.Name)
		}
		wantKeys = append(wantKeys, p.Object)
	}
	slices.Sort(wantKeys)
	if got := objectKeys(t, b); !slices.Equal(got, wantKeys) {
		t.Fatalf("objects %v, want %v", got, wantKeys)
	}
	if lp, stubs := localFiles(t, dir); len(lp) != 0 || len(stubs) != n {
		t.Fatalf("local parts %v, stubs %v", lp, stubs)
	}
	reads0 := testutil.ToFloat64(s.om.reads)
	if got := collect(t, s, all()); scantest.Diff(want, got) != "" {
		t.Fatal("rows read back from the object store differ")
	}
	if testutil.ToFloat64(s.om.reads) == reads0 {
		t.Fatal("no range request served the scan")
	}
	// A second upload has nothing to do.
	if n, err := s.Upload(context.Background(), coldNow()); err != nil || n != 0 {
		t.Fatalf("second upload: %d, %v", n, err)
	}

	// A late write, merged with the remote parts, then uploaded: the
	// replaced objects go.
	writeRecords(t, s, id, groups[2])
	want = collect(t, s, all())
	mergeAll(t, s)
	if _, err := s.Upload(context.Background(), coldNow()); err != nil {
		t.Fatal(err)
	}
	wantKeys = wantKeys[:0]
	for _, p := range s.Parts() {
		wantKeys = append(wantKeys, p.Object)
	}
	slices.Sort(wantKeys)
	if got := objectKeys(t, b); !slices.Equal(got, wantKeys) || len(got) != 2 {
		t.Fatalf("objects after merge %v, want %v (one per partition)", got, wantKeys)
	}
	if got := collect(t, s, all()); scantest.Diff(want, got) != "" {
		t.Fatal("rows after merging remote parts differ")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// An empty local disk rebuilds its index from the bucket.
	empty := t.TempDir()
	s2 := openObjectStore(t, empty, cat, b, 1<<20)
	if got := collect(t, s2, all()); scantest.Diff(want, got) != "" {
		t.Fatal("rows after rebuilding the index from the bucket differ")
	}
	if _, stubs := localFiles(t, empty); len(stubs) != 2 {
		t.Fatalf("rebuilt stubs %v", stubs)
	}
	if _, err := os.Stat(filepath.Join(empty, fmt.Sprint(id), layoutFile)); err != nil {
		t.Fatalf("layout not rebuilt: %v", err)
	}
	// A second scan is served by the cache.
	reads0 = testutil.ToFloat64(s2.om.reads)
	if got := collect(t, s2, all()); scantest.Diff(want, got) != "" {
		t.Fatal("cached rows differ")
	}
	if r := testutil.ToFloat64(s2.om.reads); r != reads0 {
		t.Fatalf("%v range requests on a cached scan", r-reads0)
	}
	// Retention removes the remote parts and their objects.
	if _, err := cat.UpdateTable(scantest.Database, scantest.Table, catalog.TableUpdate{
		Retention: &catalog.Retention{MemoryHours: 1, MagneticDays: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s2.ApplyRetention(coldNow().AddDate(0, 0, 3)); err != nil {
		t.Fatal(err)
	}
	if got := objectKeys(t, b); len(got) != 0 {
		t.Fatalf("objects left after retention: %v", got)
	}
}

// TestObjectSweepsOrphans: an object no stub names (an upload a crash
// cut off before its stub) is deleted by Open; a local part shadowed by a
// stub (a crash before its deletion) is removed.
func TestObjectSweepsOrphans(t *testing.T) {
	b, _ := newBucket(t)
	cat, id := newCatalog(t)
	dir := t.TempDir()
	s := openObjectStore(t, dir, cat, b, 0)
	rng := rand.New(rand.NewPCG(6, 6))
	cfg := scantest.DefaultConfig(day0 + 3600e9)
	cfg.Rows = 300
	recs := scantest.Generate(rng, cfg)
	writeRecords(t, s, id, recs)
	want := collect(t, s, all())
	if _, err := s.Upload(context.Background(), coldNow()); err != nil {
		t.Fatal(err)
	}
	p := s.Parts()[0]
	pdir := filepath.Join(dir, fmt.Sprint(id), partitionName(p.Partition.UnixNano(), p.PartitionWidth))
	// A copy of the part under its local name, as a crash before its
	// deletion leaves it.
	if err := os.WriteFile(filepath.Join(pdir, p.Name), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	orphan := objectKey(id, p.Partition.UnixNano(), p.PartitionWidth, partName(0xfff))
	if err := b.Put(context.Background(), orphan, strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openObjectStore(t, dir, cat, b, 0)
	if got := objectKeys(t, b); !slices.Equal(got, []string{p.Object}) {
		t.Fatalf("objects %v, want only %s", got, p.Object)
	}
	if lp, _ := localFiles(t, dir); len(lp) != 0 {
		t.Fatalf("shadowed local parts left: %v", lp)
	}
	if got := collect(t, s, all()); scantest.Diff(want, got) != "" {
		t.Fatal("rows differ")
	}
}

// TestObjectScanAcceptance runs the scan acceptance suite over a mix of
// remote parts (uploaded, some merged) and local ones in the same
// partitions.
func TestObjectScanAcceptance(t *testing.T) {
	b, _ := newBucket(t)
	var n atomic.Int64
	open := func(t *testing.T, recs []ingest.Record) scan.Source {
		cat, id := newCatalog(t)
		sub := b.Sub(fmt.Sprintf("run%d", n.Add(1)))
		s := openObjectStore(t, t.TempDir(), cat, sub, 0)
		rng := rand.New(rand.NewPCG(8, 8))
		groups := scantest.Split(rng, recs, 5)
		for i, g := range groups {
			writeRecords(t, s, id, g)
			switch i {
			case 1:
				if _, err := s.Upload(context.Background(), coldNow()); err != nil {
					t.Fatal(err)
				}
			case 2:
				mergeAll(t, s)
				if _, err := s.Upload(context.Background(), coldNow()); err != nil {
					t.Fatal(err)
				}
			}
		}
		remote := 0
		for _, p := range s.Parts() {
			if p.Object != "" {
				remote++
			}
		}
		if remote == 0 || remote == len(s.Parts()) {
			t.Fatalf("%d of %d parts remote, want a mix", remote, len(s.Parts()))
		}
		return s
	}
	scantest.Run(t, scantest.DefaultConfig(day0-1800e9), open)
}

func TestStubRoundTrip(t *testing.T) {
	for _, st := range []stub{
		{key: "1/20261125/0000000000000001.part", size: 100, head: make([]byte, headerSize), tailOff: 60, tail: make([]byte, 40)},
		{key: "", size: headerSize + footerSize, head: make([]byte, headerSize), tailOff: headerSize, tail: make([]byte, footerSize)},
	} {
		got, err := decodeStub(st.encode())
		if err != nil {
			t.Fatal(err)
		}
		if got.key != st.key || got.size != st.size || got.tailOff != st.tailOff || len(got.tail) != len(st.tail) {
			t.Fatalf("decoded %+v, want %+v", got, st)
		}
		b := st.encode()
		b[len(b)/2] ^= 1
		if _, err := decodeStub(b); err == nil {
			t.Fatal("a flipped bit went unnoticed")
		}
	}
}

func FuzzDecodeStub(f *testing.F) {
	st := stub{key: "1/20261125/0000000000000001.part", size: 100, head: make([]byte, headerSize), tailOff: 60, tail: make([]byte, 40)}
	f.Add(st.encode())
	f.Add([]byte(stubMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeStub(b)
		if err != nil {
			return
		}
		if again, err := decodeStub(got.encode()); err != nil || again.key != got.key || again.size != got.size {
			t.Fatalf("re-encoding a decoded stub: %v", err)
		}
	})
}

func TestParseObjectKey(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{objectKey(7, day0, DefaultPartitionWidth, partName(9)), true},
		{objectKey(7, day0, HourPartitionWidth, partName(9)), true},
		{"7/20261125/0000000000000009.remote", false},
		{"07/20261125/0000000000000009.part", false},
		{"7/2026112/0000000000000009.part", false},
		{"7/20261125/x/0000000000000009.part", false},
		{"snapshots/x", false},
	} {
		id, start, _, seq, ok := parseObjectKey(tc.key)
		if ok != tc.ok || ok && (id != 7 || start != day0 || seq != 9) {
			t.Errorf("parseObjectKey(%q) = %d %d %d %v", tc.key, id, start, seq, ok)
		}
	}
}
