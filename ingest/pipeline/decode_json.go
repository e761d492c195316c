package pipeline

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
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
//
// Its series cache maps the raw dimension values of an object to the
// dimensions they make (built, and checked with ingest.ValidateSeries, the
// first time they are seen), so a known series costs one map lookup. In a
// pipeline (shared mode, set by New) the records of a series share the
// cache's dimension slice, sorted by name as the store sorts them (so the
// store never reorders it), and its ingest.SeriesHint (so the store finds
// the series without a key or a lookup), and the measures of a batch come from one slab
// reused batch after batch (resetBatch). With a fixed target (check) Decode
// also reports ingest.ValidateRecord's verdict on each record (checked)
// instead of the pipeline checking each record again; with a templated
// one the pipeline resolves and checks each series once (resolveCached),
// on the dimensions in mapping order (ordered).
type jsonDecoder struct {
	m        Mapping
	unit     int64
	unitName string
	layout   string
	root     *pathNode
	dimNames []string
	measName string
	// measNames are the measures' names (the last elements of their
	// paths).
	measNames []string
	// slots: 0 is the time, then the dimensions, then the measures.
	nDims  int
	sc     scanner
	intern map[string]string

	series map[string]*seriesEntry
	// byDims finds a shared-mode entry by its (sorted) dimension slice.
	byDims map[*ingest.Dimension]*seriesEntry
	keyBuf []byte
	// shared and checks: see the type's comment (checks is set only with
	// a fixed target).
	shared, checks bool
	// slab holds the measures of the records of the current batch.
	slab []ingest.Measure
	// reasons are the verdicts on the records of the last Decode call
	// (nil: all good), from its first record on (callStart in dst).
	reasons   []string
	callStart int
	// sampleOK[i] says ingest.ValidateSample passes a record whose only
	// measure is measure i (its name is good and its type is not
	// VARCHAR); measBytes sums the measure names.
	sampleOK  []bool
	allOK     bool
	measBytes int
}

// seriesEntry is the dimensions one set of raw dimension values makes.
type seriesEntry struct {
	dims []ingest.Dimension
	// ordered are dims in mapping order (shared mode).
	ordered []ingest.Dimension
	// verdicts are ingest.ValidateSeries's on the dimensions (in mapping
	// order) with the record's measure name: one for a multi-measure
	// mapping, one per measure for a single-measure one.
	verdicts []string
	// size is the dimension names and values in bytes.
	size int
	// hints are the series' ingest.SeriesHints (shared mode): one for a
	// multi-measure mapping, one per measure for a single-measure one, as
	// each measure name makes its own series.
	hints []ingest.SeriesHint
}

const (
	maxInterned = 1 << 14
	// maxSeriesCached bounds the series cache (emptied when full).
	maxSeriesCached = 1 << 16
)

func newJSONDecoder(m Mapping) (Decoder, error) {
	if err := m.Validate(FormatJSON); err != nil {
		return nil, fmt.Errorf("create json decoder: %w", err)
	}
	d := &jsonDecoder{m: m, unit: unitNanos[m.Time.Unit], unitName: m.Time.Unit, layout: parseLayout(m.Time.Layout),
		root: &pathNode{slot: -1}, nDims: len(m.Dimensions), intern: map[string]string{}, series: map[string]*seriesEntry{}}
	if d.unitName == "" {
		d.unitName = "ms"
	}
	d.root.add(strings.Split(m.Time.Field, "."), 0)
	for i, p := range m.Dimensions {
		d.root.add(strings.Split(p, "."), 1+i)
		d.dimNames = append(d.dimNames, lastElem(p))
	}
	d.allOK = len(m.Measures) <= ingest.MaxMeasures
	for i, ms := range m.Measures {
		d.root.add(strings.Split(ms.Field, "."), 1+len(m.Dimensions)+i)
		name := lastElem(ms.Field)
		d.measNames = append(d.measNames, name)
		d.measBytes += len(name)
		// A record with this measure alone passes ValidateSample iff the
		// name is good; a VARCHAR value needs checking every time.
		ok := ms.Type != ingest.TypeVarchar &&
			ingest.ValidateSample(&ingest.Record{Measures: []ingest.Measure{{Name: name, Value: ingest.Float(0)}}}) == ""
		d.sampleOK = append(d.sampleOK, ok)
		d.allOK = d.allOK && ok
	}
	d.sc.vals = make([]captured, 1+len(m.Dimensions)+len(m.Measures))
	d.measName = m.MeasureName
	if d.measName == "" {
		d.measName = m.Table
	}
	return d, nil
}

// share switches d to shared mode (see jsonDecoder).
func (d *jsonDecoder) share() { d.shared, d.byDims = true, map[*ingest.Dimension]*seriesEntry{} }

// check makes a shared-mode decoder report its verdicts (checked).
func (d *jsonDecoder) check() { d.checks = true }

