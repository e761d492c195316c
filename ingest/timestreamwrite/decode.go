package timestreamwrite

import (
	"strconv"
	"unicode/utf8"

	"github.com/tidaldb/tidal/internal/awsjson"
)

// decodeWriteRecords decodes a WriteRecords body. The common shape (exact
// member names, strings without escapes, integer versions) takes a
// hand-written fast path that allocates little; anything else (unknown or
// differently cased members, escapes, duplicate members, type mismatches,
// malformed JSON) falls back to awsjson.Decode, which defines the semantics
// and the error messages. The fast path must produce exactly what
// awsjson.Decode would; FuzzFastDecode checks that.
func decodeWriteRecords(body []byte, req *writeRecordsRequest) *awsjson.Error {
	p := fastParser{buf: body}
	if p.request(req) {
		return nil
	}
	*req = writeRecordsRequest{}
	return awsjson.Decode(body, req)
}

// fastParser is a minimal JSON parser for the WriteRecords shape. Every
// method returns false when the input leaves the fast path.
type fastParser struct {
	buf []byte
	pos int
	// interned holds names and enum values, which repeat across the
	// records of a request, so each distinct one is allocated once.
	interned map[string]*string
}

func (p *fastParser) ws() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte (0 at the end).
func (p *fastParser) peek() byte {
	p.ws()
	if p.pos < len(p.buf) {
		return p.buf[p.pos]
	}
	return 0
}

func (p *fastParser) consume(c byte) bool {
	if p.peek() == c {
		p.pos++
		return true
	}
	return false
}

// null consumes a JSON null.
func (p *fastParser) null() bool {
	if p.peek() == 'n' && len(p.buf)-p.pos >= 4 && string(p.buf[p.pos:p.pos+4]) == "null" {
		p.pos += 4
		return true
	}
	return false
}

// rawString returns the bytes of a string without escapes or control
// characters, valid UTF-8.
func (p *fastParser) rawString() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	start := p.pos
	ascii := true
	for p.pos < len(p.buf) {
		c := p.buf[p.pos]
		switch {
		case c == '"':
			s := p.buf[start:p.pos]
			p.pos++
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		p.pos++
	}
	return nil, false
}

// str decodes a string member into *dst; null sets it to nil.
func (p *fastParser) str(dst **string) bool {
	if p.null() {
		*dst = nil
		return true
	}
	b, ok := p.rawString()
	if !ok {
		return false
	}
	s := string(b)
	*dst = &s
	return true
}

// name is str for members whose values repeat (names, types, units): equal
// values share one string. Callers never modify the decoded strings.
func (p *fastParser) name(dst **string) bool {
	if p.null() {
		*dst = nil
		return true
	}
	b, ok := p.rawString()
	if !ok {
		return false
	}
	if s, ok := p.interned[string(b)]; ok {
		*dst = s
		return true
	}
	if p.interned == nil {
		p.interned = make(map[string]*string, 64)
	}
	s := string(b)
	p.interned[s] = &s
	*dst = &s
	return true
}

// int64 decodes an integer member into *dst; null sets it to nil.
func (p *fastParser) int64(dst **int64) bool {
	if p.null() {
		*dst = nil
		return true
	}
	p.ws()
	start := p.pos
	if p.pos < len(p.buf) && p.buf[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.buf) && p.buf[p.pos] >= '0' && p.buf[p.pos] <= '9' {
		p.pos++
	}
	n := p.pos - digits
	if n == 0 || (n > 1 && p.buf[digits] == '0') {
		return false
	}
	if p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case '.', 'e', 'E':
			return false
		}
	}
	v, err := strconv.ParseInt(string(p.buf[start:p.pos]), 10, 64)
	if err != nil {
		return false
	}
	*dst = &v
	return true
}

// object parses an object, calling member for each key; member returns the
// key's bit (for duplicate detection) and whether its value parsed. An
// unknown key or a duplicate leaves the fast path.
func (p *fastParser) object(member func(key []byte) (bit uint32, ok bool)) bool {
	if !p.consume('{') {
		return false
	}
	if p.consume('}') {
		return true
	}
	var seen uint32
	for {
		key, ok := p.rawString()
		if !ok || !p.consume(':') {
			return false
		}
		bit, ok := member(key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if p.consume(',') {
			continue
		}
		return p.consume('}')
	}
}

// array parses an array; elem parses one element at the current position.
// null yields a nil slice, [] an empty one, as encoding/json does.
func array[T any](p *fastParser, dst *[]T, elem func(*T) bool) bool {
	if p.null() {
		*dst = nil
		return true
	}
	if !p.consume('[') {
		return false
	}
	out := make([]T, 0, 4)
	if p.consume(']') {
		*dst = out
		return true
	}
	for {
		out = append(out, *new(T))
		if !elem(&out[len(out)-1]) {
			return false
		}
		if p.consume(',') {
			continue
		}
		if !p.consume(']') {
			return false
		}
		*dst = out
		return true
	}
}

func (p *fastParser) request(req *writeRecordsRequest) bool {
	if p.peek() != '{' {
		return false
	}
	ok := p.object(func(key []byte) (uint32, bool) {
		switch string(key) { // Compared only: no allocation.
		case "DatabaseName":
			return 1, p.str(&req.DatabaseName)
		case "TableName":
			return 2, p.str(&req.TableName)
		case "CommonAttributes":
			if p.null() {
				req.CommonAttributes = nil
				return 4, true
			}
			req.CommonAttributes = &wireRecord{}
			return 4, p.record(req.CommonAttributes)
		case "Records":
			return 8, array(p, &req.Records, p.record)
		}
		return 0, false
	})
	p.ws()
	return ok && p.pos == len(p.buf)
}

func (p *fastParser) record(r *wireRecord) bool {
	if p.null() {
		return true
	}
	return p.object(func(key []byte) (uint32, bool) {
		switch string(key) { // Compared only: no allocation.
		case "Dimensions":
			return 1, array(p, &r.Dimensions, p.dimension)
		case "MeasureName":
			return 2, p.name(&r.MeasureName)
		case "MeasureValue":
			return 4, p.str(&r.MeasureValue)
		case "MeasureValueType":
			return 8, p.name(&r.MeasureValueType)
		case "MeasureValues":
			return 16, array(p, &r.MeasureValues, p.measureValue)
		case "Time":
			return 32, p.str(&r.Time)
		case "TimeUnit":
			return 64, p.name(&r.TimeUnit)
		case "Version":
			return 128, p.int64(&r.Version)
		}
		return 0, false
	})
}

func (p *fastParser) dimension(d *wireDimension) bool {
	if p.null() {
		return true
	}
	return p.object(func(key []byte) (uint32, bool) {
		switch string(key) { // Compared only: no allocation.
		case "Name":
			return 1, p.name(&d.Name)
		case "Value":
			return 2, p.name(&d.Value)
		case "DimensionValueType":
			return 4, p.name(&d.DimensionValueType)
		}
		return 0, false
	})
}

func (p *fastParser) measureValue(m *wireMeasureValue) bool {
	if p.null() {
		return true
	}
	return p.object(func(key []byte) (uint32, bool) {
		switch string(key) { // Compared only: no allocation.
		case "Name":
			return 1, p.name(&m.Name)
		case "Value":
			return 2, p.str(&m.Value)
		case "Type":
			return 4, p.name(&m.Type)
		}
		return 0, false
	})
}
