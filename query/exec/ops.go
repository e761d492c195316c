package exec

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync/atomic"
)

// errStop ends a pipeline early (LIMIT reached); run loops treat it as
// success.
var errStop = errors.New("exec: stop")

// colRef is one column of a node's output: the relation qualifier it can be
// named with, its name and type.
type colRef struct {
	qual string
	name string
	typ  Type
	// using marks the columns of a JOIN ... USING.
	using usingRole
}

// usingRole is the part a column plays in a JOIN ... USING: the join
// column appears once (usingMerged) to unqualified names and *, as in
// Trino, while each side's own copy (usingSide) stays reachable qualified.
type usingRole uint8

const (
	usingNone usingRole = iota
	usingMerged
	usingSide
)

// node is a plan operator. run pushes every output row to emit; the row
// slice is only valid during the call, so consumers that keep it copy it.
type node interface {
	columns() []colRef
	run(q *qctx, emit func([]Value) error) error
}

// qctx is the state of one running query.
type qctx struct {
	ctx     context.Context
	e       *Engine
	now     int64
	params  map[string]Value
	mem     atomic.Int64
	maxMem  int64
	scanned atomic.Int64
	bytes   atomic.Int64
	prepare bool
}

// grow accounts n more bytes held by the query.
func (q *qctx) grow(n int64) error {
	if q.mem.Add(n) > q.maxMem {
		return errorf(ErrMemory, "Query exceeded the memory limit of %d bytes", q.maxMem)
	}
	return nil
}

func (q *qctx) check() error {
	if err := q.ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return errorf(ErrTimeout, "Query timed out")
		}
		return errorf(ErrCanceled, "Query was canceled")
	}
	return nil
}

// slab hands out row copies from large blocks, so that materialising
// many rows costs few allocations. Blocks start small and double up to
// slabMax Values, so that a few rows do not cost a large block.
type slab struct {
	buf  []Value
	next int // size of the next block
}

const slabMax = 4096

// slabMin is the size of a slab's first block (a variable so that
// benchmarks can compare with whole blocks from the start).
var slabMin = 64

func (s *slab) clone(r []Value) []Value {
	c := s.alloc(len(r))
	copy(c, r)
	return c
}

// alloc returns n zero Values.
func (s *slab) alloc(n int) []Value {
	if n > len(s.buf) {
		size := max(s.next, slabMin)
		s.next = min(2*size, slabMax)
		s.buf = make([]Value, max(size, n))
	}
	c := s.buf[:n:n]
	s.buf = s.buf[n:]
	return c
}

