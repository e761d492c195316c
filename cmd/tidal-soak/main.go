// Command tidal-soak is the soak test of a tidal server (`make soak`, not in
// CI): it starts the real binary on a temporary data directory, measures
// the highest Prometheus remote-write rate the server sustains, then writes
// at a fraction of that rate (default 80%) for a long time (default 30m)
// while PromQL and SQL (Query API) clients query the data, and samples the
// server's memory and goroutines at a fixed interval.
//
// The server runs in a steady state: its memory retention is the shortest
// there is (retention.memory_hours: 1) and the samples are written -lag
// (59m) behind the clock, so each one stays in the memory tier for one
// to two minutes before the memstore's minutely flush moves it into a
// magnetic part. The memory tier holds a bounded window of data, the
// magnetic tier takes the rest, and the queries read a range that spans
// both tiers.
//
// It prints one line per sample and a verdict. A soak passes when no write
// or query failed, data reached the magnetic tier, and none of these series
// grows: the last third of the samples at most -tolerance above the middle
// third, by their means for goroutines, open files and the memstore's chunk
// bytes, by their minimums for the heap and RSS (work running through a
// sample, such as a flush or a merge holding its data, lifts single
// samples; a leak lifts the floor). The clients pause while a sample is
// taken:
//
//   - goroutines (go_goroutines of /metrics);
//   - the live heap after a forced GC (HeapAlloc of /debug/pprof/heap);
//   - RSS (VmRSS of /proc/PID/status);
//   - open file descriptors (/proc/PID/fd);
//   - the memory tier's compressed chunk bytes (tidal_memstore_chunk_bytes),
//     the check that the memory tier did reach its steady state.
//
// The memory tier's series, the magnetic tier's live parts and the rows
// flushed into it are printed too.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

type options struct {
	tidal     string
	duration  time.Duration
	probe     time.Duration
	sample    time.Duration
	fraction  float64
	series    int
	batch     int
	workers   int
	tolerance float64
	queries   bool
	ckpt      time.Duration
	lag       time.Duration
	dataDir   string
}

