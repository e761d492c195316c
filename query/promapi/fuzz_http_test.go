package promapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzPromQLParams sends fuzzed parameters (query, time, start, end, step,
// timeout, match[], limit) to every query endpoint of the real handlers:
// each answer is a Prometheus JSON envelope with a status the API
// documents, never a panic or a hang past the query timeout.
func FuzzPromQLParams(f *testing.F) {
	f.Add(uint8(0), "rate(http_requests_total[5m])", "1767225900", "", "", "", "")
	f.Add(uint8(1), "sum by (job) (http_requests_total)", "", "1767225600", "1767226200", "15", "")
	f.Add(uint8(1), "count_over_time(x[1d:1ms])", "", "0", "1e10", "0.001", "1s")
	f.Add(uint8(2), `{__name__=~"http_.*"}`, "", "-1e300", "1e300", "", "")
	f.Add(uint8(3), "up", "", "", "", "", "-5")
	f.Add(uint8(5), strings.Repeat("(", 300)+"1"+strings.Repeat(")", 300), "", "", "", "", "")
	f.Add(uint8(0), "http_requests_total[100y:1ms]", "NaN", "", "", "", "1e-9")
	q := fixture()
	api := New(q, Options{Timeout: 2 * time.Second, MaxSamples: 100_000, Now: func() time.Time { return t0.Add(10 * time.Minute) }})
	mux := http.NewServeMux()
	api.Register(mux)
	paths := []string{"/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/api/v1/label/job/values", "/api/v1/format_query"}
	f.Fuzz(func(t *testing.T, which uint8, query, ts, start, end, step, timeout string) {
		path := paths[int(which)%len(paths)]
		v := url.Values{"query": {query}, "match[]": {query}}
		for k, s := range map[string]string{"time": ts, "start": start, "end": end, "step": step, "timeout": timeout, "limit": step} {
			if s != "" {
				v.Set(k, s)
			}
		}
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		switch w.Code {
		case 200, 400, 422, 499, 503:
		default:
			t.Fatalf("%s %v: status %d %s", path, v, w.Code, w.Body)
		}
		var env struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s %v: %d not JSON (%v): %s", path, v, w.Code, err, w.Body)
		}
		if (w.Code == 200) != (env.Status == "success") || w.Code != 200 && env.Error == "" {
			t.Fatalf("%s %v: %d with %s", path, v, w.Code, w.Body)
		}
	})
}
