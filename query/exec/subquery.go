package exec

import (
	"sync"

	"github.com/tidaldb/tidal/query/parser"
)

// Subqueries are uncorrelated: each runs once, on first use, and its result
// is reused for every row. A reference to an outer column is reported as a
// validation error by name resolution.

// lazy runs a subquery once.
type lazy struct {
	once sync.Once
	rows [][]Value
	err  error
}

func (b *binder) subquery(qry *parser.Query, s *scope) (node, *lazy, error) {
	n, err := b.bindQuery(qry, s)
	if err != nil {
		return nil, nil, err
	}
	return n, &lazy{}, nil
}

func (l *lazy) get(q *qctx, n node) ([][]Value, error) {
	l.once.Do(func() { l.rows, l.err = collect(q, n) })
	return l.rows, l.err
}

func (b *binder) bindScalarSubquery(x *parser.Subquery, s *scope) (*expr, error) {
	n, l, err := b.subquery(x.Query, s)
	if err != nil {
		return nil, err
	}
	cols := n.columns()
	if len(cols) != 1 {
		return nil, validationf(x.Line, x.Col, "Multiple columns returned by subquery are not yet supported. Found %d", len(cols))
	}
	t := cols[0].typ
	q := b.q
	return &expr{typ: t, col: -1, fn: func([]Value) (Value, error) {
		rows, err := l.get(q, n)
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
	}}, nil
}

func (b *binder) bindExists(x *parser.Exists, s *scope) (*expr, error) {
	n, l, err := b.subquery(x.Query, s)
	if err != nil {
		return nil, err
	}
	q := b.q
	return &expr{typ: TypeBoolean, col: -1, fn: func([]Value) (Value, error) {
		rows, err := l.get(q, &limitNode{child: n, limit: 1})
		if err != nil {
			return Value{}, err
		}
		return Boolean(len(rows) > 0), nil
	}}, nil
}

// inSet is the materialised right side of IN (subquery).
type inSet struct {
	once    sync.Once
	keys    map[string]bool
	hasNull bool
	err     error
}

func (b *binder) bindInSubquery(x *parser.InSubquery, s *scope) (*expr, error) {
	v, err := b.bindExpr(x.X, s)
	if err != nil {
		return nil, err
	}
	n, _, err := b.subquery(x.Query, s)
	if err != nil {
		return nil, err
	}
	cols := n.columns()
	if len(cols) != 1 {
		return nil, validationf(x.Line, x.Col, "Multiple columns returned by subquery are not yet supported. Found %d", len(cols))
	}
	t, ok := commonType(v.typ, cols[0].typ)
	if !ok {
		return nil, validationf(x.Line, x.Col, "Value expression and result of subquery must be of the same type: %s vs %s", v.typ, cols[0].typ)
	}
	set := &inSet{}
	q := b.q
	not := x.Not
	var key []byte
	var mu sync.Mutex
	return derived(TypeBoolean, []*expr{v}, func(row []Value) (Value, error) {
		a, err := v.eval(row)
		if err != nil {
			return a, err
		}
		set.once.Do(func() {
			rows, err := collect(q, n)
			set.err = err
			set.keys = map[string]bool{}
			for _, r := range rows {
				if r[0].Null {
					set.hasNull = true
					continue
				}
				set.keys[string(appendKey(nil, coerceValue(r[0], t)))] = true
			}
		})
		if set.err != nil {
			return Value{}, set.err
		}
		if a.Null {
			if len(set.keys) == 0 && !set.hasNull {
				return boolValue(not), nil
			}
			return Null(KindBoolean), nil
		}
		mu.Lock()
		key = appendKey(key[:0], coerceValue(a, t))
		found := set.keys[string(key)]
		mu.Unlock()
		switch {
		case found:
			return boolValue(!not), nil
		case set.hasNull:
			return Null(KindBoolean), nil
		}
		return boolValue(not), nil
	})
}

func (b *binder) bindQuantified(x *parser.Quantified, s *scope) (*expr, error) {
	v, err := b.bindExpr(x.X, s)
	if err != nil {
		return nil, err
	}
	n, l, err := b.subquery(x.Query, s)
	if err != nil {
		return nil, err
	}
	cols := n.columns()
	if len(cols) != 1 {
		return nil, validationf(x.Line, x.Col, "Multiple columns returned by subquery are not yet supported. Found %d", len(cols))
	}
	if _, ok := commonType(v.typ, cols[0].typ); !ok {
		return nil, validationf(x.Line, x.Col, "Value expression and result of subquery must be of the same type: %s vs %s", v.typ, cols[0].typ)
	}
	test := cmpTest(x.Op)
	all := x.Quantifier == parser.QuantAll
	q := b.q
	return derived(TypeBoolean, []*expr{v}, func(row []Value) (Value, error) {
		a, err := v.eval(row)
		if err != nil {
			return a, err
		}
		rows, err := l.get(q, n)
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
}
