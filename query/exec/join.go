package exec

import (
	"errors"
	"math"
	"slices"

	"github.com/tidaldb/tidal/query/parser"
	"github.com/tidaldb/tidal/query/scan"
)

// joinNode joins left and right. With keys it is a hash join that builds
// one side in memory and streams the other; without keys it is a nested
// loop over the materialised right side. Output rows are left columns
// then right columns.
type joinNode struct {
	kind        parser.JoinKind
	left, right node
	lkeys       []*expr // over left rows
	rkeys       []*expr // over right rows
	residual    *expr   // over combined rows
	buildLeft   bool
	// using lists the columns of JOIN ... USING: they are the first keys,
	// and each adds a merged output column after the right's columns.
	using []usingCol
	cols  []colRef
}

// usingCol is a column of JOIN ... USING: its index in the left's and in
// the right's columns.
type usingCol struct {
	l, r int
	name string
}

func (n *joinNode) columns() []colRef {
	if n.cols == nil {
		nl := len(n.left.columns())
		n.cols = append(slices.Clone(n.left.columns()), n.right.columns()...)
		for i, u := range n.using {
			n.cols[u.l].using = usingSide
			n.cols[nl+u.r].using = usingSide
			n.cols = append(n.cols, colRef{name: u.name, typ: n.lkeys[i].typ, using: usingMerged})
		}
	}
	return n.cols
}

// isScanLike reports whether n reads a table without reducing it much.
func isScanLike(n node) bool {
	switch x := n.(type) {
	case *scanNode:
		return true
	case *aliasNode:
		return isScanLike(x.child)
	case *filterNode:
		return isScanLike(x.child)
	}
	return false
}

func (b *binder) bindJoin(j *parser.Join, outer *scope) (node, error) {
	left, err := b.bindRelation(j.Left, outer)
	if err != nil {
		return nil, err
	}
	if u, ok := j.Right.(*parser.Unnest); ok && (j.Kind == parser.CrossJoin || j.Kind == parser.InnerJoin || j.Kind == parser.LeftJoin) && j.On == nil {
		return b.bindUnnest(u, left, newScope(left))
	}
	right, err := b.bindRelation(j.Right, outer)
	if err != nil {
		return nil, err
	}
	n := &joinNode{kind: j.Kind, left: left, right: right}
	ls, rs := newScope(left), newScope(right)
	var conds []parser.Expr
	if j.On != nil {
		conds = splitAnd(j.On, nil)
	}
	for _, u := range j.Using {
		id := &parser.Ident{Pos: j.Pos, Parts: []parser.Name{u}}
		l, err := b.bindExpr(id, ls)
		if err != nil {
			return nil, err
		}
		r, err := b.bindExpr(id, rs)
		if err != nil {
			return nil, err
		}
		if l.col < 0 || r.col < 0 {
			return nil, validationf(j.Line, j.Col, "Column '%s' cannot be resolved", u.Value)
		}
		n.using = append(n.using, usingCol{l: l.col, r: r.col, name: u.Value})
		if err := n.addKey(l, r, j.Pos); err != nil {
			return nil, err
		}
	}
	all := newScope(n)
	var residual []*expr
	for _, c := range conds {
		if eq, ok := c.(*parser.Binary); ok && eq.Op == parser.OpEQ {
			if l, r, ok := b.trySides(eq.L, eq.R, ls, rs); ok {
				if err := n.addKey(l, r, eq.Pos); err != nil {
					return nil, err
				}
				continue
			}
			// The equality written the other way round: eq.R over the
			// left side, eq.L over the right.
			if l, r, ok := b.trySides(eq.R, eq.L, ls, rs); ok {
				if err := n.addKey(l, r, eq.Pos); err != nil {
					return nil, err
				}
				continue
			}
		}
		e, err := b.bindExpr(c, all)
		if err != nil {
			return nil, err
		}
		if e, err = b.expectBool(e); err != nil {
			return nil, err
		}
		residual = append(residual, e)
	}
	for _, r := range residual {
		if n.residual == nil {
			n.residual = r
		} else if n.residual, err = b.bindLogical(parser.OpAnd, n.residual, r, r.pos); err != nil {
			return nil, err
		}
	}
	switch j.Kind {
	case parser.RightJoin:
		n.buildLeft = true
	case parser.InnerJoin, parser.CrossJoin:
		n.buildLeft = isScanLike(right) && !isScanLike(left)
	}
	return n, nil
}

