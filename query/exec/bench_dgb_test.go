package exec

import (
	"context"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/query/scan"
)

// dgbLargeQuery is tidal-bench's double-groupby-1 over the whole 6 h of
// the large-shape memstore table.
const dgbLargeQuery = `SELECT bin(time, 3600s) as hour,
			hostname,
			avg (case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as mean_usage_user
		FROM "benchmark"."cpu"
		WHERE time >= '2024-01-01 00:00:00 +0000' AND time < '2024-01-01 06:00:00 +0000'
		GROUP BY 1, 2`

// BenchmarkDoubleGroupbyLargeMemstore runs double-groupby-1 over 1000
// hosts x 10 measures x 6 h at 10 s held in the memstore (21.6M samples,
// 2.16M of them usage_user), read from the memstore alone and as the
// server reads it: merged with an empty magnetic tier. One measure cannot
// be split among workers by measure name; time-split reads each half of
// the hour buckets on its own worker. speedup is one-scan's time over
// time-split's in the same run (wall clock: it needs two idle cores);
// cpu-ratio is time-split's process CPU over one-scan's (the chunks that
// straddle the split are decoded by both workers).
func BenchmarkDoubleGroupbyLargeMemstore(b *testing.B) {
	dir := b.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	db, err := buildTSBSShape(cat, dir, nil, 1000, 2160, 6*time.Hour+time.Minute, true)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	mag, err := magnetic.Open(magnetic.Options{Dir: dir + "/magnetic", Catalog: cat, PartitionWidth: magnetic.HourPartitionWidth})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = mag.Close() })
	for _, src := range []struct {
		name string
		s    scan.Source
	}{{"memstore", db}, {"merged", scan.Merge(mag, db)}} {
		b.Run(src.name, func(b *testing.B) {
			e := New(cat, src.s, Options{Parallelism: 2})
			ns, cpuNs := map[bool]float64{}, map[bool]float64{}
			for _, split := range []bool{false, true} {
				name := "one-scan"
				if split {
					name = "time-split"
				}
				b.Run(name, func(b *testing.B) {
					defer func(old bool) { disableTimeSplit = old }(disableTimeSplit)
					disableTimeSplit = !split
					var scanned int64
					cpu := processCPU()
					for b.Loop() {
						res, err := e.Query(context.Background(), dgbLargeQuery, nil)
						if err != nil {
							b.Fatal(err)
						}
						if len(res.Rows) != 6000 {
							b.Fatalf("rows = %d, want 6000", len(res.Rows))
						}
						scanned += res.Stats.RowsScanned
					}
					ns[split] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					cpuNs[split] = float64(processCPU()-cpu) / float64(b.N)
					b.ReportMetric(cpuNs[split], "cpu-ns/op")
					b.ReportMetric(float64(scanned)/b.Elapsed().Seconds(), "rows/s")
					if split && ns[false] > 0 {
						b.ReportMetric(ns[false]/ns[true], "speedup")
						b.ReportMetric(cpuNs[true]/cpuNs[false], "cpu-ratio")
					}
				})
			}
		})
	}
}
