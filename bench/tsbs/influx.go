package tsbs

import (
	"strconv"
)

// AppendInflux appends p as one line of Influx line protocol, newline
// included, and returns the extended buffer.
//
// Escaping is what ingest/lineproto (and InfluxDB) read: the measurement
// escapes comma and space; tag keys, tag values and field keys escape comma,
// equals sign and space. A backslash is written as is, since a reader keeps
// a backslash that does not precede one of those bytes; a name ending in a
// backslash therefore cannot be represented (the backslash would escape the
// delimiter after it) and no reader produces one.
// Int fields get the "i" suffix; floats use the shortest representation that
// parses back to the same bits. The timestamp is in nanoseconds. A newline
// inside a name cannot be represented in line protocol and is written as is;
// generators never produce one.
func (p *Point) AppendInflux(dst []byte) []byte {
	dst = appendEscaped(dst, p.Measurement, false)
	for _, t := range p.Tags {
		dst = append(dst, ',')
		dst = appendEscaped(dst, t.Key, true)
		dst = append(dst, '=')
		dst = appendEscaped(dst, t.Value, true)
	}
	for i := range p.Fields {
		f := &p.Fields[i]
		if i == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ',')
		}
		dst = appendEscaped(dst, f.Name, true)
		dst = append(dst, '=')
		if f.Kind == FieldInt {
			dst = strconv.AppendInt(dst, f.Int, 10)
			dst = append(dst, 'i')
		} else {
			dst = strconv.AppendFloat(dst, f.Float, 'g', -1, 64)
		}
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, p.Time, 10)
	return append(dst, '\n')
}

// appendEscaped appends s with line-protocol escapes; equals is escaped too
// when eq is set (keys and tag values).
func appendEscaped(dst []byte, s string, eq bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ',' || c == ' ' || (eq && c == '='):
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
