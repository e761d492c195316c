package scan

import (
	"slices"

	"github.com/tidaldb/tidal/ingest"
)

// Clone deep-copies b, Version included, so that it outlives the cursor's
// next call.
func (b *Batch) Clone() *Batch {
	c := &Batch{Series: b.Series, Time: slices.Clone(b.Time), Version: slices.Clone(b.Version)}
	c.Series.Dimensions = slices.Clone(b.Series.Dimensions)
	c.Columns = make([]Column, len(b.Columns))
	for i := range b.Columns {
		c.Columns[i] = b.Columns[i].Clone()
	}
	return c
}

// Clone deep-copies c.
func (c *Column) Clone() Column {
	return Column{Name: c.Name, Type: c.Type, F: slices.Clone(c.F), I: slices.Clone(c.I),
		S: slices.Clone(c.S), B: slices.Clone(c.B), Null: slices.Clone(c.Null)}
}

// Len is the number of values in the slice Type selects, -1 for a type a
// column cannot have.
func (c *Column) Len() int {
	switch c.Type {
	case ingest.TypeDouble:
		return len(c.F)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		return len(c.I)
	case ingest.TypeVarchar:
		return len(c.S)
	case ingest.TypeBoolean:
		return len(c.B)
	}
	return -1
}

// Append appends v (the zero Value for NULL) to c, which holds rows values;
// the Null slice is created at the first NULL.
func (c *Column) Append(v ingest.Value, rows int) {
	null := v.IsNull()
	if null && c.Null == nil {
		c.Null = make([]bool, rows, rows+1)
	}
	if c.Null != nil {
		c.Null = append(c.Null, null)
	}
	switch c.Type {
	case ingest.TypeDouble:
		c.F = append(c.F, v.Float())
	case ingest.TypeBigint, ingest.TypeTimestamp:
		c.I = append(c.I, v.Int())
	case ingest.TypeVarchar:
		c.S = append(c.S, v.Str)
	case ingest.TypeBoolean:
		c.B = append(c.B, v.Bool())
	}
}

// KeepLast reslices b to its last row (no copy); a batch without rows is
// left as it is. Sources answering a Request with Last use it.
func (b *Batch) KeepLast() {
	n := len(b.Time)
	if n <= 1 {
		return
	}
	b.Time = b.Time[n-1:]
	if b.Version != nil {
		b.Version = b.Version[n-1:]
	}
	for i := range b.Columns {
		c := &b.Columns[i]
		if c.Null != nil {
			c.Null = c.Null[n-1:]
		}
		switch c.Type {
		case ingest.TypeDouble:
			c.F = c.F[n-1:]
		case ingest.TypeBigint, ingest.TypeTimestamp:
			c.I = c.I[n-1:]
		case ingest.TypeVarchar:
			c.S = c.S[n-1:]
		case ingest.TypeBoolean:
			c.B = c.B[n-1:]
		}
	}
}
