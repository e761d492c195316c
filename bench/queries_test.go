package bench

import (
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBuildQueriesDeterministicAndInRange(t *testing.T) {
	for _, span := range []time.Duration{10 * time.Minute, 3 * time.Hour, 24 * time.Hour} {
		end := testStart.Add(span)
		a := buildQueries(testStart, end, 100, 10*time.Second, 7)
		b := buildQueries(testStart, end, 100, 10*time.Second, 7)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("span %v: same seed, different queries", span)
		}
		if c := buildQueries(testStart, end, 100, 10*time.Second, 8); span > time.Hour && reflect.DeepEqual(a, c) {
			t.Errorf("span %v: seeds 7 and 8 give the same queries", span)
		}
		if len(a) != 14 {
			t.Fatalf("%d queries, want 14", len(a))
		}
		for _, q := range a {
			if q.Start.Before(testStart) || q.End.After(end) || !q.End.After(q.Start) {
				t.Errorf("span %v: %s window [%v, %v) outside data", span, q.Name, q.Start, q.End)
			}
			if q.kind != kindLastPoint && q.kind != kindHighCPU && (q.Start.Sub(testStart)%q.Bucket != 0 || q.End.Sub(q.Start)%q.Bucket != 0) {
				t.Errorf("span %v: %s window not aligned to bucket %v", span, q.Name, q.Bucket)
			}
		}
	}
}

