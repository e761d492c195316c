// Package lineproto owns the InfluxDB line protocol decoder: it turns a
// body of lines into TidalDB records, one multi-measure record per line.
// It also serves InfluxDB's HTTP write API (http.go: /write, /api/v2/write,
// /ping, /health and the CREATE DATABASE / SHOW DATABASES of /query),
// keeps the series cache that lets known series skip most of the parsing
// (cache.go), and supplies the stream pipelines' influx_line_protocol
// decoder (pipeline.go).
//
// The mapping follows Timestream's multi-measure model:
//
//	measurement      → table (and the measure name, unless Options.MeasureName is set)
//	tag set          → dimensions
//	field set        → measures of one multi-measure record
//	timestamp        → time, in Options.Precision units; missing → Options.Now
//
// Field types map to measure types: a float (1.5, 1e3, 1) is DOUBLE, an
// integer with an "i" suffix and an unsigned integer with a "u" suffix are
// BIGINT (an unsigned value above 2^63-1 is refused), a quoted string is
// VARCHAR and t/T/true/True/TRUE/f/F/false/False/FALSE is BOOLEAN.
//
// Escaping is InfluxDB's: in the measurement a backslash escapes a comma or
// a space; in tag keys, tag values and field keys it escapes a comma, an
// equals sign or a space; in a string field value it escapes a double quote
// or a backslash. A backslash before any other character is kept as is. A
// string field value may span lines. Blank lines and lines starting with '#'
// are skipped.
//
// Decode is lenient per line as InfluxDB's /write is: a malformed line is
// reported with its 1-based line number and the good lines are kept.
package lineproto

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/tidaldb/tidal/ingest"
)

// Options tunes Decode.
type Options struct {
	// Precision is the unit of the timestamps in nanoseconds (1 for ns, 1e3
	// for us, 1e6 for ms, 1e9 for s); 0 means nanoseconds. ParsePrecision
	// converts InfluxDB's precision parameter.
	Precision int64
	// Now gives the time of lines without a timestamp; nil means time.Now.
	// It is called at most once per Decode.
	Now func() time.Time
	// MeasureName, when set, is the measure name of every record (Telegraf's
	// Timestream output calls it measure_name_for_multi_measure_records);
	// empty means the measurement name.
	MeasureName string
	// Cache, when set, remembers parsed series across calls (share one per
	// Handler); nil parses every line in full.
	Cache *SeriesCache
}

// Point is one decoded line: the record and the table it goes to.
type Point struct {
	// Table is the line's measurement.
	Table string
	// Line is the 1-based line number the point starts on.
	Line   int
	Record ingest.Record
}

// LineError is one refused line.
type LineError struct {
	// Line is the 1-based line number of the refused line.
	Line int
	// Reason says what is wrong, in InfluxDB's terms where it has them.
	Reason string
}

// Error returns "line N: reason".
func (e LineError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Reason }

// ParsePrecision converts InfluxDB's precision parameter to nanoseconds per
// unit. It accepts the 2.x spellings (ns, us, ms, s) and the 1.x ones (n, u,
// µ, ms, s, m, h); the empty string is nanoseconds.
func ParsePrecision(s string) (int64, error) {
	switch s {
	case "", "n", "ns":
		return 1, nil
	case "u", "us", "µ", "µs":
		return 1e3, nil
	case "ms":
		return 1e6, nil
	case "s":
		return 1e9, nil
	case "m":
		return 60e9, nil
	case "h":
		return 3600e9, nil
	}
	return 0, fmt.Errorf("parse precision %q: want ns, us, ms or s", s)
}

// Decode parses data, a body of line protocol, into one point per good line
// and one LineError per malformed line, both in input order. Points pass
// ingest.ValidateRecord. Strings in the points do not alias data.
func Decode(data []byte, opts Options) ([]Point, []LineError) {
	return decode(data, opts, nil)
}

// Scratch is memory one Decode may reuse from an earlier one: the points,
// their dimensions and measures. Reusing it overwrites what the earlier
// Decode returned, so its caller must be done with those points (an
// Appender does not retain records). The zero Scratch is ready to use.
type Scratch struct {
	points   []Point
	dims     []ingest.Dimension
	measures []ingest.Measure
	recs     []ingest.Record
}

