package timestreamwrite

import (
	"bytes"
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
//
// Decoded values may share memory: equal names and enum values share one
// string, a Dimensions array byte-identical to the previous record's shares
// that record's decoded slice, and an equal Time shares its string. Callers
// never modify the decoded request.
type fastParser struct {
	buf []byte
	pos int
	// interned holds names and enum values, which repeat across the
	// records of a request, so each distinct one is allocated once.
	interned map[string]*string
	// recent is a direct-mapped cache in front of interned, indexed by
	// internSlot: most lookups end here without hashing the name.
	recent [256]*string
	// strs is the current block of decoded strings; the *string members
	// point into such blocks, so that a string costs one allocation (its
	// bytes), not two.
	strs []string
	// lastDims is the raw text of the last Dimensions array decoded in
	// full (a slice of buf) and lastDimsVal its value. Records of one
	// series or one host repeat their dimensions byte for byte: a repeat
	// is one comparison instead of a parse.
	lastDims    []byte
	lastDimsVal []wireDimension
	// lastTime and lastTimeVal do the same for Time, which records of one
	// data point share.
	lastTime    []byte
	lastTimeVal *string
	// lastMeasures is the length of the last MeasureValues array, the
	// capacity the next one starts with.
	lastMeasures int
}

// internSlot picks the recent slot of a name from its length and its first
// and last bytes, which tell most member names and enum values apart.
func internSlot(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	return (len(b)*7 + int(b[0])*31 + int(b[len(b)-1])) & 255
}

// strBlock is the number of strings allocated together.
const strBlock = 128

// newStr returns a pointer to a string holding a copy of b.
func (p *fastParser) newStr(b []byte) *string {
	if len(p.strs) == cap(p.strs) {
		// Earlier blocks stay alive through the pointers into them.
		p.strs = make([]string, 0, strBlock)
	}
	p.strs = append(p.strs, string(b))
	return &p.strs[len(p.strs)-1]
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

// strClass classifies string bytes for rawString: strBad for what ends the
// fast path (a backslash, a control character), strHigh for non-ASCII.
var strClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = strBad
	}
	t['\\'] = strBad
	for c := 0x80; c < 0x100; c++ {
		t[c] = strHigh
	}
	return t
}()

const (
	strBad  = 1
	strHigh = 2
)

// rawString returns the bytes of a string without escapes or control
// characters, valid UTF-8.
func (p *fastParser) rawString() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	n := bytes.IndexByte(p.buf[p.pos:], '"')
	if n < 0 {
		return nil, false
	}
	s := p.buf[p.pos : p.pos+n]
	var class uint8
	for _, c := range s {
		class |= strClass[c]
	}
	if class&strBad != 0 || (class&strHigh != 0 && !utf8.Valid(s)) {
		return nil, false
	}
	p.pos += n + 1
	return s, true
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
	*dst = p.newStr(b)
	return true
}

// time is str for Time: a value equal to the previous record's shares its
// string.
func (p *fastParser) time(dst **string) bool {
	if p.null() {
		*dst = nil
		return true
	}
	b, ok := p.rawString()
	if !ok {
		return false
	}
	if p.lastTimeVal != nil && string(b) == string(p.lastTime) {
		*dst = p.lastTimeVal
		return true
	}
	*dst = p.newStr(b)
	p.lastTime, p.lastTimeVal = b, *dst
	return true
}

// dimensions decodes a Dimensions array. Text identical to the last array
// decoded gives that array's value; the text of a JSON array decodes the
// same wherever it stands.
func (p *fastParser) dimensions(dst *[]wireDimension) bool {
	p.ws()
	if len(p.lastDims) > 0 && bytes.HasPrefix(p.buf[p.pos:], p.lastDims) {
		*dst = p.lastDimsVal
		p.pos += len(p.lastDims)
		return true
	}
	start := p.pos
	if !array(p, dst, p.dimension, 0) {
		return false
	}
	if len(*dst) > 0 {
		p.lastDims, p.lastDimsVal = p.buf[start:p.pos], *dst
	}
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
	slot := &p.recent[internSlot(b)]
	if *slot != nil && **slot == string(b) {
		*dst = *slot
		return true
	}
	if s, ok := p.interned[string(b)]; ok {
		*dst, *slot = s, s
		return true
	}
	if p.interned == nil {
		p.interned = make(map[string]*string, 64)
	}
	sp := p.newStr(b)
	p.interned[*sp] = sp
	*dst, *slot = sp, sp
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
// null yields a nil slice, [] an empty one, as encoding/json does. The
// slice starts with room for capHint elements (at least 4).
func array[T any](p *fastParser, dst *[]T, elem func(*T) bool, capHint int) bool {
	if p.null() {
		*dst = nil
		return true
	}
	if !p.consume('[') {
		return false
	}
	out := make([]T, 0, max(capHint, 4))
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
			// About 300 bytes a record or more: room for most at once.
			return 8, array(p, &req.Records, p.record, min(len(p.buf)/300, 100))
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
			return 1, p.dimensions(&r.Dimensions)
		case "MeasureName":
			return 2, p.name(&r.MeasureName)
		case "MeasureValue":
			return 4, p.str(&r.MeasureValue)
		case "MeasureValueType":
			return 8, p.name(&r.MeasureValueType)
		case "MeasureValues":
			// Records of a request usually have as many measures.
			ok := array(p, &r.MeasureValues, p.measureValue, p.lastMeasures)
			p.lastMeasures = len(r.MeasureValues)
			return 16, ok
		case "Time":
			return 32, p.time(&r.Time)
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
