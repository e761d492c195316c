package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// seriesGroup collects the samples of one batch by series, so that a
// request carries each series once with all its samples, as Prometheus's
// own remote-write queue does.
type seriesGroup struct {
	index  map[string]int
	series []groupedSeries
	buf    []tsbs.Label
	key    strings.Builder
}

type groupedSeries struct {
	name    string
	labels  []tsbs.Label
	samples []prompb.Sample
}

func (g *seriesGroup) add(pts []tsbs.Point) {
	g.index = make(map[string]int, len(pts)*cpuFieldCount)
	g.series = g.series[:0]
	for pi := range pts {
		p := &pts[pi]
		for fi := range p.Fields {
			name, lbls, v := p.Labels(fi, g.buf)
			g.buf = lbls
			g.key.Reset()
			g.key.WriteString(name)
			for _, l := range lbls {
				g.key.WriteByte(0xff)
				g.key.WriteString(l.Name)
				g.key.WriteByte(0xfe)
				g.key.WriteString(l.Value)
			}
			s := prompb.Sample{Timestamp: msOf(p.Time), Value: v}
			if i, ok := g.index[g.key.String()]; ok {
				g.series[i].samples = append(g.series[i].samples, s)
				continue
			}
			g.index[g.key.String()] = len(g.series)
			g.series = append(g.series, groupedSeries{name: name, labels: append([]tsbs.Label(nil), lbls...), samples: []prompb.Sample{s}})
		}
	}
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
func encodeRW1(pts []tsbs.Point) ([]byte, error) {
	var g seriesGroup
	g.add(pts)
	req := prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, len(g.series))}
	for i, s := range g.series {
		ls := make([]prompb.Label, 0, len(s.labels)+1)
		// "__name__" sorts before every TSBS tag name (all lower case).
		ls = append(ls, prompb.Label{Name: "__name__", Value: s.name})
		for _, l := range s.labels {
			ls = append(ls, prompb.Label{Name: l.Name, Value: l.Value})
		}
		req.Timeseries[i] = prompb.TimeSeries{Labels: ls, Samples: s.samples}
	}
	raw, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal remote-write 1.0 request: %w", err)
	}
	return snappy.Encode(nil, raw), nil
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
	var g seriesGroup
	g.add(pts)
	syms := writev2.NewSymbolTable()
	req := writev2.Request{Timeseries: make([]writev2.TimeSeries, len(g.series))}
	for i, s := range g.series {
		refs := make([]uint32, 0, 2*(len(s.labels)+1))
		refs = append(refs, syms.Symbolize("__name__"), syms.Symbolize(s.name))
		for _, l := range s.labels {
			refs = append(refs, syms.Symbolize(l.Name), syms.Symbolize(l.Value))
		}
		samples := make([]writev2.Sample, len(s.samples))
		for j, x := range s.samples {
			samples[j] = writev2.Sample{Value: x.Value, Timestamp: x.Timestamp}
		}
		req.Timeseries[i] = writev2.TimeSeries{LabelsRefs: refs, Samples: samples}
	}
	req.Symbols = syms.Symbols()
	raw, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal remote-write 2.0 request: %w", err)
	}
	return snappy.Encode(nil, raw), nil
}