func TestQueryTexts(t *testing.T) {
	q := Query{Name: "single-groupby-1-8-1", kind: kindSingleGroupBy, metrics: cpuMetrics[:1], hosts: []string{"host_9", "host_3"},
		Start: testStart, End: testStart.Add(time.Hour), Bucket: time.Minute}
	wantSQL := "SELECT bin(time, 60s) AS minute,\n        max(case when measure_name = 'usage_user' THEN measure_value::double ELSE NULL END) as max_usage_user\n" +
		"        FROM \"benchmark\".\"cpu\"\n        WHERE (measure_name = 'usage_user') AND (hostname = 'host_9' OR hostname = 'host_3') AND time >= '2024-01-01 00:00:00 +0000' AND time < '2024-01-01 01:00:00 +0000'\n" +
		"        GROUP BY 1 ORDER BY 1 ASC"
	if got := q.SQL(NamingTimestream); got != wantSQL {
		t.Errorf("SQL:\n%s\nwant\n%s", got, wantSQL)
	}
	if got := q.SQL(NamingPrometheus); !strings.Contains(got, `FROM "prometheus"."metrics"`) || !strings.Contains(got, "measure_name = 'cpu_usage_user'") {
		t.Errorf("SQL for the Prometheus layout:\n%s", got)
	}
	pr := q.PromQL(NamingPrometheus)
	want := PromRange{Expr: `max(max_over_time(cpu_usage_user{hostname=~"host_9|host_3"}[59999ms]))`, Start: testStart.Add(time.Minute), End: testStart.Add(time.Hour), Step: time.Minute}
	if pr != want {
		t.Errorf("PromQL = %+v, want %+v", pr, want)
	}
	if got, want := q.InfluxQL(), "SELECT max(usage_user) FROM cpu WHERE (hostname = 'host_9' OR hostname = 'host_3') AND time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T01:00:00Z' GROUP BY time(1m)"; got != want {
		t.Errorf("InfluxQL = %s, want %s", got, want)
	}
	multi := Query{Name: "double-groupby-5", kind: kindDoubleGroupBy, metrics: cpuMetrics[:2], Start: testStart, End: testStart.Add(time.Hour), Bucket: time.Hour}
	if got, want := multi.PromQL(NamingTimestream).Expr, `label_replace(avg by (hostname) (avg_over_time(usage_user{}[3599999ms])), "measure", "usage_user", "", "") or label_replace(avg by (hostname) (avg_over_time(usage_system{}[3599999ms])), "measure", "usage_system", "", "")`; got != want {
		t.Errorf("multi-metric PromQL = %s\nwant %s", got, want)
	}
	last := Query{Name: "lastpoint", kind: kindLastPoint, Start: testStart, End: testStart.Add(10 * time.Second), Bucket: 10 * time.Second}
	if got := last.PromQL(NamingPrometheus); got.Expr != `{__name__=~"cpu_usage_.*"}` || !got.Start.Equal(testStart) || !got.End.Equal(testStart) {
		t.Errorf("lastpoint PromQL = %+v", got)
	}
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		done, total int64
		el          time.Duration
		final       bool
		want        string
	}{
		{50_000, 100_000, 2 * time.Second, false, "\ringest                         50.0K/100.0K samples ( 50.0%)  25.0K/s  ETA 2s   "},
		{0, 100, 0, false, "\ringest                         0/100 samples (  0.0%)  0/s  ETA --   "},
		{2_000_000, 2_000_000, 4 * time.Second, true, "\ringest                         2.00M/2.00M samples (100.0%)  500.0K/s  in 4s\n"},
	}
	for _, tc := range tests {
		if got := progressLine("ingest", "samples", tc.done, tc.total, tc.el, tc.final); got != tc.want {
			t.Errorf("progressLine(%d, %d) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
}

func TestLatencyOf(t *testing.T) {
	var runs []time.Duration
	for i := 20; i >= 1; i-- {
		runs = append(runs, time.Duration(i)*time.Millisecond)
	}
	got := latencyOf(runs)
	want := latency{Min: time.Millisecond, Median: 11 * time.Millisecond, P95: 19 * time.Millisecond, Max: 20 * time.Millisecond}
	if got != want {
		t.Errorf("latencyOf = %+v, want %+v", got, want)
	}
	if runs[0] != 20*time.Millisecond {
		t.Error("latencyOf sorted its argument")
	}
	if (latencyOf(nil) != latency{}) {
		t.Error("latencyOf(nil) not zero")
	}
}

func TestReadVmHWMAndDirSize(t *testing.T) {
	dir := t.TempDir()
	status := filepath.Join(dir, "status")
	if err := os.WriteFile(status, []byte("Name:\ttidal\nVmPeak:\t  9999 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 100 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readVmHWM(status); err != nil || got != 12345*1024 {
		t.Errorf("readVmHWM = %d, %v; want %d", got, err, 12345*1024)
	}
	if err := os.WriteFile(status, []byte("Name:\ttidal\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readVmHWM(status); err == nil {
		t.Error("readVmHWM without VmHWM: no error")
	}
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]int{"a/x": 10, "a/b/y": 32} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	u, err := dirUsage(filepath.Join(dir, "a"))
	if err != nil || u.Apparent != 42 || u.Allocated < 42 || u.Allocated%512 != 0 {
		t.Errorf("dirUsage = %+v, %v; want 42 apparent bytes in whole 512-byte blocks", u, err)
	}
	if u, err := dirUsage(filepath.Join(dir, "missing")); err != nil || u != (diskUsage{}) {
		t.Errorf("dirUsage(missing) = %+v, %v; want zero, nil", u, err)
	}
}

func TestBarChartIsWellFormedSVG(t *testing.T) {
	c := &barChart{Title: "Ingest <rate>", Unit: "samples/s", Series: []string{"TidalDB", "VM"},
		Groups: []barGroup{{Label: "q&1", Values: []float64{10, 20}}, {Label: "q2", Values: []float64{math.NaN(), 5}}}}
	svg := c.SVG()
	d := xml.NewDecoder(strings.NewReader(svg))
	rects, texts := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed XML: %v\n%s", err, svg)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "rect":
				rects++
			case "text":
				texts++
			}
		}
	}
	// background + 3 bars + 2 legend swatches; title + 2 labels + 3 values + 1 n/a + 2 legend names.
	if rects != 6 || texts != 9 {
		t.Errorf("%d rects and %d texts, want 6 and 9\n%s", rects, texts, svg)
	}
	if !strings.Contains(svg, "Ingest &lt;rate&gt;") || !strings.Contains(svg, ">20<") {
		t.Errorf("title or value missing:\n%s", svg)
	}
}

