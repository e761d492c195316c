package tsbs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/lineproto"
)

// MaxLineBytes bounds one line of a file read by ReadInflux and
// ReadTimestream.
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

// readChunk is how many bytes of line protocol ReadInflux hands the decoder
// at a time (whole lines; more when one line is longer).
const readChunk = 64 << 10

// ReadInflux reads Influx line protocol from r, one point per line as
// tsbs_generate_data --format=influx writes it, and calls fn for each point
// in order. The parsing is the server's: ingest/lineproto decodes the lines,
// with its escaping (InfluxDB's: a backslash escapes a comma or a space in
// the measurement, a comma, an equals sign or a space in tag keys, tag
// values and field keys, and is kept as is before any other byte) and its
// validation (ingest.ValidateRecord: no times before 1970, no empty or
// duplicate tags, Timestream's name and size limits). Blank lines and lines
// starting with '#' are skipped. Memory is bounded: a chunk of whole lines
// (one line is at most MaxLineBytes) plus lineproto's bounded series cache.
//
// The Point passed to fn is reused for the next line; fn must Clone it to
// keep it. Only float and integer fields are supported (TSBS writes no
// others; unsigned integers become int64 when they fit). Timestamps are
// nanoseconds; a line without one gets the time ReadInflux was called, as
// InfluxDB gives it the time of the write. Malformed input yields a
// *ParseError with the line number; an error from fn stops the read and is
// returned wrapped.
func ReadInflux(r io.Reader, fn func(*Point) error) error {
	now := time.Now()
	opts := lineproto.Options{
		Precision: 1,
		Now:       func() time.Time { return now },
		Cache:     lineproto.NewSeriesCache(),
	}
	c := chunker{r: r, buf: make([]byte, readChunk)}
	var sc lineproto.Scratch
	var p Point
	for {
		data, err := c.next()
		if len(data) > 0 {
			base := c.line
			c.line += bytes.Count(data, newline)
			points, errs := lineproto.DecodeInto(data, opts, &sc)
			if err := emitInflux(points, errs, base, &p, fn); err != nil {
				return err
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

var newline = []byte{'\n'}

// emitInflux converts and hands fn the points of a chunk whose first line is
// line base+1, up to the first refused line, which it reports.
func emitInflux(points []lineproto.Point, errs []lineproto.LineError, base int, p *Point, fn func(*Point) error) error {
	stop := math.MaxInt
	if len(errs) > 0 {
		stop = errs[0].Line
	}
	for i := range points {
		lp := &points[i]
		if lp.Line > stop {
			break
		}
		line := base + lp.Line
		if err := fromRecord(lp, p, line); err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return fmt.Errorf("handle point at line %d: %w", line, err)
		}
	}
	if len(errs) > 0 {
		return &ParseError{Line: base + errs[0].Line, Msg: errs[0].Reason}
	}
	return nil
}

// fromRecord fills p from a decoded line, refusing the field types TSBS
// does not write.
func fromRecord(lp *lineproto.Point, p *Point, line int) error {
	p.Reset()
	p.Measurement = lp.Table
	p.Time = lp.Record.Time
	for _, d := range lp.Record.Dimensions {
		p.Tags = append(p.Tags, Tag{Key: d.Name, Value: d.Value})
	}
	for i := range lp.Record.Measures {
		m := &lp.Record.Measures[i]
		switch m.Value.Type {
		case ingest.TypeDouble:
			p.Fields = append(p.Fields, Field{Name: m.Name, Kind: FieldFloat, Float: math.Float64frombits(m.Value.Bits)})
		case ingest.TypeBigint:
			p.Fields = append(p.Fields, Field{Name: m.Name, Kind: FieldInt, Int: int64(m.Value.Bits)})
		case ingest.TypeVarchar:
			return &ParseError{Line: line, Msg: fmt.Sprintf("field %q: string fields are not supported", m.Name)}
		case ingest.TypeBoolean:
			return &ParseError{Line: line, Msg: fmt.Sprintf("field %q: boolean fields are not supported", m.Name)}
		default:
			return &ParseError{Line: line, Msg: fmt.Sprintf("field %q: %s fields are not supported", m.Name, m.Value.Type)}
		}
	}
	return nil
}

// chunker reads r in chunks of whole lines.
type chunker struct {
	r io.Reader
	// buf[:n] holds read bytes; buf[off:n] are not handed out yet.
	buf    []byte
	off, n int
	err    error
	// line counts the lines handed out (maintained by the caller).
	line int
}

// next returns the next chunk: whole lines, or the rest of the input at
// its end. With the last chunk (or none) it returns io.EOF, or the read
// error wrapped with the number of the line it cut.
func (c *chunker) next() ([]byte, error) {
	c.n = copy(c.buf, c.buf[c.off:c.n])
	c.off = 0
	for {
		for c.n < len(c.buf) && c.err == nil {
			m, err := c.r.Read(c.buf[c.n:])
			c.n += m
			c.err = err
		}
		if c.err != nil {
			data := c.buf[:c.n]
			if errors.Is(c.err, io.EOF) {
				c.off = c.n
				return data, io.EOF
			}
			// Hand out the whole lines; the error is on the line after.
			k := bytes.LastIndexByte(data, '\n') + 1
			c.off = c.n
			return data[:k], fmt.Errorf("read line %d: %w", c.line+bytes.Count(data[:k], newline)+1, c.err)
		}
		if k := bytes.LastIndexByte(c.buf, '\n'); k >= 0 {
			c.off = k + 1
			return c.buf[:k+1], nil
		}
		if len(c.buf) > MaxLineBytes {
			return nil, &ParseError{Line: c.line + 1, Msg: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)}
		}
		// One line fills the buffer: grow it, up to a line of MaxLineBytes
		// and its newline.
		c.buf = append(c.buf, make([]byte, min(2*len(c.buf), MaxLineBytes+1)-len(c.buf))...)
	}
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

// parseFloat parses a decimal float (digits, sign, point, exponent; no hex,
// underscores, Inf or NaN).
func parseFloat(v []byte) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	for _, c := range v {
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E' {
			return 0, false
		}
	}
	x, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}
