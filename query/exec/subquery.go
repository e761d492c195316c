package exec

import (
	"sync"

	"github.com/tidaldb/tidal/query/parser"
)

// Subqueries run on first use. An uncorrelated subquery runs once and its
// result is reused for every row. A correlated one (it names columns of
// the immediately enclosing query) runs once per distinct tuple of the
// outer values it reads, memoised, with the outer values held in slots
// its plan reads; runs are serialised by a mutex.

// corrCtx collects the outer references of a subquery being bound.
type corrCtx struct {
	outer *scope
	refs  []*expr // bound in outer, evaluated over outer rows
	slots []Value
	mu    sync.Mutex
	memo  map[string][][]Value
}

// subq is a bound subquery.
type subq struct {
	n    node
	corr *corrCtx
	once sync.Once
	rows [][]Value
	err  error
	// set is the IN-list of an uncorrelated IN (subquery).
	set     map[string]bool
	hasNull bool
}

func (b *binder) subquery(qry *parser.Query, s *scope) (*subq, error) {
	c := &corrCtx{outer: s}
	b.corr = append(b.corr, c)
	n, err := b.bindQuery(qry, s)
	b.corr = b.corr[:len(b.corr)-1]
	if err != nil {
		return nil, err
	}
	sq := &subq{n: n}
	if len(c.refs) > 0 {
		c.slots = make([]Value, len(c.refs))
		c.memo = map[string][][]Value{}
		sq.corr = c
	}
	return sq, nil
}

// outerRef binds an identifier of the enclosing query inside a subquery.
func (b *binder) outerRef(id *parser.Ident, s *scope) (*expr, bool, error) {
	if len(b.corr) == 0 {
		return nil, false, nil
	}
	c := b.corr[len(b.corr)-1]
	if s.outer != c.outer || c.outer == nil || c.outer.find(id.Parts) < 0 {
		return nil, false, nil
	}
	saved := b.corr
	b.corr = b.corr[:len(b.corr)-1]
	e, err := b.bindExpr(id, c.outer)
	b.corr = saved
	if err != nil {
		return nil, true, err
	}
	k := len(c.refs)
	c.refs = append(c.refs, e)
	return &expr{typ: e.typ, col: -1, fn: func([]Value) (Value, error) { return c.slots[k], nil }}, true, nil
}

// refsOf returns the outer expressions a correlated subquery reads, for
// the classification of the expression that contains it.
func (sq *subq) refsOf() []*expr {
	if sq.corr == nil {
		return nil
	}
	return sq.corr.refs
}

