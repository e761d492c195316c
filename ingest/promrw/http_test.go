package promrw

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/tidaldb/tidal/ingest"
)

// TestSlowBodyHoldsNoSlot sends bodies slowly to a real HTTP server around
// the handler: they hold no in-flight slot (a write goes through while they
// stall) and get a 408 once BodyTimeout passes.
func TestSlowBodyHoldsNoSlot(t *testing.T) {
	rec := &recorder{}
	h := New(rec, Options{MaxInflight: 1, BodyTimeout: 200 * time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nContent-Length: 1000\r\n\r\nab")
		conns = append(conns, c)
	}
	body := v1Body(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "__name__", Value: "x"}, {Name: "a", Value: "b"}},
		Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}}}})
	for i := range 5 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/write", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("write %d while 3 bodies stall with 1 slot: %d", i, resp.StatusCode)
		}
	}
	// The stalled requests end with a 408 (the read blocks until the
	// deadline; no sleep here).
	for i, c := range conns {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("stalled request %d: %v", i, err)
		}
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(msg), "not received within 200ms") {
			t.Fatalf("stalled request %d: %d %s", i, resp.StatusCode, msg)
		}
	}
}

// FuzzRemoteWriteHTTP feeds raw HTTP requests to the handler: whatever the
// bytes, it answers with one of the statuses Prometheus acts on, and every
// record it stores passes the shared record rules.
func FuzzRemoteWriteHTTP(f *testing.F) {
	seed := func(body []byte, hdr string) []byte {
		return fmt.Appendf(nil, "POST /api/v1/write HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n%s", hdr, len(body), body)
	}
	v1 := v1Body(f, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "up"}, {Name: "job", Value: "a"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1000}}},
		{Labels: []prompb.Label{{Name: "__name__", Value: "x"}, {Name: "j", Value: "\xff"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1 << 60}}},
	}})
	f.Add(seed(v1, "Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n"))
	f.Add(seed(v1, "Content-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request\r\nX-Scope-OrgID: team-a\r\n"))
	f.Add(seed(v1, "X-Scope-OrgID: a b\r\n"))
	f.Add(seed([]byte("not snappy"), "Content-Encoding: gzip\r\n"))
	rec := &recorder{}
	h := New(rec, Options{TenantHeader: "X-Scope-OrgID", MaxBodyBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		rec.mu.Lock()
		rec.recs = rec.recs[:0]
		rec.mu.Unlock()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusNoContent, http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusRequestTimeout, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d for %q", w.Code, raw)
		}
		if w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			t.Fatalf("503 without Retry-After")
		}
		for i := range rec.recs {
			if reason := ingest.ValidateRecord(&rec.recs[i]); reason != "" {
				t.Fatalf("stored a record the rules refuse (%s): %+v", reason, rec.recs[i])
			}
		}
	})
}
