package magnetic

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// BenchmarkSelectOneSeries scans one series (a measure and a hostname, as
// a PromQL selector of TSBS cpu-max-all-1 does) out of 1000 hosts x 10
// measures in 6 hour partitions, 2 rows per series each: the cost is
// finding the series, not reading rows.
func BenchmarkSelectOneSeries(b *testing.B) {
	cat, id := newCatalog(b)
	s, err := Open(Options{PartitionWidth: HourPartitionWidth, Dir: b.TempDir(), Catalog: cat, Now: coldNow})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var recs []ingest.Record
	for h := range 1000 {
		dims := []ingest.Dimension{{Name: "arch", Value: "x64"}, {Name: "datacenter", Value: "eu-west-1a"},
			{Name: "hostname", Value: "host_" + strconv.Itoa(h)}, {Name: "os", Value: "Ubuntu16.04LTS"},
			{Name: "rack", Value: strconv.Itoa(h % 100)}, {Name: "region", Value: "eu-west-1"}}
		for m := range 10 {
			for p := range 6 {
				for r := range 2 {
					recs = append(recs, ingest.Record{MeasureName: "cpu_usage_" + strconv.Itoa(m), Dimensions: dims,
						Time: day0 + int64(p)*3600e9 + int64(r)*10e9, Value: ingest.Float(float64(h + r))})
				}
			}
		}
	}
	writeRecords(b, s, id, recs)
	req := &scan.Request{Database: "testdb", Table: "tbl", MinTime: day0, MaxTime: day0 + 6*3600e9,
		Columns: []string{scan.ColMeasureValue},
		Where: []scan.Matcher{{Name: "hostname", Op: scan.MatchEqual, Values: []string{"host_7"}},
			{Name: scan.ColMeasureName, Op: scan.MatchEqual, Values: []string{"cpu_usage_3"}}}}
	scanOnce := func(before bool) time.Duration {
		disableMeasureRanges = before
		defer func() { disableMeasureRanges = false }()
		start := time.Now()
		cur, err := s.Scan(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for cur.Next() {
			rows += cur.Batch().Len()
		}
		if err := cur.Close(); err != nil {
			b.Fatal(err)
		}
		if rows != 12 {
			b.Fatalf("%d rows, want 12", rows)
		}
		return time.Since(start)
	}
	// Before: every series of every part checked against the matchers;
	// after: only the measure's series, found by bisection. Paired per
	// iteration, in rotating order.
	var ratios []float64
	var total [2]time.Duration
	round := 0
	b.ResetTimer()
	for b.Loop() {
		var took [2]time.Duration
		for k := range 2 {
			i := (k + round) % 2
			took[i] = scanOnce(i == 0)
		}
		total[0] += took[0]
		total[1] += took[1]
		ratios = append(ratios, float64(took[1])/float64(max(took[0], 1)))
		round++
	}
	slices.Sort(ratios)
	b.ReportMetric(total[0].Seconds()*1e3/float64(round), "before-ms")
	b.ReportMetric(total[1].Seconds()*1e3/float64(round), "after-ms")
	b.ReportMetric(ratios[len(ratios)/2], "after/before")
}
