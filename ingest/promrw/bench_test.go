package promrw

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/memstore"
)

var benchFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// benchSeries returns the label sets of the TSBS devops cpu shape: hosts x
// 10 metrics, labels sorted as Prometheus sends them.
func benchSeries(hosts int) [][]prompb.Label {
	var out [][]prompb.Label
	for h := range hosts {
		for _, f := range benchFields {
			out = append(out, []prompb.Label{
				{Name: "__name__", Value: "cpu_" + f},
				{Name: "arch", Value: "x64"},
				{Name: "datacenter", Value: "eu-west-1c"},
				{Name: "hostname", Value: "host_" + strconv.Itoa(h)},
				{Name: "os", Value: "Ubuntu16.04LTS"},
				{Name: "rack", Value: strconv.Itoa(h % 100)},
				{Name: "region", Value: "eu-west-1"},
				{Name: "service", Value: strconv.Itoa(h % 20)},
				{Name: "service_environment", Value: "production"},
				{Name: "service_version", Value: "1"},
				{Name: "team", Value: "NYC"},
			})
		}
	}
	return out
}

// benchSenders is the number of concurrent senders, as in Prometheus's
// default-ish shard count for this load.
const benchSenders = 4

// benchBodies pre-encodes n requests of 2000 samples for each of the
// benchSenders senders, one TimeSeries per sample as Prometheus's queue
// manager sends them. Sender c owns the series whose index is c mod
// benchSenders (500 of them) and sends 4 consecutive steps per request,
// in time order; steps are 1 s apart so that a long run stays inside the
// memory window.
func benchBodies(b *testing.B, n int, v2 bool) [][][]byte {
	all := benchSeries(200)
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Now().Add(-time.Hour).UnixMilli()
	out := make([][][]byte, benchSenders)
	for c := range benchSenders {
		var series [][]prompb.Label
		for i := c; i < len(all); i += benchSenders {
			series = append(series, all[i])
		}
		vals := make([]float64, len(series))
		for k := range n {
			var raw []byte
			var err error
			if v2 {
				syms := writev2.NewSymbolTable()
				req := writev2.Request{}
				for step := range 4 {
					ms := start + int64(k*4+step)*1000
					for j, ls := range series {
						vals[j] = min(max(vals[j]+rng.NormFloat64(), 0), 100)
						var refs []uint32
						for _, l := range ls {
							refs = append(refs, syms.Symbolize(l.Name), syms.Symbolize(l.Value))
						}
						req.Timeseries = append(req.Timeseries, writev2.TimeSeries{LabelsRefs: refs, Samples: []writev2.Sample{{Value: vals[j], Timestamp: ms}}})
					}
				}
				req.Symbols = syms.Symbols()
				raw, err = req.Marshal()
			} else {
				req := prompb.WriteRequest{}
				for step := range 4 {
					ms := start + int64(k*4+step)*1000
					for j, ls := range series {
						vals[j] = min(max(vals[j]+rng.NormFloat64(), 0), 100)
						req.Timeseries = append(req.Timeseries, prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Timestamp: ms, Value: vals[j]}}})
					}
				}
				raw, err = req.Marshal()
			}
			if err != nil {
				b.Fatal(err)
			}
			out[c] = append(out[c], snappy.Encode(nil, raw))
		}
	}
	return out
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHandlerMemstore measures the whole receiving path in process:
// Handler decoding TSBS devops requests of 2000 samples from 4 concurrent
// senders and appending them to a real memstore.DB whose WAL fsyncs every
// acknowledged request. b.N is the number of requests (at most 3600).
//
//	go test -run '^$' -bench HandlerMemstore -benchtime 400x ./ingest/promrw
func BenchmarkHandlerMemstore(b *testing.B) {
	for _, proto := range []string{"v1", "v2"} {
		b.Run(proto, func(b *testing.B) {
			dir := b.TempDir()
			cat, err := catalog.Open(catalog.Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			mem, err := memstore.Open(cat, memstore.DefaultOptions(filepath.Join(dir, "memstore")))
			if err != nil {
				b.Fatal(err)
			}
			defer mem.Close()
			h := New(mem, Options{})
			ctype := "application/x-protobuf"
			if proto == "v2" {
				ctype += ";proto=io.prometheus.write.v2.Request"
			}
			per := (min(b.N, 3600) + benchSenders - 1) / benchSenders
			bodies := benchBodies(b, per, proto == "v2")
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			var wg sync.WaitGroup
			for c := range benchSenders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := 0; k*benchSenders+c < b.N; k++ {
						body := bodies[c][k%per]
						r := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
						r.Header.Set("Content-Type", ctype)
						r.Header.Set("Content-Encoding", "snappy")
						w := httptest.NewRecorder()
						h.ServeHTTP(w, r)
						if w.Code != http.StatusNoContent {
							b.Errorf("sender %d request %d: HTTP %d: %s", c, k, w.Code, w.Body.String())
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)*2000/b.Elapsed().Seconds(), "samples/s")
			// CPU per sample is steadier than wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*2000), "cpu-ns/sample")
		})
	}
}

// BenchmarkHandlerSeriesCache measures the Handler's shared series cache
// (after) against a cache per pooled decodeState, which the garbage
// collector empties (before): two Handlers on two memstores take the
// BenchmarkHandlerMemstore stream from 4 concurrent senders in alternating
// phases of 8 requests per sender, and the process CPU time of each phase
// is summed. b.N is the number of requests per Handler (at most 3600):
//
//	go test -run '^$' -bench HandlerSeriesCache -benchtime 800x ./ingest/promrw
func BenchmarkHandlerSeriesCache(b *testing.B) {
	for _, proto := range []string{"v1", "v2"} {
		b.Run(proto, func(b *testing.B) {
			var hs [2]*Handler
			for v := range 2 {
				dir := b.TempDir()
				cat, err := catalog.Open(catalog.Options{Dir: dir})
				if err != nil {
					b.Fatal(err)
				}
				mem, err := memstore.Open(cat, memstore.DefaultOptions(filepath.Join(dir, "memstore")))
				if err != nil {
					b.Fatal(err)
				}
				defer mem.Close()
				hs[v] = New(mem, Options{})
			}
			hs[0].cachePerState = true
			ctype := "application/x-protobuf"
			if proto == "v2" {
				ctype += ";proto=io.prometheus.write.v2.Request"
			}
			per := (min(b.N, 3600) + benchSenders - 1) / benchSenders
			bodies := benchBodies(b, per, proto == "v2")
			const phase = 8 // requests per sender and phase
			var cpu [2]time.Duration
			b.ResetTimer()
			for from := 0; from < per; from += phase {
				for v, h := range hs {
					c0 := cpuTime()
					var wg sync.WaitGroup
					for c := range benchSenders {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for k := from; k < min(from+phase, per); k++ {
								r := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(bodies[c][k]))
								r.Header.Set("Content-Type", ctype)
								r.Header.Set("Content-Encoding", "snappy")
								w := httptest.NewRecorder()
								h.ServeHTTP(w, r)
								if w.Code != http.StatusNoContent {
									b.Errorf("sender %d request %d: HTTP %d: %s", c, k, w.Code, w.Body.String())
									return
								}
							}
						}()
					}
					wg.Wait()
					cpu[v] += cpuTime() - c0
				}
			}
			b.StopTimer()
			n := float64(per * benchSenders * 2000)
			b.ReportMetric(float64(cpu[0])/n, "before-cpu-ns/sample")
			b.ReportMetric(float64(cpu[1])/n, "after-cpu-ns/sample")
			b.ReportMetric(float64(cpu[1])/float64(max(cpu[0], 1)), "after/before")
		})
	}
}
