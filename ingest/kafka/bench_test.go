package kafka

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/pipeline"
	"github.com/tidaldb/tidal/ingest/promrw"
	"github.com/tidaldb/tidal/internal/cputime"
	"github.com/tidaldb/tidal/memstore"
)

var benchFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// benchRow is row j of the benchmark data: TSBS devops cpu, 100 hosts,
// every host a new time each 10 ms.
func benchRow(start time.Time, j int) (ts time.Time, host int, vals [10]int) {
	h := j % 100
	for i := range vals {
		vals[i] = (j*7 + i) % 100
	}
	return start.Add(time.Duration(j/100) * 10 * time.Millisecond), h, vals
}

// benchTags are host h's tags, in the JSON messages' order.
func benchTags(h int) [][2]string {
	return [][2]string{{"hostname", "host_" + strconv.Itoa(h)}, {"region", "eu-west-" + strconv.Itoa(h%3)},
		{"datacenter", "eu-west-" + strconv.Itoa(h%3) + "b"}, {"rack", strconv.Itoa(h % 50)}, {"os", "Ubuntu16.04LTS"},
		{"arch", "x64"}, {"team", "SF"}, {"service", strconv.Itoa(h % 20)}, {"service_version", "1"}, {"service_environment", "production"}}
}

// BenchmarkKafkaJSON consumes 100,000 TSBS-shaped cpu messages (ten tags,
// ten fields, one multi-measure record each) from an in-process Kafka
// cluster of 4 partitions into a real memstore whose WAL fsyncs every
// committed batch; each iteration is a fresh group and a fresh store.
//
//	go test -run '^$' -bench KafkaJSON -benchtime 3x ./ingest/kafka
//
// Sub-benchmarks compare partitions stored one after the other and
// concurrently. Every iteration also sends the same data (1,000,000
// samples) to a fresh memstore through the Prometheus remote-write handler
// (requests of 2000 samples from 4 concurrent senders, as
// BenchmarkHandlerMemstore): vs-remote-write is the ratio of the samples
// per second (JSON: 10 per record), cpu-vs-remote-write the ratio of the
// samples per CPU-second, both measured in the same run.
func BenchmarkKafkaJSON(b *testing.B) {
	const n, partitions = 100_000, 4
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "cpu"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	var recs []*kgo.Record
	for j := range n {
		ts, h, vals := benchRow(start, j)
		v := fmt.Appendf(nil, `{"timestamp":%d,"tags":{`, ts.UnixNano())
		for k, t := range benchTags(h) {
			if k > 0 {
				v = append(v, ',')
			}
			v = fmt.Appendf(v, `%q:%q`, t[0], t[1])
		}
		v = append(v, '}')
		for i, f := range benchFields {
			v = fmt.Appendf(v, `,%q:%d`, f, vals[i])
		}
		recs = append(recs, &kgo.Record{Topic: "cpu", Partition: int32(h % partitions), Value: append(v, '}')})
		if len(recs) == 5000 {
			if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	prod.Close()
	bodies := benchRemoteWrite(b, start, n)
	m := pipeline.Mapping{Database: "bench", Table: "cpu", Time: pipeline.TimeField{Field: "timestamp", Unit: "ns"}}
	for _, t := range benchTags(0) {
		m.Dimensions = append(m.Dimensions, "tags."+t[0])
	}
	for _, f := range benchFields {
		m.Measures = append(m.Measures, pipeline.MeasureField{Field: f, Type: ingest.TypeDouble})
	}
	// parallel=1 appends the partitions of a poll one after the other
	// (each its own fsync); parallel=4 decodes and appends them at once.
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("parallel=%d", par), func(b *testing.B) {
			benchKafkaJSON(b, c, m, n, par, bodies)
		})
	}
}

