package exec

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"github.com/tidaldb/tidal/query/parser"
)

// windowCall is one bound f(...) OVER (...).
type windowCall struct {
	name      string
	args      []*expr
	agg       *aggCall // aggregate functions used as window functions
	partition []*expr
	order     []*expr
	orderKeys []sortKey
	frame     *parser.Frame
	typ       Type
}

var rankFuncs = map[string]bool{"row_number": true, "rank": true, "dense_rank": true, "percent_rank": true, "cume_dist": true,
	"ntile": true, "lag": true, "lead": true, "first_value": true, "last_value": true, "nth_value": true}

func (b *binder) bindWindowCall(c *parser.Call, s *scope) (*expr, error) {
	name := strings.ToLower(c.Name.Parts[len(c.Name.Parts)-1].Value)
	if b.windows == nil {
		return nil, validationf(c.Line, c.Col, "Window functions are only allowed in the SELECT list and ORDER BY")
	}
	w := &windowCall{name: name, frame: c.Over.Frame}
	if _, ok := aggDefs[name]; ok {
		in := s
		if s.agg != nil {
			in = &scope{cols: s.cols, scans: s.scans, agg: s.agg}
		}
		// Arguments of an aggregate window function are bound in s.
		call := &aggCall{name: name, def: aggDefs[name], distinct: c.Distinct}
		for _, a := range c.Args {
			e, err := b.bindExpr(a, in)
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, e)
			call.argTypes = append(call.argTypes, e.typ)
		}
		t, err := call.def.typ(call.argTypes)
		if err != nil && !c.Star {
			return nil, validationf(c.Line, c.Col, "Unexpected parameters (%s) for function %s", typeList(call.argTypes), name)
		}
		if c.Star {
			t = TypeBigint
		}
		call.typ = t
		w.agg, w.typ = call, t
	} else if rankFuncs[name] {
		for _, a := range c.Args {
			e, err := b.bindExpr(a, s)
			if err != nil {
				return nil, err
			}
			w.args = append(w.args, e)
		}
		switch name {
		case "row_number", "rank", "dense_rank", "ntile":
			w.typ = TypeBigint
		case "percent_rank", "cume_dist":
			w.typ = TypeDouble
		default:
			if len(w.args) == 0 {
				return nil, validationf(c.Line, c.Col, "Function %s needs an argument", name)
			}
			w.typ = w.args[0].typ
		}
	} else {
		return nil, validationf(c.Line, c.Col, "Function %s is not a window function", name)
	}
	for _, p := range c.Over.PartitionBy {
		e, err := b.bindExpr(p, s)
		if err != nil {
			return nil, err
		}
		w.partition = append(w.partition, e)
	}
	for i, o := range c.Over.OrderBy {
		e, err := b.bindExpr(o.Expr, s)
		if err != nil {
			return nil, err
		}
		w.order = append(w.order, e)
		w.orderKeys = append(w.orderKeys, makeSortKey(i, o))
	}
	if f := w.frame; f != nil {
		for _, bd := range []*parser.FrameBound{f.Start, f.End} {
			if bd == nil || (bd.Kind != parser.Preceding && bd.Kind != parser.Following) {
				continue
			}
			k, ok := b.constOf(bd.Offset)
			if !ok || !isIntLike(k.typ.Kind) || k.val.I < 0 {
				return nil, validationf(bd.Line, bd.Col, "Window frame offset must be a non-negative integer constant")
			}
			if f.Unit != parser.FrameRows {
				return nil, validationf(bd.Line, bd.Col, "Window frame offsets are only supported for ROWS frames")
			}
		}
	}
	k := len(*b.windows)
	*b.windows = append(*b.windows, w)
	base := b.windowBase
	t := w.typ
	return &expr{typ: t, col: -1, fn: func(row []Value) (Value, error) { return row[*base+k], nil }}, nil
}

// windowNode appends one column per window call to its child's rows.
type windowNode struct {
	child node
	calls []*windowCall
	cols  []colRef
}

func (n *windowNode) columns() []colRef { return n.cols }

