package exec

import (
	"context"
	"fmt"
	"testing"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/query/scan"
)

// BenchmarkScanAggregateTiers measures scan + aggregate on one core
// (Parallelism 1) over the TSBS cpu day (8.64M samples) held in the test
// source (columns already decoded), the memstore (compressed chunks) and
// the magnetic tier (one merged part), on the current path ("kernels")
// and with the typed batch kernels switched off ("generic", the path
// before them). samples/s/core divides the samples scanned by the process
// CPU time, so other load on the machine does not count; ratio is
// kernels over generic of the same source in the same run.
func BenchmarkScanAggregateTiers(b *testing.B) {
	const sql = `SELECT bin(time, %s), hostname, avg(measure_value::double), max(measure_value::double), min(measure_value::double), count(*) FROM "benchmark"."cpu" GROUP BY 1, 2`
	bins := []struct {
		width  string
		groups int
	}{{"1h", 2400}, {"1m", 144000}}
	type source struct {
		name string
		open func(b *testing.B) (*catalog.Catalog, scan.Source)
	}
	sources := []source{
		{"columns", func(b *testing.B) (*catalog.Catalog, scan.Source) { db := benchTable(b); return db.cat, db }},
		{"memstore", func(b *testing.B) (*catalog.Catalog, scan.Source) { c, db := memstoreTable(b); return c, db }},
		{"magnetic", func(b *testing.B) (*catalog.Catalog, scan.Source) { c, s := magneticTable(b); return c, s }},
	}
	for _, src := range sources {
		for _, bin := range bins {
			b.Run(src.name+"/bin="+bin.width, func(b *testing.B) {
				cat, s := src.open(b)
				e := New(cat, s, Options{Parallelism: 1})
				sql := fmt.Sprintf(sql, bin.width)
				rates := map[bool]float64{}
				for _, kernels := range []bool{false, true} {
					name := "generic"
					if kernels {
						name = "kernels"
					}
					b.Run(name, func(b *testing.B) {
						defer func(old bool) { batchKernels = old }(batchKernels)
						batchKernels = kernels
						b.ReportAllocs()
						var scanned int64
						cpu := processCPU()
						for b.Loop() {
							var sink countSink
							st, err := e.Stream(context.Background(), sql, nil, &sink)
							if err != nil {
								b.Fatalf("query: %v", err)
							}
							if sink.rows != bin.groups {
								b.Fatalf("got %d groups, want %d", sink.rows, bin.groups)
							}
							scanned += st.RowsScanned
						}
						rate := float64(scanned) / (float64(processCPU()-cpu) / 1e9)
						rates[kernels] = rate
						b.ReportMetric(rate, "samples/s/core")
						if rates[false] > 0 && kernels {
							b.ReportMetric(rate/rates[false], "ratio")
						}
					})
				}
			})
		}
	}
}
