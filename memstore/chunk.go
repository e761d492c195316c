package memstore

import (
	"fmt"
	"sort"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/chunkenc"
)

// maxChunkRows is the row count at which the head chunk of a series is sealed
// and a new one started. Out-of-order inserts re-encode one chunk, so this
// bounds their cost too.
const maxChunkRows = 240

// column is one compressed value column of a chunk. While its chunk is the
// head, exactly one encoder, chosen by typ, is in use; once the chunk is
// sealed, the encoders are dropped and frozen holds their exact bytes.
// (Sealed chunks are most of the memory tier: the layout keeps the struct
// in the 80-byte size class.)
type column struct {
	name     string
	typ      ingest.ValueType
	hasNulls bool   // frozen[nullAt:] is the null bitmap
	nullAt   uint32 // where the null bitmap starts in frozen
	// The encoder of a head chunk's column: f for doubles (the common
	// case, called without a type switch), enc for the other types
	// (*chunkenc.IntAppender, *chunkenc.StringAppender or
	// *chunkenc.BoolAppender).
	f     *chunkenc.XORAppender
	enc   colEncoder
	nulls *chunkenc.BoolAppender // nil while every row has a value

	frozen []byte // set by freeze: the values, then the null bitmap if any
}

// colEncoder is what a column needs of its non-double encoder.
type colEncoder interface {
	Bytes() []byte
	Size() int
}

// valueBytes returns the encoded values.
func (c *column) valueBytes() []byte {
	switch {
	case c.f != nil:
		return c.f.Bytes()
	case c.enc != nil:
		return c.enc.Bytes()
	}
	if c.hasNulls {
		return c.frozen[:c.nullAt:c.nullAt]
	}
	return c.frozen
}

// nullBytes returns the encoded null bitmap, or nil when no row is NULL.
func (c *column) nullBytes() []byte {
	if c.nulls != nil {
		return c.nulls.Bytes()
	}
	if c.hasNulls {
		return c.frozen[c.nullAt:]
	}
	return nil
}

// freeze replaces the encoders with one exact-size copy of their bytes.
func (c *column) freeze() {
	v := c.valueBytes()
	var nb []byte
	if c.nulls != nil {
		nb = c.nulls.Bytes()
	}
	frozen := make([]byte, 0, len(v)+len(nb))
	frozen = append(append(frozen, v...), nb...)
	if c.nulls != nil {
		c.hasNulls, c.nullAt = true, uint32(len(v))
	}
	c.frozen = frozen
	c.f, c.enc, c.nulls = nil, nil, nil
}

func newColumn(name string, typ ingest.ValueType) *column {
	c := &column{name: name, typ: typ}
	switch typ {
	case ingest.TypeDouble:
		c.f = &chunkenc.XORAppender{}
	case ingest.TypeBigint, ingest.TypeTimestamp:
		c.enc = &chunkenc.IntAppender{}
	case ingest.TypeVarchar:
		c.enc = &chunkenc.StringAppender{}
	case ingest.TypeBoolean:
		c.enc = &chunkenc.BoolAppender{}
	default:
		panic("BUG: memstore column of type " + typ.String())
	}
	return c
}

// append adds v (null when v.IsNull) as row number row (rows before it
// already appended).
func (c *column) append(v ingest.Value, row int) {
	null := v.IsNull()
	if null && c.nulls == nil {
		c.nulls = &chunkenc.BoolAppender{}
		for range row {
			c.nulls.Append(false)
		}
	}
	if c.nulls != nil {
		c.nulls.Append(null)
	}
	switch c.typ {
	case ingest.TypeDouble:
		c.f.Append(v.Float())
	case ingest.TypeBigint, ingest.TypeTimestamp:
		c.enc.(*chunkenc.IntAppender).Append(v.Int())
	case ingest.TypeVarchar:
		c.enc.(*chunkenc.StringAppender).Append(v.Str)
	case ingest.TypeBoolean:
		c.enc.(*chunkenc.BoolAppender).Append(v.Bool())
	}
}

