package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/scan"
)

// BenchmarkAppendLate writes remote-write shaped batches (1000 samples, 25
// hosts x 10 metrics x 4 points, in time order) to a table with magnetic
// store writes and a real magnetic tier, every acknowledged write fsynced
// (wal.SyncBatch), inside the memory window (inwindow) and older than it
// (late). The late
// figure includes writing the rows to magnetic parts (a Flush at the end
// of the timed loop). Compare the samples/s of one run:
//
//	go test -run '^$' -bench AppendLate -benchtime 300x ./memstore
func BenchmarkAppendLate(b *testing.B) {
	for _, sc := range []struct {
		name string
		age  time.Duration // how far before now the data starts
	}{{"inwindow", 5 * time.Hour}, {"late", 10 * time.Hour}} {
		b.Run(sc.name, func(b *testing.B) {
			now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
			dir := b.TempDir()
			cat, err := catalog.Open(catalog.Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := cat.CreateDatabase("bench", "", nil); err != nil {
				b.Fatal(err)
			}
			if _, err := cat.CreateTable(catalog.Table{Database: "bench", Name: "cpu",
				Retention:      catalog.Retention{MemoryHours: 6, MagneticDays: 30},
				MagneticWrites: catalog.MagneticWrites{Enabled: true}}); err != nil {
				b.Fatal(err)
			}
			mag, err := magnetic.Open(magnetic.Options{Dir: dir + "/magnetic", Catalog: cat})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { mag.Close() })
			opts := DefaultOptions(dir + "/memstore")
			opts.CheckpointInterval = 0
			opts.Now = func() time.Time { return now }
			opts.WAL = wal.Options{Sync: wal.SyncBatch}
			opts.PartWriter = magPartWriter{mag}
			db, err := Open(cat, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			// Distinct time ranges, at most 400 batches (4.4 h of data).
			batches := remoteWriteBatches(min(b.N, 400), now.Add(-sc.age), true)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				res, err := db.Append(ctx, "bench", "cpu", batches[i%len(batches)], ingest.AppendOptions{})
				if err != nil || len(res.Rejected) != 0 || res.MemoryStore+res.MagneticStore != 1000 {
					b.Fatalf("append: %+v %v", res, err)
				}
			}
			if _, err := db.Flush(ctx, false); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// magPartWriter adapts the magnetic tier to PartWriter, as cmd/tidal does.
type magPartWriter struct{ s *magnetic.Store }

func (p magPartWriter) WritePart(ctx context.Context, tableID uint64, src scan.Batches) error {
	_, err := p.s.WritePart(ctx, tableID, src)
	return err
}
