package exec

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/query/scan"
)

// largeMagnetic writes tidal-bench's large preset shape straight into
// magnetic parts: 1000 hosts x 10 cpu measures x 6 h at 10 s (21.6M
// rows) in hour partitions, one part each.
func largeMagnetic(b *testing.B) (*catalog.Catalog, *magnetic.Store) {
	dir := b.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cat.CreateDatabase("benchmark", "", nil); err != nil {
		b.Fatal(err)
	}
	t, err := cat.CreateTable(catalog.Table{Database: "benchmark", Name: "cpu", Retention: catalog.Retention{MemoryHours: 8766, MagneticDays: 73000}})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range cpuMetrics {
		if err := cat.AddColumns(t.ID, []catalog.Column{{Name: m, Kind: catalog.KindMeasureName, Type: ingest.TypeDouble}}); err != nil {
			b.Fatal(err)
		}
	}
	for _, d := range []string{"hostname", "region"} {
		if err := cat.AddColumns(t.ID, []catalog.Column{{Name: d, Kind: catalog.KindDimension, Type: ingest.TypeVarchar}}); err != nil {
			b.Fatal(err)
		}
	}
	store, err := magnetic.Open(magnetic.Options{Dir: dir + "/magnetic", Catalog: cat, PartitionWidth: magnetic.HourPartitionWidth})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	const hosts, perHour = 1000, 360
	rng := rand.New(rand.NewPCG(1, 2))
	var series []scan.Series
	for h := range hosts {
		dims := []ingest.Dimension{{Name: "hostname", Value: "host_" + strconv.Itoa(h)}, {Name: "region", Value: "eu-west-" + strconv.Itoa(h%3)}}
		for _, m := range cpuMetrics {
			series = append(series, scan.Series{Key: string(scan.AppendSeriesKey(nil, m, dims)), Dimensions: dims, MeasureName: m})
		}
	}
	slices.SortFunc(series, func(a, b scan.Series) int {
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	for hour := range 6 {
		bs := make([]*scan.Batch, len(series))
		for i, s := range series {
			bt := &scan.Batch{Series: s, Time: make([]int64, perHour), Columns: []scan.Column{{Name: scan.ColMeasureValue, Type: ingest.TypeDouble, F: make([]float64, perHour)}}}
			v := float64(rng.IntN(100))
			for r := range perHour {
				bt.Time[r] = tsbsStart + int64(hour)*3600e9 + int64(r)*10e9
				v = min(max(v+float64(rng.IntN(5)-2), 0), 100)
				bt.Columns[0].F[r] = v
			}
			bs[i] = bt
		}
		if _, err := store.WritePart(context.Background(), t.ID, scan.NewSlice(bs)); err != nil {
			b.Fatal(err)
		}
	}
	return cat, store
}

// BenchmarkLastpointLarge runs TSBS lastpoint over the large preset's
// shape in magnetic hour partitions, with the newest-row scans (after) and
// without (before).
func BenchmarkLastpointLarge(b *testing.B) {
	cat, store := largeMagnetic(b)
	e := New(cat, store, Options{})
	run := func(disable bool) func() {
		return func() {
			disableLastPushdown = disable
			defer func() { disableLastPushdown = false }()
			res, err := e.Query(context.Background(), tsbsQueries["lastpoint"], nil)
			if err != nil {
				b.Fatalf("query: %v", err)
			}
			if len(res.Rows) != 10000 {
				b.Fatalf("%d rows, want 10000", len(res.Rows))
			}
		}
	}
	benchPaired(b, []string{"before", "after"}, []func(){run(true), run(false)})
}
