package kafka

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/pipeline"
	"github.com/tidaldb/tidal/internal/cputime"
	"github.com/tidaldb/tidal/memstore"
)

// BenchmarkKafkaJSON consumes 100,000 TSBS-shaped cpu messages (ten tags,
// ten fields, one multi-measure record each) from an in-process Kafka
// cluster of 4 partitions into a real memstore whose WAL fsyncs every
// committed batch; each iteration is a fresh group and a fresh store.
//
//	go test -run '^$' -bench KafkaJSON -benchtime 3x ./ingest/kafka
//
// Sub-benchmarks compare partitions stored one after the other and
// concurrently.
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
	fields := []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	var recs []*kgo.Record
	for j := range n {
		h := j % 100
		v := fmt.Appendf(nil, `{"timestamp":%d,"tags":{"hostname":"host_%d","region":"eu-west-%d","datacenter":"eu-west-%db","rack":"%d","os":"Ubuntu16.04LTS","arch":"x64","team":"SF","service":"%d","service_version":"1","service_environment":"production"}`,
			start.Add(time.Duration(j/100)*10*time.Millisecond).UnixNano(), h, h%3, h%3, h%50, h%20)
		for i, f := range fields {
			v = fmt.Appendf(v, `,%q:%d`, f, (j*7+i)%100)
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
	m := pipeline.Mapping{Database: "bench", Table: "cpu", Time: pipeline.TimeField{Field: "timestamp", Unit: "ns"},
		Dimensions: []string{"tags.hostname", "tags.region", "tags.datacenter", "tags.rack", "tags.os", "tags.arch", "tags.team", "tags.service", "tags.service_version", "tags.service_environment"}}
	for _, f := range fields {
		m.Measures = append(m.Measures, pipeline.MeasureField{Field: f, Type: ingest.TypeDouble})
	}
	// parallel=1 appends the partitions of a poll one after the other
	// (each its own fsync); parallel=4 decodes and appends them at once.
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("parallel=%d", par), func(b *testing.B) {
			benchKafkaJSON(b, c, m, n, par)
		})
	}
}

// benchGroups numbers the consumer groups: every run reads the topic from
// the start (-count repeats a sub-benchmark on the same cluster).
var benchGroups atomic.Int64

func benchKafkaJSON(b *testing.B, c *kfake.Cluster, m pipeline.Mapping, n, parallel int) {
	var cpu time.Duration
	records := 0
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		cat, err := catalog.Open(catalog.Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		mem, err := memstore.Open(cat, memstore.DefaultOptions(filepath.Join(dir, "memstore")))
		if err != nil {
			b.Fatal(err)
		}
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
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(records)/cpu.Seconds(), "records/cpu-s")
	}
}
