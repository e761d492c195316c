package magnetic

import (
	"slices"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// colBuf is one column of a rowBuffer: one entry per row in the typed
// slice (zero for NULL) and, once a NULL was seen, one flag per row.
type colBuf struct {
	name string
	typ  ingest.ValueType
	f    []float64
	i    []int64
	s    []string
	b    []bool
	null []bool // nil: no NULL so far; else true = no value
}

func (c *colBuf) len() int {
	switch c.typ {
	case ingest.TypeDouble:
		return len(c.f)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		return len(c.i)
	case ingest.TypeVarchar:
		return len(c.s)
	}
	return len(c.b)
}

// padNull appends n NULL rows.
func (c *colBuf) padNull(n int) {
	if n == 0 {
		return
	}
	if c.null == nil {
		c.null = make([]bool, c.len(), c.len()+n)
	}
	for range n {
		c.null = append(c.null, true)
	}
	switch c.typ {
	case ingest.TypeDouble:
		c.f = append(c.f, make([]float64, n)...)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		c.i = append(c.i, make([]int64, n)...)
	case ingest.TypeVarchar:
		c.s = append(c.s, make([]string, n)...)
	default:
		c.b = append(c.b, make([]bool, n)...)
	}
}

// appendColumn appends rows [lo, hi) of src, which has c's type.
func (c *colBuf) appendColumn(src *scan.Column, lo, hi int) {
	n := hi - lo
	if src.Null != nil && slices.Contains(src.Null[lo:hi], true) {
		if c.null == nil {
			c.null = make([]bool, c.len(), c.len()+n)
		}
		c.null = append(c.null, src.Null[lo:hi]...)
	} else if c.null != nil {
		c.null = append(c.null, make([]bool, n)...)
	}
	switch c.typ {
	case ingest.TypeDouble:
		c.f = append(c.f, src.F[lo:hi]...)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		c.i = append(c.i, src.I[lo:hi]...)
	case ingest.TypeVarchar:
		c.s = append(c.s, src.S[lo:hi]...)
	default:
		c.b = append(c.b, src.B[lo:hi]...)
	}
}

func (c *colBuf) isNull(i int) bool { return c.null != nil && c.null[i] }

// rowBuffer accumulates the rows of one series in columnar form.
type rowBuffer struct {
	time    []int64
	version []int64 // nil: every version so far is 1
	cols    []*colBuf

	// Storage kept across reset for reuse.
	spareCols []*colBuf
	spareVer  []int64
}

// reset empties the buffer, keeping its storage for reuse.
func (r *rowBuffer) reset() {
	if r.version != nil {
		r.spareVer = r.version[:0]
	}
	for _, c := range r.cols {
		c.f, c.i, c.s, c.b, c.null = c.f[:0], c.i[:0], c.s[:0], c.b[:0], nil
	}
	r.spareCols = append(r.spareCols, r.cols...)
	r.time, r.version, r.cols = r.time[:0], nil, r.cols[:0]
}

// newCol adds an empty column, reusing spare storage.
func (r *rowBuffer) newCol(name string, typ ingest.ValueType) *colBuf {
	var c *colBuf
	if n := len(r.spareCols); n > 0 {
		c = r.spareCols[n-1]
		r.spareCols = r.spareCols[:n-1]
		c.name, c.typ = name, typ
	} else {
		c = &colBuf{name: name, typ: typ}
	}
	r.cols = append(r.cols, c)
	return c
}

// initVersion materialises versions of the n rows so far as 1.
func (r *rowBuffer) initVersion(n, extra int) {
	r.version = r.spareVer[:0]
	r.spareVer = nil
	r.version = slices.Grow(r.version, n+extra)
	for range n {
		r.version = append(r.version, 1)
	}
}

func (r *rowBuffer) col(name string) *colBuf {
	for _, c := range r.cols {
		if c.name == name {
			return c
		}
	}
	return nil
}

// validColumn reports whether src has at least n entries of its type (and
// of NULL flags), so that appending never indexes out of range on a
// malformed batch.
func validColumn(src *scan.Column, n int) bool {
	if src.Null != nil && len(src.Null) < n {
		return false
	}
	switch src.Type {
	case ingest.TypeDouble:
		return len(src.F) >= n
	case ingest.TypeBigint, ingest.TypeTimestamp:
		return len(src.I) >= n
	case ingest.TypeVarchar:
		return len(src.S) >= n
	case ingest.TypeBoolean:
		return len(src.B) >= n
	}
	return false
}

// appendBatch copies the rows of b. Columns whose type differs from the
// type first seen for that name, or that are malformed, become NULL.
func (r *rowBuffer) appendBatch(b *scan.Batch) {
	n := len(b.Time)
	for i := range b.Columns {
		if !validColumn(&b.Columns[i], n) {
			r.appendRange(b, 0, n, false)
			return
		}
	}
	r.appendRange(b, 0, n, true)
}

// appendRange copies rows [lo, hi) of b; with valid false, malformed
// columns of b are treated as NULL.
func (r *rowBuffer) appendRange(b *scan.Batch, lo, hi int, valid bool) {
	n0, n := len(r.time), hi-lo
	if n <= 0 {
		return
	}
	r.time = append(r.time, b.Time[lo:hi]...)
	hasVer := b.Version != nil && len(b.Version) >= hi
	if hasVer || r.version != nil {
		if r.version == nil {
			r.initVersion(n0, n)
		}
		if hasVer {
			r.version = append(r.version, b.Version[lo:hi]...)
		} else {
			for range n {
				r.version = append(r.version, 1)
			}
		}
	}
	for i := range b.Columns {
		src := &b.Columns[i]
		if !valid && !validColumn(src, hi) {
			continue
		}
		c := r.col(src.Name)
		if c == nil {
			c = r.newCol(src.Name, src.Type)
			c.padNull(n0)
		}
		if c.typ == src.Type && c.len() == n0 {
			c.appendColumn(src, lo, hi)
		}
	}
	for _, c := range r.cols {
		if c.len() == n0 {
			c.padNull(n)
		}
	}
}

func (r *rowBuffer) ver(i int) int64 {
	if r.version == nil {
		return 1
	}
	return r.version[i]
}

// sortDedup sorts rows by time and keeps one row per time: the highest
// version, and on equal versions the row appended last.
func (r *rowBuffer) sortDedup() {
	ordered := true
	for i := 1; i < len(r.time); i++ {
		if r.time[i] <= r.time[i-1] {
			ordered = false
			break
		}
	}
	if ordered {
		return
	}
	perm := make([]int, len(r.time))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int {
		switch ta, tb := r.time[a], r.time[b]; {
		case ta < tb:
			return -1
		case ta > tb:
			return 1
		}
		return 0
	})
	kept := perm[:0]
	for _, p := range perm {
		if n := len(kept); n > 0 && r.time[kept[n-1]] == r.time[p] {
			if r.ver(p) >= r.ver(kept[n-1]) {
				kept[n-1] = p
			}
			continue
		}
		kept = append(kept, p)
	}
	r.gather(kept)
}

