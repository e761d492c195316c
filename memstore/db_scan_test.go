package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

func TestScanAcceptance(t *testing.T) {
	open := func(t *testing.T, recs []ingest.Record) scan.Source {
		f := newFixture(t)
		for i := 0; i < len(recs); i += 100 {
			res, err := f.db.Append(context.Background(), scantest.Database, scantest.Table, recs[i:min(i+100, len(recs))], ingest.AppendOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rejected) > 0 {
				t.Fatalf("rejected %+v", res.Rejected[0])
			}
		}
		return f.db
	}
	for seed := int64(1); seed <= 3; seed++ {
		cfg := scantest.DefaultConfig(ts(-2 * time.Hour))
		cfg.Seed = seed
		scantest.Run(t, cfg, open)
	}
	// Few long series of several chunks each, written out of order:
	// Request.Last reads the newest chunk only.
	cfg := scantest.DefaultConfig(ts(-2 * time.Hour))
	cfg.Long, cfg.Hosts, cfg.Scans = true, 2, 60
	scantest.Run(t, cfg, open)
}

// TestScanAcceptanceAfterReplay runs the suite on a DB rebuilt from its
// checkpoint and WAL.
func TestScanAcceptanceAfterReplay(t *testing.T) {
	open := func(t *testing.T, recs []ingest.Record) scan.Source {
		dir := t.TempDir()
		f := openFixture(t, dir)
		if _, err := f.cat.CreateDatabase("testdb", "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl"}); err != nil {
			t.Fatal(err)
		}
		half := len(recs) / 2
		for i := 0; i < len(recs); i += 100 {
			if i == half/100*100 {
				if err := f.db.Checkpoint(); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.db.Append(context.Background(), "testdb", "tbl", recs[i:min(i+100, len(recs))], ingest.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.db.Close(); err != nil {
			t.Fatal(err)
		}
		g := openFixture(t, dir)
		t.Cleanup(func() { g.db.Close() })
		return g.db
	}
	scantest.Run(t, scantest.DefaultConfig(ts(-2*time.Hour)), open)
}