func main() {
	var o options
	flag.StringVar(&o.tidal, "tidal", "bin/tidal", "tidal binary to soak")
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "length of the soak at the reduced rate")
	flag.DurationVar(&o.probe, "probe", 3*time.Minute, "length of the maximum-rate measurement (its first third is not counted)")
	flag.DurationVar(&o.sample, "sample", 30*time.Second, "interval between memory and goroutine samples")
	flag.Float64Var(&o.fraction, "fraction", 0.8, "soak rate as a fraction of the measured maximum")
	flag.IntVar(&o.series, "series", 10000, "series written")
	flag.IntVar(&o.batch, "batch", 1000, "samples per remote-write request (one per series)")
	flag.IntVar(&o.workers, "workers", 4, "concurrent remote-write clients")
	flag.BoolVar(&o.queries, "queries", true, "run PromQL and SQL clients during the soak")
	flag.DurationVar(&o.ckpt, "checkpoint-interval", 0, "memstore.checkpoint_interval of the server (0: its default)")
	flag.DurationVar(&o.lag, "lag", 59*time.Minute, "how far behind the clock samples are written; the server's memory retention is one hour, so a lag just under it sends each sample to the magnetic tier a few minutes after it is written")
	flag.Float64Var(&o.tolerance, "tolerance", 10, "flatness tolerance in percent")
	replay := flag.String("replay", "", "print the verdict of the sample lines of an earlier soak's output file, and exit")
	flag.StringVar(&o.dataDir, "data-dir", "", "data directory (default a temporary one, removed at the end)")
	flag.Parse()
	if *replay != "" {
		ok, err := replayVerdict(*replay, o.tolerance)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tidal-soak:", err)
			os.Exit(2)
		}
		if !ok {
			os.Exit(1)
		}
		return
	}
	if o.workers <= 0 || o.workers > o.series/max(o.batch, 1) {
		fmt.Fprintln(os.Stderr, "tidal-soak: -workers must be between 1 and -series / -batch")
		os.Exit(2)
	}
	if o.lag < 0 || o.lag >= time.Hour {
		fmt.Fprintln(os.Stderr, "tidal-soak: -lag must be at least 0 and under 1h (the memory retention)")
		os.Exit(2)
	}
	if o.batch <= 0 || o.series < o.batch || o.series%o.batch != 0 {
		fmt.Fprintln(os.Stderr, "tidal-soak: -series must be a positive multiple of -batch")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tidal-soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// run starts the server, probes, soaks and prints the verdict.
func run(ctx context.Context, o options) (bool, error) {
	dir := o.dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "tidal-soak-")
		if err != nil {
			return false, fmt.Errorf("create data dir: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	srv, err := startTidal(ctx, o.tidal, dir, o.ckpt)
	if err != nil {
		return false, err
	}
	defer srv.stop()

	var quiet sync.RWMutex // clients hold it shared; sampling takes it
	w := newWriter(srv.base, o, &quiet)
	// The queries run through the probe too (from its tenth second, once
	// there is data), so that the maximum is the one the server keeps up
	// while it answers them.
	qctx, cancelQ := context.WithCancel(ctx)
	defer cancelQ()
	q := newQueriers(srv.base, o.lag, &quiet)
	var wg sync.WaitGroup
	if o.queries {
		wg.Add(2)
		go func() { defer wg.Done(); sleep(qctx, 10*time.Second); q.promql(qctx) }()
		go func() { defer wg.Done(); sleep(qctx, 10*time.Second); q.sql(qctx) }()
	}
	fmt.Printf("probe: %d workers writing as fast as they can for %s (%d series, %d samples a request), queries running\n", o.workers, o.probe, o.series, o.batch)
	maxRate, err := w.probe(ctx, o.probe)
	if err != nil {
		return false, err
	}
	target := maxRate * o.fraction
	fmt.Printf("probe: max %.0f samples/s; soaking at %.0f samples/s for %s\n", maxRate, target, o.duration)

	sctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); w.paced(sctx, target) }()

	var samples []sample
	start := time.Now()
	tk := time.NewTicker(o.sample)
	defer tk.Stop()
	fmt.Println(header)
	lastSamples, lastT := w.stored.Load(), start
	lastReqs, lastLat := w.requests.Load(), w.latency.Load()
	for sctx.Err() == nil {
		select {
		case <-sctx.Done():
			continue
		case <-tk.C:
		}
		quiet.Lock()
		s, err := srv.sample()
		quiet.Unlock()
		if err != nil {
			fmt.Println("sample:", err)
			w.errors.Add(1)
			continue
		}
		now := time.Now()
		n := w.stored.Load()
		s.rate = float64(n-lastSamples) / now.Sub(lastT).Seconds()
		lastSamples, lastT = n, now
		reqs, lat := w.requests.Load(), w.latency.Load()
		if reqs > lastReqs {
			s.latency = time.Duration((lat - lastLat) / (reqs - lastReqs))
		}
		lastReqs, lastLat = reqs, lat
		s.at = now.Sub(start)
		samples = append(samples, s)
		fmt.Printf("%8s  %7.1f  %8.1f  %10.0f  %3.0f  %6.0f  %9.1f  %5.0f  %9.0f  %9.0f  %8.1f  %9d  %8d  %9d\n",
			s.at.Round(time.Second), mib(s.rss), mib(s.heap), s.goroutines, s.fds, s.series, mib(s.chunks), s.parts, s.flushed,
			s.rate, s.latency.Seconds()*1000, w.errors.Load(), q.ok.Load(), q.errors.Load())
	}
	cancel()
	cancelQ()
	wg.Wait()
	if ctx.Err() != nil {
		return false, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	achieved := float64(w.stored.Load()) / time.Since(start).Seconds()
	fmt.Printf("totals: %.0f samples/s on average (target %.0f, %.0f%% of it)\n", achieved, target, 100*achieved/target)
	if achieved < 0.9*target {
		fmt.Println("totals: the server did not keep the target rate: the soak ran saturated, not at the fraction of the maximum")
	}
	fmt.Printf("totals: %d samples written in %d requests, %d write errors (first: %s), %d queries, %d query errors (first: %s)\n",
		w.stored.Load(), w.requests.Load(), w.errors.Load(), w.firstErr(), q.ok.Load()+q.errors.Load(), q.errors.Load(), q.firstErr())
	return verdict(samples, o.tolerance, w.errors.Load()+q.errors.Load()), nil
}

// header names the columns of the sample lines; replayVerdict finds its
// columns by these names.
const header = "       t  rss_MiB  heap_MiB  goroutines  fds  series  chunk_MiB  parts  flushed_rows  samples/s  write_ms  write_err  query_ok  query_err"

func mib(b float64) float64 { return b / (1 << 20) }

// verdict prints whether each series is flat and returns whether the soak
// passed.
func verdict(s []sample, tolerance float64, errs int64) bool {
	if len(s) < 6 {
		fmt.Printf("verdict: FAIL: only %d samples; need at least 6 (longer -duration or shorter -sample)\n", len(s))
		return false
	}
	pass := errs == 0
	// check compares the last third of the samples with the middle third:
	// by their means, or, with floor, by their minimums. Transient work
	// that runs through a sample (a checkpoint holding its encoded data)
	// lifts single samples of the heap; a leak lifts the floor.
	check := func(name string, f func(sample) float64, floor bool) {
		third := len(s) / 3
		mid, last := mean(s[third:2*third], f), mean(s[len(s)-third:], f)
		lo1, lo2 := minimum(s[third:2*third], f), minimum(s[len(s)-third:], f)
		change, floorChange := 100*(last-mid)/mid, 100*(lo2-lo1)/lo1
		judged := change
		if floor {
			judged = floorChange
		}
		flat := judged <= tolerance // a fall is no leak
		pass = pass && flat
		word := "flat"
		if !flat {
			word = "NOT FLAT"
		}
		by := "mean"
		if floor {
			by = "floor"
		}
		fmt.Printf("verdict: %-28s mean %10.2f -> %10.2f (%+6.1f%%)  floor %10.2f -> %10.2f (%+6.1f%%)  by %s: %s\n",
			name, mid, last, change, lo1, lo2, floorChange, by, word)
	}
	fmt.Println("verdict: middle third -> last third of the samples")
	check("goroutines", func(x sample) float64 { return x.goroutines }, false)
	check("open files", func(x sample) float64 { return x.fds }, false)
	check("memstore chunk MiB", func(x sample) float64 { return mib(x.chunks) }, false)
	check("live heap MiB", func(x sample) float64 { return mib(x.heap) }, true)
	check("RSS MiB", func(x sample) float64 { return mib(x.rss) }, true)
	if last := s[len(s)-1]; last.flushed == 0 {
		fmt.Println("verdict: nothing was flushed to the magnetic tier: the memory tier was not in a steady state")
		pass = false
	} else {
		fmt.Printf("verdict: %.0f rows flushed to the magnetic tier, %.0f live parts at the end\n", last.flushed, last.parts)
	}
	fmt.Printf("verdict: errors %d\n", errs)
	if pass {
		fmt.Println("verdict: PASS")
	} else {
		fmt.Println("verdict: FAIL")
	}
	return pass
}

// replayVerdict reads the sample lines and totals of a soak's output and
// prints their verdict.
func replayVerdict(path string, tolerance float64) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read soak output: %w", err)
	}
	samples, errs, err := parseSamples(string(data))
	if err != nil {
		return false, err
	}
	return verdict(samples, tolerance, errs), nil
}

