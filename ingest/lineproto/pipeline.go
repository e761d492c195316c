package lineproto

import (
	"errors"
	"fmt"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/pipeline"
)

// PipelineDecoder is the stream pipelines' decoder of the
// influx_line_protocol format (register it in pipeline.Options.Formats): a
// message is a body of lines, every line a multi-measure record of the
// mapping's table whose measure name is the line's measurement (or
// mapping.measure_name). Timestamps are nanoseconds, and a line without
// one gets the time it was decoded. A message with a bad line is refused
// as a whole, as the pipelines refuse any bad message.
func PipelineDecoder(m pipeline.Mapping) (pipeline.Decoder, error) {
	if err := m.Validate(pipeline.FormatLineProtocol); err != nil {
		return nil, fmt.Errorf("create line protocol decoder: %w", err)
	}
	return &pipelineDecoder{opts: Options{MeasureName: m.MeasureName, Cache: NewSeriesCache()}}, nil
}

type pipelineDecoder struct{ opts Options }

// Decode implements pipeline.Decoder. The records share no memory with
// msg or with other Decode calls (a pipeline decodes a batch of messages
// before appending it).
func (d *pipelineDecoder) Decode(msg []byte, dst []ingest.Record) ([]ingest.Record, error) {
	pts, errs := Decode(msg, d.opts)
	if len(errs) > 0 {
		return dst, fmt.Errorf("decode line protocol: %w", errs[0])
	}
	if len(pts) == 0 {
		return dst, errors.New("decode line protocol: no lines")
	}
	for i := range pts {
		dst = append(dst, pts[i].Record)
	}
	return dst, nil
}
