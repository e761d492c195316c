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

// appendColumn appends rows [0, n) of src, which has c's type.
func (c *colBuf) appendColumn(src *scan.Column, n int) {
	if src.Null != nil && slices.Contains(src.Null[:n], true) {
		if c.null == nil {
			c.null = make([]bool, c.len(), c.len()+n)
		}
		c.null = append(c.null, src.Null[:n]...)
	} else if c.null != nil {
		c.null = append(c.null, make([]bool, n)...)
	}
	switch c.typ {
	case ingest.TypeDouble:
		c.f = append(c.f, src.F[:n]...)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		c.i = append(c.i, src.I[:n]...)
	case ingest.TypeVarchar:
		c.s = append(c.s, src.S[:n]...)
	default:
		c.b = append(c.b, src.B[:n]...)
	}
}

func (c *colBuf) isNull(i int) bool { return c.null != nil && c.null[i] }

// rowBuffer accumulates the rows of one series in columnar form.
type rowBuffer struct {
	time    []int64
	version []int64 // nil: every version so far is 1
	cols    []*colBuf
}

func (r *rowBuffer) reset() {
	r.time, r.version, r.cols = r.time[:0], nil, r.cols[:0]
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
	n0, n := len(r.time), len(b.Time)
	if n == 0 {
		return
	}
	r.time = append(r.time, b.Time...)
	if b.Version != nil && len(b.Version) >= n || r.version != nil {
		if r.version == nil {
			r.version = make([]int64, n0, n0+n)
			for i := range r.version {
				r.version[i] = 1
			}
		}
		if b.Version != nil && len(b.Version) >= n {
			r.version = append(r.version, b.Version[:n]...)
		} else {
			for range n {
				r.version = append(r.version, 1)
			}
		}
	}
	for i := range b.Columns {
		src := &b.Columns[i]
		if !validColumn(src, n) {
			continue
		}
		c := r.col(src.Name)
		if c == nil {
			c = &colBuf{name: src.Name, typ: src.Type}
			c.padNull(n0)
			r.cols = append(r.cols, c)
		}
		if c.typ == src.Type && c.len() == n0 {
			c.appendColumn(src, n)
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
