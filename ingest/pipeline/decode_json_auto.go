package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

// autoJSONDecoder is the JSON decoder of a Mapping with AllFields: no
// measure list, every field that is neither the time nor a dimension is a
// measure of the object's multi-measure record. Numbers are DOUBLE, strings
// VARCHAR, booleans BOOLEAN; nested objects are flattened with '_'
// ({"s": {"mode": "auto"}} is the measure s_mode); nulls are skipped;
// arrays are refused. The time field is optional: an object without it is
// stamped with Mapping.Now. Devices that publish whatever they measure
// (MQTT telemetry) use it.
type autoJSONDecoder struct {
	m        Mapping
	unit     int64
	layout   string
	dims     map[string]string // dotted path → dimension name
	measName string
	now      func() time.Time
}

func newAutoJSONDecoder(m Mapping) (Decoder, error) {
	if m.Time.Field == "" {
		m.Time.Field = "time"
	}
	if err := m.Validate(FormatJSON); err != nil {
		return nil, fmt.Errorf("create json decoder: %w", err)
	}
	d := &autoJSONDecoder{m: m, unit: unitNanos[m.Time.Unit], layout: parseLayout(m.Time.Layout), dims: map[string]string{},
		measName: m.MeasureName, now: m.Now}
	if d.measName == "" {
		d.measName = m.Table
	}
	if d.now == nil {
		d.now = time.Now
	}
	for _, p := range m.Dimensions {
		d.dims[p] = lastElem(p)
	}
	return d, nil
}

// Decode maps a JSON object, or an array of objects, to one record each.
// Any bad object refuses the message ("object N: reason").
func (d *autoJSONDecoder) Decode(msg []byte, dst []ingest.Record) ([]ingest.Record, error) {
	objs, err := jsonObjects(msg)
	if err != nil {
		return dst, err
	}
	now := d.now().UnixNano()
	n := len(dst)
	for i, obj := range objs {
		rec, reason := d.record(obj, now)
		if reason != "" {
			return dst[:n], fmt.Errorf("object %d: %s", i, reason)
		}
		dst = append(dst, rec)
	}
	return dst, nil
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
		return nil, errors.New("decode JSON payload: data after the first value")
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
	return nil, errors.New("decode JSON payload: want an object or an array of objects")
}

// record maps one object; fields are visited in sorted order, so measures
// come out sorted by name.
func (d *autoJSONDecoder) record(obj map[string]any, now int64) (ingest.Record, string) {
	rec := ingest.Record{Time: now, MeasureName: d.measName}
	if tv, ok := obj[d.m.Time.Field]; ok {
		t, reason := d.time(tv)
		if reason != "" {
			return rec, reason
		}
		rec.Time = t
	}
	var reason string
	var walk func(path, prefix string, o map[string]any)
	walk = func(path, prefix string, o map[string]any) {
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			name, p := prefix+k, path+k
			if path == "" && k == d.m.Time.Field {
				continue
			}
			v := o[k]
			if dim, ok := d.dims[p]; ok {
				switch v := v.(type) {
				case string:
					rec.Dimensions = append(rec.Dimensions, ingest.Dimension{Name: dim, Value: v})
				case json.Number:
					rec.Dimensions = append(rec.Dimensions, ingest.Dimension{Name: dim, Value: v.String()})
				case bool:
					rec.Dimensions = append(rec.Dimensions, ingest.Dimension{Name: dim, Value: strconv.FormatBool(v)})
				case nil:
				default:
					reason = fmt.Sprintf("dimension field %q is not a string, number or boolean", p)
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
				walk(p+".", name+"_", v)
			case nil:
			default:
				reason = fmt.Sprintf("field %q: arrays are not supported", name)
			}
		}
	}
	walk("", "", obj)
	if reason != "" {
		return rec, reason
	}
	if len(rec.Measures) == 0 {
		return rec, "no measure fields"
	}
	return rec, ""
}

func (d *autoJSONDecoder) time(v any) (int64, string) {
	switch v := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			if t, ok := ingest.TimeFromUnits(n, d.unit); ok {
				return t, ""
			}
			return 0, fmt.Sprintf("time %s out of range", v)
		}
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil || f < 0 || f*float64(d.unit) >= math.MaxInt64 {
			return 0, fmt.Sprintf("time %s out of range", v)
		}
		return int64(f * float64(d.unit)), ""
	case string:
		t, err := time.Parse(d.layout, strings.TrimSpace(v))
		if err != nil || t.UnixNano() < 0 || t.Year() > 2262 {
			return 0, fmt.Sprintf("time %q is not a %s time in range", v, layoutName(d.m.Time.Layout))
		}
		return t.UnixNano(), ""
	}
	return 0, fmt.Sprintf("time field %q is not a number or a string", d.m.Time.Field)
}

// layoutName names a configured layout for messages.
func layoutName(l string) string {
	if parseLayout(l) == time.RFC3339Nano {
		return "RFC 3339"
	}
	return strconv.Quote(l)
}