// parseSamples reads the sample lines that follow the header line in a
// soak's output, and the error count of the last one.
func parseSamples(out string) ([]sample, int64, error) {
	var samples []sample
	var errs int64
	var col map[string]int
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if line == header {
			col = make(map[string]int, len(f))
			for i, name := range f {
				col[name] = i
			}
			continue
		}
		if _, err := time.ParseDuration(f[0]); err != nil || col == nil || len(f) != len(col) {
			continue
		}
		v := make([]float64, len(f))
		for i := 1; i < len(f); i++ {
			var err error
			if v[i], err = strconv.ParseFloat(f[i], 64); err != nil {
				return nil, 0, fmt.Errorf("sample line %q: %w", line, err)
			}
		}
		samples = append(samples, sample{
			rss: v[col["rss_MiB"]] * (1 << 20), heap: v[col["heap_MiB"]] * (1 << 20), goroutines: v[col["goroutines"]],
			fds: v[col["fds"]], series: v[col["series"]], chunks: v[col["chunk_MiB"]] * (1 << 20),
			parts: v[col["parts"]], flushed: v[col["flushed_rows"]],
		})
		errs = int64(v[col["write_err"]] + v[col["query_err"]]) // running totals
	}
	if col == nil {
		return nil, 0, errors.New("no sample header line (output of an older tidal-soak?)")
	}
	return samples, errs, nil
}

