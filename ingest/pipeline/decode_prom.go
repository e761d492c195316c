package pipeline

import (
	"errors"
	"fmt"
	"math"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/tidaldb/tidal/ingest"
)

// promDecoder decodes a Prometheus remote-write 1.0 WriteRequest, snappy
// compressed (as Prometheus sends it) or not (as some Prometheus-to-Kafka
// adapters forward it). Every sample becomes a single-measure DOUBLE
// record: measure name = __name__, dimensions = the other labels, the same
// mapping as the remote-write endpoint. Stale markers are dropped.
type promDecoder struct {
	buf []byte
	req prompb.WriteRequest
}

func (d *promDecoder) Decode(msg []byte, dst []ingest.Record) ([]ingest.Record, error) {
	body := msg
	if n, err := snappy.DecodedLen(msg); err == nil && n <= 64<<20 {
		if b, err := snappy.Decode(d.buf[:cap(d.buf)], msg); err == nil {
			d.buf, body = b, b
		}
	}
	d.req = prompb.WriteRequest{Timeseries: d.req.Timeseries[:0]}
	if err := d.req.Unmarshal(body); err != nil {
		return dst, fmt.Errorf("decode remote-write protobuf: %w", err)
	}
	if len(d.req.Timeseries) == 0 {
		return dst, errors.New("decode remote-write: no time series")
	}
	for i := range d.req.Timeseries {
		ts := &d.req.Timeseries[i]
		name := ""
		dims := make([]ingest.Dimension, 0, len(ts.Labels))
		for _, l := range ts.Labels {
			if l.Name == "__name__" {
				name = l.Value
				continue
			}
			if l.Value == "" {
				continue // an empty label is no label in Prometheus
			}
			dims = append(dims, ingest.Dimension{Name: l.Name, Value: l.Value})
		}
		if name == "" {
			return dst, fmt.Errorf("decode remote-write: series %d has no __name__ label", i)
		}
		for _, s := range ts.Samples {
			if value.IsStaleNaN(s.Value) {
				continue
			}
			ns, ok := ingest.TimeFromUnits(s.Timestamp, 1e6)
			if !ok {
				return dst, fmt.Errorf("decode remote-write: series %s: %s", name, ingest.TimeRangeReason(s.Timestamp, "milliseconds"))
			}
			v := s.Value
			if math.IsNaN(v) {
				v = math.NaN() // one NaN bit pattern
			}
			dst = append(dst, ingest.Record{Time: ns, Dimensions: dims, MeasureName: name, Value: ingest.Float(v)})
		}
	}
	return dst, nil
}
