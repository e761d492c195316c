package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/cputime"
)

// tsbsMapping maps TSBS devops "cpu" rows sent as JSON: ten tags, ten
// fields, one multi-measure record per message.
func tsbsMapping() Mapping {
	m := Mapping{Database: "bench", Table: "cpu", Time: TimeField{Field: "timestamp", Unit: "ns"},
		Dimensions: []string{"tags.hostname", "tags.region", "tags.datacenter", "tags.rack", "tags.os", "tags.arch", "tags.team", "tags.service", "tags.service_version", "tags.service_environment"}}
	for _, f := range tsbsFields {
		m.Measures = append(m.Measures, MeasureField{Field: f, Type: ingest.TypeDouble})
	}
	return m
}

var tsbsFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// tsbsBatch returns the batch-th run of n messages of 100 hosts, every
// message a new time (10 ms apart per host), with a fixed seed so that runs
// compare.
func tsbsBatch(start time.Time, batch, n int) []Message {
	rng := rand.New(rand.NewPCG(uint64(batch), 2))
	msgs := make([]Message, n)
	for k := range msgs {
		j := batch*n + k
		h := j % 100
		b := fmt.Appendf(nil, `{"timestamp":%d,"tags":{"hostname":"host_%d","region":"eu-west-%d","datacenter":"eu-west-%db","rack":"%d","os":"Ubuntu16.04LTS","arch":"x64","team":"SF","service":"%d","service_version":"1","service_environment":"production"}`,
			start.Add(time.Duration(j/100)*10*time.Millisecond).UnixNano(), h, h%3, h%3, h%50, h%20)
		for _, f := range tsbsFields {
			b = fmt.Appendf(b, `,%q:%d`, f, rng.IntN(100))
		}
		msgs[k] = Message{Partition: "cpu/0", Offset: fmt.Sprint(j), Value: append(b, '}')}
	}
	return msgs
}

type discard struct{}

func (discard) Append(_ context.Context, _, _ string, recs []ingest.Record, _ ingest.AppendOptions) (ingest.Result, error) {
	return ingest.Result{MemoryStore: len(recs)}, nil
}

// BenchmarkDecodeMapJSON is the hot path of a JSON pipeline without
// storage: decode, map and validate batches of 500 TSBS cpu messages. Each
// batch also goes through the general path (the reference decoder,
// encoding/json into maps, with every record checked by the pipeline), and
// vs-reference is the ratio of their CPU times: it compares on a shared
// machine where records/s does not.
//
//	go test -run '^$' -bench DecodeMapJSON -benchmem ./ingest/pipeline
func BenchmarkDecodeMapJSON(b *testing.B) {
	benchProcess(b, discard{}, true)
}

// BenchmarkProcessMemstore adds the real append: a memstore whose WAL
// fsyncs every batch.
//
//	go test -run '^$' -bench ProcessMemstore -benchmem ./ingest/pipeline
func BenchmarkProcessMemstore(b *testing.B) {
	benchProcess(b, openMemstore(b), false)
}

func benchProcess(b *testing.B, app ingest.Appender, withRef bool) {
	const batch = 500
	p, err := New(app, Options{Name: "bench", Format: FormatJSON, Mapping: tsbsMapping()})
	if err != nil {
		b.Fatal(err)
	}
	ref, err := New(app, Options{Name: "ref", Format: "json_reference", Mapping: tsbsMapping(),
		Formats: map[string]DecoderFunc{"json_reference": newRefJSONDecoder}})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	var bytes int64
	for _, m := range tsbsBatch(start, 0, batch) {
		bytes += int64(len(m.Value))
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	records := 0
	var cpu, refCPU time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		msgs := tsbsBatch(start, i, batch)
		if withRef {
			c0 := cputime.Process()
			out, err := ref.Process(context.Background(), msgs)
			refCPU += cputime.Process() - c0
			if err != nil || out.Records != batch {
				b.Fatalf("reference: stored %d records of %d: %v", out.Records, batch, err)
			}
			// Its garbage is not the measured path's to collect.
			runtime.GC()
		}
		b.StartTimer()
		c0 := cputime.Process()
		out, err := p.Process(context.Background(), msgs)
		cpu += cputime.Process() - c0
		if err != nil {
			b.Fatal(err)
		}
		if out.Records != batch {
			b.Fatalf("stored %d records of %d", out.Records, batch)
		}
		records += out.Records
	}
	// The machine is shared: records per CPU-second (of the whole process,
	// the storage's background work included) is the figure that compares
	// between runs; records/s (wall) includes waiting for a core.
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(records)/cpu.Seconds(), "records/cpu-s")
		if refCPU > 0 {
			b.ReportMetric(refCPU.Seconds()/cpu.Seconds(), "vs-reference")
		}
	}
}
