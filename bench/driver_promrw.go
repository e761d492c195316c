package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// seriesGroup collects the samples of one batch by series, so that a
// request carries each series once with all its samples, as Prometheus's
// own remote-write queue does. Series are referenced by the first point
// and field they appear in; nothing is copied.
type seriesGroup struct {
	pts    []tsbs.Point
	series []groupedSeries
	// sorted[i] is the tags of pts[i] sorted by name, shared by all of the
	// point's fields.
	sorted [][]tsbs.Label
	labels int // total labels of all series, __name__ excluded
}

type groupedSeries struct {
	pt, field int
	samples   []prompb.Sample
}

func newSeriesGroup(pts []tsbs.Point) *seriesGroup {
	g := &seriesGroup{pts: pts, sorted: make([][]tsbs.Label, len(pts))}
	index := make(map[string]int, samplesIn(pts))
	var key []byte
	for pi := range pts {
		p := &pts[pi]
		if len(p.Fields) == 0 {
			continue
		}
		_, lbls, _ := p.Labels(0, nil)
		g.sorted[pi] = lbls
		key = key[:0]
		key = append(key, p.Measurement...)
		for _, l := range lbls {
			key = append(key, 0xff)
			key = append(key, l.Name...)
			key = append(key, 0xfe)
			key = append(key, l.Value...)
		}
		base := len(key)
		for fi := range p.Fields {
			f := &p.Fields[fi]
			key = append(append(key[:base], 0xfd), f.Name...)
			s := prompb.Sample{Timestamp: msOf(p.Time), Value: f.Value()}
			if i, ok := index[string(key)]; ok {
				g.series[i].samples = append(g.series[i].samples, s)
				continue
			}
			index[string(key)] = len(g.series)
			g.series = append(g.series, groupedSeries{pt: pi, field: fi, samples: []prompb.Sample{s}})
			g.labels += len(lbls)
		}
	}
	return g
}

// name returns the metric name of series s (measurement_field, as TSBS's
// Prometheus format names it).
func (g *seriesGroup) name(s *groupedSeries) string {
	p := &g.pts[s.pt]
	return p.Measurement + "_" + p.Fields[s.field].Name
}

// promRW1Driver sends Prometheus remote-write 1.0: a snappy-compressed
// prompb.WriteRequest.
type promRW1Driver struct{ post poster }

func (d *promRW1Driver) Name() string                            { return DriverPromRW1 }
func (d *promRW1Driver) MaxBatch() int                           { return 0 }
func (d *promRW1Driver) Prepare(context.Context, []string) error { return nil }

func (d *promRW1Driver) Write(ctx context.Context, pts []tsbs.Point) error {
	body, err := encodeRW1(pts)
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("Content-Encoding", "snappy")
	h.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	return d.post.post(ctx, body, h)
}

// encodeRW1 returns the snappy-compressed remote-write 1.0 body of pts.
// It writes the protobuf wire format directly (prometheus.WriteRequest:
// timeseries=1 {labels=1 {name=1, value=2}, samples=2 {value=1, timestamp=2}})
// instead of building prompb structs, which costs the loader, and so the
// server sharing its cores, about three times less.
func encodeRW1(pts []tsbs.Point) ([]byte, error) {
	g := newSeriesGroup(pts)
	raw := make([]byte, 0, 128*samplesIn(pts)+64)
	for i := range g.series {
		s := &g.series[i]
		name := g.name(s)
		lbls := g.sorted[s.pt]
		size := labelSize("__name__", name)
		for _, l := range lbls {
			size += labelSize(l.Name, l.Value)
		}
		for _, x := range s.samples {
			size += sampleSize(x.Timestamp)
		}
		raw = protowire.AppendTag(raw, 1, protowire.BytesType)
		raw = protowire.AppendVarint(raw, uint64(size))
		raw = appendLabel(raw, "__name__", name)
		for _, l := range lbls {
			raw = appendLabel(raw, l.Name, l.Value)
		}
		for _, x := range s.samples {
			raw = protowire.AppendTag(raw, 2, protowire.BytesType)
			raw = protowire.AppendVarint(raw, uint64(sampleSize(x.Timestamp)-1-1))
			raw = protowire.AppendTag(raw, 1, protowire.Fixed64Type)
			raw = protowire.AppendFixed64(raw, math.Float64bits(x.Value))
			raw = protowire.AppendTag(raw, 2, protowire.VarintType)
			raw = protowire.AppendVarint(raw, uint64(x.Timestamp))
		}
	}
	return snappy.Encode(nil, raw), nil
}

// labelSize is the encoded size of one Label field of a TimeSeries, tag
// and length included.
func labelSize(name, value string) int {
	n := 1 + protowire.SizeBytes(len(name)) + 1 + protowire.SizeBytes(len(value))
	return 1 + protowire.SizeBytes(n)
}

func appendLabel(dst []byte, name, value string) []byte {
	n := 1 + protowire.SizeBytes(len(name)) + 1 + protowire.SizeBytes(len(value))
	dst = protowire.AppendTag(dst, 1, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(n))
	dst = protowire.AppendTag(dst, 1, protowire.BytesType)
	dst = protowire.AppendString(dst, name)
	dst = protowire.AppendTag(dst, 2, protowire.BytesType)
	return protowire.AppendString(dst, value)
}

// sampleSize is the encoded size of one Sample field of a TimeSeries, tag
// and length included (the sample body is under 128 bytes, so its length
// takes one byte). Both fields are always written.
func sampleSize(ts int64) int {
	body := 1 + 8 + 1 + protowire.SizeVarint(uint64(ts))
	return 1 + 1 + body
}

// promRW2Driver sends Prometheus remote-write 2.0: a snappy-compressed
// io.prometheus.write.v2.Request with a symbol table.
type promRW2Driver struct{ post poster }

func (d *promRW2Driver) Name() string                            { return DriverPromRW2 }
func (d *promRW2Driver) MaxBatch() int                           { return 0 }
func (d *promRW2Driver) Prepare(context.Context, []string) error { return nil }

func (d *promRW2Driver) Write(ctx context.Context, pts []tsbs.Point) error {
	body, err := encodeRW2(pts)
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
	h.Set("Content-Encoding", "snappy")
	h.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	return d.post.post(ctx, body, h)
}

// encodeRW2 returns the snappy-compressed remote-write 2.0 body of pts.
func encodeRW2(pts []tsbs.Point) ([]byte, error) {
	g := newSeriesGroup(pts)
	syms := writev2.NewSymbolTable()
	req := writev2.Request{Timeseries: make([]writev2.TimeSeries, len(g.series))}
	// One backing array for every series' label references and samples.
	refs := make([]uint32, 0, 2*(g.labels+len(g.series)))
	samples := make([]writev2.Sample, 0, samplesIn(pts))
	nameRef := syms.Symbolize("__name__")
	for i := range g.series {
		s := &g.series[i]
		rf, sf := len(refs), len(samples)
		refs = append(refs, nameRef, syms.Symbolize(g.name(s)))
		for _, l := range g.sorted[s.pt] {
			refs = append(refs, syms.Symbolize(l.Name), syms.Symbolize(l.Value))
		}
		for _, x := range s.samples {
			samples = append(samples, writev2.Sample{Value: x.Value, Timestamp: x.Timestamp})
		}
		req.Timeseries[i] = writev2.TimeSeries{LabelsRefs: refs[rf:len(refs):len(refs)], Samples: samples[sf:len(samples):len(samples)]}
	}
	req.Symbols = syms.Symbols()
	raw, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal remote-write 2.0 request: %w", err)
	}
	return snappy.Encode(nil, raw), nil
}
