package promapi

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture: http_requests_total for two jobs, one sample every 10 s for 10
// minutes, increasing by 1 (job a) and 2 (job b) per sample; plus a BIGINT
// gauge and a VARCHAR series that PromQL must not see.
func fixture() *Queryable {
	var recs []ingest.Record
	for i := range 60 {
		at := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		for j, job := range []string{"a", "b"} {
			recs = append(recs, ingest.Record{Time: at, MeasureName: "http_requests_total",
				Dimensions: []ingest.Dimension{{Name: "job", Value: job}, {Name: "instance", Value: "h:1"}},
				Value:      ingest.Float(float64(i * (j + 1)))})
		}
		recs = append(recs, ingest.Record{Time: at, MeasureName: "queue_len", Dimensions: []ingest.Dimension{{Name: "job", Value: "a"}}, Value: ingest.Int(int64(i % 7))})
		recs = append(recs, ingest.Record{Time: at, MeasureName: "status", Dimensions: []ingest.Dimension{{Name: "job", Value: "a"}}, Value: ingest.String("up")})
	}
	return &Queryable{Source: scantest.NewModel(recs), Database: scantest.Database, Table: scantest.Table}
}

func TestSelect(t *testing.T) {
	q := fixture()
	qr, err := q.Querier(t0.UnixMilli(), t0.Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ms      []*labels.Matcher
		want    []string
		samples int
	}{
		{[]*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "http_requests_total")},
			[]string{`{__name__="http_requests_total", instance="h:1", job="a"}`, `{__name__="http_requests_total", instance="h:1", job="b"}`}, 60},
		{[]*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", "http_.*"), labels.MustNewMatcher(labels.MatchRegexp, "job", "b|c")},
			[]string{`{__name__="http_requests_total", instance="h:1", job="b"}`}, 60},
		{[]*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "instance", ""), labels.MustNewMatcher(labels.MatchNotEqual, "__name__", "")},
			[]string{`{__name__="queue_len", job="a"}`}, 60}, // status is VARCHAR: invisible to PromQL
		{[]*labels.Matcher{labels.MustNewMatcher(labels.MatchNotRegexp, "job", "a")},
			[]string{`{__name__="http_requests_total", instance="h:1", job="b"}`}, 60},
	}
	for i, c := range cases {
		ss := qr.Select(t.Context(), true, &storage.SelectHints{Start: t0.UnixMilli(), End: t0.Add(time.Hour).UnixMilli()}, c.ms...)
		var got []string
		for ss.Next() {
			s := ss.At()
			got = append(got, s.Labels().String())
			it := s.Iterator(nil)
			n := 0
			for it.Next() != 0 {
				ts, v := it.At()
				if ts != t0.Add(time.Duration(n)*10*time.Second).UnixMilli() {
					t.Fatalf("case %d sample %d at %d", i, n, ts)
				}
				if s.Labels().Get("__name__") == "queue_len" && v != float64(n%7) {
					t.Fatalf("case %d: bigint sample %d = %v", i, n, v)
				}
				n++
			}
			if n != c.samples {
				t.Fatalf("case %d: %d samples, want %d", i, n, c.samples)
			}
		}
		if err := ss.Err(); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Fatalf("case %d: got %v want %v", i, got, c.want)
		}
	}
	names, _, err := qr.LabelNames(t.Context(), nil)
	if err != nil || strings.Join(names, ",") != "__name__,instance,job" {
		t.Fatalf("label names %v %v", names, err)
	}
	vals, _, err := qr.LabelValues(t.Context(), "job", nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "http_requests_total"))
	if err != nil || strings.Join(vals, ",") != "a,b" {
		t.Fatalf("label values %v %v", vals, err)
	}
}

func get(t *testing.T, srv *httptest.Server, path string, params url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(srv.URL + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: not JSON: %s", path, body)
	}
	return resp.StatusCode, out
}

