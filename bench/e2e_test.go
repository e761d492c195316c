package bench

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// TestSmokeEndToEnd runs the smoke preset against a real tidal server built
// from this repository and a real VictoriaMetrics (Debian package
// victoria-metrics), once per TidalDB ingest path, and checks that every
// table of the report is filled and that VictoriaMetrics answers every
// PromQL query exactly as TidalDB does.
func TestSmokeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers; skipped with -short")
	}
	vm, err := exec.LookPath("victoria-metrics")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("victoria-metrics not installed (CI's deps script installs the Debian package): %v", err)
		}
		t.Skipf("victoria-metrics not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// TIDAL_BENCH_TIDAL_BIN runs the test against a given binary instead
	// of building ./cmd/tidal (useful while cmd/tidal is mid-edit).
	bin := os.Getenv("TIDAL_BENCH_TIDAL_BIN")
	if bin == "" {
		if bin, err = buildTidal(ctx, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	for _, driver := range []string{DriverTimestream, DriverPromRW2} {
		t.Run(driver, func(t *testing.T) {
			o := DefaultOptions()
			o.Driver = driver
			o.Peers = []string{PeerVictoriaMetrics}
			o.Bin = map[string]string{PeerVictoriaMetrics: vm}
			if driver == DriverPromRW2 {
				// A peer that cannot start is reported, and the run goes on.
				o.Peers = append(o.Peers, PeerInfluxDB)
				o.Bin[PeerInfluxDB] = filepath.Join(t.TempDir(), "no-such-influxd")
			}
			o.TidalBin = bin
			o.OutDir = t.TempDir()
			o.WorkDir = t.TempDir()
			rep, err := Run(ctx, o)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkSmokeReport(t, rep, o)
		})
	}
}

func checkSmokeReport(t *testing.T, rep *Report, o Options) {
	t.Helper()
	if len(rep.Systems) != len(o.Peers)+1 || rep.Systems[0].Name != "TidalDB" || rep.Systems[1].Name != "VictoriaMetrics" {
		t.Fatalf("systems %+v", rep.Systems)
	}
	if len(o.Peers) == 2 {
		if s := rep.Systems[2]; s.Name != "InfluxDB" || !strings.Contains(s.IngestErr, "start InfluxDB") || len(s.Queries) != 0 {
			t.Errorf("missing peer: %+v", s)
		}
	}
	for _, s := range rep.Systems[:2] {
		if s.IngestErr != "" || s.Ingest.Samples != o.Preset.Samples() || s.Ingest.Rate() <= 0 {
			t.Errorf("%s ingest: %+v, err %q; want %d samples", s.Name, s.Ingest, s.IngestErr, o.Preset.Samples())
		}
		if s.Stored != o.Preset.Samples() || s.StoredErr != "" {
			t.Errorf("%s stored %d samples (%s), want %d", s.Name, s.Stored, s.StoredErr, o.Preset.Samples())
		}
		if s.DiskBytes <= 0 || s.DiskNote == "" || s.PeakRSS <= 1<<20 {
			t.Errorf("%s: disk %d (%q), rss %d", s.Name, s.DiskBytes, s.DiskNote, s.PeakRSS)
		}
		prom := 0
		for _, q := range s.Queries {
			if q.Lang != LangPromQL {
				continue // Timestream SQL errors are reported, not fatal, while the engine lands
			}
			prom++
			if q.Err != "" || len(q.Runs) != o.Preset.Runs {
				t.Errorf("%s %s: err %q, %d runs", s.Name, q.Name, q.Err, len(q.Runs))
			}
			if s.Kind != "tidal" && q.Agreement != "agree" {
				t.Errorf("%s %s: %s", s.Name, q.Name, q.Agreement)
			}
		}
		if prom != 14 {
			t.Errorf("%s ran %d PromQL queries, want 14", s.Name, prom)
		}
	}
	// Answers are not trivially empty: the single-groupby-1-1-1 answer
	// has one point per minute of the 10-minute window.
	if q := rep.find("TidalDB", "single-groupby-1-1-1", LangPromQL); q == nil || q.Rows != 10 {
		t.Errorf("single-groupby-1-1-1 answer: %+v", q)
	}
	if q := rep.find("TidalDB", "lastpoint", LangPromQL); q == nil || q.Rows != 100 {
		t.Errorf("lastpoint answer (10 hosts x 10 metrics): %+v", q)
	}
	if rep.Disagreements != 0 || rep.Missing != 0 {
		t.Errorf("%d disagreements, %d systems missing samples", rep.Disagreements, rep.Missing)
	}
	md, err := os.ReadFile(filepath.Join(o.OutDir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	for _, want := range []string{"## Machine", "## Ingest", "## Disk", "## Memory", "## Queries", "### Median latency ratio, TidalDB / peer",
		"| TidalDB | " + o.Driver + " | 6000 | 6000 |", "| VictoriaMetrics | promrw1 | 6000 | 6000 |", "go1."} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(text, "DISAGREE") {
		t.Errorf("report says DISAGREE")
	}
	for _, f := range []string{chartIngest, chartBytes, chartRSS, chartQuery} {
		b, err := os.ReadFile(filepath.Join(o.OutDir, f))
		if err != nil || !strings.HasPrefix(string(b), "<svg") || strings.Count(string(b), "<rect") < 3 {
			t.Errorf("chart %s: %v", f, err)
		}
	}
}

// TestSmokeIoTEndToEnd runs the smoke preset of the IoT use case (late,
// out-of-order and missing points) through remote-write into a real tidal
// and the real peers CI installs (VictoriaMetrics, Prometheus, InfluxDB):
// every system must store every sample, every peer's PromQL answer must
// equal TidalDB's, and every InfluxQL answer must equal TidalDB's SQL
// answer, row by row.
func TestSmokeIoTEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers; skipped with -short")
	}
	bins := map[string]string{}
	for peer, name := range map[string]string{PeerVictoriaMetrics: "victoria-metrics", PeerPrometheus: "prometheus", PeerInfluxDB: "influxd"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not installed (CI's deps script installs the Debian package): %v", name, err)
			}
			t.Skipf("%s not installed: %v", name, err)
		}
		bins[peer] = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := DefaultOptions()
	o.UseCase = tsbs.UseCaseIoT
	o.Driver = DriverPromRW1
	o.Peers = []string{PeerVictoriaMetrics, PeerPrometheus, PeerInfluxDB}
	o.Bin = bins
	o.TidalBin = e2eTidalBin(ctx, t)
	o.OutDir = t.TempDir()
	o.WorkDir = t.TempDir()
	rep, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(rep.Systems) != 4 {
		t.Fatalf("%d systems", len(rep.Systems))
	}
	if rep.QueriedSamples < 5600 || rep.QueriedSamples != rep.Samples {
		t.Errorf("workload of %d samples (%d queried)", rep.Samples, rep.QueriedSamples)
	}
	// Queries each system answers, per language.
	want := map[string]map[string]int{
		"TidalDB":         {LangSQL: 12, LangPromQL: 9},
		"VictoriaMetrics": {LangPromQL: 9},
		"Prometheus":      {LangPromQL: 9},
		"InfluxDB":        {LangInfluxQL: 10},
	}
	for _, s := range rep.Systems {
		if s.IngestErr != "" || s.Ingest.Samples != rep.Samples || s.Stored != rep.QueriedSamples || s.StoredErr != "" {
			t.Errorf("%s: ingest %+v (%q), stored %d (%q), want %d", s.Name, s.Ingest, s.IngestErr, s.Stored, s.StoredErr, rep.QueriedSamples)
		}
		got := map[string]int{}
		for _, q := range s.Queries {
			got[q.Lang]++
			if q.Err != "" || len(q.Runs) != o.Preset.Runs {
				t.Errorf("%s %s %s: err %q, %d runs", s.Name, q.Name, q.Lang, q.Err, len(q.Runs))
			}
			if s.Kind != "tidal" && q.Agreement != "agree" {
				t.Errorf("%s %s %s: %s", s.Name, q.Name, q.Lang, q.Agreement)
			}
		}
		if !reflect.DeepEqual(got, want[s.Name]) {
			t.Errorf("%s answered %v, want %v", s.Name, got, want[s.Name])
		}
	}
	// The answers compared are not empty: 10 trucks, each with its own
	// driving hours; every fleet and model has a mean load.
	for _, c := range []struct {
		query, lang string
		min, max    int
	}{
		{"avg-daily-driving-duration", LangSQL, 10, 10},
		{"avg-daily-driving-duration", LangPromQL, 10, 10},
		{"last-loc", LangSQL, 1, 10},
		{"avg-load", LangSQL, 2, 12},
		{"avg-vs-projected-fuel-consumption", LangSQL, 1, 4},
		{"breakdown-frequency", LangSQL, 1, 3},
	} {
		if q := rep.find("TidalDB", c.query, c.lang); q == nil || q.Rows < c.min || q.Rows > c.max {
			t.Errorf("%s %s: %+v, want %d-%d rows", c.query, c.lang, q, c.min, c.max)
		}
	}
	if rep.Disagreements != 0 || rep.Missing != 0 {
		t.Errorf("%d disagreements, %d systems missing samples", rep.Disagreements, rep.Missing)
	}
}

// e2eTidalBin builds ./cmd/tidal once per test (or takes
// TIDAL_BENCH_TIDAL_BIN).
func e2eTidalBin(ctx context.Context, t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("TIDAL_BENCH_TIDAL_BIN"); bin != "" {
		return bin
	}
	bin, err := buildTidal(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestIoTSessionQueriesMatchReference checks the two IoT queries that no
// peer language can say (driving sessions and breakdowns need runs of
// windows: LAG and a running SUM in SQL) against answers computed here
// from the generated points, on 6 hours of 10 trucks in a real tidal.
func TestIoTSessionQueriesMatchReference(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := e2eTidalBin(ctx, t)
	p := Preset{Name: "test", Hosts: 10, Span: 6 * time.Hour, Interval: 10 * time.Second, Runs: 1}
	start := time.Now().Add(-p.Span).Truncate(time.Hour)
	wl, err := generatedWorkload(p, tsbs.UseCaseIoT, start.UTC(), 99)
	if err != nil {
		t.Fatal(err)
	}
	s, err := startTidal(ctx, bin, t.TempDir(), NamingPrometheus, "readings", 10, SyncBatch, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.stop(); err != nil {
			t.Error(err)
		}
	}()
	hc := &http.Client{Timeout: time.Minute}
	d, err := NewDriver(DriverPromRW1, s.url, hc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runIngest(ctx, d, wl, 2, 2000, nil, "ingest"); err != nil {
		t.Fatal(err)
	}
	var session, breakdown *Query
	qs := buildIoTQueries(wl.start, wl.end, wl.fleets, 99)
	for i := range qs {
		switch qs[i].kind {
		case kindAvgDailySession:
			session = &qs[i]
		case kindBreakdownFrequency:
			breakdown = &qs[i]
		}
	}
	if session.windows() != 36 {
		t.Fatalf("session query over %d windows, want 36", session.windows())
	}

	// Per-truck 10-minute windows of one field, from the points.
	type window struct {
		start      int64
		sum        float64
		n          int
		name, info string // truck name; driver or model
	}
	windowsOf := func(q *Query, meas, field, infoTag string) map[string][]*window {
		byTruck := map[string]map[int64]*window{}
		err := wl.each(func(pt *tsbs.Point) error {
			if pt.Measurement != meas || pt.Time < q.Start.UnixNano() || pt.Time >= q.End.UnixNano() {
				return nil
			}
			var name, info string
			for _, tg := range pt.Tags {
				switch tg.Key {
				case "name":
					name = tg.Value
				case infoTag:
					info = tg.Value
				}
			}
			for i := range pt.Fields {
				if pt.Fields[i].Name != field {
					continue
				}
				ws := byTruck[name]
				if ws == nil {
					ws = map[int64]*window{}
					byTruck[name] = ws
				}
				b := pt.Time - pt.Time%int64(iotWindow)
				w := ws[b]
				if w == nil {
					w = &window{start: b, name: name, info: info}
					ws[b] = w
				}
				w.sum += pt.Fields[i].Value()
				w.n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]*window{}
		for name, ws := range byTruck {
			for _, w := range ws {
				out[name] = append(out[name], w)
			}
			slices.SortFunc(out[name], func(a, b *window) int { return int(a.start - b.start) })
		}
		return out
	}

	// Sessions: runs of consecutive driving windows (mean velocity > 1),
	// averaged in minutes per truck and day of the session's start.
	wantSessions := Table{}
	type dayKey struct {
		day          int64
		name, driver string
	}
	sums := map[dayKey][2]float64{}
	for _, ws := range windowsOf(session, "readings", "velocity", "driver") {
		prev := false
		var cur *[2]int64 // start, windows
		var runs [][2]int64
		for _, w := range ws {
			driving := w.sum/float64(w.n) > movingSpeed
			if driving && !prev {
				runs = append(runs, [2]int64{w.start, 0})
				cur = &runs[len(runs)-1]
			}
			if driving {
				cur[1]++
			}
			prev = driving
		}
		for _, r := range runs {
			k := dayKey{r[0] - r[0]%int64(24*time.Hour), ws[0].name, ws[0].info}
			s := sums[k]
			sums[k] = [2]float64{s[0] + float64(r[1]*10), s[1] + 1}
		}
	}
	for k, s := range sums {
		wantSessions.add(k.day/1e6, []string{k.name, k.driver}, []float64{s[0] / s[1]})
	}
	// Breakdowns: a truck's window turning broken (mean status >= 3)
	// after a window that was not, counted per model.
	wantBreakdowns := Table{}
	counts := map[string]float64{}
	for _, ws := range windowsOf(breakdown, "diagnostics", "status", "model") {
		for i, w := range ws {
			broken := w.sum/float64(w.n) >= brokenStatus
			if i > 0 && broken && ws[i-1].sum/float64(ws[i-1].n) < brokenStatus {
				counts[w.info]++
			} else {
				counts[w.info] += 0
			}
		}
	}
	total := 0.0
	for model, c := range counts {
		wantBreakdowns.add(0, []string{model}, []float64{c})
		total += c
	}
	if len(sums) < 10 || total == 0 {
		t.Fatalf("reference too thin to test anything: %d truck-days with sessions, %v breakdowns", len(sums), total)
	}

	for _, c := range []struct {
		q    *Query
		spec *tableSpec
		want Table
	}{
		{session, &tableSpec{Time: true, Keys: []string{"name", "driver"}, Vals: []string{"mean_session_minutes"}}, wantSessions},
		{breakdown, &tableSpec{Keys: []string{"model"}, Vals: []string{"breakdowns"}}, wantBreakdowns},
	} {
		got := Table{}
		if _, err := timestreamQueryTable(ctx, hc, s.url, c.q.SQL(NamingPrometheus), got, c.spec); err != nil {
			t.Fatalf("%s: %v", c.q.Name, err)
		}
		if d := compareTables(c.want, got); d != "" {
			t.Errorf("%s: %s\nwant %v\ngot  %v", c.q.Name, d, c.want, got)
		}
	}
}

// TestLineProtocolEndToEnd runs the smoke preset through line protocol
// (tidal-bench --driver influx) into a real tidal, VictoriaMetrics and
// InfluxDB 1.x: each answers the driver's CREATE DATABASE and stores every
// sample, and the report compares the three on the one wire format.
func TestLineProtocolEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers; skipped with -short")
	}
	bins := map[string]string{}
	for peer, name := range map[string]string{PeerVictoriaMetrics: "victoria-metrics", PeerInfluxDB: "influxd"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not installed (CI's deps script installs the Debian package): %v", name, err)
			}
			t.Skipf("%s not installed: %v", name, err)
		}
		bins[peer] = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := DefaultOptions()
	o.Driver = DriverInflux
	o.Clients = 2
	o.Peers = []string{PeerVictoriaMetrics, PeerInfluxDB}
	o.Bin = bins
	o.TidalBin = e2eTidalBin(ctx, t)
	o.OutDir = t.TempDir()
	o.WorkDir = t.TempDir()
	rep, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(rep.Systems) != 3 {
		t.Fatalf("%d systems", len(rep.Systems))
	}
	for i, name := range []string{"TidalDB", "VictoriaMetrics", "InfluxDB"} {
		s := rep.Systems[i]
		if s.Name != name || s.Driver != DriverInflux || s.IngestErr != "" || s.Ingest.Samples != 6000 || s.Stored != 6000 || s.StoredErr != "" {
			t.Errorf("system %d: %s via %s: ingest %+v (%q), stored %d (%q); want %s, influx, 6000 samples stored",
				i, s.Name, s.Driver, s.Ingest, s.IngestErr, s.Stored, s.StoredErr, name)
		}
	}
	if n := len(rep.Systems[0].Queries); n != 0 {
		t.Errorf("TidalDB ran %d queries on the multi-measure layout, want none", n)
	}
	md, err := os.ReadFile(filepath.Join(o.OutDir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| TidalDB | influx | 6000 | 6000 |", "| VictoriaMetrics | influx | 6000 | 6000 |", "| InfluxDB | influx | 6000 | 6000 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