func minimum(s []sample, f func(sample) float64) float64 {
	m := math.Inf(1)
	for _, x := range s {
		m = min(m, f(x))
	}
	return m
}

func mean(s []sample, f func(sample) float64) float64 {
	var t float64
	for _, x := range s {
		t += f(x)
	}
	return t / float64(len(s))
}

// sample is one measurement of the server.
type sample struct {
	at         time.Duration
	rss        float64 // bytes
	heap       float64 // live heap after a forced GC, bytes
	goroutines float64
	fds        float64       // open file descriptors
	series     float64       // series in the memory tier
	chunks     float64       // bytes of the memory tier's compressed chunks
	parts      float64       // live magnetic parts
	flushed    float64       // rows flushed to the magnetic tier so far
	rate       float64       // samples/s stored since the last sample
	latency    time.Duration // mean write latency since the last sample
}

// tidal is the server process under test.
type tidal struct {
	cmd    *exec.Cmd
	base   string
	log    string // the server's output
	exited chan struct{}
}

func startTidal(ctx context.Context, bin, dir string, ckpt time.Duration) (*tidal, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pick a port: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cfg := filepath.Join(dir, "soak.yml")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	yml := "server:\n  enable_pprof: true\nretention:\n  memory_hours: 1\n"
	if ckpt > 0 {
		yml += fmt.Sprintf("memstore:\n  checkpoint_interval: %s\n", ckpt)
	}
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	log, err := os.Create(filepath.Join(dir, "tidal.log"))
	if err != nil {
		return nil, fmt.Errorf("create server log: %w", err)
	}
	cmd := exec.Command(bin, "server", "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--listen", addr)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	t := &tidal{cmd: cmd, base: "http://" + addr, exited: make(chan struct{}), log: log.Name()}
	go func() { _ = cmd.Wait(); _ = log.Close(); close(t.exited) }()
	fmt.Printf("tidal: pid %d on %s, data and log in %s\n", cmd.Process.Pid, addr, dir)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(t.base + "/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return t, nil
			}
		}
		select {
		case <-t.exited:
			return nil, fmt.Errorf("tidal exited during start (log: %s)", log.Name())
		case <-ctx.Done():
			t.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.stop()
			return nil, errors.New("tidal not healthy after 30s")
		}
	}
}

// stop sends SIGTERM and waits (SIGKILL after 30s), and prints how long
// the server took to exit and the end of its log.
func (t *tidal) stop() {
	start := time.Now()
	_ = t.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.exited:
		fmt.Printf("shutdown: tidal exited %.1fs after SIGTERM\n", time.Since(start).Seconds())
	case <-time.After(30 * time.Second):
		fmt.Println("shutdown: tidal did not exit within 30s of SIGTERM; killing")
		_ = t.cmd.Process.Kill()
		<-t.exited
	}
	if data, err := os.ReadFile(t.log); err == nil {
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		fmt.Println("shutdown: last lines of the server log:")
		for _, l := range lines[max(0, len(lines)-12):] {
			fmt.Println("  " + l)
		}
	}
}