// ordered returns, in mapping order, the dimensions whose shared (sorted)
// slice starts at first; nil if d no longer caches them.
func (d *jsonDecoder) ordered(first *ingest.Dimension) []ingest.Dimension {
	if e := d.byDims[first]; e != nil {
		return e.ordered
	}
	return nil
}

// resetBatch starts a batch: the records of the previous one are no longer
// used, so their measures' slab is reused.
func (d *jsonDecoder) resetBatch() {
	d.slab = d.slab[:0]
	if len(d.series) >= maxSeriesCached {
		clear(d.series)
		clear(d.byDims)
	}
}

// checked returns the verdicts of ingest.ValidateRecord on the records the
// last Decode appended, in order; nil means every record is good. Only a
// decoder told to check does.
func (d *jsonDecoder) checked() []string {
	if len(d.reasons) == 0 {
		return nil
	}
	return d.reasons
}

func (d *jsonDecoder) Decode(msg []byte, dst []ingest.Record) ([]ingest.Record, error) {
	s := &d.sc
	s.b, s.i, s.depth = msg, 0, 0
	s.scratch = s.scratch[:0]
	defer func() { s.b = nil }() // keep no reference to msg
	s.ws()
	d.reasons, d.callStart = d.reasons[:0], len(dst)
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
	e, err := d.seriesOf(vals[1 : 1+d.nDims])
	if err != nil {
		return dst, err
	}
	dims := e.dims
	if !d.shared && dims != nil {
		// The records own their dimensions: an appender may sort them.
		dims = slices.Clone(dims)
	}
	meas := vals[1+d.nDims:]
	if d.m.Single {
		n := 0
		for i, c := range meas {
			if c.kind == kindMissing || c.kind == kindNull {
				continue
			}
			val, err := capturedValue(c, d.sc.raw(c), d.m.Measures[i].Type)
			if err != nil {
				return dst, fmt.Errorf("measure field %q: %w", d.m.Measures[i].Field, err)
			}
			dst = append(dst, ingest.Record{Time: ts, Dimensions: dims, MeasureName: d.measNames[i], Value: val})
			if e.hints != nil {
				dst[len(dst)-1].Hint = &e.hints[i]
			}
			if d.checks {
				reason := e.verdicts[i]
				if reason == "" && !d.sampleOK[i] {
					reason = ingest.ValidateSample(&dst[len(dst)-1])
				}
				d.note(dst, reason)
			}
			n++
		}
		if n == 0 {
			return dst, errors.New("no measure field is present")
		}
		return dst, nil
	}
	var ms []ingest.Measure
	if d.shared {
		if cap(d.slab)-len(d.slab) < len(meas) {
			d.slab = make([]ingest.Measure, 0, max(2*cap(d.slab), 64*len(meas)))
		}
		ms = d.slab[len(d.slab):len(d.slab):cap(d.slab)]
	}
	for i, c := range meas {
		if c.kind == kindMissing || c.kind == kindNull {
			continue
		}
		val, err := capturedValue(c, d.sc.raw(c), d.m.Measures[i].Type)
		if err != nil {
			return dst, fmt.Errorf("measure field %q: %w", d.m.Measures[i].Field, err)
		}
		if ms == nil {
			ms = make([]ingest.Measure, 0, len(meas))
		}
		ms = append(ms, ingest.Measure{Name: d.measNames[i], Value: val})
	}
	if len(ms) == 0 {
		return dst, errors.New("no measure field is present")
	}
	dst = append(dst, ingest.Record{Time: ts, Dimensions: dims, MeasureName: d.measName, Measures: ms})
	if d.shared {
		d.slab = d.slab[:len(d.slab)+len(ms)]
		dst[len(dst)-1].Measures = ms[:len(ms):len(ms)]
		if e.hints != nil {
			dst[len(dst)-1].Hint = &e.hints[0]
		}
		if d.checks {
			reason := e.verdicts[0]
			if reason == "" && !(d.allOK && len(d.measName)+e.size+d.measBytes <= ingest.MaxRecordBytes) {
				reason = ingest.ValidateSample(&dst[len(dst)-1])
			}
			d.note(dst, reason)
		}
	}
	return dst, nil
}

// note notes the verdict on the last record of dst.
func (d *jsonDecoder) note(dst []ingest.Record, reason string) {
	if reason == "" && len(d.reasons) == 0 {
		return
	}
	for len(d.reasons) < len(dst)-1-d.callStart {
		d.reasons = append(d.reasons, "")
	}
	d.reasons = append(d.reasons, reason)
}

