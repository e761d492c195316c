package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Default peer binaries: the Debian package names.
var defaultBins = map[string]string{
	PeerVictoriaMetrics: "victoria-metrics",
	PeerPrometheus:      "prometheus",
	PeerInfluxDB:        "influxd",
}

var displayNames = map[string]string{
	"tidal":             "TidalDB",
	PeerVictoriaMetrics: "VictoriaMetrics",
	PeerPrometheus:      "Prometheus",
	PeerInfluxDB:        "InfluxDB",
}

// buildTidal builds ./cmd/tidal of the module the current directory is in.
func buildTidal(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "tidal")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/tidaldb/tidal/cmd/tidal")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build tidal (run from the tidal module or pass --tidal-bin): %w: %s", err, msg)
	}
	return out, nil
}

// tidalConfig is the YAML the harness starts tidal with: the Prometheus
// table follows the data layout so that PromQL sees the workload whichever
// driver wrote it (in the Timestream layout, the table of measurement
// meas).
func tidalConfig(addr, dataDir string, n Naming, meas string, memoryHours int, sync, extra string) string {
	table := n.Table
	if table == "" {
		table = meas
	}
	return fmt.Sprintf("server:\n  listen: %q\n  data_dir: %q\nretention:\n  memory_hours: %d\nprometheus:\n  database: %q\n  table: %q\nwal:\n  sync: %s\nlog:\n  level: warn\n",
		addr, dataDir, memoryHours, n.DB, table, sync) + extra
}

// startTidal starts a tidal server on a free loopback port, with its
// config (plus the YAML extra) and data directory under work and the WAL
// fsync policy sync.
func startTidal(ctx context.Context, bin, work string, n Naming, meas string, memoryHours int, sync, extra string) (*system, error) {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("create tidal work dir: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &system{name: displayNames["tidal"], kind: "tidal", url: "http://" + addr, dataDir: filepath.Join(work, "tidal-data")}
	cfg := filepath.Join(work, "tidal.yaml")
	if err := os.WriteFile(cfg, []byte(tidalConfig(addr, s.dataDir, n, meas, memoryHours, sync, extra)), 0o644); err != nil {
		return nil, fmt.Errorf("write tidal config: %w", err)
	}
	if err := startProcess(ctx, s, bin, []string{"server", "--config", cfg}, "/healthz"); err != nil {
		return nil, err
	}
	return s, nil
}

// startPeer starts the peer called kind from bin on a free loopback port
// with a data directory under work, with the flags of
// docs in benchmarks.md section C. outOfOrder lets Prometheus take samples
// older than a series' newest (the late IoT points); the other peers
// always do.
func startPeer(ctx context.Context, kind, bin, work string, outOfOrder bool) (*system, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &system{name: displayNames[kind], kind: kind, url: "http://" + addr, dataDir: filepath.Join(work, kind+"-data")}
	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s data dir: %w", kind, err)
	}
	var args []string
	ready := ""
	switch kind {
	case PeerVictoriaMetrics:
		// The rollup cache is off so that repeated runs measure the engine.
		args = []string{"-storageDataPath=" + s.dataDir, "-httpListenAddr=" + addr, "-retentionPeriod=100y",
			"-search.latencyOffset=1s", "-search.disableCache", "-loggerLevel=ERROR"}
		ready = "/health"
	case PeerPrometheus:
		cfg := filepath.Join(work, "prometheus.yml")
		conf := "global:\n  scrape_interval: 15s\n"
		if outOfOrder {
			conf += "storage:\n  tsdb:\n    out_of_order_time_window: 1h\n"
		}
		if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
			return nil, fmt.Errorf("write prometheus config: %w", err)
		}
		args = []string{"--config.file=" + cfg, "--storage.tsdb.path=" + s.dataDir, "--web.listen-address=" + addr,
			"--web.enable-remote-write-receiver", "--web.enable-admin-api", "--storage.tsdb.retention.time=100y", "--log.level=error"}
		ready = "/-/ready"
	case PeerInfluxDB:
		rpc, err := freeAddr()
		if err != nil {
			return nil, err
		}
		cfg := filepath.Join(work, "influxdb.conf")
		conf := fmt.Sprintf("reporting-disabled = true\nbind-address = %q\n[meta]\n  dir = %q\n[data]\n  dir = %q\n  wal-dir = %q\n  query-log-enabled = false\n  cache-snapshot-write-cold-duration = \"1s\"\n[monitor]\n  store-enabled = false\n[http]\n  bind-address = %q\n  log-enabled = false\n",
			rpc, filepath.Join(s.dataDir, "meta"), filepath.Join(s.dataDir, "data"), filepath.Join(s.dataDir, "wal"), addr)
		if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
			return nil, fmt.Errorf("write influxdb config: %w", err)
		}
		args = []string{"-config", cfg}
		ready = "/ping"
	default:
		return nil, fmt.Errorf("%w: unknown peer %q", ErrBadOptions, kind)
	}
	if err := startProcess(ctx, s, bin, args, ready); err != nil {
		return nil, err
	}
	return s, nil
}