func TestAPI(t *testing.T) {
	api := New(fixture(), Options{Version: "test", Now: func() time.Time { return t0.Add(10 * time.Minute) }})
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	end := t0.Add(590 * time.Second)

	code, out := get(t, srv, "/api/v1/query", url.Values{"query": {`sum(rate(http_requests_total[1m]))`}, "time": {strconv.FormatInt(end.Unix(), 10)}})
	if code != 200 || out["status"] != "success" {
		t.Fatalf("%d %v", code, out)
	}
	data := out["data"].(map[string]any)
	res := data["result"].([]any)
	if data["resultType"] != "vector" || len(res) != 1 {
		t.Fatalf("%v", data)
	}
	val := res[0].(map[string]any)["value"].([]any)
	// job a grows 1 per 10 s, job b 2 per 10 s: 0.3 per second together.
	if f, _ := strconv.ParseFloat(val[1].(string), 64); val[0].(float64) != float64(end.Unix()) || math.Abs(f-0.3) > 1e-12 {
		t.Fatalf("value %v", val)
	}

	code, out = get(t, srv, "/api/v1/query_range", url.Values{"query": {`queue_len`}, "start": {"1767225600"}, "end": {"1767225660"}, "step": {"30s"}})
	data = out["data"].(map[string]any)
	series := data["result"].([]any)
	if code != 200 || data["resultType"] != "matrix" || len(series) != 1 {
		t.Fatalf("%d %v", code, out)
	}
	values := series[0].(map[string]any)["values"].([]any)
	want := []string{"0", "3", "6"}
	for i, v := range values {
		if v.([]any)[1] != want[i] {
			t.Fatalf("range values %v want %v", values, want)
		}
	}

	for _, c := range []struct {
		path   string
		params url.Values
		status int
		typ    string
	}{
		{"/api/v1/query", url.Values{"query": {"sum("}}, 400, "bad_data"},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"10"}, "end": {"5"}, "step": {"1"}}, 400, "bad_data"},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"100000"}, "step": {"1"}}, 400, "bad_data"},
		{"/api/v1/query", url.Values{"query": {"up"}, "time": {"yesterday"}}, 400, "bad_data"},
		{"/api/v1/series", url.Values{}, 400, "bad_data"},
	} {
		code, out := get(t, srv, c.path, c.params)
		if code != c.status || out["status"] != "error" || out["errorType"] != c.typ || out["error"] == "" {
			t.Errorf("%s %v: %d %v", c.path, c.params, code, out)
		}
	}

	_, out = get(t, srv, "/api/v1/series", url.Values{"match[]": {`{job="a"}`}})
	if s := out["data"].([]any); len(s) != 2 {
		t.Fatalf("series %v", s)
	}
	// Overlapping selectors: each series once, sorted by labels.
	_, out = get(t, srv, "/api/v1/series", url.Values{"match[]": {`http_requests_total`, `{job="a"}`, `{job="b"}`}})
	var names []string
	for _, x := range out["data"].([]any) {
		m := x.(map[string]any)
		names = append(names, fmt.Sprint(m["__name__"], "/", m["job"]))
	}
	if got := strings.Join(names, " "); got != "http_requests_total/a http_requests_total/b queue_len/a" {
		t.Fatalf("series %s", got)
	}
	_, out = get(t, srv, "/api/v1/label/job/values", nil)
	if v := out["data"].([]any); len(v) != 2 || v[0] != "a" || v[1] != "b" {
		t.Fatalf("label values %v", v)
	}
	_, out = get(t, srv, "/api/v1/labels", url.Values{"match[]": {"queue_len"}})
	if v := out["data"].([]any); len(v) != 2 || v[0] != "__name__" || v[1] != "job" {
		t.Fatalf("labels %v", v)
	}
	_, out = get(t, srv, "/api/v1/format_query", url.Values{"query": {"sum(rate(x[5m]))by(job)"}})
	if out["data"] != "sum by (job) (rate(x[5m]))" {
		t.Fatalf("format_query %v", out["data"])
	}
	_, out = get(t, srv, "/api/v1/status/buildinfo", nil)
	if bi := out["data"].(map[string]any); bi["revision"] != "tidal-test" || bi["version"] != EngineVersion() {
		t.Fatalf("buildinfo %v", bi)
	}
	_, out = get(t, srv, "/api/v1/query", url.Values{"query": {`"hello"`}, "time": {"10.5"}})
	if r := out["data"].(map[string]any)["result"].([]any); r[0] != 10.5 || r[1] != "hello" {
		t.Fatalf("string result %v", r)
	}
	_, out = get(t, srv, "/api/v1/query", url.Values{"query": {`1/0`}, "time": {"10"}})
	if r := out["data"].(map[string]any)["result"].([]any); r[1] != "+Inf" {
		t.Fatalf("scalar result %v", r)
	}
}

func TestParseTimeAndDuration(t *testing.T) {
	for in, want := range map[string]int64{"1.2346": 1235, "1700000000": 1700000000000, "2026-01-01T00:00:00.5Z": 1767225600500} {
		got, err := parseTime(in, time.Time{})
		if err != nil || got.UnixMilli() != want {
			t.Errorf("parseTime(%q) = %v %v, want %d", in, got.UnixMilli(), err, want)
		}
	}
	for in, want := range map[string]time.Duration{"15": 15 * time.Second, "1.5": 1500 * time.Millisecond, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute} {
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v %v", in, got, err)
		}
	}
	if _, err := parseDuration("1e300"); err == nil {
		t.Error("huge duration accepted")
	}
	if b := appendPoint(nil, 1500, math.NaN()); string(b) != `[1.5,"NaN"]` {
		t.Errorf("NaN point %s", b)
	}
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"1.5", "2026-01-01T00:00:00Z", "5m", "1e308", "-1", "NaN", "Inf", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseDuration(s); err == nil && s == "" {
			t.Fatalf("empty duration parsed as %v", d)
		}
		_, _ = parseTime(s, time.Time{})
	})
}

func TestAppendQuoted(t *testing.T) {
	for _, s := range []string{"", "host_1", "a b", `q"uote`, `back\slash`, "tab\t", "nl\n", "del\x7f", "é", "日本", "\xff", "~ !"} {
		if got, want := string(appendQuoted([]byte("x"), s)), string(strconv.AppendQuote([]byte("x"), s)); got != want {
			t.Errorf("appendQuoted(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendQuoted(f *testing.F) {
	for _, s := range []string{"", "host_1", `q"`, "\\", "\x00", "é", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendQuoted(nil, s)), string(strconv.AppendQuote(nil, s)); got != want {
			t.Fatalf("appendQuoted(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestEngineVersion: buildinfo names the Prometheus release of the linked
// PromQL engine, read from go.mod's requirement (issue 14).
func TestEngineVersion(t *testing.T) {
	for _, c := range []struct{ mod, want string }{
		{"v0.316.0", "3.16.0"},
		{"v0.300.1", "3.0.1"},
		{"v0.302.0-rc.0", "3.2.0"},
		{"v2.53.0", "2.53.0"},
	} {
		if got := releaseOfModule(c.mod); got != c.want {
			t.Errorf("releaseOfModule(%s) = %s, want %s", c.mod, got, c.want)
		}
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/prometheus/prometheus (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no github.com/prometheus/prometheus requirement")
	}
	if got, want := EngineVersion(), releaseOfModule(string(m[1])); got != want {
		t.Fatalf("EngineVersion() = %s, want %s (go.mod %s)", got, want, m[1])
	}
}
