package magnetic

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// TSBS devops cpu shape: hosts with 10 usage_* metrics at a 10 s interval
// for one day; values are integer-valued random walks in [0, 100] (step
// uniform in -2..2) stored as DOUBLE.
const (
	benchHosts    = 100
	benchInterval = int64(10e9)
	benchRows     = 8640 // one day
)

var cpuMetrics = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

var (
	tsbsOnce sync.Once
	tsbsDay  []*scan.Batch
)

// tsbsData returns one batch per series with a full day of rows, built
// once from a fixed seed.
func tsbsData() []*scan.Batch {
	tsbsOnce.Do(func() {
		rng := rand.New(rand.NewPCG(2026, 11))
		for h := range benchHosts {
			dims := []ingest.Dimension{
				{Name: "arch", Value: []string{"x64", "x86"}[h%2]},
				{Name: "datacenter", Value: "eu-central-1" + string(rune('a'+h%3))},
				{Name: "hostname", Value: "host_" + strconv.Itoa(h)},
				{Name: "os", Value: "Ubuntu16.04LTS"},
				{Name: "rack", Value: strconv.Itoa(h % 100)},
				{Name: "region", Value: "eu-central-1"},
			}
			for _, m := range cpuMetrics {
				b := &scan.Batch{Series: scan.Series{Key: string(scan.AppendSeriesKey(nil, m, dims)), Dimensions: dims, MeasureName: m}}
				col := scan.Column{Name: scan.ColMeasureValue, Type: ingest.TypeDouble}
				v := float64(rng.IntN(101))
				for i := range benchRows {
					v = min(100, max(0, v+float64(rng.IntN(5)-2)))
					b.Time = append(b.Time, day0+int64(i)*benchInterval)
					col.F = append(col.F, v)
				}
				b.Columns = []scan.Column{col}
				tsbsDay = append(tsbsDay, b)
			}
		}
	})
	return tsbsDay
}

// tsbsSlice returns rows [lo, hi) of every series of the day.
func tsbsSlice(lo, hi int) *scan.Slice {
	day := tsbsData()
	out := make([]*scan.Batch, len(day))
	for i, b := range day {
		c := b.Columns[0]
		c.F = c.F[lo:hi]
		out[i] = &scan.Batch{Series: b.Series, Time: b.Time[lo:hi], Columns: []scan.Column{c}}
	}
	return scan.NewSlice(out)
}

const benchSamples = benchHosts * 10 * benchRows

// BenchmarkWritePart writes one day of TSBS cpu data as one part and
// reports throughput and bytes per sample on disk.
func BenchmarkWritePart(b *testing.B) {
	tsbsData()
	b.ReportAllocs()
	var bytes int64
	for range b.N {
		b.StopTimer()
		cat, id := newCatalog(b)
		s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: b.TempDir(), Catalog: cat})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		infos, err := s.WritePart(context.Background(), id, tsbsSlice(0, benchRows))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		bytes = infos[0].Bytes
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(bytes)/benchSamples, "B/sample")
}

// BenchmarkScan reads a full partition of TSBS cpu data: cold (no block
// cache: every chunk is read, checked and decompressed) and warm (every
// chunk in the cache). Decoding into batches happens in both.
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	cat, id := newCatalog(b)
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.WritePart(context.Background(), id, tsbsSlice(0, benchRows)); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	// The same day written as four 6-hour parts, read merged on the fly.
	dir4 := b.TempDir()
	s, err = Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir4, Catalog: cat})
	if err != nil {
		b.Fatal(err)
	}
	for q := range 4 {
		if _, err := s.WritePart(context.Background(), id, tsbsSlice(q*benchRows/4, (q+1)*benchRows/4)); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		dir   string
		cache int
	}{{"cold", dir, -1}, {"warm", dir, 256 << 20}, {"4parts-cold", dir4, -1}} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: tc.dir, Catalog: cat, CacheBytes: tc.cache})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			scanAll := func() int {
				cur, err := s.Scan(context.Background(), all2())
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
			if n := scanAll(); n != benchSamples {
				b.Fatalf("scanned %d samples, want %d", n, benchSamples)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for b.Loop() {
				scanAll()
			}
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/benchSamples, "cpu-ns/sample")
			}
			b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			if tc.cache > 0 {
				hits, misses := testutil.ToFloat64(s.m.cacheHits), testutil.ToFloat64(s.m.cacheMisses)
				b.ReportMetric(hits/(hits+misses), "hit-ratio")
			}
		})
	}
}

// BenchmarkMerge writes one day of TSBS cpu data as 24 hourly parts (a
// flush per hour, untimed), merging after each flush as the background
// loop would while the partition is hot, then once more after it turned
// cold. Write amplification is rows written by flushes and merges over
// rows, reported after the hot phase and at the end.
func BenchmarkMerge(b *testing.B) {
	tsbsData()
	b.ReportAllocs()
	var merged, hotAmp, amp float64
	var hotParts, parts int
	mergeNow := func(s *Store) {
		for {
			n, err := s.Merge(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	for range b.N {
		b.StopTimer()
		cat, id := newCatalog(b)
		now := day0 + 3600e9
		s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: b.TempDir(), Catalog: cat, Now: func() time.Time { return time.Unix(0, now) }})
		if err != nil {
			b.Fatal(err)
		}
		for h := range 24 {
			if _, err := s.WritePart(context.Background(), id, tsbsSlice(h*360, (h+1)*360)); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			mergeNow(s)
			b.StopTimer()
		}
		hotAmp = testutil.ToFloat64(s.m.rowsWritten) / benchSamples
		hotParts = len(s.Parts())
		now = day0 + 3*int64(24*time.Hour)
		b.StartTimer()
		mergeNow(s)
		b.StopTimer()
		merged += testutil.ToFloat64(s.m.rowsMerged)
		amp = testutil.ToFloat64(s.m.rowsWritten) / benchSamples
		parts = len(s.Parts())
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(merged/b.Elapsed().Seconds(), "merged-samples/s")
	b.ReportMetric(hotAmp, "hot-write-amp")
	b.ReportMetric(float64(hotParts), "hot-parts")
	b.ReportMetric(amp, "write-amp")
	b.ReportMetric(float64(parts), "parts-left")
}
