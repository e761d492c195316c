package promrw

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/tidaldb/tidal/ingest"
)

// recorder is an ingest.Appender that keeps what it is given and rejects
// records whose metric name starts with "bad".
type recorder struct {
	mu    sync.Mutex
	db    string
	table string
	recs  []ingest.Record
	opts  ingest.AppendOptions
}

func (r *recorder) Append(_ context.Context, db, table string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.db, r.table, r.opts = db, table, opts
	var res ingest.Result
	for i, rec := range recs {
		if strings.HasPrefix(rec.MeasureName, "bad") {
			res.Rejected = append(res.Rejected, ingest.Rejection{Index: i, Reason: "bad metric"})
			continue
		}
		rec.Dimensions = append([]ingest.Dimension(nil), rec.Dimensions...)
		r.recs = append(r.recs, rec)
		res.MemoryStore++
	}
	return res, nil
}

const staleNaN = 0x7ff0000000000002

func v1Body(t testing.TB, req *prompb.WriteRequest) []byte {
	t.Helper()
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

func post(h http.Handler, body []byte, contentType string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Content-Encoding", "snappy")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRemoteWriteV1(t *testing.T) {
	rec := &recorder{}
	h := New(rec, Options{})
	body := v1Body(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "up"}, {Name: "instance", Value: "a:9090"}, {Name: "job", Value: "prom"}},
			Samples: []prompb.Sample{{Value: 1, Timestamp: 1000}, {Value: math.Float64frombits(staleNaN), Timestamp: 2000}}},
		{Labels: []prompb.Label{{Name: "__name__", Value: "http_requests_total"}, {Name: "code", Value: "200"}, {Name: "empty", Value: ""}},
			Samples: []prompb.Sample{{Value: 42.5, Timestamp: 1500}}},
	}})
	w := post(h, body, "application/x-protobuf")
	if w.Code != http.StatusNoContent {
		t.Fatalf("code %d: %s", w.Code, w.Body)
	}
	if rec.db != "prometheus" || rec.table != "metrics" || !rec.opts.CreateTable || !rec.opts.IdempotentRewrite {
		t.Fatalf("appended to %s.%s with %+v", rec.db, rec.table, rec.opts)
	}
	if len(rec.recs) != 3 {
		t.Fatalf("records %+v", rec.recs)
	}
	r0, r1, r2 := rec.recs[0], rec.recs[1], rec.recs[2]
	if r0.MeasureName != "up" || r0.Time != 1000*1e6 || r0.Value.Float() != 1 || len(r0.Dimensions) != 2 ||
		r0.Dimensions[0] != (ingest.Dimension{Name: "instance", Value: "a:9090"}) || r0.Dimensions[1] != (ingest.Dimension{Name: "job", Value: "prom"}) {
		t.Fatalf("record 0 = %+v", r0)
	}
	if r1.Value.Bits != staleNaN || r1.Value.Type != ingest.TypeDouble {
		t.Fatalf("stale marker bits %x, want %x", r1.Value.Bits, uint64(staleNaN))
	}
	if r2.MeasureName != "http_requests_total" || len(r2.Dimensions) != 1 || r2.Dimensions[0].Name != "code" || r2.Value.Float() != 42.5 {
		t.Fatalf("record 2 = %+v", r2)
	}
}

func TestRemoteWriteV2(t *testing.T) {
	rec := &recorder{}
	h := New(rec, Options{TenantHeader: "X-Scope-OrgID"})
	st := writev2.NewSymbolTable()
	refs := st.SymbolizeLabels(labels.FromStrings("__name__", "node_cpu_seconds_total", "cpu", "0", "mode", "idle"), nil)
	req := &writev2.Request{Timeseries: []writev2.TimeSeries{{LabelsRefs: refs, Samples: []writev2.Sample{{Value: 3.25, Timestamp: 5000}, {Value: 4.5, Timestamp: 6000}}}}}
	req.Symbols = st.Symbols()
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	w := post(h, snappy.Encode(nil, raw), "application/x-protobuf;proto=io.prometheus.write.v2.Request", "X-Scope-OrgID", "team_a")
	if w.Code != http.StatusNoContent {
		t.Fatalf("code %d: %s", w.Code, w.Body)
	}
	if got := w.Header().Get("X-Prometheus-Remote-Write-Samples-Written"); got != "2" {
		t.Fatalf("samples written header %q", got)
	}
	if w.Header().Get("X-Prometheus-Remote-Write-Histograms-Written") != "0" || w.Header().Get("X-Prometheus-Remote-Write-Exemplars-Written") != "0" {
		t.Fatalf("headers %v", w.Header())
	}
	if rec.db != "team_a" || rec.table != "metrics" || len(rec.recs) != 2 || rec.recs[1].Time != 6000*1e6 || rec.recs[1].Value.Float() != 4.5 ||
		rec.recs[0].MeasureName != "node_cpu_seconds_total" || len(rec.recs[0].Dimensions) != 2 || rec.recs[0].Dimensions[1].Value != "idle" {
		t.Fatalf("records %+v in %s.%s", rec.recs, rec.db, rec.table)
	}
}

