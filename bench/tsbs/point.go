package tsbs

import (
	"math"

	"github.com/tidaldb/tidal/ingest"
)

// Tag is one tag (dimension) of a point.
type Tag struct {
	Key   string
	Value string
}

// FieldKind says which payload of a Field is set.
type FieldKind uint8

// Field kinds. Line protocol writes FieldInt with an "i" suffix.
const (
	FieldFloat FieldKind = iota
	FieldInt
)

// Field is one named value of a point. Kind selects Float or Int; the other
// payload is zero. Null fields are simply absent from Point.Fields.
type Field struct {
	Name  string
	Kind  FieldKind
	Float float64
	Int   int64
}

// Value returns the field's value as a float64 (an int64 is converted).
func (f *Field) Value() float64 {
	if f.Kind == FieldInt {
		return float64(f.Int)
	}
	return f.Float
}

// Equal reports whether f and o have the same name, kind and bit-identical
// value.
func (f *Field) Equal(o *Field) bool {
	return f.Name == o.Name && f.Kind == o.Kind && f.Int == o.Int &&
		math.Float64bits(f.Float) == math.Float64bits(o.Float)
}

// Point is one row of a TSBS measurement: tags in TSBS order, the non-null
// fields, and the time in nanoseconds since the Unix epoch.
//
// Generators and readers reuse one Point: its slices and strings stay valid
// only until the next call that fills it. Use Clone to retain it.
type Point struct {
	Measurement string
	Tags        []Tag
	Fields      []Field
	Time        int64
}

// Reset empties p, keeping the capacity of its slices.
func (p *Point) Reset() {
	p.Measurement = ""
	p.Tags = p.Tags[:0]
	p.Fields = p.Fields[:0]
	p.Time = 0
}

// Clone returns a deep copy of p that shares no slices with it.
func (p *Point) Clone() *Point {
	c := &Point{Measurement: p.Measurement, Time: p.Time}
	c.Tags = append([]Tag(nil), p.Tags...)
	c.Fields = append([]Field(nil), p.Fields...)
	return c
}

// Equal reports whether p and o have the same measurement, tags (in order),
// fields (in order, bit-identical) and time.
func (p *Point) Equal(o *Point) bool {
	if p.Measurement != o.Measurement || p.Time != o.Time ||
		len(p.Tags) != len(o.Tags) || len(p.Fields) != len(o.Fields) {
		return false
	}
	for i := range p.Tags {
		if p.Tags[i] != o.Tags[i] {
			return false
		}
	}
	for i := range p.Fields {
		if !p.Fields[i].Equal(&o.Fields[i]) {
			return false
		}
	}
	return true
}

// ToRecords converts p to TidalDB records for table p.Measurement, as TSBS's
// Timestream loader does (see the package doc). The caller appends them to
// the table named p.Measurement.
//
// With multi false it returns one single-measure record per field:
// MeasureName is the field name and Value is DOUBLE (TSBS sends every value
// as DOUBLE, integers included). With multi true it returns one MULTI record
// with MeasureName p.Measurement and one measure per field, typed DOUBLE or
// BIGINT after the field kind.
//
// Dimensions are the tags in order. All returned records share one
// Dimensions slice: an Appender that sorts it in place sorts it for all.
func ToRecords(p *Point, multi bool) []ingest.Record {
	n := len(p.Fields)
	if multi {
		n = 1
	}
	return AppendRecords(make([]ingest.Record, 0, n), p, multi)
}

// AppendRecords is ToRecords appending to dst, for callers that reuse a
// record slice.
func AppendRecords(dst []ingest.Record, p *Point, multi bool) []ingest.Record {
	dims := make([]ingest.Dimension, len(p.Tags))
	for i, t := range p.Tags {
		dims[i] = ingest.Dimension{Name: t.Key, Value: t.Value}
	}
	if multi {
		ms := make([]ingest.Measure, len(p.Fields))
		for i := range p.Fields {
			f := &p.Fields[i]
			v := ingest.Float(f.Float)
			if f.Kind == FieldInt {
				v = ingest.Int(f.Int)
			}
			ms[i] = ingest.Measure{Name: f.Name, Value: v}
		}
		return append(dst, ingest.Record{
			Time:        p.Time,
			Dimensions:  dims,
			MeasureName: p.Measurement,
			Measures:    ms,
		})
	}
	for i := range p.Fields {
		f := &p.Fields[i]
		dst = append(dst, ingest.Record{
			Time:        p.Time,
			Dimensions:  dims,
			MeasureName: f.Name,
			Value:       ingest.Float(f.Value()),
		})
	}
	return dst
}

// Label is one Prometheus label.
type Label struct {
	Name  string
	Value string
}

// Labels converts field i of p to a Prometheus sample the way TSBS's
// Prometheus format and line-protocol bridges name it: the metric name is
// measurement + "_" + field name, the labels are the tags sorted by name
// (appended to dst[:0], which may be nil), and the value is the field's value
// as a float64. The metric name is not among the labels; add __name__ if the
// wire format needs it. If i is out of range, Labels returns "", dst[:0]
// and 0.
func (p *Point) Labels(i int, dst []Label) (name string, labels []Label, value float64) {
	labels = dst[:0]
	if i < 0 || i >= len(p.Fields) {
		return "", labels, 0
	}
	f := &p.Fields[i]
	for _, t := range p.Tags {
		labels = append(labels, Label{Name: t.Key, Value: t.Value})
	}
	// Insertion sort: tag sets are small and this allocates nothing.
	for a := 1; a < len(labels); a++ {
		for b := a; b > 0 && labels[b].Name < labels[b-1].Name; b-- {
			labels[b], labels[b-1] = labels[b-1], labels[b]
		}
	}
	return p.Measurement + "_" + f.Name, labels, f.Value()
}
