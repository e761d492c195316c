package deletes

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/scan"
)

// rowsSource is a scan.Source over in-memory series of any table: one
// row per minute from 0 to 59 minutes after base for each series.
type rowsSource struct {
	base   int64
	series []scan.Series
}

func (s *rowsSource) Scan(_ context.Context, req *scan.Request) (scan.Batches, error) {
	var out []*scan.Batch
	for _, sr := range s.series {
		ok := true
		for i := range req.Where {
			m := &req.Where[i]
			v, has := sr.Dimension(m.Name)
			if m.Name == scan.ColMeasureName {
				v, has = sr.MeasureName, true
			}
			ok = ok && m.Matches(v, has)
		}
		if !ok {
			continue
		}
		b := &scan.Batch{Series: sr}
		var col scan.Column
		col.Name, col.Type = scan.ColMeasureValue, ingest.TypeDouble
		for i := range 60 {
			if t := s.base + int64(i)*60e9; t >= req.MinTime && t <= req.MaxTime {
				b.Time = append(b.Time, t)
				col.F = append(col.F, float64(i))
			}
		}
		if req.Columns == nil || len(req.Columns) > 0 {
			b.Columns = []scan.Column{col}
		}
		if b.Len() > 0 {
			out = append(out, b)
		}
	}
	return scan.NewSlice(out), nil
}

func hostSeries(hosts ...string) []scan.Series {
	var out []scan.Series
	for _, h := range hosts {
		dims := []ingest.Dimension{{Name: "host", Value: h}}
		out = append(out, scan.Series{Key: string(scan.AppendSeriesKey(nil, "cpu", dims)), Dimensions: dims, MeasureName: "cpu"})
	}
	return out
}

type fixture struct {
	eng *Engine
	set *tombstone.Set
	q   *exec.Engine
	cat *catalog.Catalog
	id  uint64
}

