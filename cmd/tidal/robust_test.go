package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// The tests of this file each send one adversarial request (issue 13) to a
// real tidal server and check that it is refused with a clear reason while
// the server keeps serving, and that good data next to it is kept.

// startRobustServer starts tidal with tenant routing on.
func startRobustServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yml")
	if err := os.WriteFile(cfg, []byte("prometheus:\n  tenant_header: X-Scope-OrgID\n  max_tenants: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return startServer(t, filepath.Join(dir, "data"), "--config", cfg)
}

// rwBody encodes a remote-write 1.0 request.
func rwBody(t *testing.T, series ...prompb.TimeSeries) []byte {
	t.Helper()
	raw, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

func probeSeries(ms int64, v float64, kv ...string) prompb.TimeSeries {
	ts := prompb.TimeSeries{Samples: []prompb.Sample{{Timestamp: ms, Value: v}}}
	for i := 0; i+1 < len(kv); i += 2 {
		ts.Labels = append(ts.Labels, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ts
}

// httpDo sends a request with a bounded wait (a hang fails the test, not
// the run) and returns the status and body.
func httpDo(t *testing.T, method, u string, body []byte, hdr ...string) (int, http.Header, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %.200s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func remoteWrite(t *testing.T, s *server, body []byte, hdr ...string) (int, string) {
	t.Helper()
	hdr = append([]string{"Content-Type", "application/x-protobuf", "Content-Encoding", "snappy"}, hdr...)
	code, _, msg := httpDo(t, http.MethodPost, s.url()+"/api/v1/write", body, hdr...)
	return code, msg
}

// promGet runs a Prometheus API GET and returns the status and the decoded
// envelope.
func promGet(t *testing.T, s *server, path string, params url.Values, hdr ...string) (int, promEnvelope) {
	t.Helper()
	code, _, body := httpDo(t, http.MethodGet, s.url()+path+"?"+params.Encode(), nil, hdr...)
	var env promEnvelope
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("GET %s: %d %.300s: %v", path, code, body, err)
	}
	return code, env
}

type promEnvelope struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// seriesOf returns the label sets /api/v1/series answers for match, as
// sorted strings.
func seriesOf(t *testing.T, s *server, match string, hdr ...string) []string {
	t.Helper()
	code, env := promGet(t, s, "/api/v1/series", url.Values{"match[]": {match}}, hdr...)
	if code != 200 {
		t.Fatalf("series %s: %d %s", match, code, env.Error)
	}
	var sets []map[string]string
	if err := json.Unmarshal(env.Data, &sets); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range sets {
		var kv []string
		for k, v := range l {
			kv = append(kv, k+"="+v)
		}
		slices.Sort(kv)
		out = append(out, strings.Join(kv, ","))
	}
	slices.Sort(out)
	return out
}

func healthy(t *testing.T, s *server) {
	t.Helper()
	if code, _, body := httpDo(t, http.MethodGet, s.url()+"/healthz", nil); code != 200 {
		t.Fatalf("healthz after the probe: %d %s\n%s", code, body, s.logs.String())
	}
}

func TestRobustness(t *testing.T) {
	s := startRobustServer(t)
	now := time.Now().UnixMilli()

	// Item 10: a server that has not received a remote-write answers
	// PromQL with empty results, not "unknown table".
	t.Run("fresh server answers empty", func(t *testing.T) {
		for _, c := range []struct {
			path   string
			params url.Values
			want   string
		}{
			{"/api/v1/query", url.Values{"query": {"up"}}, `{"resultType":"vector","result":[]}`},
			{"/api/v1/query_range", url.Values{"query": {"rate(up[5m])"}, "start": {"0"}, "end": {"600"}, "step": {"60"}}, `{"resultType":"matrix","result":[]}`},
			{"/api/v1/labels", nil, `[]`},
			{"/api/v1/label/job/values", nil, `[]`},
			{"/api/v1/series", url.Values{"match[]": {"up"}}, `[]`},
		} {
			code, env := promGet(t, s, c.path, c.params)
			if code != 200 || string(env.Data) != c.want {
				t.Errorf("%s: %d %s %s, want 200 %s", c.path, code, env.Error, env.Data, c.want)
			}
		}
	})

	// Item 1: a time beyond the int64-nanosecond range is refused per
	// sample, and the good sample of the same request is stored.
	t.Run("time overflow", func(t *testing.T) {
		code, msg := remoteWrite(t, s, rwBody(t,
			probeSeries(now+1<<58, 1, "__name__", "overflow_bad", "job", "a"),
			probeSeries(-1000, 1, "__name__", "overflow_neg", "job", "a"),
			probeSeries(now, 2, "__name__", "overflow_good", "job", "a")))
		if code != 400 || !strings.Contains(msg, "2 of 3 samples rejected") || !strings.Contains(msg, "outside the supported range") {
			t.Fatalf("write: %d %s", code, msg)
		}
		if got := seriesOf(t, s, `{__name__=~"overflow_.*"}`); !slices.Equal(got, []string{"__name__=overflow_good,job=a"}) {
			t.Fatalf("stored series %q, want only overflow_good", got)
		}
	})

	// Item 2: a subquery with a tiny step is refused before evaluation.
	t.Run("subquery steps", func(t *testing.T) {
		for _, q := range []string{"count_over_time(x[100y:1ms])", "count_over_time(x[1d:1ms])", "max_over_time(rate(x[5m])[30d:1s])"} {
			code, env := promGet(t, s, "/api/v1/query", url.Values{"query": {q}})
			if code != 422 || !strings.Contains(env.Error, "steps; at most 1000000") {
				t.Fatalf("%s: %d %s", q, code, env.Error)
			}
		}
		code, env := promGet(t, s, "/api/v1/query", url.Values{"query": {"count_over_time(overflow_good[1h:1m])"}, "time": {strconv.FormatInt(now/1000+60, 10)}})
		if code != 200 || !strings.Contains(string(env.Data), `"value"`) {
			t.Fatalf("ordinary subquery: %d %s %s", code, env.Error, env.Data)
		}
		healthy(t, s)
	})

	// Item 3: deep nesting and huge queries are refused at parse time.
	t.Run("nesting and length", func(t *testing.T) {
		deep := strings.Repeat("(", 100_000) + "1" + strings.Repeat(")", 100_000)
		mid := strings.Repeat("(", 5_000) + "1" + strings.Repeat(")", 5_000)
		fmtDeep := strings.Repeat("(", 50_000) + "1" + strings.Repeat(")", 50_000)
		for _, c := range []struct {
			path, q, want string
		}{
			{"/api/v1/query", deep, "at most 65536 are allowed"},
			{"/api/v1/query", mid, "more than 128 deep"},
			{"/api/v1/format_query", fmtDeep, "at most 65536 are allowed"},
			{"/api/v1/format_query", mid, "more than 128 deep"},
		} {
			// POST: the query does not fit in a URL.
			code, _, body := httpDo(t, http.MethodPost, s.url()+c.path, []byte(url.Values{"query": {c.q}}.Encode()),
				"Content-Type", "application/x-www-form-urlencoded")
			if code != 400 || !strings.Contains(body, c.want) {
				t.Fatalf("%s with %d bytes: %d %.300s", c.path, len(c.q), code, body)
			}
		}
		code, env := promGet(t, s, "/api/v1/format_query", url.Values{"query": {"sum by (job) (rate(x[5m]))"}})
		if code != 200 || string(env.Data) != `"sum by (job) (rate(x[5m]))"` {
			t.Fatalf("format_query: %d %s %s", code, env.Error, env.Data)
		}
		healthy(t, s)
	})

	// Item 5 and 11: the shared record rules refuse oversized or invalid
	// series in O(labels), and only those.
	t.Run("dimension limits and validation parity", func(t *testing.T) {
		many := probeSeries(now, 1, "__name__", "wide")
		for i := range 20_000 {
			many.Labels = append(many.Labels, prompb.Label{Name: fmt.Sprintf("l%05d", i), Value: "v"})
		}
		code, msg := remoteWrite(t, s, rwBody(t,
			many,
			probeSeries(now, 1, "__name__", "utf8_bad", "job", "a\xffb"),
			probeSeries(now, 1, "__name__", "huge_value", "job", strings.Repeat("x", 5<<20)),
			probeSeries(now, 1, "__name__", "long_name", strings.Repeat("n", 61), "v"),
			probeSeries(now, 3, "__name__", "limits_good", "job", "a")))
		for _, want := range []string{"4 of 5 samples rejected", "at most 128 dimensions; this record has 20000",
			`value of dimension "job" is not valid UTF-8`, "more than 2048 bytes", "at most 60 are allowed"} {
			if code != 400 || !strings.Contains(msg, want) {
				t.Fatalf("write: %d, want 400 with %q in\n%.2000s", code, want, msg)
			}
		}
		if len(msg) > 8<<10 {
			t.Fatalf("a %d-byte 400 body: messages must stay small", len(msg))
		}
		got := seriesOf(t, s, `{__name__=~"wide|utf8_bad|huge_value|long_name|limits_good"}`)
		if !slices.Equal(got, []string{"__name__=limits_good,job=a"}) {
			t.Fatalf("stored series %q, want only limits_good", got)
		}
	})

	// Item 4: clients that send their bodies slowly hold no in-flight
	// slot: a normal write goes through while 70 are stalled.
	t.Run("slow bodies", func(t *testing.T) {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range 70 {
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			fmt.Fprintf(c, "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nContent-Length: 100000\r\n\r\nab")
		}
		// Several probes: the server reads the stalled requests' headers
		// concurrently with the first ones.
		for i := range 20 {
			code, msg := remoteWrite(t, s, rwBody(t, probeSeries(now+int64(i), 4, "__name__", "slow_probe", "job", "a")))
			if code != 204 {
				t.Fatalf("write %d while 70 clients stall: %d %s", i, code, msg)
			}
		}
	})

	// Item 9: tenants.
	t.Run("tenants", func(t *testing.T) {
		for _, bad := range []string{"a", "bad tenant", strings.Repeat("t", 300), "x/y"} {
			code, msg := remoteWrite(t, s, rwBody(t, probeSeries(now, 1, "__name__", "m", "job", "a")), "X-Scope-OrgID", bad)
			if code != 400 || !strings.Contains(msg, "invalid X-Scope-OrgID header") {
				t.Fatalf("tenant %.20q: %d %s", bad, code, msg)
			}
			code, env := promGet(t, s, "/api/v1/query", url.Values{"query": {"m"}}, "X-Scope-OrgID", bad)
			if code != 400 || !strings.Contains(env.Error, "invalid X-Scope-OrgID header") {
				t.Fatalf("read as tenant %.20q: %d %s", bad, code, env.Error)
			}
		}
		// A write whose every sample is refused creates no database.
		code, msg := remoteWrite(t, s, rwBody(t, probeSeries(now+1<<58, 1, "__name__", "m", "job", "a")), "X-Scope-OrgID", "ghost")
		if code != 400 {
			t.Fatalf("refused write: %d %s", code, msg)
		}
		// Nor does one whose samples are valid records but all outside the
		// table's time window (too far in the future, older than the
		// retention): the window is checked before the database is made.
		code, msg = remoteWrite(t, s, rwBody(t,
			probeSeries(now+48*3600*1000, 1, "__name__", "m", "job", "future"),
			probeSeries(time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), 1, "__name__", "m", "job", "old")),
			"X-Scope-OrgID", "ghost-window")
		if code != 400 || !strings.Contains(msg, "2 of 2 samples rejected") {
			t.Fatalf("write outside the window: %d %s", code, msg)
		}
		// Reads honour the tenant.
		if code, msg := remoteWrite(t, s, rwBody(t, probeSeries(now, 7, "__name__", "tenant_probe", "who", "team-a")), "X-Scope-OrgID", "team-a"); code != 204 {
			t.Fatalf("team-a write: %d %s", code, msg)
		}
		if code, msg := remoteWrite(t, s, rwBody(t, probeSeries(now, 8, "__name__", "tenant_probe", "who", "default"))); code != 204 {
			t.Fatalf("default write: %d %s", code, msg)
		}
		if got := seriesOf(t, s, "tenant_probe", "X-Scope-OrgID", "team-a"); !slices.Equal(got, []string{"__name__=tenant_probe,who=team-a"}) {
			t.Fatalf("team-a reads %q", got)
		}
		if got := seriesOf(t, s, "tenant_probe"); !slices.Equal(got, []string{"__name__=tenant_probe,who=default"}) {
			t.Fatalf("default tenant reads %q", got)
		}
		if got := seriesOf(t, s, "tenant_probe", "X-Scope-OrgID", "team-none"); len(got) != 0 {
			t.Fatalf("unknown tenant reads %q", got)
		}
		// max_tenants: 4 databases (prometheus, team-a, two more), then a
		// new tenant is refused and a known one still writes.
		for i, tenant := range []string{"team-b", "team-c", "team-d"} {
			code, msg := remoteWrite(t, s, rwBody(t, probeSeries(now, 1, "__name__", "m", "job", "a")), "X-Scope-OrgID", tenant)
			want := 204
			if i == 2 {
				want = 400
			}
			if code != want || want == 400 && !strings.Contains(msg, "max_tenants") {
				t.Fatalf("tenant %s: %d %s, want %d", tenant, code, msg, want)
			}
		}
		if code, msg := remoteWrite(t, s, rwBody(t, probeSeries(now, 9, "__name__", "m", "job", "a")), "X-Scope-OrgID", "team-a"); code != 204 {
			t.Fatalf("known tenant past the limit: %d %s", code, msg)
		}
		out, err := s.writeClient().ListDatabases(ctxT(t), &timestreamwrite.ListDatabasesInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range out.Databases {
			names = append(names, *d.DatabaseName)
		}
		if !slices.Equal(names, []string{"prometheus", "team-a", "team-b", "team-c"}) {
			t.Fatalf("databases %q", names)
		}
	})

	// Item 9: a series with no label but __name__ costs only itself.
	t.Run("name-only series", func(t *testing.T) {
		code, msg := remoteWrite(t, s, rwBody(t,
			probeSeries(now, 1, "__name__", "name_only"),
			probeSeries(now, 5, "__name__", "name_only_neighbour", "job", "a")))
		if code != 204 && code != 400 {
			t.Fatalf("write: %d %s", code, msg)
		}
		got := seriesOf(t, s, `{__name__=~"name_only.*"}`)
		if !slices.Contains(got, "__name__=name_only_neighbour,job=a") {
			t.Fatalf("stored %q: the neighbour of a name-only series must be stored (%d %s)", got, code, msg)
		}
		if code == 400 && !strings.Contains(msg, "1 of 2 samples rejected") {
			t.Fatalf("write: %d %s", code, msg)
		}
	})
	healthy(t, s)
}

// queryRunning reads the tidal_query_running gauge (Query API queries
// whose goroutine has not ended).
func queryRunning(t *testing.T, s *server) int {
	t.Helper()
	code, _, body := httpDo(t, http.MethodGet, s.url()+"/metrics", nil)
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "tidal_query_running "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			return int(n)
		}
	}
	t.Fatalf("no tidal_query_running in /metrics")
	return 0
}

// waitRunning polls the gauge until it is want, failing after deadline.
func waitRunning(t *testing.T, s *server, want int, deadline time.Duration, what string) {
	t.Helper()
	end := time.Now().Add(deadline)
	for queryRunning(t, s) != want {
		if time.Now().After(end) {
			t.Fatalf("%s: tidal_query_running still not %d after %s", what, want, deadline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startQuery sends a Query API request that the server works on until
// ctx ends or it answers; the answer (status and body, or the client's
// error) arrives on the returned channel.
func startQuery(t *testing.T, ctx context.Context, s *server, sql string) <-chan string {
	t.Helper()
	body, err := json.Marshal(map[string]string{"QueryString": sql})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url()+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "Timestream_20181101.Query")
	out := make(chan string, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			out <- "client error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		out <- strconv.Itoa(resp.StatusCode) + " " + string(b)
	}()
	return out
}

// endlessJoin is a cross join of 10^12 rows: it ends only when cancelled.
const endlessJoin = "SELECT count(*) FROM unnest(sequence(1, 10000)) a CROSS JOIN unnest(sequence(1, 10000)) b CROSS JOIN unnest(sequence(1, 10000)) c"

// TestQueryAPICancel: a Query API cross join stops when its client goes
// away, and SIGTERM with a query running stops the server promptly and
// cleanly, the waiting client told the service is shutting down (issue 13,
// reported: the query ran on ~38 s after the client left, and SIGTERM did
// not stop the server).
func TestQueryAPICancel(t *testing.T) {
	s := startServer(t, t.TempDir())

	// The client leaves while the query runs: the query's goroutine ends.
	ctx, cancel := context.WithCancel(context.Background())
	answer := startQuery(t, ctx, s, endlessJoin)
	waitRunning(t, s, 1, 30*time.Second, "query start")
	cancel()
	if got := <-answer; !strings.Contains(got, "context canceled") {
		t.Fatalf("cancelled client got %q", got)
	}
	waitRunning(t, s, 0, 30*time.Second, "client cancelled")

	// SIGTERM while a query runs and its client waits.
	answer = startQuery(t, context.Background(), s, endlessJoin)
	waitRunning(t, s, 1, 30*time.Second, "second query start")
	s.stop() // a clean exit within its 30 s deadline
	if got := <-answer; !strings.HasPrefix(got, "503 ") || !strings.Contains(got, "ServiceUnavailableException") {
		t.Fatalf("client of a query running at SIGTERM got %q", got)
	}
}
