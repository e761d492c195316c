package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promResponse is the Prometheus HTTP API envelope.
type promResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// TestGrafanaPrometheusRoute replays the requests Grafana's built-in
// Prometheus data source sends (its health check, a panel's range query,
// the query editor's label and metric lookups, the metrics browser's series
// call and the template variable functions) against a real tidal server
// holding the devops fixture in its Prometheus table, and checks the
// answers.
func TestGrafanaPrometheusRoute(t *testing.T) {
	srv := startTidal(t)
	ctx := ctxT(t)
	loadDevopsInto(ctx, t, srv, "AKID", "secret", "prometheus", "metrics")
	start := strconv.FormatInt(fixtureBase.Unix(), 10)
	end := strconv.FormatInt(fixtureBase.Add(fixtureMinutes*time.Minute).Unix(), 10)

	// Grafana posts form bodies (httpMethod POST, the default) and uses GET
	// for label values.
	call := func(method, path string, form url.Values) json.RawMessage {
		t.Helper()
		var (
			resp *http.Response
			err  error
		)
		if method == http.MethodPost {
			req, _ := http.NewRequestWithContext(ctx, method, srv.url+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("User-Agent", "Grafana/12.4.0")
			resp, err = http.DefaultClient.Do(req)
		} else {
			resp, err = http.Get(srv.url + path + "?" + form.Encode())
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var pr promResponse
		if err := json.Unmarshal(body, &pr); err != nil || resp.StatusCode != http.StatusOK || pr.Status != "success" {
			t.Fatalf("%s %s %v: HTTP %d %s", method, path, form, resp.StatusCode, body)
		}
		return pr.Data
	}

	t.Run("health check 1+1", func(t *testing.T) {
		var d struct {
			ResultType string `json:"resultType"`
			Result     []any  `json:"result"`
		}
		_ = json.Unmarshal(call(http.MethodPost, "/api/v1/query", url.Values{"query": {"1+1"}, "time": {"4"}}), &d)
		if d.ResultType != "scalar" || len(d.Result) != 2 || d.Result[0] != float64(4) || d.Result[1] != "2" {
			t.Fatalf("1+1 = %+v", d)
		}
	})

	t.Run("buildinfo", func(t *testing.T) {
		var d struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(call(http.MethodGet, "/api/v1/status/buildinfo", nil), &d); err != nil || d.Version == "" {
			t.Fatalf("buildinfo %+v %v", d, err)
		}
	})

	t.Run("panel range query with step", func(t *testing.T) {
		var d struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		}
		form := url.Values{"query": {`usage_user{hostname="host_1"}`}, "start": {start}, "end": {end}, "step": {"300"}}
		_ = json.Unmarshal(call(http.MethodPost, "/api/v1/query_range", form), &d)
		if d.ResultType != "matrix" || len(d.Result) != 1 || d.Result[0].Metric["region"] != "eu-west-1" {
			t.Fatalf("result %+v", d)
		}
		vals := d.Result[0].Values
		// Steps at minutes 0, 5, ..., 60; the last sample (minute 59) is
		// within the lookback at minute 60.
		if len(vals) != fixtureMinutes/5+1 {
			t.Fatalf("%d points: %v", len(vals), vals)
		}
		for i, v := range vals {
			m := min(5*i, fixtureMinutes-1)
			if v[0] != float64(fixtureBase.Add(time.Duration(5*i)*time.Minute).Unix()) || v[1] != strconv.FormatFloat(usage(1, m), 'f', -1, 64) {
				t.Fatalf("point %d = %v, want minute %d value %v", i, v, 5*i, usage(1, m))
			}
		}
		var agg struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		}
		form = url.Values{"query": {`sum by (region) (usage_system)`}, "start": {start}, "end": {start}, "step": {"60"}}
		_ = json.Unmarshal(call(http.MethodPost, "/api/v1/query_range", form), &agg)
		got := map[string]any{}
		for _, r := range agg.Result {
			got[r.Metric["region"]] = r.Values[0][1]
		}
		// usage_system is the host number: hosts 0 and 2 in us-east-1.
		if got["us-east-1"] != "2" || got["eu-west-1"] != "4" {
			t.Fatalf("sum by region = %v", got)
		}
	})

	strs := func(raw json.RawMessage) []string {
		var out []string
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		sort.Strings(out)
		return out
	}
	t.Run("labels", func(t *testing.T) {
		got := strs(call(http.MethodPost, "/api/v1/labels", url.Values{"start": {start}, "end": {end}}))
		if !slices.Equal(got, []string{"__name__", "hostname", "region"}) {
			t.Fatalf("labels %v", got)
		}
		got = strs(call(http.MethodPost, "/api/v1/labels", url.Values{"start": {start}, "end": {end}, "match[]": {`usage_user`}}))
		if !slices.Equal(got, []string{"__name__", "hostname", "region"}) {
			t.Fatalf("labels of usage_user %v", got)
		}
	})

	t.Run("label values", func(t *testing.T) {
		if got := strs(call(http.MethodGet, "/api/v1/label/__name__/values", url.Values{"start": {start}, "end": {end}})); !slices.Equal(got, []string{"usage_system", "usage_user"}) {
			t.Fatalf("metric names %v", got)
		}
		got := strs(call(http.MethodGet, "/api/v1/label/hostname/values", url.Values{"start": {start}, "end": {end}, "match[]": {`usage_user{region="eu-west-1"}`}}))
		if !slices.Equal(got, []string{"host_1", "host_3"}) {
			t.Fatalf("label_values(usage_user{region=\"eu-west-1\"}, hostname) = %v", got)
		}
	})

	t.Run("series", func(t *testing.T) {
		var d []map[string]string
		_ = json.Unmarshal(call(http.MethodPost, "/api/v1/series", url.Values{"start": {start}, "end": {end}, "match[]": {`{hostname="host_2"}`}}), &d)
		var names []string
		for _, s := range d {
			if s["hostname"] != "host_2" || s["region"] != "us-east-1" {
				t.Fatalf("series %v", s)
			}
			names = append(names, s["__name__"])
		}
		sort.Strings(names)
		if !slices.Equal(names, []string{"usage_system", "usage_user"}) {
			t.Fatalf("series names %v (%s)", names, fmt.Sprint(d))
		}
	})
}
