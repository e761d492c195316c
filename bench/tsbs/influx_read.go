package tsbs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// MaxLineBytes bounds one line of a file read by ReadInflux and
// ReadTimestream; the readers buffer at most one line.
const MaxLineBytes = 1 << 20

// maxInterned bounds the strings a reader keeps to avoid re-allocating
// repeated names and tag values; past it new strings are allocated per line.
const maxInterned = 1 << 16

// ErrSyntax is wrapped by every ParseError.
var ErrSyntax = errors.New("tsbs: syntax error")

// ParseError reports malformed input at a 1-based line number.
type ParseError struct {
	Line int
	Msg  string
}

// Error implements error.
func (e *ParseError) Error() string {
	return "tsbs: line " + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Unwrap returns ErrSyntax.
func (e *ParseError) Unwrap() error { return ErrSyntax }

// lineReader yields the lines of r one at a time, without the line end, and
// interns repeated strings.
type lineReader struct {
	br     *bufio.Reader
	line   int
	intern map[string]string
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, MaxLineBytes), intern: make(map[string]string)}
}

// next returns the next line (without "\n" or "\r\n"); io.EOF at the end.
func (lr *lineReader) next() ([]byte, error) {
	b, err := lr.br.ReadSlice('\n')
	if len(b) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	lr.line++
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, &ParseError{Line: lr.line, Msg: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)}
	case err != nil && err != io.EOF:
		return nil, fmt.Errorf("read line %d: %w", lr.line, err)
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b, nil
}

// str returns b as a string, shared with earlier equal strings while the
// intern table has room.
func (lr *lineReader) str(b []byte) string {
	if s, ok := lr.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(lr.intern) < maxInterned {
		lr.intern[s] = s
	}
	return s
}

// strLike is str with a guess: lines of one file repeat the previous line's
// names and tag values at the same positions, and comparing is cheaper than
// a map lookup.
func (lr *lineReader) strLike(b []byte, prev string) string {
	if prev == string(b) {
		return prev
	}
	return lr.str(b)
}

// prevTag returns the tag that the previous point held at index i of the
// shared backing array of tags, or the zero Tag.
func prevTag(tags []Tag, i int) Tag {
	if i < cap(tags) {
		return tags[:i+1][i]
	}
	return Tag{}
}

// prevField returns the name the previous point's field i had.
func prevField(fields []Field, i int) string {
	if i < cap(fields) {
		return fields[:i+1][i].Name
	}
	return ""
}

func (lr *lineReader) errorf(format string, args ...any) error {
	return &ParseError{Line: lr.line, Msg: fmt.Sprintf(format, args...)}
}

// blank reports whether b holds only spaces and tabs.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// ReadInflux reads Influx line protocol from r, one point per line as
// tsbs_generate_data --format=influx writes it, and calls fn for each point
// in order. Blank lines and lines starting with '#' are skipped. Memory is
// bounded: one line (at most MaxLineBytes) plus a bounded table of interned
// strings.
//
// The Point passed to fn is reused for the next line; fn must Clone it to
// keep it. Only float and integer fields are supported (TSBS writes no
// others; unsigned integers become int64 when they fit), and every line needs
// a timestamp, read as nanoseconds. Malformed input yields a *ParseError with
// the line number; an error from fn stops the read and is returned wrapped.
func ReadInflux(r io.Reader, fn func(*Point) error) error {
	lr := newLineReader(r)
	var p Point
	var scratch []byte
	for {
		b, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if blank(b) || b[0] == '#' {
			continue
		}
		if scratch, err = parseInfluxLine(lr, b, &p, scratch); err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return fmt.Errorf("handle point at line %d: %w", lr.line, err)
		}
	}
}

// Token delimiter sets.
const (
	inMeasurement = iota // ends at ',' or ' '; escapes , space backslash
	inKey                // ends at '='; escapes , = space backslash
	inTagValue           // ends at ',' or ' '
)