func TestOptionsValidate(t *testing.T) {
	good := DefaultOptions()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"clients", func(o *Options) { o.Clients = 0 }, "clients 0"},
		{"batch", func(o *Options) { o.Batch = 0 }, "batch 0"},
		{"driver", func(o *Options) { o.Driver = "pulsar" }, `unknown driver "pulsar"`},
		{"stream driver with a target", func(o *Options) { o.Driver = DriverKafka; o.Target = "http://127.0.0.1:1" }, "needs the harness to start tidal"},
		{"peer", func(o *Options) { o.Peers = []string{"timescaledb"} }, `unknown peer "timescaledb"`},
		{"dup peer", func(o *Options) { o.Peers = []string{"prometheus", "prometheus"} }, "given twice"},
		{"out", func(o *Options) { o.OutDir = "" }, "no output directory"},
	}
	for _, tc := range tests {
		o := DefaultOptions()
		tc.mod(&o)
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "bench: bad options") {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := LookupPreset("huge"); err == nil {
		t.Error("LookupPreset(huge): no error")
	}
	for _, name := range []string{"smoke", "small", "large"} {
		p, err := LookupPreset(name)
		if err != nil || p.Samples() <= 0 {
			t.Errorf("preset %s: %+v, %v", name, p, err)
		}
	}
	if p, _ := LookupPreset("smoke"); p.Samples() != 6000 {
		t.Errorf("smoke samples = %d, want 6000", p.Samples())
	}
}

func TestDropEmptySeries(t *testing.T) {
	nan := math.NaN()
	c := &barChart{Title: "q", Unit: "ms", Series: []string{"TidalDB sql", "TidalDB promql", "VM promql"},
		Groups: []barGroup{{Label: "a", Values: []float64{nan, 1, nan}}, {Label: "b", Values: []float64{nan, 2, 3}}}}
	got := dropEmptySeries(c)
	if !reflect.DeepEqual(got.Series, []string{"TidalDB promql", "VM promql"}) || len(got.Groups) != 2 ||
		got.Groups[0].Values[0] != 1 || !math.IsNaN(got.Groups[0].Values[1]) || got.Groups[1].Values[1] != 3 {
		t.Errorf("dropEmptySeries = %+v", got)
	}
}

func TestDirUsageWithoutSkipsOneEntry(t *testing.T) {
	dir := t.TempDir()
	for name, n := range map[string]int{"data/p1": 100, "data/p2": 50, "cache/big": 1000, "top": 7} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if u, err := dirUsageWithout(dir, "cache"); err != nil || u.Apparent != 157 {
		t.Errorf("dirUsageWithout = %+v, %v; want 157 apparent bytes", u, err)
	}
	if _, err := dirUsageWithout(filepath.Join(dir, "missing"), "cache"); err == nil {
		t.Errorf("dirUsageWithout of a missing dir: no error")
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		stat string
		want time.Duration
	}{
		// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
		{"4242 (tidal) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0", 3 * time.Second},
		{"7 (a) b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 3", 30 * time.Millisecond},
		{"7 (short) S 1 2", 0},
		{"no parenthesis", 0},
		{"7 (x) S 1 7 7 0 -1 0 0 0 0 0 x 2", 0},
	}
	for _, tc := range tests {
		if got := parseStatCPU(tc.stat); got != tc.want {
			t.Errorf("parseStatCPU(%q) = %v, want %v", tc.stat, got, tc.want)
		}
	}
	if r := (SystemResult{IngestCPU: 2 * time.Second, Ingest: IngestResult{Samples: 1000}}); r.CPUPerSample() != 2*time.Millisecond || samplesPerCPU(&r) != 500 {
		t.Errorf("CPU per sample %v, samples per CPU-s %v", r.CPUPerSample(), samplesPerCPU(&r))
	}
	if r := (SystemResult{}); r.CPUPerSample() != 0 || samplesPerCPU(&r) != 0 {
		t.Errorf("unknown CPU: %v, %v", r.CPUPerSample(), samplesPerCPU(&r))
	}
}
