package main

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// Shape of the remote-write benchmark stream: TSBS devops cpu, rwHosts hosts
// x 10 metrics at a 10 s interval over rwSteps steps, sent by rwSenders
// senders in requests of rwBatch samples, as Prometheus's queue manager
// sends them (one TimeSeries per sample, series sharded by label hash,
// every shard's samples in time order).
const (
	rwSenders = 4
	rwBatch   = 2000
)

// rwHosts and rwSteps default to 1000 hosts x 1 h; TIDAL_RW_HOSTS and
// TIDAL_RW_STEPS override them (a smaller stream for a quick profile).
func rwShape() (hosts, steps int) {
	hosts, steps = 1000, 360
	if v, err := strconv.Atoi(os.Getenv("TIDAL_RW_HOSTS")); err == nil && v > 0 {
		hosts = v
	}
	if v, err := strconv.Atoi(os.Getenv("TIDAL_RW_STEPS")); err == nil && v > 0 {
		steps = v
	}
	return hosts, steps
}

// rwSeries is one series of the stream: its labels in Prometheus order
// (sorted by name, __name__ first) and its random walk.
type rwSeries struct {
	labels []prompb.Label
	value  float64
}

// rwSample is one sample of a sender's stream.
type rwSample struct {
	series *rwSeries
	ms     int64
	v      float64
}

// rwStream generates the samples of every sender, each in time order.
func rwStream(hosts, steps int, start time.Time) [][]rwSample {
	rng := rand.New(rand.NewPCG(5, 1))
	var series []*rwSeries
	for h := range hosts {
		tags := []prompb.Label{
			{Name: "arch", Value: "x64"},
			{Name: "datacenter", Value: "eu-west-1c"},
			{Name: "hostname", Value: "host_" + strconv.Itoa(h)},
			{Name: "os", Value: "Ubuntu16.04LTS"},
			{Name: "rack", Value: strconv.Itoa(h % 100)},
			{Name: "region", Value: "eu-west-1"},
			{Name: "service", Value: strconv.Itoa(h % 20)},
			{Name: "service_environment", Value: "production"},
			{Name: "service_version", Value: "1"},
			{Name: "team", Value: "NYC"},
		}
		for _, f := range cpuFields {
			ls := append([]prompb.Label{{Name: "__name__", Value: "cpu_" + f}}, tags...)
			series = append(series, &rwSeries{labels: ls, value: float64(rng.IntN(100))})
		}
	}
	// Shard by label hash, as Prometheus does.
	shards := make([][]*rwSeries, rwSenders)
	for _, s := range series {
		h := fnv.New64a()
		for _, l := range s.labels {
			h.Write([]byte(l.Name))
			h.Write([]byte{0xff})
			h.Write([]byte(l.Value))
			h.Write([]byte{0xff})
		}
		i := h.Sum64() % rwSenders
		shards[i] = append(shards[i], s)
	}
	out := make([][]rwSample, rwSenders)
	for step := range steps {
		ms := start.Add(time.Duration(step) * 10 * time.Second).UnixMilli()
		for i, sh := range shards {
			for _, s := range sh {
				s.value = min(max(s.value+rng.NormFloat64(), 0), 100)
				out[i] = append(out[i], rwSample{series: s, ms: ms, v: s.value})
			}
		}
	}
	return out
}

// encodeRW1 returns the snappy-compressed prometheus.WriteRequest bodies of
// one sender.
func encodeRW1(b testing.TB, samples []rwSample) [][]byte {
	var bodies [][]byte
	for from := 0; from < len(samples); from += rwBatch {
		batch := samples[from:min(from+rwBatch, len(samples))]
		req := prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, len(batch))}
		for i, s := range batch {
			req.Timeseries[i] = prompb.TimeSeries{Labels: s.series.labels, Samples: []prompb.Sample{{Timestamp: s.ms, Value: s.v}}}
		}
		raw, err := req.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, snappy.Encode(nil, raw))
	}
	return bodies
}

// encodeRW2 returns the snappy-compressed io.prometheus.write.v2.Request
// bodies of one sender, each with its own symbol table.
func encodeRW2(b testing.TB, samples []rwSample) [][]byte {
	var bodies [][]byte
	for from := 0; from < len(samples); from += rwBatch {
		batch := samples[from:min(from+rwBatch, len(samples))]
		syms := writev2.NewSymbolTable()
		req := writev2.Request{Timeseries: make([]writev2.TimeSeries, len(batch))}
		var refs []uint32
		for i, s := range batch {
			refs = refs[:0]
			for _, l := range s.series.labels {
				refs = append(refs, syms.Symbolize(l.Name), syms.Symbolize(l.Value))
			}
			req.Timeseries[i] = writev2.TimeSeries{
				LabelsRefs: append([]uint32(nil), refs...),
				Samples:    []writev2.Sample{{Value: s.v, Timestamp: s.ms}},
			}
		}
		req.Symbols = syms.Symbols()
		raw, err := req.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, snappy.Encode(nil, raw))
	}
	return bodies
}