func newFixture(t *testing.T, base int64) *fixture {
	t.Helper()
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("dbx", "", nil); err != nil {
		t.Fatal(err)
	}
	tbl, err := cat.CreateTable(catalog.Table{Database: "dbx", Name: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := tombstone.Open(tombstone.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	src := set.Source(&rowsSource{base: base, series: hostSeries("a", "b", "c")}, cat)
	q := exec.New(cat, src, exec.Options{})
	e := New(q, set, cat, src)
	e.now = func() time.Time { return time.Unix(0, base+3600e9) }
	return &fixture{eng: e, set: set, q: q, cat: cat, id: tbl.ID}
}

func (f *fixture) count(t *testing.T, sql string) int64 {
	t.Helper()
	res, err := f.eng.Query(context.Background(), sql, nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.Rows[0][0].I
}

func TestEngineDelete(t *testing.T) {
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	f := newFixture(t, base)
	ctx := context.Background()
	if n := f.count(t, "SELECT count(*) FROM dbx.cpu"); n != 180 {
		t.Fatalf("count %d, want 180", n)
	}
	res, err := f.eng.Query(ctx, "DELETE FROM dbx.cpu WHERE host IN ('a', 'b', 'z') AND time >= TIMESTAMP '2026-12-01 00:10:00' AND time < '2026-12-01 00:20:00'", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Columns) != len(ResultColumns) || len(res.Rows) != 1 {
		t.Fatalf("answer %+v", res)
	}
	row := res.Rows[0]
	if row[0].I != 1 || row[1].I != 2 || row[2].I != 1 || row[3].I != base+600e9 || row[4].I != base+1200e9-1 {
		t.Fatalf("answer row %v", row)
	}
	if n := f.count(t, "SELECT count(*) FROM dbx.cpu"); n != 160 {
		t.Fatalf("count after DELETE %d, want 160", n)
	}
	// No upper bound: the range ends at the DELETE's clock (base + 1h).
	res, err = f.eng.Query(ctx, "DELETE FROM dbx.cpu WHERE host = 'c' AND time > TIMESTAMP '2026-12-01 00:49:00'", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0]; got[3].I != base+49*60e9+1 || got[4].I != base+3600e9 {
		t.Fatalf("answer row %v", got)
	}
	if n := f.count(t, "SELECT count(*) FROM dbx.cpu"); n != 150 {
		t.Fatalf("count %d, want 150 (host c lost 10 more)", n)
	}
	// An empty range adds nothing.
	res, err = f.eng.Query(ctx, "DELETE FROM dbx.cpu WHERE time > now() AND time < now() - 1h", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rows[0][0].Null || res.Rows[0][2].I != 0 || len(f.set.List()) != 2 {
		t.Fatalf("empty range: %v, tombstones %d", res.Rows[0], len(f.set.List()))
	}
	// Errors are validation errors.
	for _, sql := range []string{
		"DELETE FROM dbx.nope WHERE host = 'a'",
		"DELETE FROM dbx.cpu WHERE time > host",
		"DELETE FROM dbx.cpu WHERE time > 'not a time'",
		"DELETE FROM dbx.cpu WHERE time > 5",
		"DELETE FROM dbx.cpu WHERE host = 'a' OR host = 'b'",
	} {
		_, err := f.eng.Query(ctx, sql, nil)
		var ee *exec.Error
		if !errors.As(err, &ee) || ee.Kind != exec.ErrValidation {
			t.Errorf("%s: %v, want a validation error", sql, err)
		}
	}
	// Other statements pass through, streamed or not; Prepare knows DELETE.
	if cols, _, err := f.eng.Prepare("DELETE FROM dbx.cpu"); err != nil || len(cols) != len(ResultColumns) {
		t.Fatalf("prepare: %v %v", cols, err)
	}
	if _, _, err := f.eng.Prepare("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	var sink collectSink
	if _, err := f.eng.Stream(ctx, "DELETE FROM dbx.cpu WHERE host = 'b'", nil, &sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.rows) != 1 || sink.rows[0][1].I != 1 {
		t.Fatalf("streamed answer %v", sink.rows)
	}
}

type collectSink struct {
	cols []exec.Column
	rows [][]exec.Value
}

func (s *collectSink) Columns(c []exec.Column) error { s.cols = c; return nil }
func (s *collectSink) Row(r []exec.Value) error {
	s.rows = append(s.rows, append([]exec.Value(nil), r...))
	return nil
}

func TestPromDeleteSeries(t *testing.T) {
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	f := newFixture(t, base)
	cleaned := 0
	api := &PromAPI{Set: f.set, Catalog: f.cat, Source: f.eng.src, Database: "dbx", Table: "cpu", TenantHeader: "X-Scope-OrgID",
		Now:   func() time.Time { return time.Unix(0, base+3600e9) },
		Clean: func(context.Context) (int, error) { cleaned++; return 0, nil }}
	do := func(h http.HandlerFunc, form url.Values, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h(w, r)
		return w
	}
	for _, bad := range []url.Values{
		{},
		{"match[]": {"cpu{"}},
		{"match[]": {"cpu"}, "start": {"yesterday"}},
		{"match[]": {"cpu"}, "end": {"1e300"}},
	} {
		if w := do(api.DeleteSeries, bad); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"errorType":"bad_data"`) {
			t.Errorf("%v: %d %s", bad, w.Code, w.Body)
		}
	}
	// Another tenant's database does not exist: nothing to delete.
	if w := do(api.DeleteSeries, url.Values{"match[]": {"cpu"}}, "X-Scope-OrgID", "other"); w.Code != http.StatusNoContent || len(f.set.List()) != 0 {
		t.Fatalf("other tenant: %d, tombstones %v", w.Code, f.set.List())
	}
	w := do(api.DeleteSeries, url.Values{"match[]": {`{__name__="cpu",host=~"a|b"}`, `cpu{host="c"}`}, "start": {"1796083500"}, "end": {"2026-12-01T00:30:00Z"}})
	if w.Code != http.StatusNoContent {
		t.Fatalf("delete_series: %d %s", w.Code, w.Body)
	}
	ts := f.set.List()
	if len(ts) != 2 || ts[0].MinTime != base+5*60e9 || ts[0].MaxTime != base+30*60e9 || ts[0].TableID != f.id {
		t.Fatalf("tombstones %+v", ts)
	}
	// Minutes 5 to 30 of every host are gone: 26 rows each.
	if n := f.count(t, "SELECT count(*) FROM dbx.cpu"); n != 3*(60-26) {
		t.Fatalf("count %d, want %d", n, 3*(60-26))
	}
	// No start or end: from the beginning of time to now.
	if w := do(api.DeleteSeries, url.Values{"match[]": {`cpu{host!~"a|b"}`}}); w.Code != http.StatusNoContent {
		t.Fatalf("delete_series: %d", w.Code)
	}
	if last := f.set.List()[2]; last.MinTime != math.MinInt64 || last.MaxTime != base+3600e9 {
		t.Fatalf("default range %+v", last)
	}
	if n := f.count(t, "SELECT count(*) FROM dbx.cpu"); n != 2*(60-26) {
		t.Fatalf("count %d, want %d (host c gone)", n, 2*(60-26))
	}
	if w := do(api.CleanTombstones, url.Values{}); w.Code != http.StatusNoContent || cleaned != 1 {
		t.Fatalf("clean: %d, %d calls", w.Code, cleaned)
	}
}