// sample forces two GCs through pprof (which reports the heap after the
// second: the first empties sync.Pools into their victim caches, the second
// frees those), then reads RSS and the metrics. The clients are paused, so
// that the heap holds no request in flight.
func (t *tidal) sample() (sample, error) {
	var s sample
	var heap string
	var err error
	for range 2 {
		if heap, err = get(t.base + "/debug/pprof/heap?gc=1&debug=1"); err != nil {
			return s, err
		}
	}
	if s.heap, err = field(heap, "# HeapAlloc = "); err != nil {
		return s, fmt.Errorf("pprof heap: %w", err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
	if err != nil {
		return s, fmt.Errorf("read status: %w", err)
	}
	kb, err := field(string(status), "VmRSS:")
	if err != nil {
		return s, fmt.Errorf("status: %w", err)
	}
	s.rss = kb * 1024
	metrics, err := get(t.base + "/metrics")
	if err != nil {
		return s, err
	}
	for _, m := range []struct {
		name string
		to   *float64
	}{
		{"go_goroutines", &s.goroutines},
		{"tidal_memstore_chunk_bytes", &s.chunks},
		{"tidal_memstore_series", &s.series},
		{"tidal_memstore_flushed_rows_total", &s.flushed},
		{"tidal_magnetic_parts", &s.parts},
	} {
		if *m.to, err = field(metrics, m.name+" "); err != nil {
			return s, fmt.Errorf("metrics: %w", err)
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", t.cmd.Process.Pid))
	if err != nil {
		return s, fmt.Errorf("list open files: %w", err)
	}
	s.fds = float64(len(fds))
	return s, nil
}

// field returns the number after the line prefix in text.
func field(text, prefix string) (float64, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseFloat(f[0], 64)
		}
	}
	return 0, fmt.Errorf("no %q line", prefix)
}

// get fetches u. It waits longer than the server's query timeout (60s), so
// that a query error is the server's, not the client's impatience.
func get(u string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 65*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get %s: %d %.200s", u, resp.StatusCode, b)
	}
	return string(b), nil
}

// errorLog counts failures and keeps the first.
type errorLog struct {
	errors atomic.Int64
	mu     sync.Mutex
	first  string
}

func (e *errorLog) fail(msg string) {
	if e.errors.Add(1) == 1 {
		e.mu.Lock()
		e.first = msg
		e.mu.Unlock()
	}
}

func (e *errorLog) firstErr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.first == "" {
		return "none"
	}
	return e.first
}

// writer sends remote-write 1.0 requests: group g of the series, one
// sample each, at the group's next timestamp.
type writer struct {
	errorLog
	url      string
	lag      time.Duration // samples are written this far behind the clock
	quiet    *sync.RWMutex
	client   *http.Client
	workers  int
	groups   []*group
	next     atomic.Int64 // group of the next request
	stored   atomic.Int64 // samples acknowledged
	requests atomic.Int64
	latency  atomic.Int64 // nanoseconds of acknowledged requests
}

type group struct {
	mu     sync.Mutex
	lastMs int64
	req    prompb.WriteRequest
}

func newWriter(base string, o options, quiet *sync.RWMutex) *writer {
	w := &writer{url: base + "/api/v1/write", workers: o.workers, quiet: quiet, lag: o.lag,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}}
	for g := 0; g < o.series/o.batch; g++ {
		gr := &group{}
		for i := 0; i < o.batch; i++ {
			id := g*o.batch + i
			gr.req.Timeseries = append(gr.req.Timeseries, prompb.TimeSeries{
				Labels: []prompb.Label{
					{Name: "__name__", Value: fmt.Sprintf("soak_metric_%d", id%10)},
					{Name: "instance", Value: fmt.Sprintf("host-%d:9100", id/10)},
					{Name: "job", Value: fmt.Sprintf("job-%d", id%7)},
				},
				Samples: []prompb.Sample{{}},
			})
		}
		w.groups = append(w.groups, gr)
	}
	return w
}

