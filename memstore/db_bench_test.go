package memstore

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/wal"
)

var cpuFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// devopsBatches generates the TSBS devops cpu shape: hosts with 10 metrics
// at a 10 s interval, integer-valued random walks in [0, 100], as batches of
// 100 single-measure records (10 timestamps of one host).
type devopsGen struct {
	hosts  int
	rng    *rand.Rand
	vals   [][]float64
	dims   [][]ingest.Dimension
	start  int64
	step   int // next 10-row time block
	host   int
	recBuf []ingest.Record
}

func newDevopsGen(hosts int, start time.Time) *devopsGen {
	g := &devopsGen{hosts: hosts, rng: rand.New(rand.NewPCG(42, 7)), start: start.UnixNano()}
	for h := range hosts {
		v := make([]float64, len(cpuFields))
		for i := range v {
			v[i] = float64(g.rng.IntN(100))
		}
		g.vals = append(g.vals, v)
		g.dims = append(g.dims, []ingest.Dimension{
			{Name: "hostname", Value: "host_" + strconv.Itoa(h)},
			{Name: "region", Value: "eu-west-" + strconv.Itoa(h%3)},
			{Name: "datacenter", Value: "eu-west-1" + string(rune('a'+h%3))},
			{Name: "rack", Value: strconv.Itoa(h % 100)},
			{Name: "os", Value: "Ubuntu16.04LTS"},
			{Name: "arch", Value: "x64"},
			{Name: "team", Value: "NYC"},
			{Name: "service", Value: strconv.Itoa(h % 20)},
			{Name: "service_version", Value: "1"},
			{Name: "service_environment", Value: "production"},
		})
	}
	return g
}

// next returns 100 records: 10 consecutive timestamps x 10 metrics of one host.
func (g *devopsGen) next() []ingest.Record {
	g.recBuf = g.recBuf[:0]
	h := g.host
	for k := range 10 {
		at := g.start + int64(g.step*10+k)*int64(10*time.Second)
		for f, name := range cpuFields {
			v := g.vals[h][f] + float64(g.rng.IntN(5)-2)
			v = min(max(v, 0), 100)
			g.vals[h][f] = v
			g.recBuf = append(g.recBuf, ingest.Record{Time: at, Dimensions: append([]ingest.Dimension(nil), g.dims[h]...),
				MeasureName: name, Value: ingest.Float(v), Version: 1})
		}
	}
	g.host++
	if g.host == g.hosts {
		g.host, g.step = 0, g.step+1
	}
	return g.recBuf
}

func benchDB(b *testing.B, sync wal.SyncPolicy, now time.Time) *DB {
	dir := b.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cat.CreateDatabase("bench", "", nil); err != nil {
		b.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "bench", Name: "cpu",
		Retention: catalog.Retention{MemoryHours: 8766, MagneticDays: 73000}}); err != nil {
		b.Fatal(err)
	}
	opts := DefaultOptions(dir + "/memstore")
	opts.CheckpointInterval = 0
	opts.Now = func() time.Time { return now }
	opts.WAL = wal.Options{Sync: sync}
	db, err := Open(cat, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkAppendDevops appends TSBS devops cpu batches (100 records) to the
// memstore with the WAL fsync off (SyncNever) and on (group commit, one
// writer), and reports samples/s, memory and WAL bytes per sample.
func BenchmarkAppendDevops(b *testing.B) {
	for _, sc := range []struct {
		name string
		sync wal.SyncPolicy
	}{{"wal=nosync", wal.SyncNever}, {"wal=fsync", wal.SyncBatch}} {
		b.Run(sc.name, func(b *testing.B) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			db := benchDB(b, sc.sync, start.Add(24*time.Hour))
			g := newDevopsGen(100, start)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res, err := db.Append(ctx, "bench", "cpu", g.next(), ingest.AppendOptions{})
				if err != nil || res.MemoryStore != 100 {
					b.Fatalf("append: %+v %v", res, err)
				}
			}
			b.StopTimer()
			samples := float64(b.N) * 100
			b.ReportMetric(samples/b.Elapsed().Seconds(), "samples/s")
			st := db.Stats()
			b.ReportMetric(float64(st.ChunkBytes)/float64(st.Rows), "chunkB/sample")
			b.ReportMetric(float64(st.ChunkBytes+st.IndexBytes)/float64(st.Series), "B/series")
			b.ReportMetric(float64(db.wal.Size())/samples, "walB/sample")
		})
	}
}

