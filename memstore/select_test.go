package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/cputime"
	"github.com/tidaldb/tidal/query/scan"
)

// TestSelectSeriesOrderCache checks that scans return every series in key
// order as series come and go: the cached key order is rebuilt when a
// series is added or dropped.
func TestSelectSeriesOrderCache(t *testing.T) {
	f := newFixture(t)
	hosts := func(where ...scan.Matcher) []string {
		t.Helper()
		cur, err := f.db.Scan(context.Background(), &scan.Request{Database: "testdb", Table: "tbl",
			MinTime: ts(-time.Hour), MaxTime: ts(time.Hour), Where: where})
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close()
		var out []string
		var keys []string
		for cur.Next() {
			b := cur.Batch()
			h, _ := b.Series.Dimension("host")
			out = append(out, h+"/"+b.Series.MeasureName)
			keys = append(keys, b.Series.Key)
		}
		if !slices.IsSorted(keys) {
			t.Fatalf("series out of key order: %v", out)
		}
		slices.Sort(out)
		return out
	}
	for i := range 5 {
		f.append(t, rec(fmt.Sprintf("h%d", 4-i), "m", ts(0), ingest.Float(1), 1))
	}
	if got := strings.Join(hosts(), ","); got != "h0/m,h1/m,h2/m,h3/m,h4/m" {
		t.Fatalf("first scan: %s", got)
	}
	f.append(t, rec("h10", "m", ts(0), ingest.Float(1), 1), rec("h2", "n", ts(0), ingest.Float(1), 1))
	tests := []struct {
		name  string
		where []scan.Matcher
		want  string
	}{
		{"every series", nil, "h0/m,h1/m,h10/m,h2/m,h2/n,h3/m,h4/m"},
		{"one measure, most series", []scan.Matcher{{Name: scan.ColMeasureName, Op: scan.MatchEqual, Values: []string{"m"}}},
			"h0/m,h1/m,h10/m,h2/m,h3/m,h4/m"},
		{"prefix", []scan.Matcher{{Name: "host", Op: scan.MatchPrefix, Values: []string{"h1"}}}, "h1/m,h10/m"},
		{"not equal", []scan.Matcher{{Name: "host", Op: scan.MatchNotEqual, Values: []string{"h2"}}}, "h0/m,h1/m,h10/m,h3/m,h4/m"},
		// Long lists (a join's dynamic filter) go through sets.
		{"long in", []scan.Matcher{{Name: "host", Op: scan.MatchIn, Values: longHosts("h1", "h2")}}, "h1/m,h2/m,h2/n"},
		{"long in and measure", []scan.Matcher{{Name: "host", Op: scan.MatchIn, Values: longHosts("h1", "h2")},
			{Name: scan.ColMeasureName, Op: scan.MatchIn, Values: longHosts("n")}}, "h2/n"},
		{"long not in", []scan.Matcher{{Name: "host", Op: scan.MatchNotIn, Values: longHosts("h1", "h2")}}, "h0/m,h10/m,h3/m,h4/m"},
		{"long not in a missing dimension", []scan.Matcher{{Name: "rack", Op: scan.MatchNotIn, Values: longHosts("h1")}},
			"h0/m,h1/m,h10/m,h2/m,h2/n,h3/m,h4/m"},
		{"long in a missing dimension", []scan.Matcher{{Name: "rack", Op: scan.MatchIn, Values: longHosts("", "h1")}}, ""},
	}
	for _, tc := range tests {
		if got := strings.Join(hosts(tc.where...), ","); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	// Everything flushed is dropped from memory.
	f.db.opts.PartWriter = &collector{}
	if _, err := f.db.Flush(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if got := hosts(); len(got) != 0 {
		t.Fatalf("after flush: %v", got)
	}
	f.append(t, rec("h7", "m", ts(0), ingest.Float(1), 1))
	if got := strings.Join(hosts(), ","); got != "h7/m" {
		t.Fatalf("after flush and a new series: %s", got)
	}
}

// longHosts returns vals followed by enough absent names to make a long
// list (see scan.LongList).
func longHosts(vals ...string) []string {
	for i := 0; len(vals) < 2*scan.LongList; i++ {
		vals = append(vals, fmt.Sprintf("absent-%d", i))
	}
	return vals
}

// BenchmarkSelectLongIn selects the series of 1000 hosts of a 10,000-series
// table by hostname IN (the 1000 names), as a join's dynamic filter asks:
// before merges the postings value by value and checks each series
// against the list one by one; after unions the postings with one sort and
// checks through a set. It reports CPU ms per call of each and their
// ratio.
func BenchmarkSelectLongIn(b *testing.B) {
	t := newTable(1, "db", "tbl")
	var hosts []string
	for h := range 1000 {
		hosts = append(hosts, fmt.Sprintf("host_%d", h))
		for m := range 10 {
			t.addSeries(testSeries(uint64(h*10+m+1), 1, fmt.Sprintf("m%d", m), ingest.Dimension{Name: "host", Value: hosts[h]}))
		}
	}
	where := []scan.Matcher{{Name: "host", Op: scan.MatchIn, Values: hosts}}
	var cpu [2]time.Duration
	for b.Loop() {
		for i := range 2 {
			noLongLists = i == 0
			c0 := cputime.Process()
			got := len(t.selectSeries(where, 10000))
			noLongLists = false
			if got != 10000 {
				b.Fatalf("%d series, want 10000", got)
			}
			cpu[i] += cputime.Process() - c0
		}
	}
	per := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(b.N) }
	b.ReportMetric(per(cpu[0]), "before-cpu-ms")
	b.ReportMetric(per(cpu[1]), "after-cpu-ms")
	b.ReportMetric(float64(cpu[1])/float64(max(cpu[0], 1)), "after/before")
}

// BenchmarkSelectSeries selects every series of a 100,000-series table
// (as a cardinality query's {__name__=~".+"} does) and one measure's
// tenth: before sorts the selection by key on every call, after picks it
// from the cached key order. It reports CPU ms per call of each and their
// ratio.
func BenchmarkSelectSeries(b *testing.B) {
	const n = 100_000
	t := newTable(1, "db", "tbl")
	for i := range n {
		t.addSeries(testSeries(uint64(i+1), 1, fmt.Sprintf("m%d", i%10),
			ingest.Dimension{Name: "host", Value: fmt.Sprintf("host_%d", i/10)}))
	}
	for _, tc := range []struct {
		name  string
		where []scan.Matcher
		want  int
	}{
		{"all", nil, n},
		{"one-measure", []scan.Matcher{{Name: scan.ColMeasureName, Op: scan.MatchEqual, Values: []string{"m3"}}}, n / 10},
		{"most", []scan.Matcher{{Name: scan.ColMeasureName, Op: scan.MatchNotEqual, Values: []string{"m3"}}}, n - n/10},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var cpu [2]time.Duration
			for b.Loop() {
				for i := range 2 {
					noOrderCache = i == 0
					c0 := cputime.Process()
					got := len(t.selectSeries(tc.where, n))
					noOrderCache = false
					if got != tc.want {
						b.Fatalf("%d series, want %d", got, tc.want)
					}
					cpu[i] += cputime.Process() - c0
				}
			}
			per := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(b.N) }
			b.ReportMetric(per(cpu[0]), "before-cpu-ms")
			b.ReportMetric(per(cpu[1]), "after-cpu-ms")
			b.ReportMetric(float64(cpu[1])/float64(max(cpu[0], 1)), "after/before")
		})
	}
}