// body locks a group not being written and encodes its next request:
// every sample at the clock less the lag, one millisecond (at least) after
// the group's last one. The
// caller unlocks the group once the request is answered, so that each
// series is written in order, as Prometheus does.
func (w *writer) body() (*group, []byte, error) {
	var g *group
	for {
		g = w.groups[int(w.next.Add(1))%len(w.groups)]
		if g.mu.TryLock() {
			break
		}
	}
	ms := max(time.Now().Add(-w.lag).UnixMilli(), g.lastMs+1)
	g.lastMs = ms
	for i := range g.req.Timeseries {
		g.req.Timeseries[i].Samples[0] = prompb.Sample{Timestamp: ms, Value: float64(ms/1000) + float64(i)}
	}
	raw, err := g.req.Marshal()
	if err != nil {
		g.mu.Unlock()
		return nil, nil, fmt.Errorf("marshal: %w", err)
	}
	return g, snappy.Encode(nil, raw), nil
}

// send writes one request and counts the outcome.
func (w *writer) send(ctx context.Context) {
	w.quiet.RLock()
	defer w.quiet.RUnlock()
	g, body, err := w.body()
	if err != nil {
		w.fail(err.Error())
		return
	}
	defer g.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		w.fail(err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	start := time.Now()
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.fail(err.Error())
		}
		return
	}
	w.latency.Add(int64(time.Since(start)))
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_ = resp.Body.Close()
	w.requests.Add(1)
	if resp.StatusCode/100 != 2 {
		w.fail(fmt.Sprintf("remote-write %d %s", resp.StatusCode, strings.TrimSpace(string(msg))))
		return
	}
	w.stored.Add(int64(len(w.groups[0].req.Timeseries)))
}

// probe writes with every worker back to back for d and returns the
// stored samples per second over its last two thirds: the first third
// (a minute by default) fills the memory window, so the rate counted is
// the one the server keeps up while its flushes move data to the
// magnetic tier. Failures under this overload are reported, not counted
// against the soak.
func (w *writer) probe(ctx context.Context, d time.Duration) (float64, error) {
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var start time.Time
	var from int64
	warm := time.AfterFunc(d/3, func() {
		w.quiet.Lock()
		start, from = time.Now(), w.stored.Load()
		w.quiet.Unlock()
	})
	defer warm.Stop()
	var wg sync.WaitGroup
	for range w.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pctx.Err() == nil {
				w.send(pctx)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	w.quiet.Lock()
	n, errs := w.stored.Load()-from, w.errors.Load()
	elapsed := time.Since(start)
	w.quiet.Unlock()
	if errs > 0 {
		fmt.Printf("probe: %d requests failed at the maximum rate (first: %s)\n", errs, w.firstErr())
	}
	if n == 0 {
		return 0, fmt.Errorf("probe stored nothing (first error: %s)", w.firstErr())
	}
	w.stored.Store(0)
	w.requests.Store(0)
	w.errors.Store(0)
	w.first = ""
	return float64(n) / elapsed.Seconds(), nil
}

// paced sends requests at rate samples/s until ctx ends; a request that
// cannot start on time (every worker busy) starts late.
func (w *writer) paced(ctx context.Context, rate float64) {
	interval := time.Duration(float64(time.Second) * float64(len(w.groups[0].req.Timeseries)) / rate)
	tokens := make(chan struct{}, w.workers*8)
	var wg sync.WaitGroup
	// At most one request a group at a time: no more senders than groups.
	for range min(w.workers*2, len(w.groups)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range tokens {
				w.send(ctx)
			}
		}()
	}
	start := time.Now()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			close(tokens)
			wg.Wait()
			return
		case <-time.After(time.Until(start.Add(time.Duration(n) * interval))):
		}
		select {
		case tokens <- struct{}{}:
		case <-ctx.Done():
		}
	}
}

