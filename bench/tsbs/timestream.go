package tsbs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// AppendTimestream appends p in the body format of TSBS's
// --format=timestream (and timescaledb) files: a tags line
// "tags,k=v,..." and a values line "measurement,time,v1,v2,...", each ending
// in a newline. Int fields are written plainly, floats with a decimal point
// or exponent so that ReadTimestream restores their kind. The format has no
// escaping: commas or equals signs inside names or values are written as is
// and cannot be read back.
//
// Values are positional. For measurements of this package's use cases the
// columns are that measurement's full field list and a null field leaves an
// empty column; for other measurements the fields present are written in
// order. AppendTimestreamColumns names the columns explicitly.
func (p *Point) AppendTimestream(dst []byte) []byte {
	dst = p.appendTimestreamHead(dst)
	spec := findSpec(p.Measurement)
	if spec == nil {
		for i := range p.Fields {
			dst = append(dst, ',')
			dst = appendTimestreamValue(dst, &p.Fields[i])
		}
		return append(dst, '\n')
	}
	j := 0
	for c := range spec.fields {
		dst = append(dst, ',')
		if j < len(p.Fields) && p.Fields[j].Name == spec.fields[c].name {
			dst = appendTimestreamValue(dst, &p.Fields[j])
			j++
		}
	}
	return append(dst, '\n')
}

// AppendTimestreamColumns is AppendTimestream with an explicit column list:
// a column with no field in p (matched in order) is written empty (null).
func (p *Point) AppendTimestreamColumns(dst []byte, columns []string) []byte {
	dst = p.appendTimestreamHead(dst)
	j := 0
	for _, c := range columns {
		dst = append(dst, ',')
		if j < len(p.Fields) && p.Fields[j].Name == c {
			dst = appendTimestreamValue(dst, &p.Fields[j])
			j++
		}
	}
	return append(dst, '\n')
}

// appendTimestreamHead appends the tags line and "measurement,time".
func (p *Point) appendTimestreamHead(dst []byte) []byte {
	dst = append(dst, "tags"...)
	for _, t := range p.Tags {
		dst = append(dst, ',')
		dst = append(dst, t.Key...)
		dst = append(dst, '=')
		dst = append(dst, t.Value...)
	}
	dst = append(dst, '\n')
	dst = append(dst, p.Measurement...)
	dst = append(dst, ',')
	return strconv.AppendInt(dst, p.Time, 10)
}

// findSpec returns the devops or iot measurement named name, or nil.
func findSpec(name string) *measSpec {
	for _, specs := range [][]measSpec{devopsSpecs, iotSpecs} {
		for i := range specs {
			if specs[i].name == name {
				return &specs[i]
			}
		}
	}
	return nil
}

func appendTimestreamValue(dst []byte, f *Field) []byte {
	if f.Kind == FieldInt {
		return strconv.AppendInt(dst, f.Int, 10)
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f.Float, 'g', -1, 64)
	if !bytes.ContainsAny(dst[n:], ".eEnN") { // integral float: keep it a float
		dst = append(dst, ".0"...)
	}
	return dst
}

// Columns returns the field names of a measurement of the given use case in
// TSBS order, or nil if the use case has no such measurement.
func Columns(useCase, measurement string) []string {
	specs := devopsSpecs
	switch useCase {
	case UseCaseCPUOnly:
		specs = devopsSpecs[:1]
	case UseCaseIoT:
		specs = iotSpecs
	}
	for i := range specs {
		if specs[i].name == measurement {
			return specs[i].fieldNames()
		}
	}
	return nil
}

