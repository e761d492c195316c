package pipeline

// The reference JSON decoder: encoding/json into maps, the obvious and slow
// way. The fuzz test checks that the scanner-based decoder agrees with it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

// refJSONDecoder maps JSON objects (one per message, or an array of them) to
// records with a Mapping.
type refJSONDecoder struct {
	m        Mapping
	unit     int64
	unitName string
	layout   string
	time     []string   // path of the time field
	dims     [][]string // paths of the dimension fields
	dimNames []string
	meas     [][]string
	measName string
	objs     []map[string]any
}

func newRefJSONDecoder(m Mapping) (Decoder, error) {
	if err := m.Validate(FormatJSON); err != nil {
		return nil, fmt.Errorf("create json decoder: %w", err)
	}
	d := &refJSONDecoder{m: m, unit: unitNanos[m.Time.Unit], unitName: m.Time.Unit, layout: parseLayout(m.Time.Layout)}
	if d.unitName == "" {
		d.unitName = "ms"
	}
	d.time = strings.Split(m.Time.Field, ".")
	for _, p := range m.Dimensions {
		d.dims = append(d.dims, strings.Split(p, "."))
		d.dimNames = append(d.dimNames, lastElem(p))
	}
	for _, ms := range m.Measures {
		d.meas = append(d.meas, strings.Split(ms.Field, "."))
	}
	d.measName = m.MeasureName
	if d.measName == "" {
		d.measName = m.Table
	}
	return d, nil
}

func (d *refJSONDecoder) Decode(msg []byte, dst []ingest.Record) ([]ingest.Record, error) {
	trimmed := bytes.TrimLeft(msg, " \t\r\n")
	if len(trimmed) == 0 {
		return dst, errors.New("decode json: empty message")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	// json reuses the maps of a slice's spare capacity (merging the next
	// message into the last one's fields): clear them first.
	clear(d.objs[:cap(d.objs)])
	d.objs = d.objs[:0]
	if trimmed[0] == '[' {
		if err := dec.Decode(&d.objs); err != nil {
			return dst, fmt.Errorf("decode json array: %w", err)
		}
		if len(d.objs) == 0 {
			return dst, errors.New("decode json: empty array")
		}
	} else {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return dst, fmt.Errorf("decode json object: %w", err)
		}
		d.objs = append(d.objs, obj)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return dst, errors.New("decode json: trailing data after the value")
	}
	for i, obj := range d.objs {
		if obj == nil {
			return dst, fmt.Errorf("decode json: element %d is not an object", i)
		}
		var err error
		if dst, err = d.record(obj, dst); err != nil {
			if len(d.objs) > 1 {
				return dst, fmt.Errorf("element %d: %w", i, err)
			}
			return dst, err
		}
	}
	return dst, nil
}

// record maps one object.
func (d *refJSONDecoder) record(obj map[string]any, dst []ingest.Record) ([]ingest.Record, error) {
	tv, ok := refLookup(obj, d.time)
	if !ok {
		return dst, fmt.Errorf("time field %q is missing", d.m.Time.Field)
	}
	ts, err := d.refParseTime(tv)
	if err != nil {
		return dst, fmt.Errorf("time field %q: %w", d.m.Time.Field, err)
	}
	var dims []ingest.Dimension
	for i, p := range d.dims {
		v, ok := refLookup(obj, p)
		if !ok {
			continue
		}
		s, ok := scalarString(v)
		if !ok {
			return dst, fmt.Errorf("dimension field %q is not a string, number or boolean", d.m.Dimensions[i])
		}
		if s == "" {
			continue
		}
		dims = append(dims, ingest.Dimension{Name: d.dimNames[i], Value: s})
	}
	if d.m.Single {
		n := 0
		for i, p := range d.meas {
			v, ok := refLookup(obj, p)
			if !ok {
				continue
			}
			val, err := toValue(v, d.m.Measures[i].Type)
			if err != nil {
				return dst, fmt.Errorf("measure field %q: %w", d.m.Measures[i].Field, err)
			}
			dst = append(dst, ingest.Record{Time: ts, Dimensions: dims, MeasureName: lastElem(d.m.Measures[i].Field), Value: val})
			n++
		}
		if n == 0 {
			return dst, errors.New("no measure field is present")
		}
		return dst, nil
	}
	var ms []ingest.Measure
	for i, p := range d.meas {
		v, ok := refLookup(obj, p)
		if !ok {
			continue
		}
		val, err := toValue(v, d.m.Measures[i].Type)
		if err != nil {
			return dst, fmt.Errorf("measure field %q: %w", d.m.Measures[i].Field, err)
		}
		ms = append(ms, ingest.Measure{Name: lastElem(d.m.Measures[i].Field), Value: val})
	}
	if len(ms) == 0 {
		return dst, errors.New("no measure field is present")
	}
	return append(dst, ingest.Record{Time: ts, Dimensions: dims, MeasureName: d.measName, Measures: ms}), nil
}

// lookup follows path through nested objects; a null counts as missing.
func refLookup(obj map[string]any, path []string) (any, bool) {
	var cur any = obj
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

func (d *refJSONDecoder) refParseTime(v any) (int64, error) {
	switch t := v.(type) {
	case json.Number:
		return d.refNumericTime(string(t))
	case string:
		if d.m.Time.Layout == "" {
			if _, err := strconv.ParseFloat(t, 64); err == nil {
				return d.refNumericTime(t)
			}
		}
		tm, err := time.Parse(d.layout, t)
		if err != nil {
			return 0, fmt.Errorf("parse time %q: %w", truncate(t, 64), err)
		}
		ns := tm.UnixNano()
		if tm.Before(time.Unix(0, 0)) || tm.Year() > 2262 {
			return 0, fmt.Errorf("time %q is outside the supported range", truncate(t, 64))
		}
		return ns, nil
	}
	return 0, errors.New("want a number or a string")
}

func (d *refJSONDecoder) refNumericTime(s string) (int64, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		ns, ok := ingest.TimeFromUnits(i, d.unit)
		if !ok {
			return 0, errors.New(ingest.TimeRangeReason(i, d.unitName))
		}
		return ns, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("invalid number %q", truncate(s, 64))
	}
	ns := f * float64(d.unit)
	if ns < 0 || ns >= math.MaxInt64 {
		return 0, fmt.Errorf("time %s %s is outside the supported range", truncate(s, 64), d.unitName)
	}
	return int64(ns), nil
}
