package memstore

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// checkpointEntries counts the entries of each kind in the newest
// checkpoint under dir.
func checkpointEntries(t *testing.T, dir string) map[uint8]int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "memstore", checkpointPrefix+"*"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no checkpoint: %v", err)
	}
	w, err := wal.Open(wal.Options{Dir: m[len(m)-1], Sync: wal.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	kinds := map[uint8]int{}
	err = w.Replay(0, func(_ int, rec []byte) error {
		return decodeWALRecord(rec, func(e *walEntry) error { kinds[e.kind]++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return kinds
}

// TestCheckpointChunkEntries checks that a checkpoint holds sealed chunks
// as chunk entries and the heads as rows, and that a restart from it gives
// back every row (all value types, NULLs, versions, out-of-order rows),
// then takes in-order and out-of-order writes into the loaded series.
func TestCheckpointChunkEntries(t *testing.T) {
	dir := t.TempDir()
	f := openFixture(t, dir)
	if _, err := f.cat.CreateDatabase("testdb", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl"}); err != nil {
		t.Fatal(err)
	}
	cfg := scantest.DefaultConfig(ts(-2 * time.Hour))
	cfg.Rows = 30000
	recs := scantest.Generate(rand.New(rand.NewPCG(5, 6)), cfg)
	appendAll := func(db *DB, recs []ingest.Record) {
		t.Helper()
		for i := 0; i < len(recs); i += 200 {
			res, err := db.Append(context.Background(), "testdb", "tbl", recs[i:min(i+200, len(recs))], ingest.AppendOptions{})
			if err != nil || len(res.Rejected) > 0 {
				t.Fatalf("append: %d rejected; %v", len(res.Rejected), err)
			}
		}
	}
	appendAll(f.db, recs)
	if err := f.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	kinds := checkpointEntries(t, dir)
	if kinds[entryChunk] == 0 || kinds[entryRow] == 0 || kinds[entrySeries] == 0 {
		t.Fatalf("checkpoint entries by kind %v: want series, chunk and row entries", kinds)
	}
	all := &scan.Request{Database: "testdb", Table: "tbl", MinTime: math.MinInt64, MaxTime: math.MaxInt64}
	check := func(db *DB, recs []ingest.Record) {
		t.Helper()
		got, err := scantest.Collect(context.Background(), db, all)
		if err != nil {
			t.Fatal(err)
		}
		if d := scantest.Diff(scantest.NewModel(recs).Rows(all), got); d != "" {
			t.Fatal(d)
		}
	}
	check(f.db, recs)
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	g := openFixture(t, dir)
	defer g.db.Close()
	check(g.db, recs)
	// Writes after the load: new rows at the end of every series and
	// rows inside the loaded chunks' ranges.
	var more []ingest.Record
	for i, r := range recs[:400] {
		late := r
		late.Version = int64(100 + i) // wins over any row it meets
		late.Time += int64(time.Hour)
		if i%2 == 0 {
			late.Time = r.Time + 1e6*int64(1+i%7) // inside the loaded range
		}
		more = append(more, late)
	}
	appendAll(g.db, more)
	check(g.db, append(recs, more...))
}

// BenchmarkCheckpoint checkpoints 2000 series of 1200 rows (five sealed
// chunks and a head each) and reports the time and allocation per
// checkpoint, with sealed chunks written as chunk entries ("chunks") and
// as rows, as before chunk entries ("rows").
func BenchmarkCheckpoint(b *testing.B) {
	for _, mode := range []string{"rows", "chunks"} {
		b.Run(mode, func(b *testing.B) {
			checkpointRows = mode == "rows"
			defer func() { checkpointRows = false }()
			dir := b.TempDir()
			cat, err := catalog.Open(catalog.Options{Dir: dir, Now: func() time.Time { return testNow }})
			if err != nil {
				b.Fatal(err)
			}
			opts := DefaultOptions(dir + "/memstore")
			opts.Now, opts.CheckpointInterval, opts.WAL = func() time.Time { return testNow }, 0, wal.Options{Sync: wal.SyncNever}
			db, err := Open(cat, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			var batch []ingest.Record
			for h := range 2000 {
				v := float64(rng.IntN(100))
				for i := range 1200 {
					v = min(100, max(0, v+float64(rng.IntN(5)-2)))
					batch = append(batch, rec("host_"+strconv.Itoa(h), "usage_user", ts(time.Duration(i-1200)*10*time.Second), ingest.Float(v), 1))
				}
				if len(batch) >= 12000 {
					if _, err := db.Append(context.Background(), "prometheus", "metrics", batch, ingest.AppendOptions{CreateTable: true}); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := db.Checkpoint(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(2000*1200), "ns/row")
		})
	}
}
