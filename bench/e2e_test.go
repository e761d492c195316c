package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