// scanToken reads an escaped token of b starting at i, unescaping into
// scratch. It returns the token, the index of the delimiter (len(b) if none)
// and the scratch buffer.
func scanToken(b []byte, i, ctx int, scratch []byte) (tok []byte, end int, buf []byte) {
	scratch = scratch[:0]
	for i < len(b) {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			n := b[i+1]
			if n == ',' || n == ' ' || n == '\\' || (n == '=' && ctx != inMeasurement) {
				scratch = append(scratch, n)
				i += 2
				continue
			}
		}
		switch ctx {
		case inMeasurement, inTagValue:
			if c == ',' || c == ' ' {
				return scratch, i, scratch
			}
		case inKey:
			if c == '=' || c == ',' || c == ' ' {
				return scratch, i, scratch
			}
		}
		scratch = append(scratch, c)
		i++
	}
	return scratch, i, scratch
}

func parseInfluxLine(lr *lineReader, b []byte, p *Point, scratch []byte) ([]byte, error) {
	prevMeasurement := p.Measurement
	p.Reset()
	tok, i, scratch := scanToken(b, 0, inMeasurement, scratch)
	if len(tok) == 0 {
		return scratch, lr.errorf("missing measurement")
	}
	p.Measurement = lr.strLike(tok, prevMeasurement)
	for i < len(b) && b[i] == ',' {
		var key []byte
		key, i, scratch = scanToken(b, i+1, inKey, scratch)
		if len(key) == 0 {
			return scratch, lr.errorf("empty tag key at byte %d", i+1)
		}
		if i >= len(b) || b[i] != '=' {
			return scratch, lr.errorf("missing '=' after tag key %q", key)
		}
		prev := prevTag(p.Tags, len(p.Tags))
		k := lr.strLike(key, prev.Key)
		var val []byte
		val, i, scratch = scanToken(b, i+1, inTagValue, scratch)
		if len(val) == 0 {
			return scratch, lr.errorf("empty value for tag %q", k)
		}
		p.Tags = append(p.Tags, Tag{Key: k, Value: lr.strLike(val, prev.Value)})
	}
	if i >= len(b) || b[i] != ' ' {
		return scratch, lr.errorf("missing field set")
	}
	i++
	for {
		var key []byte
		key, i, scratch = scanToken(b, i, inKey, scratch)
		if len(key) == 0 {
			return scratch, lr.errorf("empty field key at byte %d", i+1)
		}
		if i >= len(b) || b[i] != '=' {
			return scratch, lr.errorf("missing '=' after field key %q", key)
		}
		name := lr.strLike(key, prevField(p.Fields, len(p.Fields)))
		j := i + 1
		for j < len(b) && b[j] != ',' && b[j] != ' ' {
			j++
		}
		f, err := parseFieldValue(b[i+1 : j])
		if err != nil {
			return scratch, lr.errorf("field %q: %v", name, err)
		}
		f.Name = name
		p.Fields = append(p.Fields, f)
		i = j
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		break
	}
	if i >= len(b) {
		return scratch, lr.errorf("missing timestamp")
	}
	i++ // the space
	ts, ok := parseInt(b[i:])
	if !ok {
		return scratch, lr.errorf("invalid timestamp %q", b[i:])
	}
	p.Time = ts
	return scratch, nil
}

// parseFieldValue parses an unquoted float, int ("i") or uint ("u") value.
func parseFieldValue(v []byte) (Field, error) {
	if len(v) == 0 {
		return Field{}, errors.New("empty value")
	}
	if v[0] == '"' {
		return Field{}, errors.New("string fields are not supported")
	}
	switch v[len(v)-1] {
	case 'i':
		n, ok := parseInt(v[:len(v)-1])
		if !ok {
			return Field{}, fmt.Errorf("invalid integer %q", v)
		}
		return Field{Kind: FieldInt, Int: n}, nil
	case 'u':
		n, ok := parseInt(v[:len(v)-1])
		if !ok || n < 0 || v[0] == '-' {
			return Field{}, fmt.Errorf("unsigned integer %q out of int64 range", v)
		}
		return Field{Kind: FieldInt, Int: n}, nil
	}
	for _, c := range v {
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E' {
			if c == 't' || c == 'T' || c == 'f' || c == 'F' {
				return Field{}, fmt.Errorf("boolean fields are not supported: %q", v)
			}
			return Field{}, fmt.Errorf("invalid float %q", v)
		}
	}
	x, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsInf(x, 0) {
		return Field{}, fmt.Errorf("invalid float %q", v)
	}
	return Field{Kind: FieldFloat, Float: x}, nil
}

// parseInt parses a base-10 int64 with an optional leading '-', without
// allocating.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}
