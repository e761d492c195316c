package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/exec"
)

// env is a console over a real catalog, memstore and engine holding a
// small devops table: cpu of two hosts at three times.
type env struct {
	h   *Handler
	cat *catalog.Catalog
	mem *memstore.DB
}

// t0 is the first row's time.
var t0 = time.Now().Add(-time.Hour).Truncate(time.Minute)

// fakeMagnetic reports fixed parts.
type fakeMagnetic []magnetic.PartInfo

func (f fakeMagnetic) Parts() []magnetic.PartInfo { return f }

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mopts := memstore.DefaultOptions(filepath.Join(dir, "memstore"))
	mopts.CheckpointInterval = 0
	mopts.WAL.Sync = wal.SyncNever
	mem, err := memstore.Open(cat, mopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mem.Close() })
	var recs []ingest.Record
	for i := range 3 {
		for _, host := range []string{"web-1", "web-2"} {
			recs = append(recs, ingest.Record{Time: t0.Add(time.Duration(i) * time.Minute).UnixNano(),
				Dimensions:  []ingest.Dimension{{Name: "hostname", Value: host}, {Name: "region", Value: "eu-west-1"}},
				MeasureName: "cpu_user", Value: ingest.Float(float64(10*i) + 0.5)})
		}
	}
	recs = append(recs, ingest.Record{Time: t0.UnixNano(), Dimensions: []ingest.Dimension{{Name: "hostname", Value: "web-1"}},
		MeasureName: "metrics", Measures: []ingest.Measure{{Name: "mem_free", Value: ingest.Int(42)}, {Name: "up", Value: ingest.Bool(true)}}})
	res, err := mem.Append(context.Background(), "devops", "host_metrics", recs, ingest.AppendOptions{CreateTable: true})
	if err != nil || len(res.Rejected) != 0 {
		t.Fatalf("append: %v %+v", err, res.Rejected)
	}
	if _, err := cat.EnsureTable("archive", "empty"); err != nil {
		t.Fatal(err)
	}
	tbl, err := cat.Table("devops", "host_metrics")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	mag := fakeMagnetic{
		{TableID: tbl.ID, Series: 2, Rows: 100, Bytes: 1000, MinTime: 10, MaxTime: 20, Created: created},
		{TableID: tbl.ID, Series: 3, Rows: 50, Bytes: 700, MinTime: 5, MaxTime: 15, Created: created.Add(-time.Hour)},
		{TableID: 9999, Series: 1, Rows: 1, Bytes: 1}, // a deleted table's part
	}
	eng := exec.New(cat, mem, exec.Options{})
	return &env{h: New(Options{Catalog: cat, Memory: mem, Magnetic: mag, Engine: eng, Version: "v-test"}), cat: cat, mem: mem}
}

func get(t *testing.T, h http.HandlerFunc, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h(w, httptest.NewRequest("GET", target, nil))
	if got := w.Header().Get("Content-Security-Policy"); got != ContentSecurityPolicy {
		t.Errorf("GET %s: Content-Security-Policy %q", target, got)
	}
	return w
}

