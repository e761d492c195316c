package timestreamapi

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/query/exec"
)

// devopsResult is a TSBS devops cpu result: hosts with the ten cpu metrics as
// multi-measure columns at a 10 s interval, values random walks from a fixed
// seed, as SELECT * FROM devops.cpu returns it.
func devopsResult(hosts, steps int) *exec.Result {
	metrics := []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
		"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	res := &exec.Result{Columns: []exec.Column{
		{Name: "hostname", Type: exec.TypeVarchar},
		{Name: "region", Type: exec.TypeVarchar},
		{Name: "measure_name", Type: exec.TypeVarchar},
		{Name: "time", Type: exec.TypeTimestamp},
	}}
	for _, m := range metrics {
		res.Columns = append(res.Columns, exec.Column{Name: m, Type: exec.TypeDouble})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	vals := make([][]float64, hosts)
	for h := range vals {
		vals[h] = make([]float64, len(metrics))
		for m := range vals[h] {
			vals[h][m] = rng.Float64() * 100
		}
	}
	for s := range steps {
		for h := range hosts {
			row := []exec.Value{
				{Kind: exec.KindVarchar, S: "host_" + strconv.Itoa(h)},
				{Kind: exec.KindVarchar, S: "us-east-1"},
				{Kind: exec.KindVarchar, S: "cpu"},
				{Kind: exec.KindTimestamp, I: start + int64(s)*int64(10*time.Second)},
			}
			for m := range metrics {
				v := vals[h][m] + rng.NormFloat64()
				v = min(max(v, 0), 100)
				vals[h][m] = v
				row = append(row, exec.Value{Kind: exec.KindDouble, F: v})
			}
			res.Rows = append(res.Rows, row)
		}
	}
	return res
}

func BenchmarkEncodePage(b *testing.B) {
	res := devopsResult(100, 10) // 1000 rows: one MaxRows=1000 page
	a := New(nil, Options{})
	c := &cursor{id: newQueryID(), done: make(chan struct{}), tokens: map[string]*token{}}
	a.cursors.finish(c, res, nil, nil)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		body, end, err := a.encodePage(c, 0, 1000)
		if err != nil || end != 1000 {
			b.Fatalf("encodePage: end %d, %v", end, err)
		}
		n = len(body)
	}
	b.SetBytes(int64(n))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/row")
}

// BenchmarkQueryServe measures one whole Query call (decode, run on an
// engine that returns a ready result, encode the first 1000-row page, write
// the response) without the network.
func BenchmarkQueryServe(b *testing.B) {
	res := devopsResult(100, 10)
	a := New(benchEngine{res}, Options{})
	defer a.Close()
	body := `{"QueryString":"SELECT * FROM devops.cpu","MaxRows":1000}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "Timestream_20181101.Query")
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		b.SetBytes(int64(w.Body.Len()))
	}
}

type benchEngine struct{ res *exec.Result }

func (e benchEngine) Query(context.Context, string, map[string]exec.Value) (*exec.Result, error) {
	return e.res, nil
}

func (e benchEngine) Prepare(string) ([]exec.Column, []exec.Param, error) {
	return e.res.Columns, nil, nil
}

// BenchmarkEnginePaging runs SELECT over 10,000 TSBS-shaped rows on the real
// engine and pages through the whole result with MaxRows 1000, as an SDK
// paginator does, without the network.
func BenchmarkEnginePaging(b *testing.B) {
	a := New(newEngine(b, 100, 100, nil), Options{})
	defer a.Close()
	sql := "SELECT hostname, time, usage_user, usage_system FROM devops.cpu ORDER BY hostname, time"
	b.ReportAllocs()
	var bytes int64
	for b.Loop() {
		tok, rows := "", 0
		for {
			in := map[string]any{"QueryString": sql, "MaxRows": 1000}
			if tok != "" {
				in["NextToken"] = tok
			}
			body, _ := json.Marshal(in)
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			req.Header.Set("X-Amz-Target", "Timestream_20181101.Query")
			w := httptest.NewRecorder()
			a.ServeHTTP(w, req)
			var out struct {
				NextToken string
				Rows      []json.RawMessage
			}
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != http.StatusOK {
				b.Fatalf("status %d: %v", w.Code, err)
			}
			bytes += int64(w.Body.Len())
			rows += len(out.Rows)
			if tok = out.NextToken; tok == "" {
				break
			}
		}
		if rows != 10000 {
			b.Fatalf("paged %d rows, want 10000", rows)
		}
	}
	b.SetBytes(bytes / int64(b.N))
}
