package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// receiver is an httptest server that records every request body after
// decoding it with decode.
type receiver struct {
	mu      sync.Mutex
	got     map[sampleKey]float64
	headers []http.Header
	reqs    int
}

func newReceiver(t *testing.T, decode func(t *testing.T, r *http.Request, body []byte, add func(sampleKey, float64))) (*receiver, *httptest.Server) {
	rc := &receiver{got: map[sampleKey]float64{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.reqs++
		rc.headers = append(rc.headers, r.Header.Clone())
		decode(t, r, body, func(k sampleKey, v float64) {
			if _, dup := rc.got[k]; dup {
				t.Errorf("sample %v sent twice", k)
			}
			rc.got[k] = v
		})
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return rc, srv
}

func checkSamples(t *testing.T, want, got map[sampleKey]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("received %d samples, want %d", len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Fatalf("sample %v = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func TestDriversSendEverySampleOnce(t *testing.T) {
	pts := genPoints(t, 5, 12) // 60 points, 600 samples
	want := expectedSamples(pts)
	tests := []struct {
		driver     string
		wantHeader map[string]string
		decode     func(t *testing.T, r *http.Request, body []byte, add func(sampleKey, float64))
	}{
		{DriverPromRW1, map[string]string{"Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "0.1.0", "Content-Type": "application/x-protobuf"}, decodeRW1},
		{DriverPromRW2, map[string]string{"Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "2.0.0", "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"}, decodeRW2},
		{DriverInflux, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, decodeInflux},
		{DriverTimestream, map[string]string{"X-Amz-Target": "Timestream_20181101.WriteRecords"}, decodeWriteRecords},
	}
	for _, tc := range tests {
		t.Run(tc.driver, func(t *testing.T) {
			rc, srv := newReceiver(t, tc.decode)
			d, err := NewDriver(tc.driver, srv.URL, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			// Three batches of 20 points, as three clients would send them.
			for i := 0; i < len(pts); i += 20 {
				if err := d.Write(context.Background(), pts[i:i+20]); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			checkSamples(t, want, rc.got)
			wantReqs := 3
			if tc.driver == DriverTimestream {
				wantReqs = 6 // 200 records per batch, 100 per WriteRecords
			}
			if rc.reqs != wantReqs {
				t.Errorf("%d requests, want %d", rc.reqs, wantReqs)
			}
			for k, v := range tc.wantHeader {
				if got := rc.headers[0].Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func decodeRW1(t *testing.T, _ *http.Request, body []byte, add func(sampleKey, float64)) {
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatalf("snappy: %v", err)
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	for _, ts := range req.Timeseries {
		var name, host string
		for i, l := range ts.Labels {
			if i > 0 && ts.Labels[i-1].Name >= l.Name {
				t.Errorf("labels not sorted: %v", ts.Labels)
			}
			switch l.Name {
			case "__name__":
				name = l.Value
			case "hostname":
				host = l.Value
			}
		}
		if len(ts.Labels) != 11 {
			t.Errorf("series has %d labels, want __name__ + 10 tags", len(ts.Labels))
		}
		for _, s := range ts.Samples {
			add(sampleKey{name, host, s.Timestamp}, s.Value)
		}
	}
}

func decodeRW2(t *testing.T, _ *http.Request, body []byte, add func(sampleKey, float64)) {
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatalf("snappy: %v", err)
	}
	var req writev2.Request
	if err := req.Unmarshal(raw); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if len(req.Symbols) == 0 || req.Symbols[0] != "" {
		t.Fatalf("symbols must start with the empty string: %q", req.Symbols)
	}
	for _, ts := range req.Timeseries {
		var name, host string
		for i := 0; i+1 < len(ts.LabelsRefs); i += 2 {
			k, v := req.Symbols[ts.LabelsRefs[i]], req.Symbols[ts.LabelsRefs[i+1]]
			switch k {
			case "__name__":
				name = v
			case "hostname":
				host = v
			}
		}
		for _, s := range ts.Samples {
			add(sampleKey{name, host, s.Timestamp}, s.Value)
		}
	}
}

func decodeInflux(t *testing.T, r *http.Request, body []byte, add func(sampleKey, float64)) {
	if got := r.URL.Query().Get("db"); got != Database {
		t.Errorf("db = %q, want %q", got, Database)
	}
	err := tsbs.ReadInflux(bytes.NewReader(body), func(p *tsbs.Point) error {
		for _, f := range p.Fields {
			add(sampleKey{p.Measurement + "_" + f.Name, p.Tags[0].Value, p.Time / 1e6}, f.Value())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read line protocol: %v", err)
	}
}

func decodeWriteRecords(t *testing.T, _ *http.Request, body []byte, add func(sampleKey, float64)) {
	var in struct {
		DatabaseName, TableName string
		Records                 []struct {
			Dimensions                       []struct{ Name, Value string }
			MeasureName, MeasureValue        string
			MeasureValueType, Time, TimeUnit string
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatalf("decode WriteRecords: %v", err)
	}
	if in.DatabaseName != Database || in.TableName != "cpu" {
		t.Errorf("table %s.%s, want %s.cpu", in.DatabaseName, in.TableName, Database)
	}
	if len(in.Records) > timestreamMaxRecords {
		t.Errorf("%d records in one request, Timestream allows %d", len(in.Records), timestreamMaxRecords)
	}
	for _, r := range in.Records {
		if r.MeasureValueType != "DOUBLE" || r.TimeUnit != "NANOSECONDS" || len(r.Dimensions) != 10 || r.Dimensions[0].Name != "hostname" {
			t.Fatalf("odd record %+v", r)
		}
		v, err := strconv.ParseFloat(r.MeasureValue, 64)
		if err != nil {
			t.Fatal(err)
		}
		ns, err := strconv.ParseInt(r.Time, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		add(sampleKey{"cpu_" + r.MeasureName, r.Dimensions[0].Value, ns / 1e6}, v)
	}
}

func TestTimestreamPrepareCreatesDatabaseAndTables(t *testing.T) {
	var mu sync.Mutex
	var ops []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Timestream_20181101.")
		mu.Lock()
		ops = append(ops, op+" "+string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if op == "CreateDatabase" { // already exists: must be tolerated
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"ConflictException","message":"exists"}`)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	d, err := NewDriver(DriverTimestream, srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	d.(*timestreamDriver).memoryHours = 7
	if err := d.Prepare(context.Background(), []string{"cpu", "mem"}); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if len(ops) != 3 || !strings.HasPrefix(ops[0], "CreateDatabase ") {
		t.Fatalf("operations %q, want CreateDatabase then two CreateTable", ops)
	}
	for i, table := range []string{"cpu", "mem"} {
		op := ops[i+1]
		if !strings.HasPrefix(op, "CreateTable ") || !strings.Contains(op, `"TableName":"`+table+`"`) ||
			!strings.Contains(op, `"MemoryStoreRetentionPeriodInHours":7`) {
			t.Errorf("operation %d = %s", i+1, op)
		}
	}
}

func TestPosterRetriesOverloadOnly(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		wantCalls int32
		wantErr   string
	}{
		{"ok", []int{204}, 1, ""},
		{"503 then ok", []int{503, 503, 204}, 3, ""},
		{"429 then ok", []int{429, 200}, 2, ""},
		{"400 is final", []int{400, 204}, 1, "400 Bad Request: bad sample"},
		{"503 forever", []int{503, 503, 503, 503, 503, 503}, postAttempts, "503 Service Unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				n := calls.Add(1)
				w.WriteHeader(tc.statuses[n-1])
				_, _ = io.WriteString(w, "bad sample")
			}))
			defer srv.Close()
			err := poster{hc: srv.Client(), url: srv.URL}.post(context.Background(), []byte("x"), http.Header{})
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("%d calls, want %d", got, tc.wantCalls)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func BenchmarkEncodeRW1(b *testing.B) { benchEncode(b, encodeRW1) }
func BenchmarkEncodeRW2(b *testing.B) { benchEncode(b, encodeRW2) }

// benchEncode encodes TSBS devops batches of 1000 samples (100 hosts at one
// tick), the default --batch.
func benchEncode(b *testing.B, enc func([]tsbs.Point) ([]byte, error)) {
	pts := genPoints(b, 100, 1)
	b.ReportAllocs()
	b.SetBytes(int64(samplesIn(pts)) * 16)
	var n int
	for b.Loop() {
		body, err := enc(pts)
		if err != nil {
			b.Fatal(err)
		}
		n += len(body)
	}
	b.ReportMetric(float64(n)/float64(b.N)/float64(samplesIn(pts)), "wire-bytes/sample")
}

// BenchmarkTimestreamWrite measures the loader's cost of one WriteRecords
// batch of 100 TSBS cpu records through the AWS SDK against a loopback
// server that acknowledges without storing.
func BenchmarkTimestreamWrite(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{"RecordsIngested":{"Total":100,"MemoryStore":100,"MagneticStore":0}}`)
	}))
	defer srv.Close()
	d, err := NewDriver(DriverTimestream, srv.URL, srv.Client())
	if err != nil {
		b.Fatal(err)
	}
	pts := genPoints(b, 10, 1)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(samplesIn(pts)) * 16)
	for b.Loop() {
		if err := d.Write(ctx, pts); err != nil {
			b.Fatal(err)
		}
	}
}