func TestSchema(t *testing.T) {
	e := newEnv(t)
	w := get(t, e.h.Schema, "/console/api/schema")
	var got SchemaResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	if len(got.Databases) != 2 || got.Databases[0].Name != "archive" || got.Databases[1].Name != "devops" {
		t.Fatalf("databases %+v", got.Databases)
	}
	if tb := got.Databases[0].Tables; len(tb) != 1 || tb[0].Name != "empty" || tb[0].Memory.Rows != 0 || tb[0].Magnetic.Parts != 0 ||
		tb[0].Dimensions == nil || tb[0].Measures == nil {
		t.Errorf("empty table %+v", tb)
	}
	tb := got.Databases[1].Tables
	if len(tb) != 1 {
		t.Fatalf("devops tables %+v", tb)
	}
	hm := tb[0]
	ct, _ := e.cat.Table("devops", "host_metrics")
	if hm.Name != "host_metrics" || hm.MemoryHours != ct.Retention.MemoryHours || hm.MagneticDays != ct.Retention.MagneticDays ||
		hm.MagneticWrites != ct.MagneticWrites.Enabled {
		t.Errorf("settings %+v, catalog %+v", hm, ct)
	}
	// Two cpu_user series and one multi-measure series, seven rows.
	if hm.Memory.Series != 3 || hm.Memory.Rows != 7 || hm.Memory.Bytes <= 0 {
		t.Errorf("memory tier %+v", hm.Memory)
	}
	wantMag := TierJSON{Series: 5, Rows: 150, Bytes: 1700, Parts: 2, MinTime: 5, MaxTime: 20, LastWrite: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	if hm.Magnetic != wantMag {
		t.Errorf("magnetic tier %+v, want %+v", hm.Magnetic, wantMag)
	}
	if !reflect.DeepEqual(hm.Dimensions, []string{"hostname", "region"}) {
		t.Errorf("dimensions %v", hm.Dimensions)
	}
	wantMeasures := []ColumnJSON{{"cpu_user", "DOUBLE"}, {"metrics", "MULTI"}}
	if !reflect.DeepEqual(hm.Measures, wantMeasures) {
		t.Errorf("measures %+v, want %+v", hm.Measures, wantMeasures)
	}
	wantAttrs := []ColumnJSON{{"mem_free", "BIGINT"}, {"up", "BOOLEAN"}}
	if !reflect.DeepEqual(hm.Attributes, wantAttrs) {
		t.Errorf("attributes %+v, want %+v", hm.Attributes, wantAttrs)
	}
}

func TestMeta(t *testing.T) {
	e := newEnv(t)
	var got MetaResponse
	if err := json.Unmarshal(get(t, e.h.Meta, "/console/api/meta").Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "v-test" || !slices.Contains(got.Functions, "bin") || !slices.Contains(got.Functions, "avg") ||
		!slices.Contains(got.Keywords, "SELECT") {
		t.Errorf("meta %+v", got)
	}
}

func downloadURL(sql, format string) string {
	return "/console/api/download?" + url.Values{"sql": {sql}, "format": {format}}.Encode()
}

func TestDownloadCSV(t *testing.T) {
	e := newEnv(t)
	sql := `SELECT hostname, measure_value::double AS v, time FROM devops.host_metrics WHERE measure_name = 'cpu_user' ORDER BY time, hostname`
	w := get(t, e.h.Download, downloadURL(sql, "csv"))
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(w.Header().Get("Content-Disposition"), `attachment; filename="tidal-`) {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	recs, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ts := func(i int) string { return exec.FormatTimestamp(t0.Add(time.Duration(i) * time.Minute).UnixNano()) }
	want := [][]string{{"hostname", "v", "time"},
		{"web-1", "0.5", ts(0)}, {"web-2", "0.5", ts(0)},
		{"web-1", "10.5", ts(1)}, {"web-2", "10.5", ts(1)},
		{"web-1", "20.5", ts(2)}, {"web-2", "20.5", ts(2)}}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("csv\n%v\nwant\n%v", recs, want)
	}
}

func TestDownloadJSON(t *testing.T) {
	e := newEnv(t)
	sql := `SELECT hostname, mem_free, up, region, 1.5e0 AS x FROM devops.host_metrics WHERE measure_name = 'metrics'`
	w := get(t, e.h.Download, downloadURL(sql, "json"))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	var got []map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	want := []map[string]any{{"hostname": "web-1", "mem_free": 42.0, "up": true, "region": nil, "x": 1.5}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("json %v, want %v", got, want)
	}
}

func TestDownloadRefused(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, target, want string
	}{
		{"no sql", "/console/api/download?format=csv", "want sql"},
		{"bad format", downloadURL("SELECT 1", "xml"), "format csv or json"},
		{"syntax error", downloadURL("SELECT 1 FROM\nWHERE", "csv"), "line 2:1"},
		{"no table", downloadURL("SELECT * FROM devops.nope", "json"), "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, e.h.Download, tc.target)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tc.want) || w.Header().Get("Content-Disposition") != "" {
				t.Errorf("%d %q, want 400 containing %q", w.Code, w.Body, tc.want)
			}
		})
	}
}

func TestPageAndStatic(t *testing.T) {
	e := newEnv(t)
	w := get(t, e.h.Page, "/")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(w.Body.String(), `src="/console/static/js/app.js"`) {
		t.Fatalf("page: %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "<script>") || strings.Contains(w.Body.String(), " style=") {
		t.Error("page has inline script or style, which the CSP forbids")
	}
	for path, ctype := range map[string]string{
		"js/app.js":                 "text/javascript",
		"app.css":                   "text/css",
		"vendor/uplot/uPlot.esm.js": "text/javascript",
		"vendor/uplot/LICENSE":      "text/plain",
	} {
		w := get(t, e.h.Static, StaticPrefix+path)
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), ctype) || w.Body.Len() < 100 {
			t.Errorf("%s: %d %q %d bytes", path, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
	}
	for _, path := range []string{"nope.js", "", "js/", "vendor/uplot/"} {
		if w := get(t, e.h.Static, StaticPrefix+path); w.Code != 404 {
			t.Errorf("%q: %d, want 404 (no listings, no missing files)", path, w.Code)
		}
	}
}
