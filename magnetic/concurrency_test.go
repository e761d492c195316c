package magnetic

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestConcurrentWriteMergeScan runs writes, merges and scans at once: no
// scan may fail or see fewer rows than were acknowledged before it began.
func TestConcurrentWriteMergeScan(t *testing.T) {
	cat, id := newCatalog(t)
	s := openStore(t, t.TempDir(), cat)
	const writes = 12
	var acked atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := range writes {
			if _, err := s.WritePart(context.Background(), id, recordBatches(crashBatch(i))); err != nil {
				errs <- err
				return
			}
			acked.Add(1)
		}
	}()
	go func() {
		defer wg.Done()
		for acked.Load() < writes {
			if _, err := s.Merge(context.Background()); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for acked.Load() < writes {
			before := acked.Load()
			rows, err := countRows(s)
			if err != nil {
				errs <- err
				return
			}
			if rows < before*600 {
				t.Errorf("scan saw %d rows after %d acknowledged writes", rows, before)
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if rows, err := countRows(s); err != nil || rows != writes*600 {
		t.Fatalf("final scan: %d rows, %v; want %d", rows, err, writes*600)
	}
}

func countRows(s *Store) (int64, error) {
	cur, err := s.Scan(context.Background(), all2())
	if err != nil {
		return 0, err
	}
	var n int64
	for cur.Next() {
		n += int64(cur.Batch().Len())
	}
	if err := cur.Err(); err != nil {
		return 0, err
	}
	return n, cur.Close()
}

func TestCacheMetrics(t *testing.T) {
	cat, id := newCatalog(t)
	reg := prometheus.NewRegistry()
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: t.TempDir(), Catalog: cat, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeRecords(t, s, id, crashBatch(0)) // 20 series, one block each
	if _, err := countRows(s); err != nil {
		t.Fatal(err)
	}
	// Per block: the value chunk (times are regular: no time chunk).
	if h, m := testutil.ToFloat64(s.m.cacheHits), testutil.ToFloat64(s.m.cacheMisses); h != 0 || m != 20 {
		t.Fatalf("first scan: %v hits, %v misses; want 0, 20", h, m)
	}
	if _, err := countRows(s); err != nil {
		t.Fatal(err)
	}
	if h, m := testutil.ToFloat64(s.m.cacheHits), testutil.ToFloat64(s.m.cacheMisses); h != 20 || m != 20 {
		t.Fatalf("second scan: %v hits, %v misses; want 20, 20", h, m)
	}
	n, err := testutil.GatherAndCount(reg, "tidal_magnetic_parts", "tidal_magnetic_cache_hits_total")
	if err != nil || n != 2 {
		t.Fatalf("gathered %d metrics, %v", n, err)
	}
	if got := testutil.ToFloat64(s.m.rowsWritten); got != 600 {
		t.Errorf("rows written %v, want 600", got)
	}
}