// rwTarget is one receiving system.
type rwTarget struct {
	name string
	url  string // the remote-write endpoint
}

// sendStream posts every sender's bodies in order with rwSenders concurrent
// senders and returns the elapsed time. A 5xx or 429 is retried as
// Prometheus retries it; any other non-2xx fails the benchmark.
func sendStream(b *testing.B, target rwTarget, v2 bool, bodies [][][]byte) (time.Duration, int64) {
	b.Helper()
	ctype, version := "application/x-protobuf", "0.1.0"
	if v2 {
		ctype, version = "application/x-protobuf;proto=io.prometheus.write.v2.Request", "2.0.0"
	}
	tr := &http.Transport{MaxIdleConnsPerHost: rwSenders}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	var wg sync.WaitGroup
	var failed atomic.Value
	var retries atomic.Int64
	start := time.Now()
	for _, sb := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, body := range sb {
				for attempt := 0; ; attempt++ {
					req, err := http.NewRequest(http.MethodPost, target.url, bytes.NewReader(body))
					if err != nil {
						failed.Store(err)
						return
					}
					req.Header.Set("Content-Type", ctype)
					req.Header.Set("Content-Encoding", "snappy")
					req.Header.Set("X-Prometheus-Remote-Write-Version", version)
					resp, err := client.Do(req)
					if err != nil {
						failed.Store(fmt.Errorf("%s: %w", target.name, err))
						return
					}
					msg, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 == 2 {
						break
					}
					if (resp.StatusCode == 429 || resp.StatusCode/100 == 5) && attempt < 100 {
						retries.Add(1)
						continue
					}
					failed.Store(fmt.Errorf("%s: HTTP %d: %.300s", target.name, resp.StatusCode, msg))
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return elapsed, retries.Load()
}

// external is a peer database process started for the benchmark.
type external struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan struct{}
}

// startExternal runs bin with args and waits until GET readyURL answers 200.
func startExternal(b *testing.B, bin, readyURL string, args ...string) {
	b.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		b.Skipf("%s is not installed: %v", bin, err)
	}
	e := &external{cmd: exec.Command(path, args...), logs: &syncBuffer{}, exited: make(chan struct{})}
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { _ = e.cmd.Wait(); close(e.exited) }()
	b.Cleanup(func() {
		_ = e.cmd.Process.Signal(syscall.SIGKILL)
		<-e.exited
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(readyURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-e.exited:
			b.Fatalf("%s exited during start:\n%s", bin, e.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s not ready after 60s:\n%s", bin, e.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pprofConfig returns the flags that enable /debug/pprof/ on tidal (off by
// default) for profileServer.
func pprofConfig(b *testing.B) []string {
	cfg := filepath.Join(b.TempDir(), "pprof.yaml")
	if err := os.WriteFile(cfg, []byte("server:\n  enable_pprof: true\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return []string{"--config", cfg}
}

// profileServer fetches a 5 s CPU profile of the server at base into the
// file named by the environment variable env, when it is set; the returned
// channel is closed when done.
func profileServer(b *testing.B, base, env string) <-chan struct{} {
	done := make(chan struct{})
	path := os.Getenv(env)
	if path == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		resp, err := http.Get(base + "/debug/pprof/profile?seconds=5")
		if err != nil {
			b.Errorf("fetch profile: %v", err)
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err == nil {
			err = os.WriteFile(path, data, 0o644)
		}
		if err != nil {
			b.Errorf("save profile: %v", err)
		}
	}()
	return done
}

// BenchmarkRemoteWrite measures remote-write ingest in samples/s of the
// same pre-encoded TSBS devops stream (1000 hosts x 10 cpu metrics x 1 h at
// 10 s, 4 senders, 2000 samples per request) into a real tidal server, a
// real VictoriaMetrics and a real Prometheus (remote-write 1.0 only: Debian's
// 2.42 has no 2.0 receiver), each started fresh on an empty data directory.
// tidal acknowledges a request only once it is fsynced; the peers do not.
// The stream is sent once whatever b.N is; run it with -benchtime 1x:
//
//	go test -run '^$' -bench RemoteWrite -benchtime 1x ./cmd/tidal
//
// TIDAL_RW_ROUNDS repeats the tidal and VictoriaMetrics runs in alternating
// order and reports the best rate of each (the table lists every run);
// TIDAL_RW_HOSTS and TIDAL_RW_STEPS shrink the stream;
// TIDAL_RW_CPUPROFILE_10 and TIDAL_RW_CPUPROFILE_20 name files that receive
// a 5 s CPU profile of the tidal server during the 1.0 and 2.0 rounds.
func BenchmarkRemoteWrite(b *testing.B) {
	hosts, steps := rwShape()
	start := time.Now().Add(-time.Duration(steps)*10*time.Second - 5*time.Minute).Truncate(time.Minute)
	stream := rwStream(hosts, steps, start)
	total := 0
	rw1 := make([][][]byte, rwSenders)
	rw2 := make([][][]byte, rwSenders)
	for i, s := range stream {
		total += len(s)
		rw1[i] = encodeRW1(b, s)
		rw2[i] = encodeRW2(b, s)
	}
	rounds := 1
	if v, err := strconv.Atoi(os.Getenv("TIDAL_RW_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	type result struct {
		round         int
		system, proto string
		rate          float64
		retries       int64
	}
	var results []result
	rates := map[string]float64{} // best rate by system/proto
	// run sends the stream to target, in remote-write 2.0 when v2 is set,
	// and records its rate under system and proto.
	run := func(round int, system, proto string, target rwTarget, v2 bool) {
		bodies := rw1
		if v2 {
			bodies = rw2
		}
		// Collect the encoding garbage now, not while a system is timed.
		runtime.GC()
		elapsed, retries := sendStream(b, target, v2, bodies)
		rate := float64(total) / elapsed.Seconds()
		results = append(results, result{round, system, proto, rate, retries})
		rates[system+"/"+proto] = max(rates[system+"/"+proto], rate)
	}
	tidal := func(round int, proto string) {
		srv := startServer(b, b.TempDir(), pprofConfig(b)...)
		profiled := profileServer(b, srv.url(), "TIDAL_RW_CPUPROFILE_"+strings.ReplaceAll(proto, ".", ""))
		run(round, "tidal", proto, rwTarget{"tidal", srv.url() + "/api/v1/write"}, proto == "2.0")
		<-profiled
		srv.kill()
	}
	vm := func(round int, proto string) {
		vmAddr := freeAddr(b)
		startExternal(b, "victoria-metrics", "http://"+vmAddr+"/health",
			"-storageDataPath="+filepath.Join(b.TempDir(), "vm"), "-httpListenAddr="+vmAddr, "-loggerLevel=ERROR")
		// Debian's VictoriaMetrics predates remote-write 2.0: in the 2.0
		// round it gets the 1.0 encoding of the same samples.
		run(round, "victoria-metrics", proto, rwTarget{"victoria-metrics", "http://" + vmAddr + "/api/v1/write"}, false)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for round := range rounds {
		for _, proto := range []string{"1.0", "2.0"} {
			// Alternate the order so that drifting load on a shared
			// machine does not favour one system.
			if round%2 == 0 {
				tidal(round, proto)
				vm(round, proto)
			} else {
				vm(round, proto)
				tidal(round, proto)
			}
			if proto == "1.0" && round == 0 {
				promAddr := freeAddr(b)
				dir := b.TempDir()
				cfg := filepath.Join(dir, "prometheus.yml")
				if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
					b.Fatal(err)
				}
				startExternal(b, "prometheus", "http://"+promAddr+"/-/ready", "--config.file="+cfg,
					"--web.listen-address="+promAddr, "--storage.tsdb.path="+filepath.Join(dir, "data"),
					"--web.enable-remote-write-receiver", "--log.level=error")
				run(round, "prometheus", proto, rwTarget{"prometheus", "http://" + promAddr + "/api/v1/write"}, false)
			}
		}
	}
	b.StopTimer()

	// One Log call, the summary first: go test keeps only the first 10
	// lines of a benchmark's log.
	var tab strings.Builder
	fmt.Fprintf(&tab, "remote-write ingest, %d hosts x 10 metrics x %d steps = %d samples, %d senders, %d samples/request\n",
		hosts, steps, total, rwSenders, rwBatch)
	fmt.Fprintf(&tab, "best of %d round(s): tidal/VM %.2f (1.0), %.2f (2.0); every run:\n", rounds,
		rates["tidal/1.0"]/rates["victoria-metrics/1.0"], rates["tidal/2.0"]/rates["victoria-metrics/2.0"])
	vmRate := map[string]float64{} // by round/proto
	for _, r := range results {
		if r.system == "victoria-metrics" {
			vmRate[fmt.Sprint(r.round, r.proto)] = r.rate
		}
	}
	fmt.Fprintf(&tab, "%-5s %-18s %-8s %14s %10s %8s\n", "round", "system", "protocol", "samples/s", "vs VM", "retries")
	for _, r := range results {
		fmt.Fprintf(&tab, "%-5d %-18s %-8s %14.0f %10.2f %8d\n", r.round, r.system, r.proto, r.rate, r.rate/vmRate[fmt.Sprint(r.round, r.proto)], r.retries)
	}
	b.Log(strings.TrimSuffix(tab.String(), "\n"))
	b.ReportMetric(rates["tidal/1.0"], "tidal-rw1-samples/s")
	b.ReportMetric(rates["tidal/2.0"], "tidal-rw2-samples/s")
	b.ReportMetric(rates["victoria-metrics/1.0"], "vm-rw1-samples/s")
	b.ReportMetric(rates["prometheus/1.0"], "prom-rw1-samples/s")
	b.ReportMetric(rates["tidal/1.0"]/rates["victoria-metrics/1.0"], "tidal/vm-rw1")
	b.ReportMetric(rates["tidal/2.0"]/rates["victoria-metrics/2.0"], "tidal/vm-rw2")
}
