package mqtt

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/lineproto"
	"github.com/tidaldb/tidal/ingest/pipeline"
)

// Payload formats.
const (
	FormatJSON      = "json"
	FormatLineProto = "lineproto"
)

// Topic maps the messages of a topic pattern to records.
type Topic struct {
	// Pattern is the topic pattern (see ParsePattern); its named segments
	// become dimensions of every record.
	Pattern string
	// Database receives the records; its tables are created on first write.
	Database string
	// Table receives the records; empty with line protocol means the line's
	// measurement, and with JSON the last literal segment of the pattern.
	Table string
	// Format is FormatJSON (default), FormatLineProto or FormatSparkplug
	// (Pattern then defaults to spBv1.0/# and Table to sparkplug).
	Format string
	// MeasureName is the records' measure name; empty means the table.
	MeasureName string
	// TimeField is the JSON field holding the time (default "time"): a
	// number in TimeUnit or an RFC 3339 string. Missing means the time the
	// message arrived.
	TimeField string
	// TimeUnit is the unit of numeric times and of line protocol
	// timestamps: ns, us, ms or s (default ms for JSON, ns for line
	// protocol).
	TimeUnit string
	// TimeLayout parses string times: a Go time layout or "rfc3339" (the
	// default).
	TimeLayout string
	// Dimensions are JSON field paths ("unit", "meta.site") that become
	// dimensions, named after the path's last element.
	Dimensions []string
	// Measures, when set, is the JSON mapping of a stream pipeline: only
	// these fields, with these types, become measures, and the time field
	// is required. Empty means every other field is a measure, typed by
	// its JSON type (pipeline.Mapping.AllFields).
	Measures []pipeline.MeasureField
}

// route is a compiled Topic.
type route struct {
	Topic
	pattern Pattern
	unit    int64
	sp      *sparkplug             // FormatSparkplug state
	lpCache *lineproto.SeriesCache // FormatLineProto's known series
	// json holds *jsonCodec: FormatJSON's pipeline decoders (a decoder
	// serves one message at a time).
	json sync.Pool
}

// jsonCodec is a pipeline JSON decoder with the clock its AllFields
// records read: the arrival time of the message being decoded.
type jsonCodec struct {
	dec pipeline.Decoder
	now time.Time
}

func (r *route) newJSONCodec() (*jsonCodec, error) {
	c := &jsonCodec{}
	m := pipeline.Mapping{Database: r.Database, Table: r.Table, MeasureName: r.MeasureName, Dimensions: r.Dimensions,
		Time: pipeline.TimeField{Field: r.TimeField, Unit: r.TimeUnit, Layout: r.TimeLayout}, Measures: r.Measures,
		AllFields: len(r.Measures) == 0, Now: func() time.Time { return c.now }}
	if m.Time.Unit == "" {
		m.Time.Unit = "ms"
	}
	dec, err := pipeline.NewDecoder(pipeline.FormatJSON, m, nil)
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", r.Pattern, err)
	}
	c.dec = dec
	return c, nil
}