func (c *column) size() int {
	n := 80 + cap(c.frozen)
	switch {
	case c.f != nil:
		n += c.f.Size()
	case c.enc != nil:
		n += c.enc.Size()
	}
	if c.nulls != nil {
		n += c.nulls.Size()
	}
	return n
}

// decode returns the n values of the column; NULL rows are zero Values.
func (c *column) decode(n int) ([]ingest.Value, error) {
	var nulls []bool
	var err error
	if nb := c.nullBytes(); nb != nil {
		if nulls, err = chunkenc.DecodeBools(nil, nb, n); err != nil {
			return nil, fmt.Errorf("decode nulls of %q: %w", c.name, err)
		}
	}
	out := make([]ingest.Value, n)
	switch c.typ {
	case ingest.TypeDouble:
		vs, err := chunkenc.DecodeXOR(nil, c.valueBytes(), n)
		if err != nil {
			return nil, fmt.Errorf("decode %q: %w", c.name, err)
		}
		for i, v := range vs {
			out[i] = ingest.Float(v)
		}
	case ingest.TypeBigint, ingest.TypeTimestamp:
		vs, err := chunkenc.DecodeInts(nil, c.valueBytes(), n)
		if err != nil {
			return nil, fmt.Errorf("decode %q: %w", c.name, err)
		}
		for i, v := range vs {
			out[i] = ingest.Value{Type: c.typ, Bits: uint64(v)}
		}
	case ingest.TypeVarchar:
		vs, err := chunkenc.DecodeStrings(nil, c.valueBytes(), n)
		if err != nil {
			return nil, fmt.Errorf("decode %q: %w", c.name, err)
		}
		for i, v := range vs {
			out[i] = ingest.String(v)
		}
	case ingest.TypeBoolean:
		vs, err := chunkenc.DecodeBools(nil, c.valueBytes(), n)
		if err != nil {
			return nil, fmt.Errorf("decode %q: %w", c.name, err)
		}
		for i, v := range vs {
			out[i] = ingest.Bool(v)
		}
	}
	for i, null := range nulls {
		if null {
			out[i] = ingest.Value{}
		}
	}
	return out, nil
}

// chunk holds up to about maxChunkRows rows of one series, in strictly
// ascending time order. Chunks of a series never overlap in time.
type chunk struct {
	minT, maxT int64
	n          int
	times      chunkenc.TimeAppender
	versions   *chunkenc.IntAppender // nil while every row has version 1
	cols       []*column

	// Set when the chunk is sealed (no longer the head): one exact-size
	// copy of the encoded times, then of the versions when there are any
	// (from verAt; verAt < 0 while every row has version 1), and
	// times/versions above are reset.
	sealed bool
	verAt  int32
	frozen []byte
}

// timeBytes returns the encoded timestamps.
func (c *chunk) timeBytes() []byte {
	if c.sealed {
		if c.verAt >= 0 {
			return c.frozen[:c.verAt:c.verAt]
		}
		return c.frozen
	}
	return c.times.Bytes()
}

// versionBytes returns the encoded versions, or nil when all are 1.
func (c *chunk) versionBytes() []byte {
	if c.sealed {
		if c.verAt < 0 {
			return nil
		}
		return c.frozen[c.verAt:]
	}
	if c.versions == nil {
		return nil
	}
	return c.versions.Bytes()
}

// compact seals the chunk: the appenders' slack is released and no row can
// be appended in place any more (changes rebuild the chunk).
func (c *chunk) compact() {
	if c.sealed {
		return
	}
	tb := c.times.Bytes()
	var vb []byte
	c.verAt = -1
	if c.versions != nil {
		vb = c.versions.Bytes()
		c.verAt = int32(len(tb))
	}
	c.frozen = append(append(make([]byte, 0, len(tb)+len(vb)), tb...), vb...)
	c.times = chunkenc.TimeAppender{}
	c.versions = nil
	for _, cl := range c.cols {
		cl.freeze()
	}
	c.sealed = true
}

// row is one decoded row: its time, version and one value per series
// column (zero Value for NULL).
type row struct {
	t    int64
	ver  int64
	vals []ingest.Value
}