func (b *binder) bindWindows(n node, s *scope, cols []colRef, exprs []*expr) (node, error) {
	if len(*b.windows) > 0 {
		*b.windowBase = len(n.columns())
		wn := &windowNode{child: n, calls: *b.windows, cols: slices.Clone(n.columns())}
		for _, w := range *b.windows {
			wn.cols = append(wn.cols, colRef{name: w.name, typ: w.typ})
		}
		n = wn
	}
	return &projectNode{child: n, cols: cols, exprs: exprs}, nil
}

func frameOffset(bd *parser.FrameBound) int64 {
	// Offsets were checked to be constants at bind time.
	if l, ok := bd.Offset.(*parser.Literal); ok {
		var v int64
		for _, c := range l.Value {
			v = v*10 + int64(c-'0')
		}
		return v
	}
	return 0
}

func (n *windowNode) run(q *qctx, emit func([]Value) error) error {
	width := len(n.child.columns())
	// Rows are copied once, into slab blocks with room for the window
	// columns: a row per allocation costs more than the window functions.
	w := width + len(n.calls)
	extra := int64(len(n.calls)) * int64(unsafe.Sizeof(Value{}))
	var sl slab
	var out [][]Value
	err := n.child.run(q, func(r []Value) error {
		if err := q.grow(rowSize(r) + extra); err != nil {
			return err
		}
		o := sl.alloc(w)
		copy(o, r)
		out = append(out, o)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	rows := make([][]Value, len(out))
	for i, o := range out {
		rows[i] = o[:width:width]
	}
	for ci, w := range n.calls {
		if err := w.compute(q, rows, out, width+ci); err != nil {
			return err
		}
	}
	for _, r := range out {
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

func (w *windowCall) compute(q *qctx, rows, out [][]Value, col int) error {
	type item struct {
		idx   int
		part  []byte
		order []Value
	}
	items := make([]item, len(rows))
	ords := make([]Value, len(rows)*len(w.order))
	var keys []byte
	ends := make([]int, len(rows))
	for i, r := range rows {
		for _, p := range w.partition {
			v, err := p.eval(r)
			if err != nil {
				return err
			}
			keys = appendKey(keys, v)
		}
		ends[i] = len(keys)
		ord := ords[i*len(w.order) : (i+1)*len(w.order) : (i+1)*len(w.order)]
		for j, o := range w.order {
			v, err := o.eval(r)
			if err != nil {
				return err
			}
			ord[j] = v
		}
		items[i] = item{idx: i, order: ord}
	}
	for i := range items {
		lo := 0
		if i > 0 {
			lo = ends[i-1]
		}
		items[i].part = keys[lo:ends[i]:ends[i]]
	}
	sort.SliceStable(items, func(a, b int) bool {
		if c := strings.Compare(string(items[a].part), string(items[b].part)); c != 0 {
			return c < 0
		}
		return compareRows(w.orderKeys, items[a].order, items[b].order) < 0
	})
	for start := 0; start < len(items); {
		end := start + 1
		for end < len(items) && string(items[end].part) == string(items[start].part) {
			end++
		}
		part := items[start:end]
		peerEnd := make([]int, len(part))   // exclusive end of each row's peer group
		peerStart := make([]int, len(part)) // start of each row's peer group
		for i := 0; i < len(part); {
			j := i + 1
			for j < len(part) && compareRows(w.orderKeys, part[i].order, part[j].order) == 0 {
				j++
			}
			for k := i; k < j; k++ {
				peerStart[k], peerEnd[k] = i, j
			}
			i = j
		}
		bounds := func(i int) (int, int) {
			if w.frame == nil {
				if len(w.order) == 0 {
					return 0, len(part)
				}
				return 0, peerEnd[i]
			}
			var lo, hi int
			rowsUnit := w.frame.Unit == parser.FrameRows
			bound := func(bd *parser.FrameBound, isEnd bool) int {
				switch bd.Kind {
				case parser.UnboundedPreceding:
					return 0
				case parser.UnboundedFollowing:
					return len(part)
				case parser.CurrentRow:
					if rowsUnit {
						if isEnd {
							return i + 1
						}
						return i
					}
					if isEnd {
						return peerEnd[i]
					}
					return peerStart[i]
				case parser.Preceding:
					x := i - int(frameOffset(bd))
					if isEnd {
						x++
					}
					return x
				}
				x := i + int(frameOffset(bd))
				if isEnd {
					x++
				}
				return x
			}
			lo = bound(w.frame.Start, false)
			if w.frame.End != nil {
				hi = bound(w.frame.End, true)
			} else {
				hi = bound(&parser.FrameBound{Kind: parser.CurrentRow}, true)
			}
			return max(lo, 0), min(hi, len(part))
		}
		rank, dense := 0, 0
		// An aggregate over frames that all start at the partition's
		// first row adds each row once to one running state.
		var running aggState
		added := 0
		if w.agg != nil && (w.frame == nil || w.frame.Start.Kind == parser.UnboundedPreceding) {
			if st := newState(w.agg); incremental(st) {
				running = st
			}
		}
		args := make([]Value, 0, 4)
		for i := range part {
			r := rows[part[i].idx]
			var v Value
			switch w.name {
			case "row_number":
				v = Bigint(int64(i + 1))
			case "rank", "dense_rank", "percent_rank":
				if i == peerStart[i] {
					rank = i + 1
					dense++
				}
				switch w.name {
				case "rank":
					v = Bigint(int64(rank))
				case "dense_rank":
					v = Bigint(int64(dense))
				default:
					if len(part) == 1 {
						v = Double(0)
					} else {
						v = Double(float64(rank-1) / float64(len(part)-1))
					}
				}
			case "cume_dist":
				v = Double(float64(peerEnd[i]) / float64(len(part)))
			case "ntile":
				nb, err := w.args[0].eval(r)
				if err != nil {
					return err
				}
				if nb.Null || nb.I <= 0 {
					return errorf(ErrExecution, "Buckets must be greater than 0")
				}
				v = Bigint(int64(i)*nb.I/int64(len(part)) + 1)
			case "lag", "lead":
				off := int64(1)
				if len(w.args) > 1 {
					o, err := w.args[1].eval(r)
					if err != nil {
						return err
					}
					off = o.I
				}
				j := i - int(off)
				if w.name == "lead" {
					j = i + int(off)
				}
				if j >= 0 && j < len(part) {
					x, err := w.args[0].eval(rows[part[j].idx])
					if err != nil {
						return err
					}
					v = x
				} else if len(w.args) > 2 {
					x, err := w.args[2].eval(r)
					if err != nil {
						return err
					}
					v = coerceValue(x, w.typ)
				} else {
					v = Null(w.typ.Kind)
				}
			case "first_value", "last_value", "nth_value":
				lo, hi := bounds(i)
				j := lo
				switch w.name {
				case "last_value":
					j = hi - 1
				case "nth_value":
					nv, err := w.args[1].eval(r)
					if err != nil {
						return err
					}
					j = lo + int(nv.I) - 1
				}
				v = Null(w.typ.Kind)
				if j >= lo && j < hi {
					x, err := w.args[0].eval(rows[part[j].idx])
					if err != nil {
						return err
					}
					v = x
				}
			default:
				lo, hi := bounds(i)
				st, from := running, added
				if st == nil || lo != 0 || hi < added {
					st, from = newState(w.agg), lo
				}
				for j := from; j < hi; j++ {
					if st != running {
						// States other than the incremental ones may
						// keep their arguments.
						args = make([]Value, 0, len(w.agg.args))
					}
					args = args[:0]
					for _, a := range w.agg.args {
						x, err := a.eval(rows[part[j].idx])
						if err != nil {
							return err
						}
						args = append(args, x)
					}
					if w.agg.def.skipNulls && len(args) > 0 && args[0].Null {
						continue
					}
					if err := st.add(args); err != nil {
						return err
					}
				}
				if st == running {
					added = hi
				}
				v = st.result()
			}
			out[part[i].idx][col] = v
		}
		start = end
		if err := q.check(); err != nil {
			return err
		}
	}
	return nil
}

// incremental reports whether st's result may be read between adds
// without changing what later adds produce.
func incremental(st aggState) bool {
	switch st.(type) {
	case *countState, *countIfState, *sumState, *avgState, *minMaxState, *boolState, *momentState, *pairState:
		return true
	}
	return false
}
