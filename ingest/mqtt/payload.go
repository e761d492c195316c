package mqtt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/lineproto"
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
	// Dimensions names JSON fields that become dimensions instead of
	// measures.
	Dimensions []string
}

// route is a compiled Topic.
type route struct {
	Topic
	pattern Pattern
	unit    int64
	dims    map[string]bool
	sp      *sparkplug             // FormatSparkplug state
	lpCache *lineproto.SeriesCache // FormatLineProto's known series
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
	r := &route{Topic: t, pattern: p, dims: map[string]bool{}}
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
	for _, d := range t.Dimensions {
		r.dims[d] = true
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
	objs, err := jsonObjects(payload)
	if err != nil {
		return nil, []string{err.Error()}
	}
	for i, obj := range objs {
		rec, reason := r.jsonRecord(obj, now)
		if reason == "" {
			reason = addTopicDims(&rec, topicDims)
		}
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

// jsonObjects parses a JSON object or an array of objects.
func jsonObjects(payload []byte) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode JSON payload: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decode JSON payload: data after the first value")
	}
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		objs := make([]map[string]any, 0, len(v))
		for i, e := range v {
			o, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("decode JSON payload: element %d is not an object", i)
			}
			objs = append(objs, o)
		}
		return objs, nil
	}
	return nil, fmt.Errorf("decode JSON payload: want an object or an array of objects")
}

// jsonRecord maps one JSON object to a multi-measure record: the time
// field to the time, the configured dimension fields to dimensions, and
// every other field (nested objects flattened with '_') to a measure:
// numbers DOUBLE, strings VARCHAR, booleans BOOLEAN; nulls are skipped.
func (r *route) jsonRecord(obj map[string]any, now time.Time) (ingest.Record, string) {
	rec := ingest.Record{Time: now.UnixNano(), MeasureName: r.MeasureName}
	if rec.MeasureName == "" {
		rec.MeasureName = r.Table
	}
	if tv, ok := obj[r.TimeField]; ok {
		t, reason := r.jsonTime(tv)
		if reason != "" {
			return rec, reason
		}
		rec.Time = t
	}
	var reason string
	var walk func(prefix string, o map[string]any)
	walk = func(prefix string, o map[string]any) {
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			name := prefix + k
			if prefix == "" && k == r.TimeField {
				continue
			}
			v := o[k]
			if r.dims[name] {
				switch v := v.(type) {
				case string:
					rec.Dimensions = append(rec.Dimensions, ingest.Dimension{Name: name, Value: v})
				case json.Number:
					rec.Dimensions = append(rec.Dimensions, ingest.Dimension{Name: name, Value: v.String()})
				case bool:
					rec.Dimensions = append(rec.Dimensions, ingest.Dimension{Name: name, Value: strconv.FormatBool(v)})
				case nil:
				default:
					reason = fmt.Sprintf("dimension field %q is not a string, number or boolean", name)
				}
				continue
			}
			switch v := v.(type) {
			case json.Number:
				f, err := strconv.ParseFloat(v.String(), 64)
				if err != nil || math.IsInf(f, 0) {
					reason = fmt.Sprintf("field %q: number %s out of range", name, v)
					continue
				}
				rec.Measures = append(rec.Measures, ingest.Measure{Name: name, Value: ingest.Float(f)})
			case string:
				rec.Measures = append(rec.Measures, ingest.Measure{Name: name, Value: ingest.String(v)})
			case bool:
				rec.Measures = append(rec.Measures, ingest.Measure{Name: name, Value: ingest.Bool(v)})
			case map[string]any:
				walk(name+"_", v)
			case nil:
			default:
				reason = fmt.Sprintf("field %q: arrays are not supported", name)
			}
		}
	}
	walk("", obj)
	if reason != "" {
		return rec, reason
	}
	if len(rec.Measures) == 0 {
		return rec, "no measure fields"
	}
	return rec, ""
}

func (r *route) jsonTime(v any) (int64, string) {
	switch v := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			if t, ok := ingest.TimeFromUnits(n, r.unit); ok {
				return t, ""
			}
			return 0, fmt.Sprintf("time %s out of range", v)
		}
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil || f < 0 || f*float64(r.unit) >= math.MaxInt64 {
			return 0, fmt.Sprintf("time %s out of range", v)
		}
		return int64(f * float64(r.unit)), ""
	case string:
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
		if err != nil || t.UnixNano() < 0 || t.Year() > 2262 {
			return 0, fmt.Sprintf("time %q is not an RFC 3339 time in range", v)
		}
		return t.UnixNano(), ""
	}
	return 0, fmt.Sprintf("time field %q is not a number or a string", r.TimeField)
}