// benchRemoteWrite encodes the benchmark rows as snappy remote-write 1.0
// requests of 200 rows (2000 samples), one TimeSeries per sample as
// Prometheus sends them, split among 4 senders by host.
func benchRemoteWrite(b *testing.B, start time.Time, n int) [][][]byte {
	const senders, rows = 4, 200
	out := make([][][]byte, senders)
	reqs := make([]prompb.WriteRequest, senders)
	counts := make([]int, senders)
	for j := range n {
		ts, h, vals := benchRow(start, j)
		c := h % senders
		tags := benchTags(h)
		for i, f := range benchFields {
			ls := []prompb.Label{{Name: "__name__", Value: "cpu_" + f}}
			for _, t := range tags {
				ls = append(ls, prompb.Label{Name: t[0], Value: t[1]})
			}
			reqs[c].Timeseries = append(reqs[c].Timeseries, prompb.TimeSeries{Labels: ls,
				Samples: []prompb.Sample{{Timestamp: ts.UnixMilli(), Value: float64(vals[i])}}})
		}
		if counts[c]++; counts[c] == rows || j == n-1 {
			raw, err := reqs[c].Marshal()
			if err != nil {
				b.Fatal(err)
			}
			out[c] = append(out[c], snappy.Encode(nil, raw))
			reqs[c], counts[c] = prompb.WriteRequest{}, 0
		}
	}
	for c := range out {
		if counts[c] > 0 {
			raw, err := reqs[c].Marshal()
			if err != nil {
				b.Fatal(err)
			}
			out[c] = append(out[c], snappy.Encode(nil, raw))
		}
	}
	return out
}

// benchGroups numbers the consumer groups: every run reads the topic from
// the start (-count repeats a sub-benchmark on the same cluster).
var benchGroups atomic.Int64

func openBenchStore(b *testing.B) *memstore.DB {
	dir := b.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	mem, err := memstore.Open(cat, memstore.DefaultOptions(filepath.Join(dir, "memstore")))
	if err != nil {
		b.Fatal(err)
	}
	return mem
}

func benchKafkaJSON(b *testing.B, c *kfake.Cluster, m pipeline.Mapping, n, parallel int, bodies [][][]byte) {
	var cpu, rwWall, rwCPU time.Duration
	records, rwSamples := 0, 0
	for b.Loop() {
		b.StopTimer()
		// The baseline: the same data through remote-write.
		rwSamples += benchRemoteWriteRun(b, bodies, &rwWall, &rwCPU)
		mem := openBenchStore(b)
		p, err := pipeline.New(mem, pipeline.Options{Name: "bench", Format: pipeline.FormatJSON, Mapping: m})
		if err != nil {
			b.Fatal(err)
		}
		src, err := New(p, Options{Brokers: c.ListenAddrs(), Topics: []string{"cpu"}, Group: fmt.Sprint("bench-", benchGroups.Add(1)),
			Parallel: parallel, ClientOpts: []kgo.Opt{kgo.FetchMaxWait(50 * time.Millisecond)}})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		b.StartTimer()
		c0 := cputime.Process()
		go func() { done <- src.Run(ctx) }()
		for p.Status().Records < int64(n) {
			time.Sleep(time.Millisecond)
		}
		cpu += cputime.Process() - c0
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		records += int(p.Status().Records)
		_ = mem.Close()
		b.StartTimer()
	}
	rps := float64(records) / b.Elapsed().Seconds()
	b.ReportMetric(rps, "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(records)/cpu.Seconds(), "records/cpu-s")
	}
	if rwWall > 0 && rwCPU > 0 && cpu > 0 {
		b.ReportMetric(10*rps/(float64(rwSamples)/rwWall.Seconds()), "vs-remote-write")
		b.ReportMetric(10*float64(records)/cpu.Seconds()/(float64(rwSamples)/rwCPU.Seconds()), "cpu-vs-remote-write")
	}
}

// benchRemoteWriteRun sends bodies (one list per sender, concurrently) to
// a remote-write handler on a fresh memstore, adding its wall and CPU time;
// it returns the samples sent.
func benchRemoteWriteRun(b *testing.B, bodies [][][]byte, wall, cpu *time.Duration) int {
	mem := openBenchStore(b)
	defer mem.Close()
	h := promrw.New(mem, promrw.Options{})
	t0, c0 := time.Now(), cputime.Process()
	var wg sync.WaitGroup
	for _, list := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k, body := range list {
				r := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/x-protobuf")
				r.Header.Set("Content-Encoding", "snappy")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusNoContent {
					b.Errorf("remote-write request %d: HTTP %d: %s", k, w.Code, w.Body.String())
					return
				}
			}
		}()
	}
	wg.Wait()
	*wall += time.Since(t0)
	*cpu += cputime.Process() - c0
	samples := 0
	for _, list := range bodies {
		for range list {
			samples += 2000
		}
	}
	return samples
}
