package promapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/query/scan"
)

func limitServer(t *testing.T, q *Queryable, opts Options) *httptest.Server {
	t.Helper()
	opts.Now = func() time.Time { return t0.Add(10 * time.Minute) }
	mux := http.NewServeMux()
	New(q, opts).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func postForm(t *testing.T, srv *httptest.Server, path string, params url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+path, params)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: not JSON: %s", path, body)
	}
	return resp.StatusCode, resp.Header, out
}

// TestQueryLimits sends queries that would hang or exhaust the process to
// the real handlers and checks they are refused before evaluation.
func TestQueryLimits(t *testing.T) {
	srv := limitServer(t, fixture(), Options{})
	deep := strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200)
	cases := []struct {
		path   string
		params url.Values
		status int
		want   string
	}{
		{"/api/v1/query", url.Values{"query": {strings.Repeat("(", 100_000) + "1" + strings.Repeat(")", 100_000)}}, 400, "at most 65536 are allowed"},
		{"/api/v1/query", url.Values{"query": {deep}}, 400, "more than 128 deep"},
		{"/api/v1/query_range", url.Values{"query": {deep}, "start": {"0"}, "end": {"60"}, "step": {"15"}}, 400, "more than 128 deep"},
		{"/api/v1/format_query", url.Values{"query": {deep}}, 400, "more than 128 deep"},
		// Brackets inside strings and comments do not nest.
		{"/api/v1/query", url.Values{"query": {`count(http_requests_total{job!="` + strings.Repeat("(", 300) + `"}) # ` + strings.Repeat("[", 300)}}, 200, ""},
		{"/api/v1/query", url.Values{"query": {"count_over_time(http_requests_total[100y:1ms])"}}, 422, "would evaluate 3153600000000 steps; at most 1000000"},
		{"/api/v1/query", url.Values{"query": {"count_over_time(http_requests_total[1d:1ms])"}}, 422, "steps; at most 1000000"},
		// Nested subqueries: the inner one runs over the outer's range.
		{"/api/v1/query", url.Values{"query": {"max_over_time(max_over_time(http_requests_total[10m:1s])[30d:1h])"}}, 422, "[10m:1s]"},
		// A range query widens every subquery by its own range.
		{"/api/v1/query_range", url.Values{"query": {"max_over_time(http_requests_total[1h:1s])"}, "start": {"0"}, "end": {"2592000"}, "step": {"3600"}}, 422, "would evaluate 2595600 steps"},
		{"/api/v1/query", url.Values{"query": {"count_over_time(http_requests_total[1h:1s])"}}, 200, ""},
	}
	for _, c := range cases {
		code, _, out := postForm(t, srv, c.path, c.params)
		msg, _ := out["error"].(string)
		if code != c.status || !strings.Contains(msg, c.want) {
			t.Errorf("%s %.80s: %d %q, want %d %q", c.path, c.params.Get("query"), code, msg, c.status, c.want)
		}
	}
}

// holdingSource holds every Scan until release is closed.
type holdingSource struct {
	scan.Source
	entered chan struct{}
	release chan struct{}
}

func (b *holdingSource) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Source.Scan(ctx, req)
}

// TestConcurrencyCap checks that queries beyond MaxConcurrent wait, then
// get a 503 with Retry-After, and that the slot is free again afterwards.
func TestConcurrencyCap(t *testing.T) {
	q := fixture()
	src := &holdingSource{Source: q.Source, entered: make(chan struct{}, 4), release: make(chan struct{})}
	q.Source = src
	srv := limitServer(t, q, Options{MaxConcurrent: 1, QueueWait: 20 * time.Millisecond})
	params := url.Values{"query": {"http_requests_total"}}
	var wg sync.WaitGroup
	var first int
	wg.Add(1)
	go func() {
		defer wg.Done()
		first, _, _ = postForm(t, srv, "/api/v1/query", params)
	}()
	<-src.entered // the first query holds the only slot
	for _, path := range []string{"/api/v1/query", "/api/v1/series", "/api/v1/labels"} {
		code, hdr, out := postForm(t, srv, path, url.Values{"query": {"up"}, "match[]": {"up"}})
		if code != 503 || hdr.Get("Retry-After") != "1" || out["errorType"] != "unavailable" {
			t.Fatalf("%s while the slot is taken: %d %v %v", path, code, hdr, out)
		}
	}
	close(src.release)
	wg.Wait()
	if first != 200 {
		t.Fatalf("first query: %d", first)
	}
	if code, _, out := postForm(t, srv, "/api/v1/query", params); code != 200 {
		t.Fatalf("query after release: %d %v", code, out)
	}
}