// DecodeInto is Decode reusing sc's memory (and keeping what it grew to).
func DecodeInto(data []byte, opts Options, sc *Scratch) ([]Point, []LineError) {
	return decode(data, opts, sc)
}

func decode(data []byte, opts Options, sc *Scratch) ([]Point, []LineError) {
	d := decoder{data: data, line: 1, opts: opts, intern: make(map[string]string)}
	if d.opts.Precision <= 0 {
		d.opts.Precision = 1
	}
	lines := bytes.Count(data, newline) + 1
	var points []Point
	if sc != nil {
		d.grow = true
		points = sc.points[:0]
		d.dims, d.measures = sc.dims[:0], sc.measures[:0]
		defer func() {
			// Keep the largest slabs: the next body of this size fits.
			if cap(points) > cap(sc.points) {
				sc.points = points
			}
			if cap(d.dims) > cap(sc.dims) {
				sc.dims = d.dims
			}
			if cap(d.measures) > cap(sc.measures) {
				sc.measures = d.measures
			}
		}()
	}
	if cap(points) < lines {
		points = make([]Point, 0, lines)
	}
	var errs []LineError
	for {
		d.skipBlank()
		if d.pos >= len(d.data) {
			return points, errs
		}
		start := d.line
		p, seriesReason, checked, reason := d.point()
		if reason == "" {
			p.Line = start
			if checked { // the series was validated once; the sample is the line's own
				reason = seriesReason
				if reason == "" {
					reason = ingest.ValidateSample(&p.Record)
				}
			} else {
				reason = ingest.ValidateRecord(&p.Record)
			}
		}
		if reason != "" {
			errs = append(errs, LineError{Line: start, Reason: reason})
			d.skipLine()
			continue
		}
		points = append(points, p)
	}
}

var newline = []byte{'\n'}

// maxIntern bounds the strings one Decode interns.
const maxIntern = 4096

type decoder struct {
	data   []byte
	pos    int
	line   int
	opts   Options
	now    int64
	hasNow bool
	intern map[string]string
	buf    []byte // unescaping scratch
	// grow doubles the slabs as they fill, so that a reused Scratch ends
	// up with one slab a whole body fits in.
	grow bool
	// Slabs the points' dimensions and measures are cut from, so that a
	// point costs two allocations amortised instead of a few each.
	dims     []ingest.Dimension
	measures []ingest.Measure
}

// slab is the capacity of a new slab replacing one of capacity old.
func (d *decoder) slab(old int) int {
	if d.grow {
		return max(1024, 2*old)
	}
	return 1024
}

// str returns b as a string, sharing one copy of repeated names and values.
func (d *decoder) str(b []byte) string {
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.intern) < maxIntern {
		d.intern[s] = s
	}
	return s
}

// skipBlank skips whitespace, empty lines and comment lines.
func (d *decoder) skipBlank() {
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; c {
		case ' ', '\t', '\r':
			d.pos++
		case '\n':
			d.pos++
			d.line++
		case '#':
			d.skipLine()
		default:
			return
		}
	}
}

// skipLine moves past the next newline.
func (d *decoder) skipLine() {
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		d.pos++
		if c == '\n' {
			d.line++
			return
		}
	}
}

// token scans an escaped name or value ending at an unescaped byte of its
// set (measurement: comma or space; key and tag value: comma, equals sign or
// space), a newline or the end. esc lists the bytes a backslash escapes,
// which are the set's. It returns the unescaped token and the byte that
// ended it (0 at the end).
func (d *decoder) token(set *[256]bool, esc string) ([]byte, byte) {
	data, start := d.data, d.pos
	escaped := false
	for i := start; i < len(data); i++ {
		c := data[i]
		if !set[c] { // the common byte: one table load
			continue
		}
		if c == '\\' {
			if i+1 < len(data) && indexByte(esc, data[i+1]) {
				escaped = true
				i++
			}
			continue
		}
		d.pos = i
		return d.unescape(data[start:i], esc, escaped), c
	}
	d.pos = len(data)
	return d.unescape(data[start:], esc, escaped), 0
}

