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

// TestSeriesMatchesSets checks that long IN and NOT IN lists checked
// through sets select what scan.Matcher.Matches selects, for present,
// listed, unlisted and missing dimensions.
func TestSeriesMatchesSets(t *testing.T) {
	var hosts []string
	for i := range 40 {
		hosts = append(hosts, "host_"+strconv.Itoa(i))
	}
	hosts = append(hosts, "") // an empty value may be listed too
	series := []seriesMeta{
		{seriesIdent: &seriesIdent{measure: "cpu", dims: []ingest.Dimension{{Name: "hostname", Value: "host_3"}}}},
		{seriesIdent: &seriesIdent{measure: "cpu", dims: []ingest.Dimension{{Name: "hostname", Value: "host_99"}}}},
		{seriesIdent: &seriesIdent{measure: "cpu", dims: []ingest.Dimension{{Name: "rack", Value: "1"}}}},
		{seriesIdent: &seriesIdent{measure: "mem", dims: []ingest.Dimension{{Name: "hostname", Value: ""}}}},
	}
	for _, tc := range []struct {
		name  string
		where []scan.Matcher
		want  []bool
	}{
		{"in", []scan.Matcher{{Name: "hostname", Op: scan.MatchIn, Values: hosts}}, []bool{true, false, false, true}},
		{"not in", []scan.Matcher{{Name: "hostname", Op: scan.MatchNotIn, Values: hosts}}, []bool{false, true, true, false}},
		{"in and measure", []scan.Matcher{{Name: scan.ColMeasureName, Op: scan.MatchEqual, Values: []string{"cpu"}},
			{Name: "hostname", Op: scan.MatchIn, Values: hosts}}, []bool{true, false, false, false}},
		{"measure in", []scan.Matcher{{Name: scan.ColMeasureName, Op: scan.MatchIn, Values: append([]string{"mem"}, hosts...)}}, []bool{false, false, false, true}},
	} {
		sets := scan.ValueSets(tc.where)
		if sets == nil {
			t.Fatalf("%s: no sets", tc.name)
		}
		for i := range series {
			got, plain := seriesMatches(&series[i], tc.where, sets), seriesMatches(&series[i], tc.where, nil)
			if got != tc.want[i] || plain != tc.want[i] {
				t.Errorf("%s: series %d: with sets %v, without %v, want %v", tc.name, i, got, plain, tc.want[i])
			}
		}
	}
}

// BenchmarkSeriesMatchesLongIn checks 10,000 series against a join's
// dynamic filter (hostname IN 1000 names): before, each series compares
// its host with the list one by one; after, it looks it up in a set.
func BenchmarkSeriesMatchesLongIn(b *testing.B) {
	var hosts []string
	var series []seriesMeta
	for h := range 1000 {
		hosts = append(hosts, "host_"+strconv.Itoa(h))
		for m := range 10 {
			series = append(series, seriesMeta{seriesIdent: &seriesIdent{measure: "cpu_" + strconv.Itoa(m),
				dims: []ingest.Dimension{{Name: "arch", Value: "x64"}, {Name: "hostname", Value: "host_" + strconv.Itoa(h)}}}})
		}
	}
	where := []scan.Matcher{{Name: "hostname", Op: scan.MatchIn, Values: hosts}}
	run := func(sets []map[string]struct{}) time.Duration {
		start := time.Now()
		n := 0
		for i := range series {
			if seriesMatches(&series[i], where, sets) {
				n++
			}
		}
		if n != len(series) {
			b.Fatalf("%d matched, want %d", n, len(series))
		}
		return time.Since(start)
	}
	var ratios []float64
	var total [2]time.Duration
	for b.Loop() {
		before := run(nil)
		after := run(scan.ValueSets(where))
		total[0] += before
		total[1] += after
		ratios = append(ratios, float64(after)/float64(max(before, 1)))
	}
	slices.Sort(ratios)
	b.ReportMetric(total[0].Seconds()*1e3/float64(len(ratios)), "before-ms")
	b.ReportMetric(total[1].Seconds()*1e3/float64(len(ratios)), "after-ms")
	b.ReportMetric(ratios[len(ratios)/2], "after/before")
}
