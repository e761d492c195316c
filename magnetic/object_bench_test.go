package magnetic

import (
	"context"
	"testing"
	"time"

	"github.com/tidaldb/tidal/query/scan"
)

// BenchmarkObjectScan compares scans of local parts with scans of the
// same parts in s3rver (a real S3-compatible server on loopback), cold
// (no chunk cache: every chunk is a range request) and cached, on the
// small TSBS devops shape: 100 hosts x 10 cpu metrics, 6 hours at 10 s
// (2.16M samples) in one part. Two queries: every series (full) and
// one host's 10 series (host). Cached scans run on a warm
// store; cold ones open a new store (empty chunk and block caches) for
// every scan. It reports ms per scan; the ratios are the figures of
// docs/object-storage.md.
func BenchmarkObjectScan(b *testing.B) {
	bucket, _ := newBucket(b)
	cat, id := newCatalog(b)
	const rows = benchRows / 4
	samples := benchHosts * 10 * rows
	localDir, remoteDir := b.TempDir(), b.TempDir()
	// One prefix per directory: a store deletes the objects under its
	// prefix that it has no stub for.
	prefixes := map[string]ObjectStore{localDir: bucket.Sub("local"), remoteDir: bucket.Sub("remote")}
	for _, dir := range []string{localDir, remoteDir} {
		s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat, Now: coldNow,
			Object: &ObjectOptions{Store: prefixes[dir], UploadAge: 1}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.WritePart(context.Background(), id, tsbsSlice(0, rows)); err != nil {
			b.Fatal(err)
		}
		if dir == remoteDir {
			if n, err := s.Upload(context.Background(), coldNow()); err != nil || n != 1 {
				b.Fatalf("upload: %d, %v", n, err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	host := all2()
	host.Where = []scan.Matcher{{Name: "hostname", Op: scan.MatchEqual, Values: []string{"host_7"}}}
	for _, q := range []struct {
		name string
		req  *scan.Request
		want int
	}{{"full", all2(), samples}, {"host", host, 10 * rows}} {
		for _, tc := range []struct {
			name string
			dir  string
			cold bool // a new store (empty caches) for every scan
		}{{"local-cold", localDir, true}, {"local-cached", localDir, false}, {"object-cold", remoteDir, true}, {"object-cached", remoteDir, false}} {
			b.Run(q.name+"/"+tc.name, func(b *testing.B) {
				// Object storage is configured for both so that the local
				// directory is opened the same way; its part stays local.
				open := func() *Store {
					s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: tc.dir, Catalog: cat, CacheBytes: 256 << 20,
						Now: coldNow, Object: &ObjectOptions{Store: prefixes[tc.dir], UploadAge: time.Hour * 24 * 365}})
					if err != nil {
						b.Fatal(err)
					}
					return s
				}
				s := open()
				defer func() { _ = s.Close() }()
				scanOnce := func() int {
					if tc.cold {
						if err := s.Close(); err != nil {
							b.Fatal(err)
						}
						s = open()
					}
					cur, err := s.Scan(context.Background(), q.req)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for cur.Next() {
						n += cur.Batch().Len()
					}
					if err := cur.Err(); err != nil {
						b.Fatal(err)
					}
					if err := cur.Close(); err != nil {
						b.Fatal(err)
					}
					return n
				}
				if n := scanOnce(); n != q.want {
					b.Fatalf("scanned %d samples, want %d", n, q.want)
				}
				b.ResetTimer()
				for b.Loop() {
					scanOnce()
				}
				b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/scan")
			})
		}
	}
}