// queriers run PromQL (HTTP API) and SQL (Query API) queries in a loop.
type queriers struct {
	errorLog
	base  string
	lag   time.Duration // the writers' lag: the queries end there
	quiet *sync.RWMutex
	ok    atomic.Int64
	sqlc  *timestreamquery.Client
}

func newQueriers(base string, lag time.Duration, quiet *sync.RWMutex) *queriers {
	return &queriers{base: base, lag: lag, quiet: quiet, sqlc: timestreamquery.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("soak", "soak", ""),
	}, func(o *timestreamquery.Options) {
		o.BaseEndpoint = aws.String(base)
		o.EndpointDiscovery.EnableEndpointDiscovery = aws.EndpointDiscoveryDisabled
		o.HTTPClient = &http.Client{Transport: copyBody{http.DefaultTransport}}
	})}
}

// copyBody sends a private copy of each request body: the SDK closes its
// body once response headers arrive, which against a fast local server can
// cut the connection under the response (aws-sdk-go-v2#2737).
type copyBody struct{ base http.RoundTripper }

func (t copyBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return t.base.RoundTrip(req)
	}
	data, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r.ContentLength = int64(len(data))
	return t.base.RoundTrip(r)
}

// promql runs an instant, a range and a series query every second, at the
// newest samples (the clock less the lag). The range query's five minutes
// read both tiers: the last one or two minutes are in memory.
func (q *queriers) promql(ctx context.Context) {
	for ctx.Err() == nil {
		now := time.Now().Add(-q.lag)
		for _, u := range []string{
			"/api/v1/query?" + url.Values{"query": {`sum by (job) (rate(soak_metric_0[1m]))`}, "time": {strconv.FormatInt(now.Unix(), 10)}}.Encode(),
			"/api/v1/query_range?" + url.Values{
				"query": {`max by (instance) (max_over_time(soak_metric_1{job="job-3"}[1m]))`},
				"start": {strconv.FormatInt(now.Add(-5*time.Minute).Unix(), 10)},
				"end":   {strconv.FormatInt(now.Unix(), 10)},
				"step":  {"30"},
			}.Encode(),
			"/api/v1/series?" + url.Values{"match[]": {`soak_metric_2{job="job-3"}`}, "start": {strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)}}.Encode(),
		} {
			q.quiet.RLock()
			body, err := get(q.base + u)
			q.quiet.RUnlock()
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				q.fail(err.Error())
			case !strings.Contains(body, `"status":"success"`):
				q.fail("promql: " + body[:min(len(body), 200)])
			default:
				q.ok.Add(1)
			}
		}
		sleep(ctx, time.Second)
	}
}

// sql runs an aggregate of one instance's ten series over the five minutes
// before the newest samples (both tiers) every two seconds.
func (q *queriers) sql(ctx context.Context) {
	lag := int(q.lag.Seconds())
	stmt := fmt.Sprintf(`SELECT measure_name, count(*) AS n, max(measure_value::double) AS top FROM "prometheus"."metrics" WHERE instance = 'host-7:9100' AND time BETWEEN ago(%ds) AND ago(%ds) GROUP BY measure_name ORDER BY measure_name`, lag+300, lag)
	for ctx.Err() == nil {
		q.quiet.RLock()
		rows := 0
		p := timestreamquery.NewQueryPaginator(q.sqlc, &timestreamquery.QueryInput{QueryString: aws.String(stmt)})
		var err error
		for p.HasMorePages() && err == nil {
			var out *timestreamquery.QueryOutput
			if out, err = p.NextPage(ctx); err == nil {
				rows += len(out.Rows)
			}
		}
		q.quiet.RUnlock()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			q.fail("sql: " + err.Error())
		case rows != 10:
			q.fail(fmt.Sprintf("sql: %d rows, want 10 (one per metric)", rows))
		default:
			q.ok.Add(1)
		}
		sleep(ctx, 2*time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