// flush asks the system to write its in-memory data to disk and returns
// the bytes that hold the data afterwards, with a note on how they were
// measured.
//
//   - TidalDB: POST /api/v1/admin/flush, then the data directory (as is
//     when the endpoint does not exist).
//   - VictoriaMetrics: /internal/force_flush (so that queries see every
//     sample), and the data directory without its cache/ is measured after
//     the queries, once a clean stop has written every in-memory part
//     (measureAfterStop): force_flush returns before VictoriaMetrics has
//     written them all, and the directory can stay unchanged for seconds
//     before the next write (measured right away it held less than half of
//     what it keeps; after a 5 s quiet spell, a tenth on the IoT data).
//   - Prometheus has no flush: a head snapshot (admin API) writes the head
//     as one compacted block, which is what the head becomes after its
//     compaction; the snapshot is measured, the WAL is not.
//   - InfluxDB 1.x has no flush: it is started with a 1 s cold-cache
//     snapshot, so the harness waits (up to 30 s) for the WAL to be
//     written to TSM files and emptied, then measures data + WAL.
func (s *system) flush(ctx context.Context, hc *http.Client) (usage diskUsage, note string, err error) {
	if s.dataDir == "" {
		return diskUsage{}, "external target: not measured", nil
	}
	var method, path string
	switch s.kind {
	case "tidal":
		method, path = http.MethodPost, "/api/v1/admin/flush"
	case PeerVictoriaMetrics:
		method, path = http.MethodGet, "/internal/force_flush"
	case PeerPrometheus:
		return s.prometheusSnapshot(ctx, hc)
	case PeerInfluxDB:
		return s.influxSettle(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, nil)
	if err != nil {
		return diskUsage{}, "", fmt.Errorf("build flush request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return diskUsage{}, "", fmt.Errorf("flush %s: %w", s.name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2 && s.kind == PeerVictoriaMetrics:
		// Measured by measureAfterStop: see flush's doc.
		return diskUsage{}, "", nil
	case resp.StatusCode/100 == 2:
		note = "data dir after " + path
	case s.kind == "tidal" && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed):
		note = fmt.Sprintf("%s has no flush endpoint (%d): data dir as is (WAL, memstore)", path, resp.StatusCode)
	default:
		return diskUsage{}, "", fmt.Errorf("flush %s: %s", s.name, resp.Status)
	}
	u, err := dirUsage(s.dataDir)
	return u, note, err
}

// prometheusSnapshot writes a head snapshot and measures it.
func (s *system) prometheusSnapshot(ctx context.Context, hc *http.Client) (diskUsage, string, error) {
	body, err := doPost(ctx, hc, s.url+"/api/v1/admin/tsdb/snapshot", "application/x-www-form-urlencoded", nil, nil)
	if err != nil {
		return diskUsage{}, "", fmt.Errorf("snapshot prometheus: %w", err)
	}
	var out struct {
		Data struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Data.Name == "" || strings.ContainsAny(out.Data.Name, "/\\") {
		return diskUsage{}, "", fmt.Errorf("snapshot prometheus: odd answer %q", body)
	}
	u, err := dirUsage(filepath.Join(s.dataDir, "snapshots", out.Data.Name))
	return u, "head snapshot block (admin API), WAL excluded", err
}

// influxSettle waits for InfluxDB to move its WAL into TSM files.
func (s *system) influxSettle(ctx context.Context) (diskUsage, string, error) {
	wal := filepath.Join(s.dataDir, "wal")
	deadline := time.Now().Add(30 * time.Second)
	for {
		w, err := dirUsage(wal)
		if err != nil {
			return diskUsage{}, "", err
		}
		if w.Apparent == 0 || time.Now().After(deadline) {
			u, err := dirUsage(s.dataDir)
			if w.Apparent == 0 {
				return u, "data dir after the cache was snapshotted to TSM (WAL empty)", err
			}
			return u, fmt.Sprintf("data dir with %d WAL bytes left after 30 s", w.Apparent), err
		}
		select {
		case <-ctx.Done():
			return diskUsage{}, "", ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// measureAfterStop stops s and measures its data directory without
// cache/ (derived data), for systems that write their data on a clean
// stop; it reports whether it measured.
func (s *system) measureAfterStop() (diskUsage, string, bool, error) {
	if s.kind != PeerVictoriaMetrics || s.dataDir == "" {
		return diskUsage{}, "", false, nil
	}
	if err := s.stop(); err != nil {
		return diskUsage{}, "", true, err
	}
	u, err := dirUsageWithout(s.dataDir, "cache")
	return u, "data dir without cache/ after /internal/force_flush and a clean stop", true, err
}

// dirUsageWithout is dirUsage of dir less its top-level entry skip.
func dirUsageWithout(dir, skip string) (diskUsage, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return diskUsage{}, fmt.Errorf("measure data dir: %w", err)
	}
	var total diskUsage
	for _, e := range entries {
		if e.Name() == skip {
			continue
		}
		u, err := dirUsage(filepath.Join(dir, e.Name()))
		if err != nil {
			return diskUsage{}, err
		}
		total.Apparent += u.Apparent
		total.Allocated += u.Allocated
	}
	return total, nil
}