// measurementSet and keySet mark the bytes token stops or looks at:
// the set's delimiters, the newline and the backslash.
var measurementSet, keySet = tokenSet(escMeasurement), tokenSet(escKey)

func tokenSet(delims string) *[256]bool {
	var t [256]bool
	for i := 0; i < len(delims); i++ {
		t[delims[i]] = true
	}
	t['\n'], t['\\'] = true, true
	return &t
}

func (d *decoder) unescape(b []byte, esc string, escaped bool) []byte {
	if !escaped {
		return b
	}
	d.buf = d.buf[:0]
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) && indexByte(esc, b[i+1]) {
			i++
		}
		d.buf = append(d.buf, b[i])
	}
	return d.buf
}

func indexByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

const (
	escMeasurement = ", "
	escKey         = ",= "
)

// seriesEnd returns the index of the byte that ends the measurement and tag
// set starting at d.pos: the first unescaped space, a newline or the end.
// A backslash escapes the byte after it when that is a comma, an equals
// sign or a space, as token does.
func (d *decoder) seriesEnd() int {
	for i := d.pos; i < len(d.data); i++ {
		switch d.data[i] {
		case '\\':
			if i+1 < len(d.data) && indexByte(escKey, d.data[i+1]) {
				i++
			}
		case ' ', '\n':
			return i
		}
	}
	return len(d.data)
}

// point parses one line at d.pos. On failure it returns a reason and leaves
// d.pos on the offending line. checked says that the series part (measure
// name and dimensions) was validated, seriesReason being the verdict, so
// that only ingest.ValidateSample remains to do.
func (d *decoder) point() (p Point, seriesReason string, checked bool, reason string) {
	if cap(d.measures)-len(d.measures) < ingest.MaxMeasures/4 {
		d.measures = make([]ingest.Measure, 0, d.slab(cap(d.measures)))
	}
	m0 := len(d.measures)
	defer func() {
		p.Record.Measures = d.measures[m0:len(d.measures):len(d.measures)]
	}()
	if d.opts.Cache == nil {
		var why string
		p.Table, p.Record.Dimensions, why = d.seriesPart()
		if why != "" {
			return p, "", false, why
		}
		return p, "", false, d.fields(&p, m0, nil)
	}
	start := d.pos
	end := d.seriesEnd()
	raw := d.data[start:end]
	e := d.opts.Cache.get(raw)
	if e != nil && e.measureName == d.measureName(e.table) {
		d.pos = end
		p.Table = e.table
		if n := len(e.dims); n > 0 {
			if cap(d.dims)-len(d.dims) < n {
				d.dims = make([]ingest.Dimension, 0, max(n, d.slab(cap(d.dims))))
			}
			d0 := len(d.dims)
			d.dims = append(d.dims, e.dims...)
			p.Record.Dimensions = d.dims[d0 : d0+n : d0+n]
		}
	} else {
		var why string
		p.Table, p.Record.Dimensions, why = d.seriesPart()
		if why != "" {
			return p, "", false, why
		}
		if d.pos != end { // cannot happen: seriesEnd and token agree
			return p, "", false, d.fields(&p, m0, nil)
		}
		mn := d.measureName(p.Table)
		// The entry keeps its own copy of the dimensions: the point's may
		// be sorted by the Appender.
		e = &seriesEntry{table: p.Table, dims: append([]ingest.Dimension(nil), p.Record.Dimensions...),
			measureName: mn, reason: ingest.ValidateSeries(mn, p.Record.Dimensions)}
		reason = d.fields(&p, m0, nil)
		if reason == "" {
			e.fields = make([]string, 0, len(d.measures)-m0)
			for _, m := range d.measures[m0:] {
				e.fields = append(e.fields, m.Name)
			}
		}
		d.opts.Cache.put(raw, e)
		return p, e.reason, true, reason
	}
	return p, e.reason, true, d.fields(&p, m0, e)
}

func (d *decoder) measureName(table string) string {
	if d.opts.MeasureName != "" {
		return d.opts.MeasureName
	}
	return table
}