// panicSource panics in every Scan.
type panicSource struct{}

func (panicSource) Scan(context.Context, *scan.Request) (scan.Batches, error) {
	panic("injected scan panic")
}

// TestScanPanicFailsOnlyTheQuery checks that a panic in a scan, on the
// reader or on a prefetch goroutine, fails that query (the test process
// would die otherwise).
func TestScanPanicFailsOnlyTheQuery(t *testing.T) {
	q := fixture()
	q.Source = panicSource{}
	q.Logger = slog.New(slog.DiscardHandler)
	srv := limitServer(t, q, Options{})
	for _, query := range []string{"http_requests_total", "http_requests_total + on() group_left queue_len + on() group_left up"} {
		code, _, out := postForm(t, srv, "/api/v1/query", url.Values{"query": {query}})
		msg, _ := out["error"].(string)
		if code != 422 || !strings.Contains(msg, "panic") {
			t.Fatalf("%s: %d %v", query, code, out)
		}
	}
}

// TestTenantReads checks that reads honour the tenant header and that an
// absent table reads as empty.
func TestTenantReads(t *testing.T) {
	srv := limitServer(t, fixture(), Options{TenantHeader: "X-Scope-OrgID"})
	get := func(tenant string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/query?query=http_requests_total", nil)
		if tenant != "" {
			req.Header.Set("X-Scope-OrgID", tenant)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, out := get(""); code != 200 || len(out["data"].(map[string]any)["result"].([]any)) != 2 {
		t.Fatalf("own database: %d %v", code, out)
	}
	if code, out := get("x"); code != 400 || !strings.Contains(out["error"].(string), "invalid X-Scope-OrgID header") {
		t.Fatalf("invalid tenant: %d %v", code, out)
	}
}

// TestLoadedSampleBudget checks that a query loading more samples than
// MaxSamples fails with a 422 while a smaller one runs.
func TestLoadedSampleBudget(t *testing.T) {
	srv := limitServer(t, fixture(), Options{MaxSamples: 100})
	// Both http_requests_total series: 2 x 60 samples, over the budget.
	code, _, out := postForm(t, srv, "/api/v1/query", url.Values{"query": {"count_over_time(http_requests_total[10m])"}})
	if msg, _ := out["error"].(string); code != 422 || !strings.Contains(msg, "too many samples") {
		t.Fatalf("over budget: %d %v", code, out)
	}
	code, _, out = postForm(t, srv, "/api/v1/query", url.Values{"query": {`count_over_time(http_requests_total{job="a"}[10m])`}})
	if code != 200 {
		t.Fatalf("within budget: %d %v", code, out)
	}
}

// TestSeriesLimit checks that a query selecting more than MaxSeries series
// in all (over every selector) fails with a 422, and one within runs.
func TestSeriesLimit(t *testing.T) {
	srv := limitServer(t, fixture(), Options{MaxSeries: 2})
	tests := []struct {
		path, query string
		code        int
	}{
		{"/api/v1/query", `http_requests_total`, 200},                                        // 2 series
		{"/api/v1/query", `http_requests_total{job="a"} + on() group_left() vector(1)`, 200}, // 1 series
		{"/api/v1/query", `http_requests_total + on() group_left() count(http_requests_total{job="a"})`, 422},
		{"/api/v1/query_range", `sum(http_requests_total) + sum(http_requests_total)`, 422},
	}
	for _, tc := range tests {
		v := url.Values{"query": {tc.query}}
		if tc.path == "/api/v1/query_range" {
			v.Set("start", strconv.FormatInt(t0.Unix(), 10))
			v.Set("end", strconv.FormatInt(t0.Unix()+600, 10))
			v.Set("step", "60")
		}
		code, _, out := postForm(t, srv, tc.path, v)
		if code != tc.code {
			t.Errorf("%s %s: status %d, want %d: %v", tc.path, tc.query, code, tc.code, out)
			continue
		}
		if msg, _ := out["error"].(string); tc.code == 422 && !strings.Contains(msg, "too many series") {
			t.Errorf("%s %s: error %q, want too many series", tc.path, tc.query, msg)
		}
	}
}
