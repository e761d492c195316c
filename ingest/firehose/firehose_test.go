package firehose

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/pipeline"
	"github.com/tidaldb/tidal/memstore"
)

// store is a real memstore counting appends per table.
type store struct {
	*memstore.DB
	mu      sync.Mutex
	tables  map[string]int
	calls   int
	failing error
}

func (s *store) Append(ctx context.Context, db, table string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	s.mu.Lock()
	s.calls++
	failing := s.failing
	s.mu.Unlock()
	if failing != nil {
		return ingest.Result{}, failing
	}
	res, err := s.DB.Append(ctx, db, table, recs, opts)
	if err == nil {
		s.mu.Lock()
		s.tables[db+"."+table] += res.Total()
		s.mu.Unlock()
	}
	return res, err
}

func setup(t *testing.T, maxBody int64) (*store, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := memstore.Open(cat, memstore.DefaultOptions(filepath.Join(dir, "memstore")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mem.Close() })
	st := &store{DB: mem, tables: map[string]int{}}
	p, err := pipeline.New(st, pipeline.Options{Name: "fleet", Source: "firehose", Format: pipeline.FormatJSON, Mapping: pipeline.Mapping{
		Database: "fleet", Table: "positions", Time: pipeline.TimeField{Field: "t", Unit: "s"}, Dimensions: []string{"truck"},
		Measures: []pipeline.MeasureField{{Field: "lat", Type: ingest.TypeDouble}, {Field: "lon", Type: ingest.TypeDouble}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(p, Options{AccessKeys: []string{"k-one", "k-two"}, MaxBodyBytes: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /firehose/{pipeline}", Mux{"fleet": h})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return st, srv
}

// body builds a request body in Firehose's documented shape.
func body(id string, ts time.Time, records ...string) []byte {
	var recs []map[string]string
	for _, r := range records {
		recs = append(recs, map[string]string{"data": base64.StdEncoding.EncodeToString([]byte(r))})
	}
	b, _ := json.Marshal(map[string]any{"requestId": id, "timestamp": ts.UnixMilli(), "records": recs})
	return b
}

// deliver posts like Firehose does and returns the status and decoded
// response.
func deliver(t *testing.T, url, key, id string, b []byte, gz bool) (int, response) {
	t.Helper()
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(b)
		_ = zw.Close()
		b = buf.Bytes()
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Firehose-Protocol-Version", "1.0")
	req.Header.Set(HeaderRequestID, id)
	req.Header.Set("X-Amz-Firehose-Source-Arn", "arn:aws:firehose:us-east-1:123456789012:deliverystream/fleet")
	if key != "" {
		req.Header.Set(HeaderAccessKey, key)
	}
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var out response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("response is not the contract's JSON: %v", err)
	}
	if out.Timestamp == 0 {
		t.Error("response has no timestamp")
	}
	return resp.StatusCode, out
}

func pos(truck string, t time.Time, lat float64) string {
	return fmt.Sprintf(`{"t": %d, "truck": %q, "lat": %g, "lon": 2.5}`, t.Unix(), truck, lat)
}

func TestFirehoseDelivery(t *testing.T) {
	st, srv := setup(t, 0)
	url := srv.URL + "/firehose/fleet"
	now := time.Now().Add(-time.Minute).Truncate(time.Second)

	for _, tc := range []struct {
		name, key, id string
		body          []byte
		gzip          bool
		status        int
		errContains   string
		stored, dead  int // totals after the request
	}{
		{name: "plain", key: "k-one", id: "req-1", body: body("req-1", now, pos("a", now, 1), pos("b", now, 2)), status: 200, stored: 2},
		{name: "gzip", key: "k-two", id: "req-2", body: body("req-2", now, pos("a", now.Add(time.Second), 3)), gzip: true, status: 200, stored: 3},
		{name: "duplicate request id", key: "k-one", id: "req-1", body: body("req-1", now, pos("a", now, 1), pos("b", now, 2)), status: 200, stored: 3},
		{name: "poison record", key: "k-one", id: "req-3", body: body("req-3", now, pos("c", now, 4), `{"truck": "c"}`), status: 200, stored: 4, dead: 1},
		{name: "wrong key", key: "nope", id: "req-4", body: body("req-4", now, pos("d", now, 5)), status: 401, errContains: "X-Amz-Firehose-Access-Key", stored: 4, dead: 1},
		{name: "no key", id: "req-5", body: body("req-5", now, pos("d", now, 5)), status: 401, stored: 4, dead: 1},
		{name: "not json", key: "k-one", id: "req-6", body: []byte(`{"records": [`), status: 400, errContains: "decode request body", stored: 4, dead: 1},
		{name: "bad base64", key: "k-one", id: "req-7", body: []byte(`{"requestId": "req-7", "timestamp": 1, "records": [{"data": "***"}]}`), status: 400, errContains: "not base64", stored: 4, dead: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := deliver(t, url, tc.key, tc.id, tc.body, tc.gzip)
			if status != tc.status || resp.RequestID != tc.id || !strings.Contains(resp.ErrorMessage, tc.errContains) {
				t.Fatalf("status %d, response %+v; want %d with requestId %q and error containing %q", status, resp, tc.status, tc.id, tc.errContains)
			}
			if status == 200 && resp.ErrorMessage != "" {
				t.Fatalf("a 200 carries errorMessage %q", resp.ErrorMessage)
			}
			st.mu.Lock()
			stored, dead := st.tables["fleet.positions"], st.tables["fleet._dead_letters"]
			st.mu.Unlock()
			if stored != tc.stored || dead != tc.dead {
				t.Fatalf("stored %d records and %d dead letters, want %d and %d", stored, dead, tc.stored, tc.dead)
			}
		})
	}
	if rows := st.Stats().Rows; rows != 5 {
		t.Fatalf("rows = %d, want 4 records and 1 dead letter", rows)
	}
	if status, resp := deliver(t, srv.URL+"/firehose/other", "k-one", "req-8", body("req-8", now), false); status != 404 || !strings.Contains(resp.ErrorMessage, `"other"`) {
		t.Fatalf("unknown pipeline: %d %+v", status, resp)
	}
}

func TestFirehoseRetriable(t *testing.T) {
	st, srv := setup(t, 1024)
	url := srv.URL + "/firehose/fleet"
	now := time.Now().Add(-time.Minute).Truncate(time.Second)
	st.failing = errors.New("wal: disk full")
	b := body("r1", now, pos("a", now, 1))
	if status, resp := deliver(t, url, "k-one", "r1", b, false); status != 500 || !strings.Contains(resp.ErrorMessage, "disk full") {
		t.Fatalf("failed append: %d %+v, want 500", status, resp)
	}
	// Firehose retries with the same id: it must not be taken as done.
	st.mu.Lock()
	st.failing = nil
	st.mu.Unlock()
	if status, _ := deliver(t, url, "k-one", "r1", b, false); status != 200 {
		t.Fatalf("retry: %d", status)
	}
	if st.tables["fleet.positions"] != 1 {
		t.Fatalf("stored %d", st.tables["fleet.positions"])
	}
	big := body("r2", now, strings.Repeat(pos("a", now, 1), 30))
	if status, _ := deliver(t, url, "k-one", "r2", big, true); status != 413 {
		t.Fatalf("a gzip body over the limit once inflated: %d, want 413", status)
	}
}

func TestFirehoseRemembersBoundedIDs(t *testing.T) {
	h := &Handler{done: map[string]struct{}{}, order: make([]string, 2)}
	h.remember("a")
	h.remember("b")
	h.remember("c")
	if h.seen("a") || !h.seen("b") || !h.seen("c") || len(h.done) != 2 {
		t.Fatalf("done = %v", h.done)
	}
}