// seriesPart parses the measurement and the tag set at d.pos.
func (d *decoder) seriesPart() (table string, dims []ingest.Dimension, reason string) {
	name, end := d.token(measurementSet, escMeasurement)
	if len(name) == 0 {
		return "", nil, "missing measurement"
	}
	table = d.str(name)
	if cap(d.dims)-len(d.dims) < ingest.MaxDimensions/4 {
		d.dims = make([]ingest.Dimension, 0, d.slab(cap(d.dims)))
	}
	d0 := len(d.dims)
	if end == ',' {
		d.pos++
		for {
			key, end := d.token(keySet, escKey)
			if end != '=' {
				return table, nil, "missing tag value"
			}
			if len(key) == 0 {
				return table, nil, "missing tag key"
			}
			k := d.str(key)
			d.pos++
			val, end := d.token(keySet, escKey)
			if end == '=' {
				return table, nil, fmt.Sprintf("tag %q: unescaped '=' in tag value", k)
			}
			if len(val) == 0 {
				return table, nil, fmt.Sprintf("tag %q: missing tag value", k)
			}
			for _, dim := range d.dims[d0:] {
				if dim.Name == k {
					return table, nil, fmt.Sprintf("duplicate tag %q", k)
				}
			}
			d.dims = append(d.dims, ingest.Dimension{Name: k, Value: d.str(val)})
			if end != ',' {
				break
			}
			d.pos++
		}
	}
	if n := len(d.dims); n > d0 {
		dims = d.dims[d0:n:n]
	}
	return table, dims, ""
}

// fields parses the field set and the timestamp at d.pos into p's
// measures (d.measures from m0 on). e, when set, is the line's series,
// whose last field keys are tried before the intern table.
func (d *decoder) fields(p *Point, m0 int, e *seriesEntry) (reason string) {
	hinted := e != nil
	if d.pos >= len(d.data) || d.data[d.pos] != ' ' {
		return "missing fields"
	}
	for d.pos < len(d.data) && d.data[d.pos] == ' ' {
		d.pos++
	}
	for {
		key, end := d.token(keySet, escKey)
		if len(key) == 0 {
			return "missing fields"
		}
		if end != '=' {
			return fmt.Sprintf("field %q: missing field value", key)
		}
		var k string
		if i := len(d.measures) - m0; hinted && i < len(e.fields) && e.fields[i] == string(key) {
			k = e.fields[i]
		} else {
			k = d.str(key)
			hinted = false
		}
		d.pos++
		v, reason := d.fieldValue()
		if reason != "" {
			return fmt.Sprintf("field %q: %s", k, reason)
		}
		// While every key so far is the entry's key at its position, the
		// keys are distinct (an entry's are): no duplicate to look for.
		dup := false
		for i := m0; i < len(d.measures) && !hinted; i++ {
			if d.measures[i].Name == k { // InfluxDB keeps the last value
				d.measures[i].Value = v
				dup = true
			}
		}
		if !dup {
			d.measures = append(d.measures, ingest.Measure{Name: k, Value: v})
		}
		if d.pos < len(d.data) && d.data[d.pos] == ',' {
			d.pos++
			continue
		}
		break
	}
	p.Record.MeasureName = d.measureName(p.Table)
	// Timestamp, or the end of the line.
	for d.pos < len(d.data) && (d.data[d.pos] == ' ' || d.data[d.pos] == '\t') {
		d.pos++
	}
	if d.pos >= len(d.data) || d.data[d.pos] == '\n' || d.data[d.pos] == '\r' {
		p.Record.Time = d.nowTime()
		return d.endLine()
	}
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] != ' ' && d.data[d.pos] != '\t' && d.data[d.pos] != '\n' && d.data[d.pos] != '\r' {
		d.pos++
	}
	ts, err := strconv.ParseInt(bstr(d.data[start:d.pos]), 10, 64)
	if err != nil || d.data[start] == '+' {
		return fmt.Sprintf("invalid timestamp %q", d.data[start:d.pos])
	}
	t, ok := ingest.TimeFromUnits(ts, d.opts.Precision)
	if !ok {
		return fmt.Sprintf("timestamp %d out of range", ts)
	}
	p.Record.Time = t
	for d.pos < len(d.data) && (d.data[d.pos] == ' ' || d.data[d.pos] == '\t') {
		d.pos++
	}
	return d.endLine()
}

