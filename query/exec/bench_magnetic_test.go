package exec

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/query/scan"
)

var (
	magOnce  sync.Once
	magCat   *catalog.Catalog
	magStore *magnetic.Store
	magErr   error
	magDir   string
)

type magWriter struct{ s *magnetic.Store }

func (w magWriter) WritePart(ctx context.Context, tableID uint64, src scan.Batches) error {
	_, err := w.s.WritePart(ctx, tableID, src)
	return err
}

// magneticTable writes the TSBS cpu table through the memstore and flushes
// all of it into the magnetic tier (merged into one part per partition),
// once per process.
func magneticTable(b *testing.B) (*catalog.Catalog, *magnetic.Store) {
	magOnce.Do(func() {
		if magDir, magErr = tempDir(); magErr != nil {
			return
		}
		var pw magWriter
		cat, err := catalog.Open(catalog.Options{Dir: magDir})
		if err != nil {
			magErr = err
			return
		}
		// The memstore and the magnetic store share the catalog.
		store, err := magnetic.Open(magnetic.Options{Dir: magDir + "/magnetic", Catalog: cat, PartitionWidth: magnetic.DefaultPartitionWidth})
		if err != nil {
			magErr = err
			return
		}
		pw.s = store
		db, err := buildTSBSTable(cat, magDir, pw)
		if err != nil {
			magErr = err
			return
		}
		if _, err := db.Flush(context.Background(), true); err != nil {
			magErr = err
			return
		}
		for {
			n, err := store.Merge(context.Background())
			if err != nil {
				magErr = err
				return
			}
			if n == 0 {
				break
			}
		}
		magErr = db.Close()
		magCat, magStore = cat, store
	})
	if magErr != nil {
		b.Fatalf("build magnetic table: %v", magErr)
	}
	return magCat, magStore
}

// BenchmarkTSBSMagnetic runs the TSBS devops queries over the magnetic
// tier alone (the same data as BenchmarkTSBSMemstore, flushed into parts).
func BenchmarkTSBSMagnetic(b *testing.B) {
	cat, store := magneticTable(b)
	e := New(cat, store, Options{})
	names := make([]string, 0, len(tsbsQueries))
	for n := range tsbsQueries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var scanned int64
			for b.Loop() {
				res, err := e.Query(context.Background(), tsbsQueries[name], nil)
				if err != nil {
					b.Fatalf("query: %v", err)
				}
				scanned += res.Stats.RowsScanned
			}
			b.ReportMetric(float64(scanned)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