// collect runs n and keeps a copy of every row.
func collect(q *qctx, n node) ([][]Value, error) {
	var rows [][]Value
	var sl slab
	err := n.run(q, func(r []Value) error {
		if err := q.grow(rowSize(r)); err != nil {
			return err
		}
		rows = append(rows, sl.clone(r))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return rows, nil
}

// rowsNode emits fixed rows.
type rowsNode struct {
	cols []colRef
	rows [][]Value
}

func (n *rowsNode) columns() []colRef { return n.cols }

func (n *rowsNode) run(q *qctx, emit func([]Value) error) error {
	for _, r := range n.rows {
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

// valuesNode evaluates VALUES rows.
type valuesNode struct {
	cols []colRef
	rows [][]*expr
}

func (n *valuesNode) columns() []colRef { return n.cols }

func (n *valuesNode) run(q *qctx, emit func([]Value) error) error {
	out := make([]Value, len(n.cols))
	for _, r := range n.rows {
		for i, e := range r {
			v, err := e.eval(nil)
			if err != nil {
				return err
			}
			out[i] = coerceValue(v, n.cols[i].typ)
		}
		if err := emit(out); err != nil {
			return err
		}
	}
	return nil
}

// filterNode keeps rows where pred is TRUE.
type filterNode struct {
	child node
	pred  *expr
}

func (n *filterNode) columns() []colRef { return n.child.columns() }

func (n *filterNode) run(q *qctx, emit func([]Value) error) error {
	return n.child.run(q, func(r []Value) error {
		v, err := n.pred.eval(r)
		if err != nil {
			return err
		}
		if v.Null || !v.B {
			return nil
		}
		return emit(r)
	})
}

// projectNode computes exprs over each row.
type projectNode struct {
	child node
	cols  []colRef
	exprs []*expr
}

func (n *projectNode) columns() []colRef { return n.cols }

func (n *projectNode) run(q *qctx, emit func([]Value) error) error {
	if n.identity() {
		return n.child.run(q, emit)
	}
	out := make([]Value, len(n.exprs))
	return n.child.run(q, func(r []Value) error {
		for i, e := range n.exprs {
			v, err := e.eval(r)
			if err != nil {
				return err
			}
			out[i] = v
		}
		return emit(out)
	})
}

// identity reports whether n passes its child's rows through unchanged
// (SELECT * over one relation or a join).
func (n *projectNode) identity() bool {
	if len(n.exprs) != len(n.child.columns()) {
		return false
	}
	for i, e := range n.exprs {
		if e.konst || e.col != i {
			return false
		}
	}
	return true
}

// limitNode skips offset rows and passes at most limit (limit < 0: all).
type limitNode struct {
	child         node
	offset, limit int64
}

func (n *limitNode) columns() []colRef { return n.child.columns() }

func (n *limitNode) run(q *qctx, emit func([]Value) error) error {
	if n.limit == 0 {
		return nil
	}
	var seen, sent int64
	err := n.child.run(q, func(r []Value) error {
		seen++
		if seen <= n.offset {
			return nil
		}
		if err := emit(r); err != nil {
			return err
		}
		sent++
		if n.limit >= 0 && sent >= n.limit {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// distinctNode drops repeated rows.
type distinctNode struct {
	child node
}

func (n *distinctNode) columns() []colRef { return n.child.columns() }

func (n *distinctNode) run(q *qctx, emit func([]Value) error) error {
	seen := map[string]struct{}{}
	var key []byte
	return n.child.run(q, func(r []Value) error {
		key = key[:0]
		for i := range r {
			key = appendKey(key, r[i])
		}
		if _, ok := seen[string(key)]; ok {
			return nil
		}
		if err := q.grow(int64(len(key)) + 64); err != nil {
			return err
		}
		seen[string(key)] = struct{}{}
		return emit(r)
	})
}

// sortKey is one ORDER BY key: a column of the child's rows.
type sortKey struct {
	col        int
	desc       bool
	nullsFirst bool
}

// sortNode orders rows; with limit >= 0 it keeps only the first
// offset+limit rows (top-N) while reading.
type sortNode struct {
	child node
	keys  []sortKey
	keep  int64 // < 0: all rows
}

func (n *sortNode) columns() []colRef { return n.child.columns() }

func compareRows(keys []sortKey, a, b []Value) int {
	for _, k := range keys {
		x, y := a[k.col], b[k.col]
		var c int
		switch {
		case x.Null && y.Null:
			c = 0
		case x.Null:
			if k.nullsFirst {
				return -1
			}
			return 1
		case y.Null:
			if k.nullsFirst {
				return 1
			}
			return -1
		default:
			c = compareValues(x, y)
			if k.desc {
				c = -c
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func (n *sortNode) run(q *qctx, emit func([]Value) error) error {
	var rows [][]Value
	var sl slab
	cmp := func(a, b []Value) int { return compareRows(n.keys, a, b) }
	err := n.child.run(q, func(r []Value) error {
		if n.keep >= 0 && int64(len(rows)) >= n.keep {
			if n.keep == 0 || cmp(r, rows[len(rows)-1]) >= 0 {
				return nil
			}
			// Replace the largest kept row, then restore order.
			last := rows[len(rows)-1]
			copy(last, r)
			i := sort.Search(len(rows)-1, func(i int) bool { return cmp(rows[i], last) > 0 })
			copy(rows[i+1:], rows[i:len(rows)-1])
			rows[i] = last
			return nil
		}
		if err := q.grow(rowSize(r)); err != nil {
			return err
		}
		c := sl.clone(r)
		if n.keep >= 0 {
			i := sort.Search(len(rows), func(i int) bool { return cmp(rows[i], c) > 0 })
			rows = slices.Insert(rows, i, c)
			return nil
		}
		rows = append(rows, c)
		return nil
	})
	if err != nil {
		return err
	}
	if n.keep < 0 {
		slices.SortStableFunc(rows, cmp)
	}
	for i, r := range rows {
		if i&1023 == 0 {
			if err := q.check(); err != nil {
				return err
			}
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

// trimNode drops trailing hidden columns (ORDER BY keys not selected).
type trimNode struct {
	child node
	n     int
}

func (n *trimNode) columns() []colRef { return n.child.columns()[:n.n] }

func (n *trimNode) run(q *qctx, emit func([]Value) error) error {
	return n.child.run(q, func(r []Value) error { return emit(r[:n.n]) })
}

// setOpNode is UNION, INTERSECT or EXCEPT, with or without ALL.
type setOpNode struct {
	op          int // 0 union, 1 intersect, 2 except
	all         bool
	left, right node
	cols        []colRef
}

func (n *setOpNode) columns() []colRef { return n.cols }

func (n *setOpNode) run(q *qctx, emit func([]Value) error) error {
	conv := func(r []Value, out []Value) []Value {
		for i := range r {
			out[i] = coerceValue(r[i], n.cols[i].typ)
		}
		return out
	}
	buf := make([]Value, len(n.cols))
	var key []byte
	keyOf := func(r []Value) string {
		key = key[:0]
		for i := range r {
			key = appendKey(key, r[i])
		}
		return string(key)
	}
	if n.op == 0 {
		seen := map[string]struct{}{}
		pass := func(r []Value) error {
			r = conv(r, buf)
			if !n.all {
				k := keyOf(r)
				if _, ok := seen[k]; ok {
					return nil
				}
				if err := q.grow(int64(len(k)) + 64); err != nil {
					return err
				}
				seen[k] = struct{}{}
			}
			return emit(r)
		}
		if err := n.left.run(q, pass); err != nil {
			return err
		}
		return n.right.run(q, pass)
	}
	counts := map[string]int{}
	err := n.right.run(q, func(r []Value) error {
		k := keyOf(conv(r, buf))
		if _, ok := counts[k]; !ok {
			if err := q.grow(int64(len(k)) + 64); err != nil {
				return err
			}
		}
		counts[k]++
		return nil
	})
	if err != nil {
		return err
	}
	emitted := map[string]bool{}
	return n.left.run(q, func(r []Value) error {
		r = conv(r, buf)
		k := keyOf(r)
		c := counts[k]
		keep := false
		if n.op == 1 { // INTERSECT
			if n.all {
				keep = c > 0
				counts[k] = c - 1
			} else {
				keep = c > 0 && !emitted[k]
			}
		} else { // EXCEPT
			if n.all {
				keep = c <= 0
				counts[k] = c - 1
			} else {
				keep = c == 0 && !emitted[k]
			}
		}
		if !keep {
			return nil
		}
		if !n.all {
			emitted[k] = true
		}
		return emit(r)
	})
}
