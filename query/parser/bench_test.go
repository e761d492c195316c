package parser

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var cpuMetrics = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// tsbsQueries builds n rounds of the TSBS devops queries for Timestream
// (single-groupby-5-8-1, double-groupby-all, groupby-orderby-limit,
// lastpoint, high-cpu-1, cpu-max-all-8) over 4000 hosts, from a fixed seed.
func tsbsQueries(n int) []string {
	rng := rand.New(rand.NewPCG(42, 1))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := func(t time.Time) string { return t.Format("2006-01-02 15:04:05.999999 -0700") }
	hosts := func(k int) string {
		var hs []string
		for range k {
			hs = append(hs, fmt.Sprintf("hostname = 'host_%d'", rng.IntN(4000)))
		}
		return "(" + strings.Join(hs, " OR ") + ")"
	}
	sel := func(agg string, ms []string, sep string) string {
		var out []string
		for _, m := range ms {
			out = append(out, fmt.Sprintf("%[1]s(case when measure_name = '%[2]s' THEN measure_value::double ELSE NULL END) as %[1]s_%[2]s", agg, m))
		}
		return strings.Join(out, sep)
	}
	var qs []string
	for range n {
		t0 := start.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
		qs = append(qs,
			fmt.Sprintf("SELECT bin(time, 60s) AS minute,\n        %s\n        FROM \"benchmark\".\"cpu\"\n        WHERE (measure_name = 'usage_user' OR measure_name = 'usage_system' OR measure_name = 'usage_idle' OR measure_name = 'usage_nice' OR measure_name = 'usage_iowait') AND %s AND time >= '%s' AND time < '%s'\n        GROUP BY 1 ORDER BY 1 ASC",
				sel("max", cpuMetrics[:5], ",\n"), hosts(8), ts(t0), ts(t0.Add(time.Hour))),
			fmt.Sprintf("\n        SELECT bin(time, 3600s) as hour, \n\t\t\thostname,\n\t\t\t%s\n\t\tFROM \"benchmark\".\"cpu\"\n\t\tWHERE time >= '%s' AND time < '%s'\n\t\tGROUP BY 1, 2",
				strings.ReplaceAll(sel("avg", cpuMetrics, ",\n\t\t\t"), "as avg_", "as mean_"), ts(t0), ts(t0.Add(12*time.Hour))),
			fmt.Sprintf("SELECT bin(time, 60s) AS minute, max(measure_value::double) as max_usage_user\n        FROM \"benchmark\".\"cpu\"\n        WHERE time < '%s' AND measure_name = 'usage_user'\n        GROUP BY 1\n        ORDER BY 1 DESC\n        LIMIT 5", ts(t0)),
			"\n\tWITH latest_recorded_time AS (\n\t\tSELECT \n\t\t\thostname,\n\t\t\tmeasure_name,\n\t\t\tmax(time) as latest_time\n\t\tFROM \"benchmark\".\"cpu\"\n\t\tGROUP BY 1, 2\n\t)\n\tSELECT b.hostname, \n\t\tb.measure_name, \n\t\tb.measure_value::double, \n\t\tb.time\n\tFROM latest_recorded_time a\n\tJOIN \"benchmark\".\"cpu\" b\n\tON a.hostname = b.hostname AND a.latest_time = b.time AND a.measure_name = b.measure_name\n\tORDER BY hostname, measure_name",
			fmt.Sprintf("\n\t\tWITH usage_over_ninety AS (\n\t\t\tSELECT time, \n\t\t\t\thostname\n\t\t\tFROM \"benchmark\".\"cpu\"\n\t\t\tWHERE measure_name = 'usage_user' AND measure_value::double > 90\n\t\t\t\tAND time >= '%s' AND time < '%s'\n\t\t\t\tAND (hostname = 'host_%d')\n\t\t)\n\t\tSELECT * \n\t\tFROM \"benchmark\".\"cpu\" a\n\t\tJOIN usage_over_ninety b ON a.hostname = b.hostname AND a.time = b.time",
				ts(t0), ts(t0.Add(12*time.Hour)), rng.IntN(4000)),
			fmt.Sprintf("SELECT bin(time, 3600s) AS hour,\n\t\t\t%s\n\t\tFROM \"benchmark\".\"cpu\"\n\t\tWHERE %s AND time >= '%s' AND time < '%s'\n\t\tGROUP BY 1 ORDER BY 1",
				sel("max", cpuMetrics, ",\n\t\t\t"), hosts(8), ts(t0), ts(t0.Add(8*time.Hour))),
		)
	}
	return qs
}

func TestTSBSQueriesParse(t *testing.T) {
	qs := tsbsQueries(3)
	if len(qs) != 18 {
		t.Fatalf("got %d queries", len(qs))
	}
	for _, q := range qs {
		st, err := Parse(q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", q, err)
		}
		out := checkRoundTrip(t, st)
		if !strings.Contains(out, `FROM "benchmark"."cpu"`) {
			t.Errorf("canonical form lost the table: %s", out)
		}
	}
}

var sink any

// BenchmarkParse parses the TSBS devops query mix.
func BenchmarkParse(b *testing.B) {
	qs := tsbsQueries(20)
	var bytes int64
	for _, q := range qs {
		bytes += int64(len(q))
	}
	b.SetBytes(bytes / int64(len(qs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		st, err := Parse(qs[i%len(qs)])
		if err != nil {
			b.Fatal(err)
		}
		sink = st
	}
}

// BenchmarkParseSingleGroupby parses one single-groupby-5-8-1 query, the
// most common TSBS shape.
func BenchmarkParseSingleGroupby(b *testing.B) {
	q := tsbsQueries(1)[0]
	b.SetBytes(int64(len(q)))
	b.ReportAllocs()
	for b.Loop() {
		st, err := Parse(q)
		if err != nil {
			b.Fatal(err)
		}
		sink = st
	}
}

// BenchmarkFormat prints the TSBS query mix.
func BenchmarkFormat(b *testing.B) {
	var sts []Statement
	for _, q := range tsbsQueries(20) {
		st, err := Parse(q)
		if err != nil {
			b.Fatal(err)
		}
		sts = append(sts, st)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sink = Format(sts[i%len(sts)])
	}
}
