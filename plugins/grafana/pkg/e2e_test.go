package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Shape of the TSBS-devops-like fixture: hosts × minutes of cpu usage.
const (
	fixtureHosts   = 4
	fixtureMinutes = 60
)

// fixtureBase is the first minute of the fixture, an hour before a
// recent whole hour so the records sit in the memory tier.
var fixtureBase = time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)

// usage is the fixture's usage_user of host h at minute m.
func usage(h, m int) float64 { return float64(h*100 + m) }

// loadDevops writes the fixture through the Timestream Write API: table
// devops.cpu with dimensions hostname and region, measures usage_user
// (DOUBLE) and usage_system (BIGINT).
func loadDevops(ctx context.Context, t testing.TB, s *tidal, key, secret string) {
	t.Helper()
	loadDevopsInto(ctx, t, s, key, secret, "devops", "cpu")
}

func loadDevopsInto(ctx context.Context, t testing.TB, s *tidal, key, secret, db, table string) {
	t.Helper()
	w := s.writeClient(key, secret)
	if _, err := w.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String(db)}); err != nil && !strings.Contains(err.Error(), "Conflict") {
		t.Fatal(err)
	}
	if _, err := w.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String(db), TableName: aws.String(table)}); err != nil && !strings.Contains(err.Error(), "Conflict") {
		t.Fatal(err)
	}
	var recs []types.Record
	for h := range fixtureHosts {
		for m := range fixtureMinutes {
			dims := []types.Dimension{
				{Name: aws.String("hostname"), Value: aws.String(fmt.Sprintf("host_%d", h))},
				{Name: aws.String("region"), Value: aws.String([]string{"us-east-1", "eu-west-1"}[h%2])},
			}
			ts := aws.String(strconv.FormatInt(fixtureBase.Add(time.Duration(m)*time.Minute).UnixMilli(), 10))
			recs = append(recs,
				types.Record{Dimensions: dims, MeasureName: aws.String("usage_user"), MeasureValueType: types.MeasureValueTypeDouble,
					MeasureValue: aws.String(strconv.FormatFloat(usage(h, m), 'f', -1, 64)), Time: ts},
				types.Record{Dimensions: dims, MeasureName: aws.String("usage_system"), MeasureValueType: types.MeasureValueTypeBigint,
					MeasureValue: aws.String(strconv.Itoa(h)), Time: ts})
		}
	}
	for len(recs) > 0 {
		n := min(100, len(recs))
		if _, err := w.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String(db), TableName: aws.String(table), Records: recs[:n]}); err != nil {
			t.Fatal(err)
		}
		recs = recs[n:]
	}
}

// dq is a data query as Grafana sends it for the fixture's hour.
func dq(refID string, model map[string]any) backend.DataQuery {
	j, _ := json.Marshal(model)
	return backend.DataQuery{
		RefID: refID, JSON: j, Interval: 5 * time.Minute, MaxDataPoints: 100,
		TimeRange: backend.TimeRange{From: fixtureBase, To: fixtureBase.Add(fixtureMinutes * time.Minute)},
	}
}

// fieldValues is a field's values with pointers dereferenced.
func fieldValues(f *data.Field) []any {
	out := make([]any, f.Len())
	for i := range out {
		v, ok := f.ConcreteAt(i)
		if !ok {
			v = nil
		}
		out[i] = v
	}
	return out
}