// trySides binds l over the left scope and r over the right scope.
func (b *binder) trySides(l, r parser.Expr, ls, rs *scope) (*expr, *expr, bool) {
	if containsSubquery(l) || containsSubquery(r) {
		return nil, nil, false
	}
	le, err := b.bindExpr(l, ls)
	if err != nil || le.konst {
		return nil, nil, false
	}
	re, err := b.bindExpr(r, rs)
	if err != nil || re.konst {
		return nil, nil, false
	}
	return le, re, true
}

func containsSubquery(e parser.Expr) bool {
	found := false
	walkExpr(e, func(x parser.Expr) bool {
		switch x.(type) {
		case *parser.Subquery, *parser.Exists, *parser.InSubquery, *parser.Quantified:
			found = true
		}
		return !found
	})
	return found
}

func (n *joinNode) addKey(l, r *expr, pos parser.Pos) error {
	if l.typ.Kind == KindVarchar && r.typ.Kind == KindTimestamp {
		l2, err := castExpr(l, TypeTimestamp)
		if err != nil {
			return err
		}
		l = l2
	}
	t, ok := commonType(l.typ, r.typ)
	if !ok {
		return validationf(pos.Line, pos.Col, "'=' cannot be applied to %s, %s", l.typ, r.typ)
	}
	var err error
	if l, err = coerce(l, t); err != nil {
		return err
	}
	if r, err = coerce(r, t); err != nil {
		return err
	}
	n.lkeys = append(n.lkeys, l)
	n.rkeys = append(n.rkeys, r)
	return nil
}

func keyOf(dst []byte, keys []*expr, row []Value) ([]byte, bool, error) {
	for _, k := range keys {
		v, err := k.eval(row)
		if err != nil {
			return dst, false, err
		}
		if v.Null {
			return dst, false, nil
		}
		dst = appendKey(dst, v)
	}
	return dst, true, nil
}