// get returns the subquery's rows for the outer row.
func (sq *subq) get(q *qctx, row []Value) ([][]Value, error) {
	if sq.corr == nil {
		sq.once.Do(func() { sq.rows, sq.err = collect(q, sq.n) })
		return sq.rows, sq.err
	}
	c := sq.corr
	vals := make([]Value, len(c.refs))
	var key []byte
	for i, r := range c.refs {
		v, err := r.eval(row)
		if err != nil {
			return nil, err
		}
		vals[i] = v
		key = appendKey(key, v)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rows, ok := c.memo[string(key)]; ok {
		return rows, nil
	}
	copy(c.slots, vals)
	rows, err := collect(q, sq.n)
	if err != nil {
		return nil, err
	}
	c.memo[string(key)] = rows
	return rows, nil
}

func subqueryExpr(t Type, sq *subq, fn func(row []Value) (Value, error)) *expr {
	e := &expr{typ: t, col: -1, fn: fn}
	for _, r := range sq.refsOf() {
		e.refs = mergeRefs(e.refs, r.refs)
	}
	return e
}

func (b *binder) bindScalarSubquery(x *parser.Subquery, s *scope) (*expr, error) {
	sq, err := b.subquery(x.Query, s)
	if err != nil {
		return nil, err
	}
	cols := sq.n.columns()
	if len(cols) != 1 {
		return nil, validationf(x.Line, x.Col, "Multiple columns returned by subquery are not yet supported. Found %d", len(cols))
	}
	t := cols[0].typ
	q := b.q
	return subqueryExpr(t, sq, func(row []Value) (Value, error) {
		rows, err := sq.get(q, row)
		if err != nil {
			return Value{}, err
		}
		switch len(rows) {
		case 0:
			return Null(t.Kind), nil
		case 1:
			return rows[0][0], nil
		}
		return Value{}, errorf(ErrExecution, "Scalar sub-query has returned multiple rows")
	}), nil
}

func (b *binder) bindExists(x *parser.Exists, s *scope) (*expr, error) {
	sq, err := b.subquery(x.Query, s)
	if err != nil {
		return nil, err
	}
	sq.n = &limitNode{child: sq.n, limit: 1}
	q := b.q
	return subqueryExpr(TypeBoolean, sq, func(row []Value) (Value, error) {
		rows, err := sq.get(q, row)
		if err != nil {
			return Value{}, err
		}
		return Boolean(len(rows) > 0), nil
	}), nil
}

func (b *binder) bindInSubquery(x *parser.InSubquery, s *scope) (*expr, error) {
	v, err := b.bindExpr(x.X, s)
	if err != nil {
		return nil, err
	}
	sq, err := b.subquery(x.Query, s)
	if err != nil {
		return nil, err
	}
	cols := sq.n.columns()
	if len(cols) != 1 {
		return nil, validationf(x.Line, x.Col, "Multiple columns returned by subquery are not yet supported. Found %d", len(cols))
	}
	t, ok := commonType(v.typ, cols[0].typ)
	if !ok {
		return nil, validationf(x.Line, x.Col, "Value expression and result of subquery must be of the same type: %s vs %s", v.typ, cols[0].typ)
	}
	q := b.q
	not := x.Not
	var setOnce sync.Once
	e := subqueryExpr(TypeBoolean, sq, func(row []Value) (Value, error) {
		a, err := v.eval(row)
		if err != nil {
			return a, err
		}
		rows, err := sq.get(q, row)
		if err != nil {
			return Value{}, err
		}
		found, hasNull := false, false
		if sq.corr == nil {
			setOnce.Do(func() {
				sq.set = map[string]bool{}
				for _, r := range rows {
					if r[0].Null {
						sq.hasNull = true
						continue
					}
					sq.set[string(appendKey(nil, coerceValue(r[0], t)))] = true
				}
			})
			hasNull = sq.hasNull
			if !a.Null {
				var kb [32]byte
				found = sq.set[string(appendKey(kb[:0], coerceValue(a, t)))]
			}
		} else if !a.Null {
			for _, r := range rows {
				if r[0].Null {
					hasNull = true
				} else if compareValues(coerceValue(a, t), coerceValue(r[0], t)) == 0 {
					found = true
					break
				}
			}
		}
		switch {
		case len(rows) == 0:
			return boolValue(not), nil
		case a.Null:
			return Null(KindBoolean), nil
		case found:
			return boolValue(!not), nil
		case hasNull:
			return Null(KindBoolean), nil
		}
		return boolValue(not), nil
	})
	e.refs = mergeRefs(e.refs, v.refs)
	return e, nil
}

func (b *binder) bindQuantified(x *parser.Quantified, s *scope) (*expr, error) {
	v, err := b.bindExpr(x.X, s)
	if err != nil {
		return nil, err
	}
	sq, err := b.subquery(x.Query, s)
	if err != nil {
		return nil, err
	}
	cols := sq.n.columns()
	if len(cols) != 1 {
		return nil, validationf(x.Line, x.Col, "Multiple columns returned by subquery are not yet supported. Found %d", len(cols))
	}
	if _, ok := commonType(v.typ, cols[0].typ); !ok {
		return nil, validationf(x.Line, x.Col, "Value expression and result of subquery must be of the same type: %s vs %s", v.typ, cols[0].typ)
	}
	test := cmpTest(x.Op)
	all := x.Quantifier == parser.QuantAll
	q := b.q
	e := subqueryExpr(TypeBoolean, sq, func(row []Value) (Value, error) {
		a, err := v.eval(row)
		if err != nil {
			return a, err
		}
		rows, err := sq.get(q, row)
		if err != nil {
			return Value{}, err
		}
		if len(rows) == 0 {
			return boolValue(all), nil
		}
		if a.Null {
			return Null(KindBoolean), nil
		}
		sawNull := false
		for _, r := range rows {
			if r[0].Null {
				sawNull = true
				continue
			}
			ok := test(compareValues(a, r[0]))
			if all && !ok {
				return boolValue(false), nil
			}
			if !all && ok {
				return boolValue(true), nil
			}
		}
		if sawNull {
			return Null(KindBoolean), nil
		}
		return boolValue(all), nil
	})
	e.refs = mergeRefs(e.refs, v.refs)
	return e, nil
}
