package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/tidaldb/tidal/ingest"
)

// jsonDecoder maps JSON objects (one per message, or an array of them) to
// records with a Mapping. It scans each message once and builds only the
// mapped fields (see jsonscan.go); dimension values are interned, so a
// steady stream of known devices allocates no dimension strings.
type jsonDecoder struct {
	m        Mapping
	unit     int64
	unitName string
	layout   string
	root     *pathNode
	dimNames []string
	measName string
	// slots: 0 is the time, then the dimensions, then the measures.
	nDims  int
	sc     scanner
	intern map[string]string
}

const maxInterned = 1 << 14

func newJSONDecoder(m Mapping) (Decoder, error) {
	if err := m.Validate(FormatJSON); err != nil {
		return nil, fmt.Errorf("create json decoder: %w", err)
	}
	d := &jsonDecoder{m: m, unit: unitNanos[m.Time.Unit], unitName: m.Time.Unit, layout: parseLayout(m.Time.Layout),
		root: &pathNode{slot: -1}, nDims: len(m.Dimensions), intern: map[string]string{}}
	if d.unitName == "" {
		d.unitName = "ms"
	}
	d.root.add(strings.Split(m.Time.Field, "."), 0)
	for i, p := range m.Dimensions {
		d.root.add(strings.Split(p, "."), 1+i)
		d.dimNames = append(d.dimNames, lastElem(p))
	}
	for i, ms := range m.Measures {
		d.root.add(strings.Split(ms.Field, "."), 1+len(m.Dimensions)+i)
	}
	d.sc.vals = make([]captured, 1+len(m.Dimensions)+len(m.Measures))
	d.measName = m.MeasureName
	if d.measName == "" {
		d.measName = m.Table
	}
	return d, nil
}

func (d *jsonDecoder) Decode(msg []byte, dst []ingest.Record) ([]ingest.Record, error) {
	s := &d.sc
	s.b, s.i, s.depth = msg, 0, 0
	defer func() { s.b = nil; clear(s.vals) }() // keep no reference to msg
	s.ws()
	if s.i >= len(s.b) {
		return dst, errors.New("decode json: empty message")
	}
	n := len(dst)
	switch s.b[s.i] {
	case '{':
		clear(s.vals)
		if err := s.object(d.root); err != nil {
			return dst, fmt.Errorf("decode json object: %w", err)
		}
		var err error
		if dst, err = d.record(dst); err != nil {
			return dst[:n], err
		}
	case '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			return dst, errors.New("decode json: empty array")
		}
		for el := 0; ; el++ {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != '{' {
				return dst[:n], fmt.Errorf("decode json array: element %d is not an object", el)
			}
			clear(s.vals)
			if err := s.object(d.root); err != nil {
				return dst[:n], fmt.Errorf("decode json array: %w", err)
			}
			var err error
			if dst, err = d.record(dst); err != nil {
				return dst[:n], fmt.Errorf("element %d: %w", el, err)
			}
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				break
			}
			return dst[:n], fmt.Errorf("decode json array: %w", s.syntax("want ',' or ']'"))
		}
	default:
		return dst, errors.New("decode json: want an object or an array of objects")
	}
	s.ws()
	if s.i != len(s.b) {
		return dst[:n], errors.New("decode json: trailing data after the value")
	}
	return dst, nil
}