// TestEndToEnd runs the built plugin as Grafana does against a real tidal
// server loaded with the devops fixture: health, every format, macros,
// per-query errors, paging, alerting, the pickers and cancel.
func TestEndToEnd(t *testing.T) {
	srv := startTidal(t)
	ctx := ctxT(t)
	loadDevops(ctx, t, srv, "AKID", "secret")
	p := startPlugin(t)
	ds := dsConfig{url: srv.url, jsonData: map[string]any{"defaultDatabase": "devops", "defaultTable": "cpu", "defaultMeasure": "usage_user"}}

	t.Run("health", func(t *testing.T) {
		h := p.health(ctx, t, ds)
		if h.Status != backend.HealthStatusOk || !strings.Contains(h.Message, "Connected to TidalDB (tidal ") {
			t.Fatalf("health = %v %q", h.Status, h.Message)
		}
		bad := dsConfig{id: 2, url: "http://" + freeAddr(t)}
		if h := p.health(ctx, t, bad); h.Status != backend.HealthStatusError || !strings.Contains(h.Message, "Cannot query TidalDB") {
			t.Fatalf("health of a closed port = %v %q", h.Status, h.Message)
		}
	})

	t.Run("table and per-query errors", func(t *testing.T) {
		res := p.query(ctx, t, ds, nil,
			dq("A", map[string]any{"rawQuery": `SELECT hostname, count(*) AS n, max(measure_value::double) AS top FROM $__database.$__table
				WHERE $__timeFilter AND measure_name = '$__measure' GROUP BY hostname ORDER BY hostname`, "format": 0, "waitForResult": true}),
			dq("B", map[string]any{"rawQuery": "SELECT nope FROM devops.cpu", "format": 0}),
			dq("C", map[string]any{"rawQuery": "SELECT * FROM devops.missing", "format": 0}))
		a := res.Responses["A"]
		if a.Error != nil || len(a.Frames) != 1 {
			t.Fatalf("A: %v %d frames", a.Error, len(a.Frames))
		}
		f := a.Frames[0]
		// $__timeFilter is BETWEEN, inclusive of the range's end minute,
		// which the fixture does not reach.
		var wantHosts, wantN, wantTop []any
		for h := range fixtureHosts {
			wantHosts = append(wantHosts, fmt.Sprintf("host_%d", h))
			wantN = append(wantN, int64(fixtureMinutes))
			wantTop = append(wantTop, usage(h, fixtureMinutes-1))
		}
		if got := fieldValues(f.Fields[0]); !slices.Equal(got, wantHosts) {
			t.Errorf("hostname = %v, want %v", got, wantHosts)
		}
		if got := fieldValues(f.Fields[1]); !slices.Equal(got, wantN) {
			t.Errorf("n = %v, want %v", got, wantN)
		}
		if got := fieldValues(f.Fields[2]); !slices.Equal(got, wantTop) {
			t.Errorf("top = %v, want %v", got, wantTop)
		}
		if f.Meta == nil || !strings.Contains(f.Meta.ExecutedQueryString, `FROM "devops"."cpu"`) ||
			!strings.Contains(f.Meta.ExecutedQueryString, fmt.Sprintf("from_milliseconds(%d)", fixtureBase.UnixMilli())) ||
			!strings.Contains(f.Meta.ExecutedQueryString, "measure_name = 'usage_user'") {
			t.Errorf("executed query = %q", f.Meta.ExecutedQueryString)
		}
		for _, ref := range []string{"B", "C"} {
			r := res.Responses[ref]
			if r.Error == nil || r.Status != backend.StatusBadRequest || !strings.Contains(r.Error.Error(), "ValidationException") {
				t.Errorf("%s: error %v status %v, want a ValidationException with 400", ref, r.Error, r.Status)
			}
		}
	})

	t.Run("time series long to wide", func(t *testing.T) {
		res := p.query(ctx, t, ds, nil, dq("A", map[string]any{
			"rawQuery": `SELECT bin(time, $__interval) AS time, hostname, avg(measure_value::double) AS usage FROM $__database.$__table
				WHERE $__timeFilter AND measure_name = 'usage_user' GROUP BY 1, 2`, "format": 1, "waitForResult": true}))
		a := res.Responses["A"]
		if a.Error != nil || len(a.Frames) != 1 {
			t.Fatalf("%v %d frames", a.Error, len(a.Frames))
		}
		f := a.Frames[0]
		if st := f.TimeSeriesSchema().Type; st != data.TimeSeriesTypeWide || len(f.Fields) != 1+fixtureHosts || f.Rows() != fixtureMinutes/5 {
			t.Fatalf("schema %v, %d fields, %d rows; want wide, %d fields, %d rows", st, len(f.Fields), f.Rows(), 1+fixtureHosts, fixtureMinutes/5)
		}
		for h := range fixtureHosts {
			v := f.Fields[1+h]
			if v.Labels["hostname"] != fmt.Sprintf("host_%d", h) {
				t.Fatalf("field %d labels %v", 1+h, v.Labels)
			}
			// bucket b averages minutes 5b..5b+4: h*100 + 5b + 2.
			for b := range f.Rows() {
				if got, _ := v.ConcreteAt(b); got != usage(h, 5*b+2) {
					t.Fatalf("host_%d bucket %d = %v, want %v", h, b, got, usage(h, 5*b+2))
				}
			}
		}
	})

	t.Run("CREATE_TIME_SERIES is one frame per series", func(t *testing.T) {
		res := p.query(ctx, t, ds, nil, dq("A", map[string]any{
			"rawQuery": `SELECT hostname, CREATE_TIME_SERIES(time, measure_value::bigint) AS sys FROM devops.cpu
				WHERE $__timeFilter AND measure_name = 'usage_system' GROUP BY hostname ORDER BY hostname`, "format": 0, "waitForResult": true}))
		a := res.Responses["A"]
		if a.Error != nil || len(a.Frames) != fixtureHosts {
			t.Fatalf("%v %d frames", a.Error, len(a.Frames))
		}
		for h, f := range a.Frames {
			if f.TimeSeriesSchema().Type != data.TimeSeriesTypeWide || f.Rows() != fixtureMinutes || f.Fields[1].Labels["hostname"] != fmt.Sprintf("host_%d", h) {
				t.Fatalf("frame %d: %v rows %d labels %v", h, f.TimeSeriesSchema().Type, f.Rows(), f.Fields[1].Labels)
			}
			if v, _ := f.Fields[1].ConcreteAt(0); v != int64(h) {
				t.Fatalf("frame %d first value %v (%T)", h, v, v)
			}
		}
	})

	t.Run("typed fields", func(t *testing.T) {
		res := p.query(ctx, t, ds, nil, dq("A", map[string]any{
			"rawQuery": `SELECT 7 AS i, 2.5 AS d, true AS b, 'x' AS s, TIMESTAMP '2026-01-02 03:04:05.123' AS ts,
				DATE '2026-01-02' AS day, ARRAY[1, 2] AS arr, CAST(NULL AS DOUBLE) AS nothing`}))
		a := res.Responses["A"]
		if a.Error != nil {
			t.Fatal(a.Error)
		}
		f := a.Frames[0]
		want := []struct {
			typ data.FieldType
			v   any
		}{
			{data.FieldTypeNullableInt64, int64(7)}, {data.FieldTypeNullableFloat64, 2.5}, {data.FieldTypeNullableBool, true},
			{data.FieldTypeNullableString, "x"}, {data.FieldTypeNullableTime, time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC)},
			{data.FieldTypeNullableTime, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}, {data.FieldTypeNullableString, `["1","2"]`},
			{data.FieldTypeNullableFloat64, nil},
		}
		if len(f.Fields) != len(want) {
			t.Fatalf("%d fields", len(f.Fields))
		}
		for i, w := range want {
			got := fieldValues(f.Fields[i])[0]
			same := got == w.v
			if gt, ok := got.(time.Time); ok {
				same = gt.Equal(w.v.(time.Time))
			}
			if f.Fields[i].Type() != w.typ || !same {
				t.Errorf("field %s: %v %v, want %v %v", f.Fields[i].Name, f.Fields[i].Type(), got, w.typ, w.v)
			}
		}
	})

	t.Run("paging", func(t *testing.T) {
		paged := ds
		paged.id = 3
		paged.jsonData = map[string]any{"maxRows": 50}
		sql := "SELECT time, hostname FROM devops.cpu WHERE measure_name = 'usage_user' ORDER BY hostname, time"
		res := p.query(ctx, t, paged, nil, dq("all", map[string]any{"rawQuery": sql, "waitForResult": true}), dq("first", map[string]any{"rawQuery": sql}))
		all, first := res.Responses["all"], res.Responses["first"]
		if all.Error != nil || first.Error != nil {
			t.Fatal(all.Error, first.Error)
		}
		total := fixtureHosts * fixtureMinutes
		if n := all.Frames[0].Rows(); n != total {
			t.Fatalf("waitForResult: %d rows, want %d", n, total)
		}
		if m := all.Frames[0].Meta.Custom.(map[string]any); m["pages"] != float64((total+49)/50) {
			t.Fatalf("meta %v", m)
		}
		m := first.Frames[0].Meta.Custom.(map[string]any)
		tok, _ := m["nextToken"].(string)
		if first.Frames[0].Rows() != 50 || tok == "" {
			t.Fatalf("first page: %d rows, meta %v", first.Frames[0].Rows(), m)
		}
		res = p.query(ctx, t, paged, nil, dq("next", map[string]any{"rawQuery": sql, "nextToken": tok}))
		next := res.Responses["next"]
		if next.Error != nil || next.Frames[0].Rows() != 50 {
			t.Fatalf("second page: %v", next.Error)
		}
		if got, want := fieldValues(next.Frames[0].Fields[0])[0], fieldValues(all.Frames[0].Fields[0])[50]; got != want {
			t.Fatalf("second page starts at %v, want row 50 = %v", got, want)
		}
	})

	t.Run("alerting", func(t *testing.T) {
		q := dq("A", map[string]any{"rawQuery": `SELECT bin(time, $__interval) AS t, region, avg(measure_value::double) AS v FROM devops.cpu
			WHERE $__timeFilter AND measure_name = 'usage_user' GROUP BY 1, 2`, "format": 0})
		q.Interval, q.MaxDataPoints = 0, 0 // alert rules send neither
		q.TimeRange.To = fixtureBase.Add(1024 * time.Minute)
		res := p.query(ctx, t, ds, map[string]string{backend.FromAlertHeaderName: "true"}, q)
		a := res.Responses["A"]
		if a.Error != nil || len(a.Frames) != 1 {
			t.Fatalf("%v %d frames", a.Error, len(a.Frames))
		}
		f := a.Frames[0]
		// 1024 minutes over 1024 points is one minute per bucket.
		if f.TimeSeriesSchema().Type != data.TimeSeriesTypeWide || len(f.Fields) != 3 || f.Rows() != fixtureMinutes ||
			!strings.Contains(f.Meta.ExecutedQueryString, "bin(time, 60000ms)") {
			t.Fatalf("schema %v fields %d rows %d query %q", f.TimeSeriesSchema().Type, len(f.Fields), f.Rows(), f.Meta.ExecutedQueryString)
		}
	})

	t.Run("pickers", func(t *testing.T) {
		for _, c := range []struct {
			method, path string
			body         any
			want         []string
		}{
			{"GET", "databases", nil, []string{"devops"}},
			{"POST", "tables", map[string]string{"database": "devops"}, []string{"cpu"}},
			{"POST", "measures", map[string]string{"database": "devops", "table": "cpu"}, []string{"usage_system", "usage_user"}},
			{"POST", "dimensions", map[string]string{}, []string{"hostname", "region"}}, // data source defaults
			{"POST", "dimension-values", map[string]string{"dimension": "region"}, []string{"eu-west-1", "us-east-1"}},
		} {
			status, body := p.resource(ctx, t, ds, c.method, c.path, c.body)
			var got []string
			if err := json.Unmarshal(body, &got); status != http.StatusOK || err != nil || !slices.Equal(got, c.want) {
				t.Errorf("%s: %d %s, want %v", c.path, status, body, c.want)
			}
		}
		if status, body := p.resource(ctx, t, ds, "POST", "tables", map[string]string{"database": "nope"}); status != http.StatusBadRequest || !strings.Contains(string(body), "nope") {
			t.Errorf("tables of a missing database: %d %s", status, body)
		}
		if status, _ := p.resource(ctx, t, ds, "GET", "nothing", nil); status != http.StatusNotFound {
			t.Errorf("unknown resource: %d", status)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		// A finished query's id: the server answers CancelQuery for it,
		// and the plugin relays that answer.
		res := p.query(ctx, t, ds, nil, dq("A", map[string]any{"rawQuery": "SELECT 1"}))
		id := res.Responses["A"].Frames[0].Meta.Custom.(map[string]any)["queryId"].(string)
		status, body := p.resource(ctx, t, ds, "POST", "cancel", map[string]string{"queryId": id})
		if status != http.StatusOK || !strings.Contains(string(body), `"message":"Query `+id) {
			t.Errorf("cancel %s: %d %s", id, status, body)
		}
		if status, body = p.resource(ctx, t, ds, "POST", "cancel", map[string]string{}); status != http.StatusBadRequest {
			t.Errorf("cancel without an id: %d %s", status, body)
		}
		// Grafana cancelling the request (panel closed) reaches the
		// server, which gives the query up.
		before := srv.metric(t, `tidal_query_requests_total{op="Query",result="ConflictException"}`)
		qctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			req := &backend.QueryDataRequest{PluginContext: ds.pluginContext(), Queries: []backend.DataQuery{dq("slow", map[string]any{
				"rawQuery": "SELECT sum(a.x * b.y) FROM unnest(sequence(1, 10000)) AS a(x), unnest(sequence(1, 10000)) AS b(y)", "waitForResult": true})}}
			_, err := p.data.QueryData(qctx, backend.ToProto().QueryDataRequest(req))
			done <- err
		}()
		waitFor(t, "the slow query to run", func() bool { return srv.metric(t, "tidal_query_running") == 1 })
		cancel()
		if err := <-done; err == nil || !strings.Contains(err.Error(), "Canceled") {
			t.Fatalf("cancelled QueryData returned %v", err)
		}
		waitFor(t, "the server to record the cancelled request", func() bool {
			return srv.metric(t, `tidal_query_requests_total{op="Query",result="ConflictException"}`) == max(before, 0)+1
		})
	})
}

