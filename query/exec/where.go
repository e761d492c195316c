package exec

import (
	"math"

	"github.com/tidaldb/tidal/query/parser"
	"github.com/tidaldb/tidal/query/scan"
)

func splitAnd(e parser.Expr, out []parser.Expr) []parser.Expr {
	if b, ok := e.(*parser.Binary); ok && b.Op == parser.OpAnd {
		return splitAnd(b.R, splitAnd(b.L, out))
	}
	return append(out, e)
}

func splitOr(e parser.Expr, out []parser.Expr) []parser.Expr {
	if b, ok := e.(*parser.Binary); ok && b.Op == parser.OpOr {
		return splitOr(b.R, splitOr(b.L, out))
	}
	return append(out, e)
}

// scanUnder returns the scan a node reads directly (through aliases).
func scanUnder(n node) *scanNode {
	switch x := n.(type) {
	case *scanNode:
		return x
	case *aliasNode:
		return scanUnder(x.child)
	}
	return nil
}

// bindWhere applies a WHERE clause to from, pushing what it can into the
// scan request and splitting the rest into per-series and per-row
// predicates of the scan.
func (b *binder) bindWhere(from node, in *scope, where parser.Expr) (node, error) {
	sc := scanUnder(from)
	j, _ := from.(*joinNode)
	if j != nil && j.kind != parser.InnerJoin && j.kind != parser.CrossJoin {
		j = nil
	}
	var rest []*expr
	for _, c := range splitAnd(where, nil) {
		if sc != nil {
			if err := b.addToScan(sc, in, c); err != nil {
				return nil, err
			}
			continue
		}
		if j != nil && b.whereKey(j, c) {
			// An equality between the two sides of an inner or comma
			// join became a key of its hash join.
			continue
		}
		e, err := b.bindExpr(c, in)
		if err != nil {
			return nil, err
		}
		if e, err = b.expectBool(e); err != nil {
			return nil, err
		}
		if j != nil && len(e.refs) > 0 && !containsSubquery(c) && !e.volatile {
			// A conjunct over one side of an inner join filters that
			// side's scan.
			nl := len(j.left.columns())
			allL, allR := true, true
			for _, r := range e.refs {
				if r < nl {
					allR = false
				} else {
					allL = false
				}
			}
			side := node(nil)
			switch {
			case allL:
				side = j.left
			case allR:
				side = j.right
			}
			if ssc := scanUnder(side); ssc != nil {
				ss := newScope(side)
				ss.outer = in.outer
				if err := b.addToScan(ssc, ss, c); err != nil {
					return nil, err
				}
				continue
			}
		}
		rest = append(rest, e)
	}
	if len(rest) == 0 {
		return from, nil
	}
	pred := rest[0]
	for _, r := range rest[1:] {
		var err error
		if pred, err = b.bindLogical(parser.OpAnd, pred, r, pred.pos); err != nil {
			return nil, err
		}
	}
	return &filterNode{child: from, pred: pred}, nil
}

// whereKey adds conjunct c to j's keys when it is l = r with l over one
// side and r over the other.
func (b *binder) whereKey(j *joinNode, c parser.Expr) bool {
	eq, ok := c.(*parser.Binary)
	if !ok || eq.Op != parser.OpEQ {
		return false
	}
	// No outer scope: a conjunct that reads an enclosing query stays a
	// filter.
	ls, rs := newScope(j.left), newScope(j.right)
	l, r, ok := b.trySides(eq.L, eq.R, ls, rs)
	if !ok {
		// Written the other way round: eq.R over the left side.
		if l, r, ok = b.trySides(eq.R, eq.L, ls, rs); !ok {
			return false
		}
	}
	// Types a key cannot compare stay a filter, which reports them.
	return j.addKey(l, r, eq.Pos) == nil
}