func compile(t Topic) (*route, error) {
	if t.Format == FormatSparkplug {
		if t.Pattern == "" {
			t.Pattern = "spBv1.0/#"
		}
		if t.Table == "" {
			t.Table = "sparkplug"
		}
	}
	p, err := ParsePattern(t.Pattern)
	if err != nil {
		return nil, err
	}
	r := &route{Topic: t, pattern: p}
	if r.Format == "" {
		r.Format = FormatJSON
	}
	switch r.Format {
	case FormatJSON:
	case FormatLineProto:
		r.lpCache = lineproto.NewSeriesCache()
	case FormatSparkplug:
		r.sp = &sparkplug{}
	default:
		return nil, fmt.Errorf("topic %q: format %q: want json, lineproto or sparkplug", t.Pattern, t.Format)
	}
	if r.Database == "" {
		return nil, fmt.Errorf("topic %q: database is required", t.Pattern)
	}
	if r.TimeField == "" {
		r.TimeField = "time"
	}
	unit := r.TimeUnit
	if unit == "" && r.Format == FormatJSON {
		unit = "ms"
	}
	if r.unit, err = lineproto.ParsePrecision(unit); err != nil {
		return nil, fmt.Errorf("topic %q: time unit: %w", t.Pattern, err)
	}
	if r.Table == "" && r.Format == FormatJSON {
		for _, s := range slices.Backward(p.segs) {
			if !s.named && s.lit != "+" && s.lit != "#" && s.lit != "" {
				r.Table = s.lit
				break
			}
		}
		if r.Table == "" {
			return nil, fmt.Errorf("topic %q: table is required (the pattern has no literal segment)", t.Pattern)
		}
	}
	if r.Format == FormatJSON {
		if _, err := r.newJSONCodec(); err != nil {
			return nil, err
		}
		r.json.New = func() any {
			c, _ := r.newJSONCodec() // validated above
			return c
		}
	}
	return r, nil
}

// batch is the records of one message for one table.
type batch struct {
	table string
	recs  []ingest.Record
}

// decode turns one message's payload into per-table batches. topicDims
// are the pattern's named segments. Bad parts of the payload are reported
// in errs; the good parts are kept.
func (r *route) decode(topic string, payload []byte, topicDims []ingest.Dimension, now time.Time) (out []batch, errs []string) {
	if r.sp != nil {
		recs, errs := r.sp.decode(topic, payload, now)
		if len(recs) > 0 {
			out = []batch{{table: r.Table, recs: recs}}
		}
		return out, errs
	}
	if r.Format == FormatLineProto {
		pts, lerrs := lineproto.Decode(payload, lineproto.Options{Precision: r.unit, Now: func() time.Time { return now }, MeasureName: r.MeasureName, Cache: r.lpCache})
		for _, e := range lerrs {
			errs = append(errs, e.Error())
		}
		for _, p := range pts {
			table := p.Table
			if r.Table != "" {
				table = r.Table
			}
			rec := p.Record
			if reason := addTopicDims(&rec, topicDims); reason != "" {
				errs = append(errs, fmt.Sprintf("line %d: %s", p.Line, reason))
				continue
			}
			out = appendTo(out, table, rec)
		}
		return out, errs
	}
	c := r.json.Get().(*jsonCodec)
	c.now = now
	recs, err := c.dec.Decode(payload, nil)
	r.json.Put(c)
	if err != nil {
		return nil, []string{err.Error()}
	}
	for i := range recs {
		rec := recs[i]
		reason := addTopicDims(&rec, topicDims)
		if reason == "" {
			reason = ingest.ValidateRecord(&rec)
		}
		if reason != "" {
			errs = append(errs, fmt.Sprintf("object %d: %s", i, reason))
			continue
		}
		out = appendTo(out, r.Table, rec)
	}
	return out, errs
}

func appendTo(out []batch, table string, rec ingest.Record) []batch {
	for i := range out {
		if out[i].table == table {
			out[i].recs = append(out[i].recs, rec)
			return out
		}
	}
	return append(out, batch{table: table, recs: []ingest.Record{rec}})
}

// addTopicDims adds the topic's dimensions to rec, refusing a name the
// payload also sets.
func addTopicDims(rec *ingest.Record, dims []ingest.Dimension) string {
	for _, d := range dims {
		for _, e := range rec.Dimensions {
			if e.Name == d.Name {
				return fmt.Sprintf("dimension %q is set by both the topic and the payload", d.Name)
			}
		}
		for _, m := range rec.Measures {
			if m.Name == d.Name {
				return fmt.Sprintf("field %q has the name of a topic dimension", d.Name)
			}
		}
	}
	if len(dims) > 0 {
		rec.Dimensions = append(slices.Clip(rec.Dimensions), dims...)
	}
	return ""
}