// waitFor polls cond until it holds, failing after 30s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCredentials checks SigV4 against a server that verifies signatures,
// and the basic and bearer headers through a reverse proxy in front of the
// real server that admits only the expected Authorization header.
func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	if err := os.WriteFile(cfg, []byte("auth:\n  access_keys:\n    - access_key_id: AKIDGOOD\n      secret_access_key: s3cret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	signed := startTidal(t, "--config", cfg)
	open := startTidal(t)
	ctx := ctxT(t)
	p := startPlugin(t)

	target, _ := url.Parse(open.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	gate := func(want string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != want {
				http.Error(w, `{"__type":"AccessDeniedException","Message":"bad credentials"}`, http.StatusForbidden)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(s.Close)
		return s
	}
	basic := gate("Basic " + "Z3JhZmFuYTpwYXNz") // grafana:pass
	bearer := gate("Bearer tok-123")

	for _, c := range []struct {
		name string
		ds   dsConfig
		ok   bool
	}{
		{"sigv4 good", dsConfig{id: 10, url: signed.url, jsonData: map[string]any{"authType": "sigv4"}, secure: map[string]string{"accessKey": "AKIDGOOD", "secretKey": "s3cret"}}, true},
		{"sigv4 wrong secret", dsConfig{id: 11, url: signed.url, jsonData: map[string]any{"authType": "sigv4"}, secure: map[string]string{"accessKey": "AKIDGOOD", "secretKey": "nope"}}, false},
		{"unsigned to a signing server", dsConfig{id: 12, url: signed.url}, false},
		{"basic good", dsConfig{id: 13, url: basic.URL, basicUser: "grafana", secure: map[string]string{"basicAuthPassword": "pass"}}, true},
		{"basic wrong", dsConfig{id: 14, url: basic.URL, basicUser: "grafana", secure: map[string]string{"basicAuthPassword": "other"}}, false},
		{"bearer good", dsConfig{id: 15, url: bearer.URL, jsonData: map[string]any{"authType": "bearer"}, secure: map[string]string{"bearerToken": "tok-123"}}, true},
		{"bearer wrong", dsConfig{id: 16, url: bearer.URL, jsonData: map[string]any{"authType": "bearer"}, secure: map[string]string{"bearerToken": "tok-999"}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := p.health(ctx, t, c.ds)
			if (h.Status == backend.HealthStatusOk) != c.ok {
				t.Fatalf("health %v %q, want ok=%v", h.Status, h.Message, c.ok)
			}
			if !c.ok && !strings.Contains(h.Message, "refused the credentials (HTTP 403)") {
				t.Fatalf("health message %q does not say the credentials were refused", h.Message)
			}
			res := p.query(ctx, t, c.ds, nil, dq("A", map[string]any{"rawQuery": "SELECT 42 AS answer"}))
			a := res.Responses["A"]
			if c.ok && (a.Error != nil || fieldValues(a.Frames[0].Fields[0])[0] != int64(42)) {
				t.Fatalf("query: %v", a.Error)
			}
			if !c.ok && (a.Error == nil || a.Status != backend.StatusUnauthorized) {
				t.Fatalf("query with refused credentials: %v %v", a.Error, a.Status)
			}
		})
	}
}