// endLine consumes the end of a point's line.
func (d *decoder) endLine() string {
	if d.pos < len(d.data) && d.data[d.pos] == '\r' {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return ""
	}
	if d.data[d.pos] != '\n' {
		return fmt.Sprintf("unexpected %q after the timestamp", d.data[d.pos])
	}
	d.pos++
	d.line++
	return ""
}

func (d *decoder) nowTime() int64 {
	if !d.hasNow {
		now := time.Now
		if d.opts.Now != nil {
			now = d.opts.Now
		}
		d.now = now().UnixNano()
		d.hasNow = true
	}
	return d.now
}

// fieldValue parses a field value at d.pos, leaving d.pos on the byte after
// it.
func (d *decoder) fieldValue() (ingest.Value, string) {
	if d.pos >= len(d.data) {
		return ingest.Value{}, "missing field value"
	}
	if d.data[d.pos] == '"' {
		return d.stringValue()
	}
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' {
			break
		}
		d.pos++
	}
	tok := d.data[start:d.pos]
	if len(tok) == 0 {
		return ingest.Value{}, "missing field value"
	}
	switch tok[len(tok)-1] {
	case 'i':
		n, err := strconv.ParseInt(bstr(tok[:len(tok)-1]), 10, 64)
		if err != nil || !numeric(tok[:len(tok)-1], false) {
			return ingest.Value{}, fmt.Sprintf("invalid integer %q", tok)
		}
		return ingest.Int(n), ""
	case 'u':
		n, err := strconv.ParseUint(bstr(tok[:len(tok)-1]), 10, 64)
		if err != nil || !numeric(tok[:len(tok)-1], false) {
			return ingest.Value{}, fmt.Sprintf("invalid unsigned integer %q", tok)
		}
		if n > math.MaxInt64 {
			return ingest.Value{}, fmt.Sprintf("unsigned integer %d is above the BIGINT range", n)
		}
		return ingest.Int(int64(n)), ""
	}
	switch bstr(tok) {
	case "t", "T", "true", "True", "TRUE":
		return ingest.Bool(true), ""
	case "f", "F", "false", "False", "FALSE":
		return ingest.Bool(false), ""
	}
	if !numeric(tok, true) {
		return ingest.Value{}, fmt.Sprintf("invalid field value %q", tok)
	}
	f, err := strconv.ParseFloat(bstr(tok), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return ingest.Value{}, fmt.Sprintf("invalid float %q", tok)
	}
	return ingest.Float(f), ""
}

// numeric reports whether b has only the bytes of a decimal number: an
// optional leading minus, digits, and for floats a point and an exponent.
// It refuses what strconv accepts beyond InfluxDB (hex, underscores, Inf).
func numeric(b []byte, float bool) bool {
	if len(b) == 0 {
		return false
	}
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
		case c == '-' && (i == 0 || (float && (b[i-1] == 'e' || b[i-1] == 'E'))):
		case float && c == '+' && i > 0 && (b[i-1] == 'e' || b[i-1] == 'E'):
		case float && (c == '.' || c == 'e' || c == 'E'):
		default:
			return false
		}
	}
	return true
}

// stringValue parses a quoted string field value starting at the quote.
func (d *decoder) stringValue() (ingest.Value, string) {
	d.pos++ // opening quote
	start := d.pos
	escaped := false
	lines := 0
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '\\' && d.pos+1 < len(d.data) && (d.data[d.pos+1] == '"' || d.data[d.pos+1] == '\\'):
			escaped = true
			d.pos += 2
			continue
		case c == '"':
			b := d.unescape(d.data[start:d.pos], `"\`, escaped)
			d.pos++
			d.line += lines
			return ingest.String(string(b)), ""
		case c == '\n':
			lines++
		}
		d.pos++
	}
	d.pos = start // let skipLine resume on the line the string opened on
	return ingest.Value{}, "unterminated string"
}

// bstr views b as a string for parsing; the result must not be retained.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