// ReadTimestream reads a TSBS --format=timestream (or timescaledb) file and
// calls fn for each point in order, with the same reuse and error rules as
// ReadInflux.
//
// A timescaledb-style header (a "tags,<name> <type>,..." line, one
// "measurement,field,..." line per table, then a blank line) names the value
// columns. Without one, as in TSBS's headerless timestream files, columns are
// named from this package's devops and iot field lists. Empty columns are
// null and left out of the point. A value with a decimal point or exponent is
// a float, any other an int.
func ReadTimestream(r io.Reader, fn func(*Point) error) error {
	lr := newLineReader(r)
	columns := map[string][]string{}
	for _, specs := range [][]measSpec{devopsSpecs, iotSpecs} {
		for i := range specs {
			columns[specs[i].name] = specs[i].fieldNames()
		}
	}
	var p Point
	inHeader := false
	first := true
	var tags []Tag
	haveTags := false
	for {
		b, err := lr.next()
		if errors.Is(err, io.EOF) {
			if haveTags {
				return lr.errorf("tags line without a values line")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if first {
			first = false
			if bytes.HasPrefix(b, []byte("tags,")) && bytes.IndexByte(b, ' ') >= 0 && bytes.IndexByte(b, '=') < 0 {
				inHeader = true
				continue
			}
		}
		if inHeader {
			if blank(b) {
				inHeader = false
				continue
			}
			parts := bytes.Split(b, []byte{','})
			names := make([]string, 0, len(parts)-1)
			for _, f := range parts[1:] {
				names = append(names, string(f))
			}
			columns[string(parts[0])] = names
			continue
		}
		if blank(b) {
			continue
		}
		if bytes.HasPrefix(b, []byte("tags")) && (len(b) == 4 || b[4] == ',') {
			if haveTags {
				return lr.errorf("two tags lines in a row")
			}
			tags = tags[:0]
			rest := b[4:]
			for len(rest) > 0 {
				rest = rest[1:] // the comma
				kv := rest
				if k := bytes.IndexByte(rest, ','); k >= 0 {
					kv, rest = rest[:k], rest[k:]
				} else {
					rest = nil
				}
				eq := bytes.IndexByte(kv, '=')
				if eq <= 0 || eq == len(kv)-1 {
					return lr.errorf("invalid tag %q", kv)
				}
				tags = append(tags, Tag{Key: lr.str(kv[:eq]), Value: lr.str(kv[eq+1:])})
			}
			haveTags = true
			continue
		}
		if !haveTags {
			return lr.errorf("values line without a tags line")
		}
		haveTags = false
		if err := parseTimestreamValues(lr, b, columns, &p); err != nil {
			return err
		}
		p.Tags = append(p.Tags, tags...)
		if err := fn(&p); err != nil {
			return fmt.Errorf("handle point at line %d: %w", lr.line, err)
		}
	}
}

func parseTimestreamValues(lr *lineReader, b []byte, columns map[string][]string, p *Point) error {
	p.Reset()
	k := bytes.IndexByte(b, ',')
	if k <= 0 {
		return lr.errorf("missing measurement or time")
	}
	names, ok := columns[string(b[:k])]
	if !ok {
		return lr.errorf("unknown measurement %q (no header names its columns)", b[:k])
	}
	p.Measurement = lr.str(b[:k])
	rest := b[k+1:]
	k = bytes.IndexByte(rest, ',')
	tb := rest
	if k >= 0 {
		tb, rest = rest[:k], rest[k:]
	} else {
		rest = nil
	}
	ts, ok := parseInt(tb)
	if !ok {
		return lr.errorf("invalid time %q", tb)
	}
	p.Time = ts
	col := 0
	for len(rest) > 0 {
		rest = rest[1:]
		v := rest
		if k := bytes.IndexByte(rest, ','); k >= 0 {
			v, rest = rest[:k], rest[k:]
		} else {
			rest = nil
		}
		if col >= len(names) {
			return lr.errorf("more values than the %d columns of %s", len(names), p.Measurement)
		}
		name := names[col]
		col++
		if len(v) == 0 {
			continue
		}
		var f Field
		if n, ok := parseInt(v); ok {
			f = Field{Kind: FieldInt, Int: n}
		} else {
			x, ok := parseFloat(v)
			if !ok {
				return lr.errorf("column %s: invalid value %q", name, v)
			}
			f = Field{Kind: FieldFloat, Float: x}
		}
		f.Name = name
		p.Fields = append(p.Fields, f)
	}
	if len(p.Fields) == 0 {
		return lr.errorf("no values for %s", p.Measurement)
	}
	return nil
}