// addToScan applies conjunct c (named in scope s, whose columns are sc's)
// to sc: pushed into the request, or kept as a per-series or per-row
// predicate.
func (b *binder) addToScan(sc *scanNode, s *scope, c parser.Expr) error {
	ok, err := b.pushdown(sc, s, c)
	if err != nil || ok {
		return err
	}
	e, err := b.bindExpr(c, s)
	if err != nil {
		return err
	}
	if e, err = b.expectBool(e); err != nil {
		return err
	}
	if e.konst {
		if e.val.Null || !e.val.B {
			sc.empty = true
		}
		return nil
	}
	series := true
	for _, r := range e.refs {
		if !sc.isSeriesCol(r) {
			series = false
		}
	}
	if series && !e.volatile {
		sc.seriesPred = append(sc.seriesPred, e)
	} else {
		sc.rowPred = append(sc.rowPred, e)
	}
	return nil
}

// constOf binds e without columns; ok is false when e is not constant.
func (b *binder) constOf(e parser.Expr) (*expr, bool) {
	x, err := b.bindExpr(e, &scope{})
	if err != nil || !x.konst {
		return nil, false
	}
	return x, true
}

func (b *binder) scanColOf(sc *scanNode, in *scope, e parser.Expr) (int, bool) {
	id, ok := e.(*parser.Ident)
	if !ok {
		return 0, false
	}
	c := in.find(id.Parts)
	if c < 0 || c >= len(sc.src) {
		return 0, false
	}
	return c, true
}

// pushdown moves one conjunct into the scan request when it is exactly
// expressible there.
func (b *binder) pushdown(sc *scanNode, in *scope, c parser.Expr) (bool, error) {
	switch x := c.(type) {
	case *parser.Binary:
		switch x.Op {
		case parser.OpEQ, parser.OpLT, parser.OpLE, parser.OpGT, parser.OpGE:
			l, r, op := x.L, x.R, x.Op
			col, ok := b.scanColOf(sc, in, l)
			if !ok {
				l, r = r, l
				op = flipOp(op)
				if col, ok = b.scanColOf(sc, in, l); !ok {
					return false, nil
				}
			}
			k, ok := b.constOf(r)
			if !ok {
				return false, nil
			}
			return b.pushCompare(sc, col, op, k)
		case parser.OpOr:
			return b.pushOr(sc, in, x)
		}
	case *parser.Between:
		col, ok := b.scanColOf(sc, in, x.X)
		if !ok || x.Not || sc.src[col].src != srcTime {
			return false, nil
		}
		lo, ok1 := b.constOf(x.Low)
		hi, ok2 := b.constOf(x.High)
		if !ok1 || !ok2 {
			return false, nil
		}
		if ok, err := b.pushCompare(sc, col, parser.OpGE, lo); !ok || err != nil {
			return ok, err
		}
		return b.pushCompare(sc, col, parser.OpLE, hi)
	case *parser.InList:
		col, ok := b.scanColOf(sc, in, x.X)
		if !ok || x.Not || !sc.isSeriesCol(col) {
			return false, nil
		}
		var vals []string
		for _, it := range x.List {
			k, ok := b.constOf(it)
			if !ok || k.typ.Kind != KindVarchar || k.val.Null {
				return false, nil
			}
			vals = append(vals, k.val.S)
		}
		sc.req.Where = append(sc.req.Where, scan.Matcher{Name: sc.matchName(col), Op: scan.MatchIn, Values: vals})
		return true, nil
	case *parser.Like:
		col, ok := b.scanColOf(sc, in, x.X)
		if !ok || x.Not || x.Escape != nil || !sc.isSeriesCol(col) {
			return false, nil
		}
		k, ok := b.constOf(x.Pattern)
		if !ok || k.typ.Kind != KindVarchar || k.val.Null {
			return false, nil
		}
		m, err := compileLike(k.val.S, Null(KindVarchar))
		if err != nil {
			return false, nil //nolint:nilerr // not pushed down; the filter reports the bad pattern
		}
		if m.exact {
			sc.req.Where = append(sc.req.Where, scan.Matcher{Name: sc.matchName(col), Op: scan.MatchEqual, Values: []string{m.prefix}})
			return true, nil
		}
		if p, ok := m.likePrefix(); ok {
			sc.req.Where = append(sc.req.Where, scan.Matcher{Name: sc.matchName(col), Op: scan.MatchPrefix, Values: []string{p}})
			return true, nil
		}
	case *parser.IsNull:
		col, ok := b.scanColOf(sc, in, x.X)
		if !ok || sc.src[col].src != srcDimension {
			return false, nil
		}
		op := scan.MatchAbsent
		if x.Not {
			op = scan.MatchPresent
		}
		sc.req.Where = append(sc.req.Where, scan.Matcher{Name: sc.matchName(col), Op: op})
		return true, nil
	}
	return false, nil
}