// BenchmarkDevopsDayMemory loads one day of 100 devops hosts (8.64M
// samples) per iteration and reports the memory cost per active series and
// per sample and the WAL bytes per sample:
//
//	go test -run '^$' -bench DevopsDayMemory -benchtime 1x ./memstore
func BenchmarkDevopsDayMemory(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		b.StopTimer()
		db := benchDB(b, wal.SyncNever, start.Add(48*time.Hour))
		g := newDevopsGen(100, start)
		b.StartTimer()
		for range 864 * 100 { // 8640 steps of 10 s, 10 steps per batch, 100 hosts
			if _, err := db.Append(context.Background(), "bench", "cpu", g.next(), ingest.AppendOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		st := db.Stats()
		if st.Series != 1000 || st.Rows != 8640*1000 {
			b.Fatalf("stats %+v", st)
		}
		b.ReportMetric(float64(st.Rows)/b.Elapsed().Seconds(), "samples/s")
		b.ReportMetric(float64(st.ChunkBytes)/float64(st.Rows), "chunkB/sample")
		b.ReportMetric(float64(st.IndexBytes)/float64(st.Series), "indexB/series")
		b.ReportMetric(float64(st.ChunkBytes+st.IndexBytes)/float64(st.Series), "B/series")
		b.ReportMetric(float64(db.wal.Size())/float64(st.Rows), "walB/sample")
		b.StartTimer()
	}
}

// remoteWriteBatches builds k batches in the shape the bench harness sends
// through Prometheus remote-write: 25 hosts x 10 cpu metrics x 4 steps of
// 10 s per batch (1000 records), the records of a series consecutive. With
// shared, the records of a series share one dimension slice, as the
// remote-write decoder builds them; otherwise each record has its own copy
// (what Append sees from ingestors that build a slice per record).
func remoteWriteBatches(k int, start time.Time, shared bool) [][]ingest.Record {
	g := newDevopsGen(25, start)
	out := make([][]ingest.Record, k)
	for b := range k {
		batch := make([]ingest.Record, 0, 1000)
		at := start.UnixNano() + int64(b*4)*int64(10*time.Second)
		for h := range 25 {
			for f, name := range cpuFields {
				dims := g.dims[h]
				for step := range 4 {
					if !shared {
						dims = append([]ingest.Dimension(nil), g.dims[h]...)
					}
					v := min(max(g.vals[h][f]+float64(g.rng.IntN(5)-2), 0), 100)
					g.vals[h][f] = v
					batch = append(batch, ingest.Record{Time: at + int64(step)*int64(10*time.Second), Dimensions: dims,
						MeasureName: name, Value: ingest.Float(v), Version: 1})
				}
			}
		}
		out[b] = batch
	}
	return out
}

// BenchmarkAppendRemoteWrite appends remote-write shaped batches (250
// series x 4 samples) with the WAL fsync off. dims=copied is the baseline:
// every record is looked up by its key; dims=shared takes the same-series
// path of Append. Compare the two samples/s figures of one run:
//
//	go test -run '^$' -bench AppendRemoteWrite -count 6 ./memstore
func BenchmarkAppendRemoteWrite(b *testing.B) {
	const k = 100 // distinct batches, reused with shifted times
	for _, dims := range []string{"copied", "shared"} {
		b.Run("dims="+dims, func(b *testing.B) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			db := benchDB(b, wal.SyncNever, start.Add(300*24*time.Hour))
			batches := remoteWriteBatches(k, start, dims == "shared")
			span := int64(k*4) * int64(10*time.Second)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i > 0 && i%k == 0 {
					for _, batch := range batches {
						for j := range batch {
							batch[j].Time += span
						}
					}
				}
				res, err := db.Append(ctx, "bench", "cpu", batches[i%k], ingest.AppendOptions{})
				if err != nil || res.MemoryStore != 1000 {
					b.Fatalf("append: %+v %v", res, err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkSeriesMemory creates 100K active series of the devops shape
// (10 dimensions, one metric each, 20 samples 10 s apart: a freshly started
// head chunk) per iteration and reports the heap each holds: the growth of
// the live Go heap (after a GC) from 50K to 100K series, so that buffers of
// fixed size (the WAL's) do not count. This is the figure of the issue's
// "memory per active series" target:
//
//	go test -run '^$' -bench SeriesMemory -benchtime 1x ./memstore
func BenchmarkSeriesMemory(b *testing.B) {
	const hosts, steps = 10000, 20 // 100K series (10 metrics per host)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		b.StopTimer()
		db := benchDB(b, wal.SyncNever, start.Add(24*time.Hour))
		g := newDevopsGen(hosts, start)
		b.StartTimer()
		var heapHalf int64
		for h := range hosts {
			if h == hosts/2 {
				b.StopTimer()
				heapHalf = heapInUse()
				b.StartTimer()
			}
			batch := oooRound(&devopsGen{hosts: 1, dims: g.dims[h : h+1]}, start.UnixNano(), steps, float64(h))[0]
			if _, err := db.Append(context.Background(), "bench", "cpu", batch, ingest.AppendOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		perSeries := float64(heapInUse()-heapHalf) / float64((hosts-hosts/2)*len(cpuFields))
		st := db.Stats()
		if st.Series != hosts*len(cpuFields) || st.Rows != int64(hosts*len(cpuFields)*steps) {
			b.Fatalf("stats %+v", st)
		}
		b.ReportMetric(perSeries, "heapB/series")
		b.ReportMetric(float64(st.ChunkBytes+st.IndexBytes)/float64(st.Series), "estB/series")
		runtime.KeepAlive(g)
		b.StartTimer()
	}
}

// heapInUse is the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