func (n *joinNode) run(q *qctx, emit func([]Value) error) error {
	buildLeft := n.buildLeft
	if _, nested := n.left.(*joinNode); nested && n.kind == parser.CrossJoin && len(n.lkeys) == 0 {
		// A CROSS JOIN of a join and a table: materialising the join
		// holds the product of its sides; stream it and build the table.
		buildLeft = false
	}
	build, probe := n.right, n.left
	bkeys, pkeys := n.rkeys, n.lkeys
	if buildLeft {
		build, probe = n.left, n.right
		bkeys, pkeys = n.lkeys, n.rkeys
	}
	bs := newBuildSide(build)
	err := bs.collect(q, build)
	if err != nil {
		return err
	}
	nrows := bs.len()
	index := map[string][]int32{}
	var key []byte
	sp := n.seriesPlan(q, probe, pkeys, bkeys)
	if q.e.opts.traceJoin != nil && len(bkeys) > 0 {
		q.e.opts.traceJoin(sp != nil)
	}
	if len(bkeys) > 0 {
		if sp == nil {
			if key, err = indexRows(index, key, bkeys, bs); err != nil {
				return err
			}
		}
		if n.kind == parser.InnerJoin || n.kind == parser.CrossJoin || (n.kind == parser.LeftJoin && buildLeft) || (n.kind == parser.RightJoin && !buildLeft) {
			if sc := scanUnder(probe); sc != nil {
				// The filter holds for this run only (a correlated
				// subquery runs the plan again with other keys).
				saved := sc.req
				saved.Where = slices.Clone(sc.req.Where)
				defer func() { sc.req = saved }()
			}
			n.dynamicFilter(probe, pkeys, bkeys, bs)
		}
	}
	nl := len(n.left.columns())
	nr := len(n.right.columns())
	out := make([]Value, nl+nr+len(n.using))
	if len(n.using) > 0 {
		emit = n.mergeUsing(nl, nr, emit)
	}
	matched := make([]bool, nrows)
	probeOuter := (n.kind == parser.LeftJoin && !buildLeft) || (n.kind == parser.RightJoin && buildLeft) || n.kind == parser.FullJoin
	buildOuter := n.kind == parser.FullJoin
	bo := nl // where the build columns start in out
	if buildLeft {
		bo = 0
	}
	// Build columns the rows do not keep stay NULL in out.
	for i, c := range build.columns() {
		out[bo+i] = Null(c.typ.Kind)
	}
	combine := func(p, bl []Value) {
		if buildLeft {
			copy(out[nl:], p)
		} else {
			copy(out, p)
		}
		bs.put(out[bo:], bl)
	}
	nullRow := func(cols []colRef) []Value {
		r := make([]Value, len(cols))
		for i, c := range cols {
			r[i] = Null(c.typ.Kind)
		}
		return r
	}
	buildNulls := bs.compact(nullRow(build.columns()))
	all := make([]int32, nrows)
	for i := range all {
		all[i] = int32(i)
	}
	if sp != nil {
		groups, err := sp.index(bkeys, bs)
		if err != nil {
			return err
		}
		return sp.run(q, pkeys, groups, func(p []Value, cands []int32) error {
			for _, i := range cands {
				combine(p, bs.stored(int(i)))
				if n.residual != nil {
					v, err := n.residual.eval(out)
					if err != nil {
						return err
					}
					if v.Null || !v.B {
						continue
					}
				}
				if err := emit(out); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// The context is checked every 4096 probe rows, and every 4096
	// candidates of one probe row: a cross join pairs each probe row with
	// every build row.
	var count int
	err = probe.run(q, func(p []Value) error {
		count++
		if count&4095 == 0 {
			if err := q.check(); err != nil {
				return err
			}
		}
		cands := all
		if len(pkeys) > 0 {
			var ok bool
			var err error
			key, ok, err = keyOf(key[:0], pkeys, p)
			if err != nil {
				return err
			}
			if !ok {
				cands = nil
			} else {
				cands = index[string(key)]
			}
		}
		hit := false
		for k, i := range cands {
			if k&4095 == 4095 {
				if err := q.check(); err != nil {
					return err
				}
			}
			combine(p, bs.stored(int(i)))
			if n.residual != nil {
				v, err := n.residual.eval(out)
				if err != nil {
					return err
				}
				if v.Null || !v.B {
					continue
				}
			}
			hit = true
			matched[i] = true
			if err := emit(out); err != nil {
				return err
			}
		}
		if !hit && probeOuter {
			combine(p, buildNulls)
			return emit(out)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if buildOuter {
		probeNulls := nullRow(probe.columns())
		for i := range nrows {
			if !matched[i] {
				combine(probeNulls, bs.stored(i))
				if err := emit(out); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// mergeUsing wraps emit to fill the merged columns of JOIN ... USING: the
// left's key, or the right's where the left is NULL (outer joins).
func (n *joinNode) mergeUsing(nl, nr int, emit func([]Value) error) func([]Value) error {
	return func(row []Value) error {
		for i := range n.using {
			v, err := n.lkeys[i].eval(row[:nl])
			if err != nil {
				return err
			}
			if v.Null {
				if v, err = n.rkeys[i].eval(row[nl : nl+nr]); err != nil {
					return err
				}
			}
			row[nl+nr+i] = v
		}
		return emit(row)
	}
}

// buildSide holds the materialised build rows of a join. When the build
// side reads a table (a scan, maybe filtered or aliased), rows keep only
// the columns the query uses (the scan's used flags: the columns above
// the join, the join keys and the residual); keep lists them, and row
// and put spread a kept row back to the build side's full width.
type buildSide struct {
	rows [][]Value // full-width rows (keep nil)
	// Pruned rows are stored flat, width len(keep), in blocks of
	// blockRows rows; n counts them.
	blocks [][]Value
	n      int
	keep   []int // nil: rows are full width
	// full is the full-width scratch row of row: columns not kept are
	// NULL and stay so.
	full []Value
}

// disableBuildPrune keeps whole build rows (benchmarks compare).
var disableBuildPrune bool

func newBuildSide(build node) *buildSide {
	bs := &buildSide{}
	sc := scanBelow(build)
	if sc == nil || disableBuildPrune {
		return bs
	}
	for i, u := range sc.used {
		if u {
			bs.keep = append(bs.keep, i)
		}
	}
	if len(bs.keep) == len(sc.used) {
		bs.keep = nil
		return bs
	}
	if bs.keep == nil {
		bs.keep = []int{} // no column is read (a count over a cross join)
	}
	bs.full = make([]Value, len(sc.cols))
	for i, c := range sc.cols {
		bs.full[i] = Null(c.typ.Kind)
	}
	return bs
}

// scanBelow returns the scan whose rows n passes on column for column
// (through aliases and filters), or nil.
func scanBelow(n node) *scanNode {
	switch x := n.(type) {
	case *scanNode:
		return x
	case *aliasNode:
		return scanBelow(x.child)
	case *filterNode:
		return scanBelow(x.child)
	}
	return nil
}

// blockRows is the number of pruned build rows per storage block.
const blockRows = 1024

// len is the number of build rows.
func (bs *buildSide) len() int {
	if bs.keep == nil {
		return len(bs.rows)
	}
	return bs.n
}

// stored returns build row i as stored (see put).
func (bs *buildSide) stored(i int) []Value {
	if bs.keep == nil {
		return bs.rows[i]
	}
	w := len(bs.keep)
	off := (i % blockRows) * w
	return bs.blocks[i/blockRows][off : off+w : off+w]
}

// row returns build row i at full width; with pruned rows it is valid
// until the next call.
func (bs *buildSide) row(i int) []Value {
	if bs.keep == nil {
		return bs.rows[i]
	}
	bs.put(bs.full, bs.stored(i))
	return bs.full
}

// put writes the stored build row r into dst (full width).
func (bs *buildSide) put(dst, r []Value) {
	if bs.keep == nil {
		copy(dst, r)
		return
	}
	for j, c := range bs.keep {
		dst[c] = r[j]
	}
}

// compact returns the stored form of the full-width row r.
func (bs *buildSide) compact(r []Value) []Value {
	if bs.keep == nil {
		return r
	}
	c := make([]Value, len(bs.keep))
	for j, i := range bs.keep {
		c[j] = r[i]
	}
	return c
}

// collect runs the build side n and stores its rows: whole, or only the
// kept columns, flat.
func (bs *buildSide) collect(q *qctx, n node) error {
	if bs.keep == nil {
		var err error
		bs.rows, err = collect(q, n)
		return err
	}
	w := len(bs.keep)
	err := n.run(q, func(r []Value) error {
		if bs.n%blockRows == 0 {
			bs.blocks = append(bs.blocks, make([]Value, 0, blockRows*w))
		}
		b := &bs.blocks[len(bs.blocks)-1]
		for _, i := range bs.keep {
			*b = append(*b, r[i])
		}
		bs.n++
		if err := q.grow(rowSize((*b)[len(*b)-w:]) - 16); err != nil {
			return err
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

// indexRows adds each build row with no NULL key to index under its key;
// key is scratch space, returned for reuse.
func indexRows(index map[string][]int32, key []byte, keys []*expr, bs *buildSide) ([]byte, error) {
	for i := range bs.len() {
		r := bs.row(i)
		var ok bool
		var err error
		key, ok, err = keyOf(key[:0], keys, r)
		if err != nil {
			return key, err
		}
		if ok {
			index[string(key)] = append(index[string(key)], int32(i))
		}
	}
	return key, nil
}

// seriesPlan returns the series-aware probe of an inner join over a scan
// (see seriesProbe), or nil when the join does not have that shape or the
// engine is set to probe row by row.
func (n *joinNode) seriesPlan(q *qctx, probe node, pkeys, bkeys []*expr) *seriesProbe {
	// A cross join has keys when WHERE equalities became its keys (comma
	// joins): it is then an inner join.
	if n.kind != parser.InnerJoin && n.kind != parser.CrossJoin || q.e.opts.rowJoin {
		return nil
	}
	return planSeriesProbe(probe, pkeys, bkeys)
}

// dynamicFilter narrows a probe-side scan to the keys the build side has:
// a time range for a key on time, an IN list for a key on a dimension or
// measure_name.
func (n *joinNode) dynamicFilter(probe node, pkeys, bkeys []*expr, bs *buildSide) {
	sc := scanUnder(probe)
	if sc == nil {
		return
	}
	for k, pk := range pkeys {
		if pk.col < 0 || pk.col >= len(sc.src) {
			continue
		}
		switch sc.src[pk.col].src {
		case srcTime:
			lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
			for i := range bs.len() {
				v, err := bkeys[k].eval(bs.row(i))
				if err != nil || v.Null {
					continue
				}
				lo, hi = min(lo, v.I), max(hi, v.I)
			}
			sc.req.MinTime, sc.req.MaxTime = max(sc.req.MinTime, lo), min(sc.req.MaxTime, hi)
		case srcDimension, srcMeasureName:
			seen := map[string]bool{}
			var vals []string
			for i := range bs.len() {
				v, err := bkeys[k].eval(bs.row(i))
				if err != nil || v.Null || v.Kind != KindVarchar {
					continue
				}
				if !seen[v.S] {
					seen[v.S] = true
					vals = append(vals, v.S)
				}
				if len(vals) > 10000 {
					break
				}
			}
			if len(vals) <= 10000 {
				sc.req.Where = append(sc.req.Where, scan.Matcher{Name: sc.matchName(pk.col), Op: scan.MatchIn, Values: vals})
			}
		}
	}
}