// record maps the captured fields of one object.
func (d *jsonDecoder) record(dst []ingest.Record) ([]ingest.Record, error) {
	vals := d.sc.vals
	if k := vals[0].kind; k == kindMissing || k == kindNull {
		return dst, fmt.Errorf("time field %q is missing", d.m.Time.Field)
	}
	ts, err := d.parseTime(vals[0])
	if err != nil {
		return dst, fmt.Errorf("time field %q: %w", d.m.Time.Field, err)
	}
	var dims []ingest.Dimension
	for i := range d.nDims {
		c := vals[1+i]
		switch c.kind {
		case kindMissing, kindNull:
			continue
		case kindOther:
			return dst, fmt.Errorf("dimension field %q is not a string, number or boolean", d.m.Dimensions[i])
		}
		v := d.dimValue(c)
		if v == "" {
			continue
		}
		if dims == nil {
			dims = make([]ingest.Dimension, 0, d.nDims)
		}
		dims = append(dims, ingest.Dimension{Name: d.dimNames[i], Value: v})
	}
	meas := vals[1+d.nDims:]
	if d.m.Single {
		n := 0
		for i, c := range meas {
			if c.kind == kindMissing || c.kind == kindNull {
				continue
			}
			val, err := capturedValue(c, d.m.Measures[i].Type)
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
	for i, c := range meas {
		if c.kind == kindMissing || c.kind == kindNull {
			continue
		}
		val, err := capturedValue(c, d.m.Measures[i].Type)
		if err != nil {
			return dst, fmt.Errorf("measure field %q: %w", d.m.Measures[i].Field, err)
		}
		if ms == nil {
			ms = make([]ingest.Measure, 0, len(meas))
		}
		ms = append(ms, ingest.Measure{Name: lastElem(d.m.Measures[i].Field), Value: val})
	}
	if len(ms) == 0 {
		return dst, errors.New("no measure field is present")
	}
	return append(dst, ingest.Record{Time: ts, Dimensions: dims, MeasureName: d.measName, Measures: ms}), nil
}

// dimValue returns a dimension's text, interned.
func (d *jsonDecoder) dimValue(c captured) string {
	switch c.kind {
	case kindBool:
		return strconv.FormatBool(c.b)
	}
	if v, ok := d.intern[string(c.raw)]; ok {
		return v
	}
	v := string(c.raw)
	if len(d.intern) >= maxInterned {
		clear(d.intern)
	}
	d.intern[v] = v
	return v
}

// view returns b as a string without copying; only for parsing calls whose
// result does not keep it (errors copy it first).
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (d *jsonDecoder) parseTime(c captured) (int64, error) {
	switch c.kind {
	case kindNumber:
		return d.numericTime(c.raw)
	case kindString:
		if d.m.Time.Layout == "" {
			if _, err := strconv.ParseFloat(view(c.raw), 64); err == nil {
				return d.numericTime(c.raw)
			}
		}
		tm, err := time.Parse(d.layout, string(c.raw))
		if err != nil {
			return 0, fmt.Errorf("parse time %q: %w", truncate(string(c.raw), 64), err)
		}
		if tm.Before(time.Unix(0, 0)) || tm.Year() > 2262 {
			return 0, fmt.Errorf("time %q is outside the supported range", truncate(string(c.raw), 64))
		}
		return tm.UnixNano(), nil
	}
	return 0, errors.New("want a number or a string")
}

func (d *jsonDecoder) numericTime(raw []byte) (int64, error) {
	if i, err := strconv.ParseInt(view(raw), 10, 64); err == nil {
		ns, ok := ingest.TimeFromUnits(i, d.unit)
		if !ok {
			return 0, errors.New(ingest.TimeRangeReason(i, d.unitName))
		}
		return ns, nil
	}
	f, err := strconv.ParseFloat(view(raw), 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("invalid number %q", truncate(string(raw), 64))
	}
	ns := f * float64(d.unit)
	if ns < 0 || ns >= math.MaxInt64 {
		return 0, fmt.Errorf("time %s %s is outside the supported range", truncate(string(raw), 64), d.unitName)
	}
	return int64(ns), nil
}

// capturedValue converts a captured field to a measure of type typ, with
// the rules of toValue.
func capturedValue(c captured, typ ingest.ValueType) (ingest.Value, error) {
	switch c.kind {
	case kindNumber:
		switch typ {
		case ingest.TypeDouble:
			f, err := strconv.ParseFloat(view(c.raw), 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return ingest.Value{}, fmt.Errorf("invalid DOUBLE %q", truncate(string(c.raw), 64))
			}
			return ingest.Float(f), nil
		case ingest.TypeBigint, ingest.TypeTimestamp:
			i, err := strconv.ParseInt(view(c.raw), 10, 64)
			if err != nil {
				return ingest.Value{}, fmt.Errorf("invalid %s %q", typ, truncate(string(c.raw), 64))
			}
			if typ == ingest.TypeTimestamp {
				return ingest.Timestamp(i), nil
			}
			return ingest.Int(i), nil
		}
		return toValue(json.Number(string(c.raw)), typ)
	case kindString:
		return toValue(string(c.raw), typ)
	case kindBool:
		return toValue(c.b, typ)
	}
	return toValue(map[string]any(nil), typ) // an object or array: the type's error
}

func scalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return string(t), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}

// toValue converts a JSON value to a measure of type typ. Numbers given as
// strings are accepted for numeric types.
func toValue(v any, typ ingest.ValueType) (ingest.Value, error) {
	switch typ {
	case ingest.TypeDouble:
		s, ok := numberText(v)
		if !ok {
			return ingest.Value{}, errors.New("want a number for DOUBLE")
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return ingest.Value{}, fmt.Errorf("invalid DOUBLE %q", truncate(s, 64))
		}
		return ingest.Float(f), nil
	case ingest.TypeBigint, ingest.TypeTimestamp:
		s, ok := numberText(v)
		if !ok {
			return ingest.Value{}, fmt.Errorf("want an integer for %s", typ)
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return ingest.Value{}, fmt.Errorf("invalid %s %q", typ, truncate(s, 64))
		}
		if typ == ingest.TypeTimestamp {
			return ingest.Timestamp(i), nil
		}
		return ingest.Int(i), nil
	case ingest.TypeVarchar:
		s, ok := scalarString(v)
		if !ok {
			return ingest.Value{}, errors.New("want a string for VARCHAR")
		}
		return ingest.String(s), nil
	case ingest.TypeBoolean:
		switch t := v.(type) {
		case bool:
			return ingest.Bool(t), nil
		case string:
			if b, err := strconv.ParseBool(t); err == nil {
				return ingest.Bool(b), nil
			}
		}
		return ingest.Value{}, errors.New("want a boolean for BOOLEAN")
	}
	return ingest.Value{}, fmt.Errorf("unsupported measure type %s", typ)
}

func numberText(v any) (string, bool) {
	switch t := v.(type) {
	case json.Number:
		return string(t), true
	case string:
		return t, true
	}
	return "", false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