func (c *chunk) col(name string) int {
	for i, cl := range c.cols {
		if cl.name == name {
			return i
		}
	}
	return -1
}

// appendRow appends a row at the end; t must be greater than maxT. names and
// vals are parallel (the record's measures); columns missing from vals get
// NULL, new names add columns.
func (c *chunk) appendRow(t, ver int64, names []string, vals []ingest.Value) {
	if c.sealed {
		panic("BUG: append to a sealed chunk")
	}
	if c.n == 0 {
		c.minT = t
	}
	c.maxT = t
	c.times.Append(t)
	if ver != 1 && c.versions == nil {
		c.versions = &chunkenc.IntAppender{}
		for range c.n {
			c.versions.Append(1)
		}
	}
	if c.versions != nil {
		c.versions.Append(ver)
	}
	for i, name := range names {
		if c.col(name) < 0 && !vals[i].IsNull() {
			nc := newColumn(name, vals[i].Type)
			for r := range c.n {
				nc.append(ingest.Value{}, r)
			}
			c.cols = append(c.cols, nc)
		}
	}
	for _, cl := range c.cols {
		v := ingest.Value{}
		for i, name := range names {
			if name == cl.name {
				v = vals[i]
				break
			}
		}
		cl.append(v, c.n)
	}
	c.n++
}

func (c *chunk) size() int {
	n := 144 + c.times.Size() + cap(c.frozen)
	if c.versions != nil {
		n += c.versions.Size()
	}
	for _, cl := range c.cols {
		n += cl.size()
	}
	return n
}

// decodeTimes returns the chunk's timestamps.
func (c *chunk) decodeTimes() ([]int64, error) {
	ts, err := chunkenc.DecodeTimes(nil, c.timeBytes(), c.n)
	if err != nil {
		return nil, fmt.Errorf("decode times: %w", err)
	}
	return ts, nil
}

// decodeVersions returns the versions, or nil when every row has version 1.
func (c *chunk) decodeVersions() ([]int64, error) {
	vb := c.versionBytes()
	if vb == nil {
		return nil, nil
	}
	vs, err := chunkenc.DecodeInts(nil, vb, c.n)
	if err != nil {
		return nil, fmt.Errorf("decode versions: %w", err)
	}
	return vs, nil
}

// decodeRows returns every row of the chunk with values in column order of
// names (the union of the chunk's columns is returned in names).
func (c *chunk) decodeRows() (names []string, rows []row, err error) {
	ts, err := c.decodeTimes()
	if err != nil {
		return nil, nil, err
	}
	vers, err := c.decodeVersions()
	if err != nil {
		return nil, nil, err
	}
	colVals := make([][]ingest.Value, len(c.cols))
	names = make([]string, len(c.cols))
	for i, cl := range c.cols {
		names[i] = cl.name
		if colVals[i], err = cl.decode(c.n); err != nil {
			return nil, nil, err
		}
	}
	rows = make([]row, c.n)
	nc := len(c.cols)
	var backing []ingest.Value // one allocation for all rows
	if nc == 1 {
		backing = colVals[0] // one column: its values are the rows' already
	} else {
		backing = make([]ingest.Value, c.n*nc)
	}
	for r := range rows {
		rows[r].t = ts[r]
		rows[r].ver = 1
		if vers != nil {
			rows[r].ver = vers[r]
		}
		rows[r].vals = backing[r*nc : (r+1)*nc : (r+1)*nc]
		if nc > 1 {
			for i := range c.cols {
				rows[r].vals[i] = colVals[i][r]
			}
		}
	}
	return names, rows, nil
}

// buildChunk encodes rows (ascending, unique times) into a new chunk.
func buildChunk(names []string, rows []row) *chunk {
	c := &chunk{}
	for _, r := range rows {
		c.appendRow(r.t, r.ver, names, r.vals)
	}
	return c
}

// findRow returns the index of the first row with time >= t.
func findRow(rows []row, t int64) int {
	return sort.Search(len(rows), func(i int) bool { return rows[i].t >= t })
}