// gather replaces the rows by rows perm[0], perm[1], ...
func (r *rowBuffer) gather(perm []int) {
	r.time = gatherSlice(r.time, perm)
	if r.version != nil {
		r.version = gatherSlice(r.version, perm)
	}
	for _, c := range r.cols {
		switch c.typ {
		case ingest.TypeDouble:
			c.f = gatherSlice(c.f, perm)
		case ingest.TypeBigint, ingest.TypeTimestamp:
			c.i = gatherSlice(c.i, perm)
		case ingest.TypeVarchar:
			c.s = gatherSlice(c.s, perm)
		default:
			c.b = gatherSlice(c.b, perm)
		}
		if c.null != nil {
			c.null = gatherSlice(c.null, perm)
		}
	}
}

func gatherSlice[T any](s []T, perm []int) []T {
	out := make([]T, len(perm))
	for i, p := range perm {
		out[i] = s[p]
	}
	return out
}

// appendRow copies row i of b. Like appendBatch, a column whose type
// differs from the one first seen for its name becomes NULL.
func (r *rowBuffer) appendRow(b *scan.Batch, i int) {
	n0 := len(r.time)
	r.time = append(r.time, b.Time[i])
	v := int64(1)
	if b.Version != nil {
		v = b.Version[i]
	}
	if r.version != nil || v != 1 {
		if r.version == nil {
			r.initVersion(n0, 1)
		}
		r.version = append(r.version, v)
	}
	for c := range b.Columns {
		src := &b.Columns[c]
		col := r.col(src.Name)
		if col == nil {
			col = r.newCol(src.Name, src.Type)
			col.padNull(n0)
		}
		if col.typ != src.Type || col.len() != n0 {
			continue
		}
		if src.IsNull(i) {
			col.padNull(1)
			continue
		}
		if col.null != nil {
			col.null = append(col.null, false)
		}
		switch col.typ {
		case ingest.TypeDouble:
			col.f = append(col.f, src.F[i])
		case ingest.TypeBigint, ingest.TypeTimestamp:
			col.i = append(col.i, src.I[i])
		case ingest.TypeVarchar:
			col.s = append(col.s, src.S[i])
		default:
			col.b = append(col.b, src.B[i])
		}
	}
	for _, col := range r.cols {
		if col.len() == n0 {
			col.padNull(1)
		}
	}
}

// discard drops the first n rows.
func (r *rowBuffer) discard(n int) {
	r.time = r.time[:copy(r.time, r.time[n:])]
	if r.version != nil {
		r.version = r.version[:copy(r.version, r.version[n:])]
	}
	for _, c := range r.cols {
		c.f = c.f[:copy(c.f, c.f[min(n, len(c.f)):])]
		c.i = c.i[:copy(c.i, c.i[min(n, len(c.i)):])]
		c.s = c.s[:copy(c.s, c.s[min(n, len(c.s)):])]
		c.b = c.b[:copy(c.b, c.b[min(n, len(c.b)):])]
		if c.null != nil {
			c.null = c.null[:copy(c.null, c.null[n:])]
		}
	}
}