func (sc *scanNode) matchName(col int) string {
	if sc.src[col].src == srcMeasureName {
		return scan.ColMeasureName
	}
	return sc.src[col].name
}

func flipOp(op parser.BinaryOp) parser.BinaryOp {
	switch op {
	case parser.OpLT:
		return parser.OpGT
	case parser.OpLE:
		return parser.OpGE
	case parser.OpGT:
		return parser.OpLT
	case parser.OpGE:
		return parser.OpLE
	}
	return op
}

func (b *binder) pushCompare(sc *scanNode, col int, op parser.BinaryOp, k *expr) (bool, error) {
	switch sc.src[col].src {
	case srcTime:
		if k.typ.Kind == KindVarchar || k.typ.Kind == KindDate {
			var err error
			if k, err = coerce(k, TypeTimestamp); err != nil {
				return false, err
			}
		}
		if k.typ.Kind != KindTimestamp && k.typ.Kind != KindUnknown {
			return false, nil
		}
		if k.val.Null {
			sc.empty = true
			return true, nil
		}
		t := k.val.I
		lo, hi := &sc.req.MinTime, &sc.req.MaxTime
		switch op {
		case parser.OpEQ:
			*lo, *hi = max(*lo, t), min(*hi, t)
		case parser.OpGE:
			*lo = max(*lo, t)
		case parser.OpGT:
			if t == math.MaxInt64 {
				sc.empty = true
			} else {
				*lo = max(*lo, t+1)
			}
		case parser.OpLE:
			*hi = min(*hi, t)
		case parser.OpLT:
			if t == math.MinInt64 {
				sc.empty = true
			} else {
				*hi = min(*hi, t-1)
			}
		}
		return true, nil
	case srcDimension, srcMeasureName:
		if op != parser.OpEQ || k.typ.Kind != KindVarchar {
			return false, nil
		}
		if k.val.Null {
			sc.empty = true
			return true, nil
		}
		sc.req.Where = append(sc.req.Where, scan.Matcher{Name: sc.matchName(col), Op: scan.MatchEqual, Values: []string{k.val.S}})
		return true, nil
	}
	return false, nil
}

// pushOr turns "c = 'a' OR c = 'b' OR c IN (...)" on one series column into
// an IN matcher.
func (b *binder) pushOr(sc *scanNode, in *scope, x *parser.Binary) (bool, error) {
	col := -1
	var vals []string
	for _, d := range splitOr(x, nil) {
		var c int
		var items []parser.Expr
		switch y := d.(type) {
		case *parser.Binary:
			if y.Op != parser.OpEQ {
				return false, nil
			}
			l, r := y.L, y.R
			cc, ok := b.scanColOf(sc, in, l)
			if !ok {
				l, r = r, l
				if cc, ok = b.scanColOf(sc, in, l); !ok {
					return false, nil
				}
			}
			c, items = cc, []parser.Expr{r}
		case *parser.InList:
			cc, ok := b.scanColOf(sc, in, y.X)
			if !ok || y.Not {
				return false, nil
			}
			c, items = cc, y.List
		default:
			return false, nil
		}
		if !sc.isSeriesCol(c) || (col >= 0 && c != col) {
			return false, nil
		}
		col = c
		for _, it := range items {
			k, ok := b.constOf(it)
			if !ok || k.typ.Kind != KindVarchar || k.val.Null {
				return false, nil
			}
			vals = append(vals, k.val.S)
		}
	}
	if col < 0 {
		return false, nil
	}
	sc.req.Where = append(sc.req.Where, scan.Matcher{Name: sc.matchName(col), Op: scan.MatchIn, Values: vals})
	return true, nil
}