// seriesOf returns the series entry of the captured dimension fields,
// from the cache or made and cached.
func (d *jsonDecoder) seriesOf(cs []captured) (*seriesEntry, error) {
	key := d.keyBuf[:0]
	for i, c := range cs {
		switch c.kind {
		case kindMissing, kindNull:
			key = append(key, 0)
		case kindOther:
			return nil, fmt.Errorf("dimension field %q is not a string, number or boolean", d.m.Dimensions[i])
		case kindBool:
			if c.b {
				key = append(key, 1)
			} else {
				key = append(key, 2)
			}
		default:
			key = append(key, 3)
			raw := d.sc.raw(c)
			key = binary.AppendUvarint(key, uint64(len(raw)))
			key = append(key, raw...)
		}
	}
	d.keyBuf = key
	if e, ok := d.series[string(key)]; ok {
		return e, nil
	}
	e := &seriesEntry{}
	for i, c := range cs {
		if c.kind == kindMissing || c.kind == kindNull {
			continue
		}
		v := d.dimValue(c)
		if v == "" {
			continue
		}
		if e.dims == nil {
			e.dims = make([]ingest.Dimension, 0, d.nDims)
		}
		e.dims = append(e.dims, ingest.Dimension{Name: d.dimNames[i], Value: v})
		e.size += len(d.dimNames[i]) + len(v)
	}
	// The verdicts are on the dimensions in mapping order, as the
	// pipeline's check of each record was.
	if d.m.Single {
		for _, name := range d.measNames {
			e.verdicts = append(e.verdicts, ingest.ValidateSeries(name, e.dims))
		}
	} else {
		e.verdicts = []string{ingest.ValidateSeries(d.measName, e.dims)}
	}
	if d.shared && e.dims != nil {
		e.ordered = slices.Clone(e.dims)
		slices.SortFunc(e.dims, func(a, b ingest.Dimension) int { return strings.Compare(a.Name, b.Name) })
		e.hints = make([]ingest.SeriesHint, len(e.verdicts))
	}
	if len(d.series) >= maxSeriesCached && !d.shared {
		// (In shared mode the batch's records keep their entries until
		// the batch ends: resetBatch empties a full cache.)
		clear(d.series)
	}
	d.series[string(key)] = e
	if d.shared && e.dims != nil {
		d.byDims[&e.dims[0]] = e
	}
	return e, nil
}

// dimValue returns a dimension's text, interned.
func (d *jsonDecoder) dimValue(c captured) string {
	switch c.kind {
	case kindBool:
		return strconv.FormatBool(c.b)
	}
	raw := d.sc.raw(c)
	if v, ok := d.intern[string(raw)]; ok {
		return v
	}
	v := string(raw)
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
	raw := d.sc.raw(c)
	switch c.kind {
	case kindNumber:
		return d.numericTime(raw)
	case kindString:
		if d.m.Time.Layout == "" {
			if _, err := strconv.ParseFloat(view(raw), 64); err == nil {
				return d.numericTime(raw)
			}
		}
		tm, err := time.Parse(d.layout, string(raw))
		if err != nil {
			return 0, fmt.Errorf("parse time %q: %w", truncate(string(raw), 64), err)
		}
		if tm.Before(time.Unix(0, 0)) || tm.Year() > 2262 {
			return 0, fmt.Errorf("time %q is outside the supported range", truncate(string(raw), 64))
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
func capturedValue(c captured, raw []byte, typ ingest.ValueType) (ingest.Value, error) {
	switch c.kind {
	case kindNumber:
		switch typ {
		case ingest.TypeDouble:
			if f, ok := smallInt(raw); ok {
				return ingest.Float(f), nil
			}
			f, err := strconv.ParseFloat(view(raw), 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return ingest.Value{}, fmt.Errorf("invalid DOUBLE %q", truncate(string(raw), 64))
			}
			return ingest.Float(f), nil
		case ingest.TypeBigint, ingest.TypeTimestamp:
			i, err := strconv.ParseInt(view(raw), 10, 64)
			if err != nil {
				return ingest.Value{}, fmt.Errorf("invalid %s %q", typ, truncate(string(raw), 64))
			}
			if typ == ingest.TypeTimestamp {
				return ingest.Timestamp(i), nil
			}
			return ingest.Int(i), nil
		}
		return toValue(json.Number(string(raw)), typ)
	case kindString:
		return toValue(string(raw), typ)
	case kindBool:
		return toValue(c.b, typ)
	}
	return toValue(map[string]any(nil), typ) // an object or array: the type's error
}

// smallInt converts a JSON number (valid: the scanner checked it) that is
// an integer of at most 15 digits, which float64 holds exactly, as
// strconv.ParseFloat would; it reports false for any other number.
func smallInt(raw []byte) (float64, bool) {
	neg := len(raw) > 0 && raw[0] == '-'
	digits := raw
	if neg {
		digits = raw[1:]
	}
	if len(digits) == 0 || len(digits) > 15 {
		return 0, false
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	f := float64(n)
	if neg {
		f = -f // -0 stays negative zero, as ParseFloat gives
	}
	return f, true
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