func TestRemoteWriteRejections(t *testing.T) {
	rec := &recorder{}
	h := New(rec, Options{})
	good := prompb.TimeSeries{Labels: []prompb.Label{{Name: "__name__", Value: "ok_metric"}, {Name: "a", Value: "b"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}}
	body := v1Body(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		good,
		{Labels: []prompb.Label{{Name: "a", Value: "b"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}},                                           // no name
		{Labels: []prompb.Label{{Name: "__name__", Value: "bad_metric"}, {Name: "a", Value: "b"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}},  // rejected by the appender
		{Labels: []prompb.Label{{Name: "__name__", Value: "hist"}, {Name: "a", Value: "b"}}, Histograms: []prompb.Histogram{{Timestamp: 1, Schema: 1}}}, // native histogram
	}})
	w := post(h, body, "application/x-protobuf")
	if w.Code != http.StatusBadRequest {
		t.Fatalf("code %d", w.Code)
	}
	msg := w.Body.String()
	for _, want := range []string{"no __name__ label", "bad metric", "native histograms are not supported", "hist{a=\"b\"}"} {
		if !strings.Contains(msg, want) {
			t.Errorf("body lacks %q:\n%s", want, msg)
		}
	}
	if len(rec.recs) != 1 || rec.recs[0].MeasureName != "ok_metric" {
		t.Fatalf("good series not kept: %+v", rec.recs)
	}
}

func TestRemoteWriteBadBodies(t *testing.T) {
	h := New(&recorder{}, Options{MaxBodyBytes: 1 << 10})
	valid := v1Body(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "__name__", Value: "x"}, {Name: "a", Value: "b"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}}}})
	cases := []struct {
		name        string
		body        []byte
		contentType string
		encoding    string
		want        int
	}{
		{"not snappy", []byte("hello world, not snappy"), "application/x-protobuf", "snappy", 400},
		{"truncated", valid[:len(valid)-3], "application/x-protobuf", "snappy", 400},
		{"garbage protobuf", snappy.Encode(nil, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}), "application/x-protobuf", "snappy", 400},
		{"gzip", valid, "application/x-protobuf", "gzip", 415},
		{"json", valid, "application/json", "snappy", 415},
		{"unknown proto", valid, "application/x-protobuf;proto=foo.Bar", "snappy", 415},
		{"too large", snappy.Encode(nil, make([]byte, 4<<10)), "application/x-protobuf", "snappy", 400},
		{"valid", valid, "application/x-protobuf;proto=prometheus.WriteRequest", "snappy", 204},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(c.body))
		r.Header.Set("Content-Type", c.contentType)
		r.Header.Set("Content-Encoding", c.encoding)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s: code %d (%s), want %d", c.name, w.Code, w.Body, c.want)
		}
	}
}

func FuzzRemoteWriteDecode(f *testing.F) {
	f.Add(v1Body(&testing.T{}, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "__name__", Value: "x"}, {Name: "a", Value: "b"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}}}}), false)
	f.Add([]byte{}, true)
	f.Add(snappy.Encode(nil, []byte{0x22, 0x01, 0x00}), true)
	h := New(&recorder{}, Options{})
	f.Fuzz(func(t *testing.T, body []byte, v2 bool) {
		ct := "application/x-protobuf"
		if v2 {
			ct += ";proto=io.prometheus.write.v2.Request"
		}
		w := post(h, body, ct)
		if w.Code != 204 && w.Code != 400 {
			t.Fatalf("code %d for %x: %s", w.Code, body, w.Body)
		}
	})
}
