package exec

import (
	"context"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
)

var (
	memOnce sync.Once
	memCat  *catalog.Catalog
	memDB   *memstore.DB
	memErr  error
)

// memstoreTable writes the 100-host x 24 h TSBS cpu table through the real
// memstore (WAL without fsync) once per process.
func memstoreTable(b *testing.B) (*catalog.Catalog, *memstore.DB) {
	memOnce.Do(func() {
		dir, err := tempDir()
		if err != nil {
			memErr = err
			return
		}
		memDir = dir
		cat, err := catalog.Open(catalog.Options{Dir: dir})
		if err != nil {
			memErr = err
			return
		}
		memCat = cat
		memDB, memErr = buildTSBSTable(cat, dir, nil)
	})
	if memErr != nil {
		b.Fatalf("build memstore table: %v", memErr)
	}
	return memCat, memDB
}

// buildTSBSTable opens a memstore in dir (flushing to pw when it is not
// nil) and writes the TSBS cpu table into it.
func buildTSBSTable(cat *catalog.Catalog, dir string, pw memstore.PartWriter) (*memstore.DB, error) {
	return buildTSBSShape(cat, dir, pw, 100, 8640, 24*time.Hour, false)
}

// buildTSBSShape is buildTSBSTable for hosts hosts and steps 10 s steps,
// with the memstore's clock at now past the first step. noisy makes the
// values a random walk over full float64s, as TSBS generates them, instead
// of integers (which XOR-compress to a few bits).
func buildTSBSShape(cat *catalog.Catalog, dir string, pw memstore.PartWriter, hosts, steps int, now time.Duration, noisy bool) (*memstore.DB, error) {
	start := time.Unix(0, tsbsStart).UTC()
	if _, err := cat.CreateDatabase("benchmark", "", nil); err != nil {
		return nil, err
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "benchmark", Name: "cpu",
		Retention: catalog.Retention{MemoryHours: 8766, MagneticDays: 73000}}); err != nil {
		return nil, err
	}
	opts := memstore.DefaultOptions(dir + "/memstore")
	opts.CheckpointInterval = 0
	opts.Now = func() time.Time { return start.Add(now) }
	opts.WAL = wal.Options{Sync: wal.SyncNever}
	opts.PartWriter, opts.FlushInterval = pw, time.Hour
	db, err := memstore.Open(cat, opts)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(42, 7))
	vals := make([][]float64, hosts)
	dims := make([][]ingest.Dimension, hosts)
	for h := range hosts {
		vals[h] = make([]float64, len(cpuMetrics))
		for i := range vals[h] {
			vals[h][i] = float64(rng.IntN(100))
		}
		dims[h] = []ingest.Dimension{{Name: "hostname", Value: "host_" + strconv.Itoa(h)}, {Name: "region", Value: "eu-west-" + strconv.Itoa(h%3)},
			{Name: "datacenter", Value: "eu-west-1" + string(rune('a'+h%3))}, {Name: "rack", Value: strconv.Itoa(h % 100)},
			{Name: "os", Value: "Ubuntu16.04LTS"}, {Name: "arch", Value: "x64"}, {Name: "team", Value: "NYC"},
			{Name: "service", Value: strconv.Itoa(h % 20)}, {Name: "service_version", Value: "1"}, {Name: "service_environment", Value: "production"}}
	}
	recs := make([]ingest.Record, 0, 1000)
	for step := range steps {
		at := tsbsStart + int64(step)*10e9
		for h := range hosts {
			for f, name := range cpuMetrics {
				step := float64(rng.IntN(5) - 2)
				if noisy {
					step = rng.NormFloat64()
				}
				v := min(max(vals[h][f]+step, 0), 100)
				vals[h][f] = v
				recs = append(recs, ingest.Record{Time: at, Dimensions: dims[h], MeasureName: name, Value: ingest.Float(v), Version: 1})
			}
			if len(recs) == cap(recs) {
				if _, err := db.Append(context.Background(), "benchmark", "cpu", recs, ingest.AppendOptions{}); err != nil {
					return nil, err
				}
				recs = recs[:0]
			}
		}
	}
	return db, nil
}

// BenchmarkTSBSMemstore runs the TSBS devops queries over the memstore
// tier (compressed chunks decoded by its scan).
func BenchmarkTSBSMemstore(b *testing.B) {
	cat, db := memstoreTable(b)
	e := New(cat, db, Options{})
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

func tempDir() (string, error) { return os.MkdirTemp("", "tidal-exec-bench-") }

var memDir string

// TestMain removes the memstore benchmark's directory after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if memDB != nil {
		_ = memDB.Close()
	}
	if magStore != nil {
		_ = magStore.Close()
	}
	for _, d := range []string{memDir, magDir} {
		if d != "" {
			_ = os.RemoveAll(d)
		}
	}
	os.Exit(code)
}
