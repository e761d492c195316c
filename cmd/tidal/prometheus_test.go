package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// promProcess is a real Prometheus server (Debian's prometheus package).
type promProcess struct {
	t      *testing.T
	addr   string
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan struct{}
}

func startPrometheus(t *testing.T, config string) *promProcess {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("the prometheus binary is needed (Debian package prometheus; `make deps` installs it): %v", err)
	}
	dir := t.TempDir()
	p := &promProcess{t: t, addr: freeAddr(t), logs: &syncBuffer{}, exited: make(chan struct{})}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(config, "$SELF", p.addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "--config.file="+cfgPath, "--web.listen-address="+p.addr,
		"--storage.tsdb.path="+filepath.Join(dir, "data"))
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get("http://" + p.addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("prometheus exited:\n%s", p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 60s:\n%s", p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// promResult is the data of a Prometheus API response.
type promResult struct {
	ResultType string `json:"resultType"`
	Result     []struct {
		Metric map[string]string `json:"metric"`
		Value  []any             `json:"value"`
		Values [][]any           `json:"values"`
	} `json:"result"`
}

func apiGet(t *testing.T, base, path string, params url.Values) promResult {
	t.Helper()
	resp, err := http.Get(base + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var env struct {
		Status string     `json:"status"`
		Error  string     `json:"error"`
		Data   promResult `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Status != "success" {
		t.Fatalf("%s%s?%s: %d %s (%v)", base, path, params.Encode(), resp.StatusCode, body, err)
	}
	return env.Data
}

// samplesOf flattens a matrix into "labels" -> "t=v t=v ...".
func samplesOf(r promResult) map[string]string {
	out := map[string]string{}
	for _, s := range r.Result {
		var lbls []string
		for k, v := range s.Metric {
			lbls = append(lbls, k+"="+v)
		}
		sort.Strings(lbls)
		var pts []string
		for _, p := range s.Values {
			pts = append(pts, fmt.Sprintf("%v=%v", p[0], p[1]))
		}
		if s.Value != nil {
			pts = append(pts, fmt.Sprintf("%v=%v", s.Value[0], s.Value[1]))
		}
		out[strings.Join(lbls, ",")] = strings.Join(pts, " ")
	}
	return out
}

// TestPrometheusRemoteWriteEndToEnd runs the real Prometheus scraping itself
// and TidalDB every second with remote_write into a real tidal server, kills
// and restarts TidalDB in the middle, and then checks that TidalDB holds
// every sample Prometheus holds for the same time range and that PromQL
// answers the same from both.
func TestPrometheusRemoteWriteEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	tidal := startServer(t, dataDir)
	tidalAddr := tidal.addr
	prom := startPrometheus(t, `
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ['$SELF']}]
  - job_name: tidal
    static_configs: [{targets: ['`+tidalAddr+`']}]
remote_write:
  - url: http://`+tidalAddr+`/api/v1/write
    queue_config: {capacity: 10000, max_shards: 4, min_shards: 1, max_samples_per_send: 2000,
                   batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s, retry_on_http_429: true}
`)
	start := time.Now()
	time.Sleep(8 * time.Second)
	// kill -9 TidalDB; Prometheus retries while it is down.
	tidal.kill()
	time.Sleep(2 * time.Second)
	tidal = startServerAt(t, dataDir, tidalAddr)
	time.Sleep(14 * time.Second)
	// The window compared: from the first scrape to 4 s ago, so that
	// remote-write has delivered everything in it.
	end := time.Now().Add(-4 * time.Second)
	from := start.Add(2 * time.Second)
	time.Sleep(3 * time.Second)

	rangeSel := fmt.Sprintf("[%dms]", end.Sub(from).Milliseconds())
	at := strconv.FormatFloat(float64(end.UnixMilli())/1000, 'f', 3, 64)
	for _, sel := range []string{`{job="prometheus"}`, `{job="tidal"}`, `up`} {
		params := url.Values{"query": {sel + rangeSel}, "time": {at}}
		want := samplesOf(apiGet(t, "http://"+prom.addr, "/api/v1/query", params))
		got := samplesOf(apiGet(t, tidal.url(), "/api/v1/query", params))
		if len(want) < 2 {
			t.Fatalf("%s: Prometheus has only %d series", sel, len(want))
		}
		missing := 0
		for k, w := range want {
			if got[k] != w {
				missing++
				if missing <= 3 {
					t.Errorf("%s series %s:\n prometheus %.300s\n tidal      %.300s", sel, k, w, got[k])
				}
			}
		}
		if missing > 0 {
			t.Fatalf("%s: %d of %d series differ", sel, missing, len(want))
		}
		t.Logf("%s: %d series identical in both", sel, len(want))
	}

	// PromQL answers the same from both. Evaluate half a second off the
	// scrape grid: Prometheus 3 (our engine) selects ranges left-open,
	// Prometheus 2.42 left-closed, which only differs for a sample exactly
	// on a range boundary.
	upRaw := apiGet(t, "http://"+prom.addr, "/api/v1/query", url.Values{"query": {`up{job="prometheus"}` + rangeSel}, "time": {at}})
	lastScrape, err := strconv.ParseFloat(fmt.Sprint(upRaw.Result[0].Values[len(upRaw.Result[0].Values)-1][0]), 64)
	if err != nil {
		t.Fatal(err)
	}
	evalEnd := lastScrape - 0.5
	evalStart := evalEnd - 6
	queries := []string{
		// Prometheus 3 (our engine) extrapolates rate() differently from
		// 2.42 in the window that holds a series' first sample; compare
		// series that existed 10 s before each step.
		`rate(prometheus_http_requests_total[5s]) and prometheus_http_requests_total offset 10s`,
		`sum by (job) (up)`,
		`histogram_quantile(0.9, sum by (le) (rate(prometheus_http_request_duration_seconds_bucket[5s])))`,
		`topk(3, prometheus_tsdb_head_samples_appended_total)`,
		`absent(no_such_metric_anywhere)`,
		`max_over_time(rate(prometheus_http_requests_total[5s])[6s:1s]) and prometheus_http_requests_total offset 12s`,
		`count(go_goroutines)`,
	}
	for _, q := range queries {
		params := url.Values{"query": {q}, "start": {strconv.FormatFloat(evalStart, 'f', 3, 64)},
			"end": {strconv.FormatFloat(evalEnd, 'f', 3, 64)}, "step": {"1"}}
		want := samplesOf(apiGet(t, "http://"+prom.addr, "/api/v1/query_range", params))
		got := samplesOf(apiGet(t, tidal.url(), "/api/v1/query_range", params))
		if len(want) == 0 {
			t.Fatalf("%s: empty result from Prometheus", q)
		}
		if !sameResults(want, got) {
			t.Errorf("%s differs:\n prometheus %.500v\n tidal      %.500v", q, want, got)
		}
	}
}

// sameResults compares two flattened results with a float tolerance.
func sameResults(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok {
			return false
		}
		ap, bp := strings.Fields(av), strings.Fields(bv)
		if len(ap) != len(bp) {
			return false
		}
		for i := range ap {
			at, aval, _ := strings.Cut(ap[i], "=")
			bt, bval, _ := strings.Cut(bp[i], "=")
			if at != bt {
				return false
			}
			x, err1 := strconv.ParseFloat(aval, 64)
			y, err2 := strconv.ParseFloat(bval, 64)
			if err1 != nil || err2 != nil {
				if aval != bval {
					return false
				}
				continue
			}
			if !(x == y || (math.IsNaN(x) && math.IsNaN(y)) || math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y))) {
				return false
			}
		}
	}
	return true
}

// TestPrometheusRemoteRead points a real Prometheus's remote_read at TidalDB
// and queries a series that only TidalDB has (written through the Timestream
// API into prometheus.metrics).
func TestPrometheusRemoteRead(t *testing.T) {
	tidal := startServer(t, t.TempDir())
	ctx := ctxT(t)
	c := tidal.writeClient()
	if _, err := c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("prometheus")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("prometheus"), TableName: aws.String("metrics")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	var recs []types.Record
	for i := range 60 {
		recs = append(recs, types.Record{
			Dimensions:   []types.Dimension{{Name: aws.String("site"), Value: aws.String("lab")}},
			MeasureName:  aws.String("tidal_only_metric"),
			MeasureValue: aws.String(strconv.Itoa(i * 10)),
			Time:         aws.String(strconv.FormatInt(now.Add(time.Duration(i-60)*time.Second).UnixMilli(), 10)),
		})
	}
	if _, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("prometheus"), TableName: aws.String("metrics"), Records: recs}); err != nil {
		t.Fatal(err)
	}
	for _, streamed := range []bool{true, false} {
		t.Run(fmt.Sprintf("streamed=%v", streamed), func(t *testing.T) {
			cfg := `
global: {scrape_interval: 1h}
remote_read:
  - url: ` + tidal.url() + `/api/v1/read
    read_recent: true
`
			if !streamed {
				// Prometheus falls back to SAMPLES when the server cannot stream;
				// force the non-streamed path by asking through a filtering proxy.
				cfg = strings.Replace(cfg, tidal.url(), startSamplesOnlyProxy(t, tidal.url()), 1)
			}
			prom := startPrometheus(t, cfg)
			params := url.Values{"query": {`tidal_only_metric{site="lab"}[61s]`}, "time": {strconv.FormatInt(now.Unix(), 10)}}
			res := apiGet(t, "http://"+prom.addr, "/api/v1/query", params)
			if len(res.Result) != 1 || res.Result[0].Metric["__name__"] != "tidal_only_metric" || res.Result[0].Metric["site"] != "lab" {
				t.Fatalf("result %+v", res)
			}
			vals := res.Result[0].Values
			if len(vals) != 60 {
				t.Fatalf("%d samples through remote-read, want 60", len(vals))
			}
			for i, v := range vals {
				if v[1] != strconv.Itoa(i*10) {
					t.Fatalf("sample %d = %v, want %d", i, v, i*10)
				}
			}
		})
	}
}

// startSamplesOnlyProxy forwards remote-read requests to target after
// removing STREAMED_XOR_CHUNKS from the accepted response types, so that the
// SAMPLES response path is exercised by the real Prometheus too.
func startSamplesOnlyProxy(t *testing.T, target string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		raw, err := snappy.Decode(nil, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req prompb.ReadRequest
		if err := req.Unmarshal(raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.AcceptedResponseTypes = []prompb.ReadRequest_ResponseType{prompb.ReadRequest_SAMPLES}
		out, err := req.Marshal()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		preq, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, target+r.URL.Path, bytes.NewReader(snappy.Encode(nil, out)))
		preq.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(preq)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
