package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tidaldb/tidal/ingest"
)

// Decoder turns one message into records. Decode appends to dst and returns
// it; a non-nil error means the message is bad as a whole (it goes to the
// dead-letter table and none of its records are kept). A Decoder is used by
// one goroutine at a time.
//
// The records may share memory with msg only until the next Decode call:
// the pipeline appends them before decoding the next batch.
type Decoder interface {
	Decode(msg []byte, dst []ingest.Record) ([]ingest.Record, error)
}

// DecoderFunc builds the decoder of one format for a mapping.
type DecoderFunc func(m Mapping) (Decoder, error)

// Built-in format names.
const (
	FormatJSON       = "json"
	FormatPromRW     = "prometheus_remote_write"
	FormatTimestream = "timestream"
	// FormatLineProtocol is Influx line protocol; its decoder is supplied
	// by the line-protocol package through Options.Formats.
	FormatLineProtocol = "influx_line_protocol"
)

var builtin = map[string]DecoderFunc{
	FormatJSON: func(m Mapping) (Decoder, error) {
		if m.AllFields {
			return newAutoJSONDecoder(m)
		}
		return newJSONDecoder(m)
	},
	FormatPromRW:     func(m Mapping) (Decoder, error) { return &promDecoder{}, nil },
	FormatTimestream: func(m Mapping) (Decoder, error) { return &timestreamDecoder{}, nil },
}

// NewDecoder returns the decoder for format. extra adds formats (or
// replaces built-in ones): it is the hook other packages (line protocol)
// plug their decoders into.
func NewDecoder(format string, m Mapping, extra map[string]DecoderFunc) (Decoder, error) {
	if f, ok := extra[format]; ok {
		return f(m)
	}
	if f, ok := builtin[format]; ok {
		return f(m)
	}
	return nil, fmt.Errorf("create decoder: unknown format %q (known: %s)", format, strings.Join(Formats(extra), ", "))
}

// Formats lists the known format names, sorted.
func Formats(extra map[string]DecoderFunc) []string {
	var names []string
	for n := range builtin {
		names = append(names, n)
	}
	for n := range extra {
		if _, ok := builtin[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
