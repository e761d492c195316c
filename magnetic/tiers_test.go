package magnetic_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

type partWriter struct{ s *magnetic.Store }

func (p partWriter) WritePart(ctx context.Context, tableID uint64, src scan.Batches) error {
	_, err := p.s.WritePart(ctx, tableID, src)
	return err
}

// TestScanAcceptanceBothTiers runs the scan acceptance suite on the two
// tiers merged as the server reads them: the first half of the records is
// flushed to the magnetic tier, the second half (with upserts of flushed
// rows) stays partly in memory and partly ages out in a second flush.
func TestScanAcceptanceBothTiers(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	open := func(t *testing.T, recs []ingest.Record) scan.Source {
		dir := t.TempDir()
		clock := func() time.Time { return now }
		cat, err := catalog.Open(catalog.Options{Dir: dir, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cat.CreateDatabase(scantest.Database, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := cat.CreateTable(catalog.Table{Database: scantest.Database, Name: scantest.Table,
			Retention:      catalog.Retention{MemoryHours: 6, MagneticDays: 30},
			MagneticWrites: catalog.MagneticWrites{Enabled: true}}); err != nil {
			t.Fatal(err)
		}
		mag, err := magnetic.Open(magnetic.Options{Dir: dir + "/magnetic", Catalog: cat, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mag.Close() })
		opts := memstore.DefaultOptions(dir + "/memstore")
		opts.Now, opts.CheckpointInterval = clock, 0
		opts.WAL = wal.Options{Sync: wal.SyncNever}
		opts.PartWriter, opts.FlushInterval = partWriter{mag}, time.Hour
		mem, err := memstore.Open(cat, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mem.Close() })
		appendAll := func(rs []ingest.Record) {
			for i := 0; i < len(rs); i += 100 {
				res, err := mem.Append(context.Background(), scantest.Database, scantest.Table, rs[i:min(i+100, len(rs))], ingest.AppendOptions{})
				if err != nil || len(res.Rejected) > 0 {
					t.Fatalf("append: %+v %v", res, err)
				}
			}
		}
		half := len(recs) / 2
		appendAll(recs[:half])
		if _, err := mem.Flush(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		appendAll(recs[half:])
		if _, err := mem.Flush(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		if _, err := mag.Merge(context.Background()); err != nil {
			t.Fatal(err)
		}
		return scan.Merge(mag, mem)
	}
	for seed := int64(1); seed <= 2; seed++ {
		cfg := scantest.DefaultConfig(now.Add(-8 * time.Hour).UnixNano())
		cfg.Span, cfg.Seed = int64(8*time.Hour), seed
		scantest.Run(t, cfg, open)
	}
	// Few long series: several magnetic blocks and memory chunks each,
	// late rows and upserts on both sides of the flush, so that a scan
	// asking for the newest rows (Request.Last) skips whole blocks and
	// chunks.
	cfg := scantest.DefaultConfig(now.Add(-8 * time.Hour).UnixNano())
	cfg.Span, cfg.Long, cfg.Hosts, cfg.Rows, cfg.Scans = int64(8*time.Hour), true, 1, 40000, 10
	scantest.Run(t, cfg, open)
}
