package exec

import (
	"strconv"
	"strings"

	"github.com/tidaldb/tidal/query/parser"
)

// containsAgg reports whether e calls an aggregate (outside subqueries and
// lambdas) or a window function.
func containsAgg(e parser.Expr) bool {
	found := false
	walkExpr(e, func(x parser.Expr) bool {
		if c, ok := x.(*parser.Call); ok && c.Over == nil && isAggName(c) {
			found = true
		}
		return !found
	})
	return found
}

func isAggName(c *parser.Call) bool {
	if len(c.Name.Parts) != 1 {
		return false
	}
	_, ok := aggDefs[strings.ToLower(c.Name.Parts[0].Value)]
	return ok
}

// walkExpr visits e and its subexpressions (not subqueries) while fn
// returns true.
func walkExpr(e parser.Expr, fn func(parser.Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	w := func(xs ...parser.Expr) {
		for _, x := range xs {
			walkExpr(x, fn)
		}
	}
	switch x := e.(type) {
	case *parser.Binary:
		w(x.L, x.R)
	case *parser.Unary:
		w(x.X)
	case *parser.Call:
		w(x.Args...)
		w(x.Filter)
	case *parser.Case:
		w(x.Operand, x.Else)
		for _, wh := range x.Whens {
			w(wh.Cond, wh.Result)
		}
	case *parser.Cast:
		w(x.X)
	case *parser.Extract:
		w(x.X)
	case *parser.InList:
		w(x.X)
		w(x.List...)
	case *parser.InSubquery:
		w(x.X)
	case *parser.Quantified:
		w(x.X)
	case *parser.Between:
		w(x.X, x.Low, x.High)
	case *parser.Like:
		w(x.X, x.Pattern, x.Escape)
	case *parser.IsNull:
		w(x.X)
	case *parser.IsDistinct:
		w(x.L, x.R)
	case *parser.ArrayCtor:
		w(x.Elems...)
	case *parser.RowCtor:
		w(x.Elems...)
	case *parser.Subscript:
		w(x.X, x.Index)
	case *parser.FieldAccess:
		w(x.X)
	case *parser.AtTimeZone:
		w(x.X, x.Zone)
	}
}

// bindExpr binds e in scope s.
func (b *binder) bindExpr(e parser.Expr, s *scope) (*expr, error) {
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > 400 {
		p := e.Position()
		return nil, validationf(p.Line, p.Col, "Expression is nested too deeply")
	}
	x, err := b.bindExpr1(e, s)
	if err != nil {
		return nil, err
	}
	if x.pos.Line == 0 {
		x.pos = e.Position()
	}
	return x, nil
}

func (b *binder) bindExpr1(e parser.Expr, s *scope) (*expr, error) {
	pos := e.Position()
	if s.agg != nil {
		if x, ok, err := b.bindInAgg(e, s); ok || err != nil {
			return x, err
		}
	}
	switch x := e.(type) {
	case *parser.Ident:
		return b.bindIdent(x, s)
	case *parser.Literal:
		return bindLiteral(x)
	case *parser.Duration:
		return constExpr(intervalDS(x.Nanos), TypeIntervalDS), nil
	case *parser.Interval:
		return bindInterval(x)
	case *parser.Param:
		return b.bindParam(x)
	case *parser.Binary:
		l, err := b.bindExpr(x.L, s)
		if err != nil {
			return nil, err
		}
		r, err := b.bindExpr(x.R, s)
		if err != nil {
			return nil, err
		}
		b.inferParam(l, r.typ)
		b.inferParam(r, l.typ)
		switch x.Op {
		case parser.OpAnd, parser.OpOr:
			return b.bindLogical(x.Op, l, r, pos)
		case parser.OpEQ, parser.OpNE, parser.OpLT, parser.OpLE, parser.OpGT, parser.OpGE:
			return bindCompare(x.Op, l, r, pos)
		case parser.OpConcat:
			return b.callFunc("concat", []*expr{l, r}, pos)
		}
		return bindArith(x.Op, l, r, pos)
	case *parser.Unary:
		v, err := b.bindExpr(x.X, s)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case parser.OpNot:
			if v, err = b.expectBool(v); err != nil {
				return nil, err
			}
			return derived(TypeBoolean, []*expr{v}, func(row []Value) (Value, error) {
				a, err := v.eval(row)
				if err != nil || a.Null {
					return a, err
				}
				return boolValue(!a.B), nil
			})
		case parser.OpNeg:
			zero := constExpr(Bigint(0), TypeBigint)
			if v.typ.Kind == KindDouble {
				return derived(TypeDouble, []*expr{v}, func(row []Value) (Value, error) {
					a, err := v.eval(row)
					if err != nil || a.Null {
						return a, err
					}
					return Double(-a.F), nil
				})
			}
			if v.typ.Kind == KindIntervalDayToSecond || v.typ.Kind == KindIntervalYearToMonth {
				zero = constExpr(Value{Kind: v.typ.Kind}, v.typ)
			}
			return bindArith(parser.OpSub, zero, v, pos)
		}
		return v, nil
	case *parser.Call:
		return b.bindCall(x, s)
	case *parser.Case:
		return b.bindCase(x, s)
	case *parser.Cast:
		v, err := b.bindExpr(x.X, s)
		if err != nil {
			return nil, err
		}
		t, err := convertType(x.To)
		if err != nil {
			return nil, err
		}
		try := x.Try
		return derived(t, []*expr{v}, func(row []Value) (Value, error) {
			a, err := v.eval(row)
			if err != nil {
				return a, err
			}
			r, err := castValue(a, t)
			if err != nil && try {
				return Null(t.Kind), nil
			}
			return r, err
		})
	case *parser.Extract:
		v, err := b.bindExpr(x.X, s)
		if err != nil {
			return nil, err
		}
		return b.callFunc(strings.ToLower(x.Field), []*expr{v}, pos)
	case *parser.InList:
		return b.bindInList(x, s)
	case *parser.Between:
		v, err := b.bindExpr(x.X, s)
		if err != nil {
			return nil, err
		}
		lo, err := b.bindExpr(x.Low, s)
		if err != nil {
			return nil, err
		}
		hi, err := b.bindExpr(x.High, s)
		if err != nil {
			return nil, err
		}
		ge, err := bindCompare(parser.OpGE, v, lo, pos)
		if err != nil {
			return nil, err
		}
		le, err := bindCompare(parser.OpLE, v, hi, pos)
		if err != nil {
			return nil, err
		}
		r, err := b.bindLogical(parser.OpAnd, ge, le, pos)
		if err != nil || !x.Not {
			return r, err
		}
		return notExpr(r)
	case *parser.Like:
		return b.bindLike(x, s)
	case *parser.IsNull:
		v, err := b.bindExpr(x.X, s)
		if err != nil {
			return nil, err
		}
		not := x.Not
		return derived(TypeBoolean, []*expr{v}, func(row []Value) (Value, error) {
			a, err := v.eval(row)
			if err != nil {
				return a, err
			}
			return boolValue(a.Null != not), nil
		})
	case *parser.IsDistinct:
		l, err := b.bindExpr(x.L, s)
		if err != nil {
			return nil, err
		}
		r, err := b.bindExpr(x.R, s)
		if err != nil {
			return nil, err
		}
		if _, ok := commonType(l.typ, r.typ); !ok {
			return nil, validationf(pos.Line, pos.Col, "IS DISTINCT FROM cannot be applied to %s, %s", l.typ, r.typ)
		}
		not := x.Not
		return derived(TypeBoolean, []*expr{l, r}, func(row []Value) (Value, error) {
			a, err := l.eval(row)
			if err != nil {
				return a, err
			}
			c, err := r.eval(row)
			if err != nil {
				return c, err
			}
			var distinct bool
			switch {
			case a.Null || c.Null:
				distinct = a.Null != c.Null
			default:
				distinct = compareValues(a, c) != 0
			}
			return boolValue(distinct != not), nil
		})
	case *parser.Subquery:
		return b.bindScalarSubquery(x, s)
	case *parser.Exists:
		return b.bindExists(x, s)
	case *parser.InSubquery:
		return b.bindInSubquery(x, s)
	case *parser.Quantified:
		return b.bindQuantified(x, s)
	case *parser.ArrayCtor:
		var elems []*expr
		et := TypeUnknown
		for _, a := range x.Elems {
			v, err := b.bindExpr(a, s)
			if err != nil {
				return nil, err
			}
			t, ok := commonType(et, v.typ)
			if !ok {
				return nil, validationf(pos.Line, pos.Col, "All ARRAY elements must be the same type: %s, %s", et, v.typ)
			}
			et = t
			elems = append(elems, v)
		}
		t := ArrayOf(et)
		return derived(t, elems, func(row []Value) (Value, error) {
			out := make([]Value, len(elems))
			for i, el := range elems {
				v, err := el.eval(row)
				if err != nil {
					return v, err
				}
				out[i] = coerceValue(v, et)
			}
			return Value{Kind: KindArray, Elems: out}, nil
		})
	case *parser.RowCtor:
		var elems []*expr
		var fields []Field
		for i, a := range x.Elems {
			v, err := b.bindExpr(a, s)
			if err != nil {
				return nil, err
			}
			elems = append(elems, v)
			fields = append(fields, Field{Name: "field" + strconv.Itoa(i), Type: v.typ})
		}
		return derived(Type{Kind: KindRow, Fields: fields}, elems, func(row []Value) (Value, error) {
			out := make([]Value, len(elems))
			for i, el := range elems {
				v, err := el.eval(row)
				if err != nil {
					return v, err
				}
				out[i] = v
			}
			return Value{Kind: KindRow, Elems: out}, nil
		})
	case *parser.Subscript:
		v, err := b.bindExpr(x.X, s)
		if err != nil {
			return nil, err
		}
		i, err := b.bindExpr(x.Index, s)
		if err != nil {
			return nil, err
		}
		if v.typ.Kind == KindRow && i.konst && isIntLike(i.typ.Kind) {
			k := int(i.val.I) - 1
			if k < 0 || k >= len(v.typ.Fields) {
				return nil, validationf(pos.Line, pos.Col, "Invalid row field index %d", k+1)
			}
			return fieldExpr(v, k)
		}
		if v.typ.Kind != KindArray {
			return nil, validationf(pos.Line, pos.Col, "Cannot use subscript on %s", v.typ)
		}
		et := *v.typ.Elem
		return derived(et, []*expr{v, i}, func(row []Value) (Value, error) {
			a, err := v.eval(row)
			if err != nil {
				return a, err
			}
			ix, err := i.eval(row)
			if err != nil {
				return ix, err
			}
			if a.Null || ix.Null {
				return Null(et.Kind), nil
			}
			if ix.I < 1 || ix.I > int64(len(a.Elems)) {
				return Value{}, errorf(ErrExecution, "Array subscript out of bounds")
			}
			return a.Elems[ix.I-1], nil
		})
	case *parser.FieldAccess:
		v, err := b.bindExpr(x.X, s)
		if err != nil {
			return nil, err
		}
		return fieldByName(v, x.Field, pos)
	case *parser.AtTimeZone:
		v, err := b.bindExpr(x.X, s)
		if err != nil {
			return nil, err
		}
		return v, nil // every value is UTC
	case *parser.Lambda:
		return nil, validationf(pos.Line, pos.Col, "Lambda expression is only allowed as a function argument")
	}
	return nil, validationf(pos.Line, pos.Col, "Unsupported expression %s", parser.Format(e))
}

func notExpr(r *expr) (*expr, error) {
	return derived(TypeBoolean, []*expr{r}, func(row []Value) (Value, error) {
		a, err := r.eval(row)
		if err != nil || a.Null {
			return a, err
		}
		return boolValue(!a.B), nil
	})
}

func fieldExpr(v *expr, k int) (*expr, error) {
	ft := v.typ.Fields[k].Type
	return derived(ft, []*expr{v}, func(row []Value) (Value, error) {
		a, err := v.eval(row)
		if err != nil {
			return a, err
		}
		if a.Null || k >= len(a.Elems) {
			return Null(ft.Kind), nil
		}
		return a.Elems[k], nil
	})
}

func fieldByName(v *expr, f parser.Name, pos parser.Pos) (*expr, error) {
	if v.typ.Kind == KindRow {
		for k, fl := range v.typ.Fields {
			if f.Matches(fl.Name) {
				return fieldExpr(v, k)
			}
		}
	}
	return nil, validationf(pos.Line, pos.Col, "Column '%s' cannot be resolved", f.Value)
}

// bindInAgg resolves e above a GROUP BY: an aggregate call or a grouped
// expression becomes a column of the aggregation output.
func (b *binder) bindInAgg(e parser.Expr, s *scope) (*expr, bool, error) {
	as := s.agg
	if c, ok := e.(*parser.Call); ok && c.Over == nil && isAggName(c) {
		call, err := b.bindAggCall(c, as.input)
		if err != nil {
			return nil, true, err
		}
		for i, a := range as.aggs {
			if a.text == call.text {
				return colExpr(len(as.groups)+i, a.typ), true, nil
			}
		}
		as.aggs = append(as.aggs, call)
		return colExpr(len(as.groups)+len(as.aggs)-1, call.typ), true, nil
	}
	switch e.(type) {
	case *parser.Literal, *parser.Duration, *parser.Interval, *parser.Param, *parser.Subquery, *parser.Exists:
		return nil, false, nil
	}
	text := parser.Format(e)
	for i, g := range as.groups {
		if g.text == text {
			return colExpr(i, g.e.typ), true, nil
		}
	}
	if id, ok := e.(*parser.Ident); ok {
		c := as.input.find(id.Parts)
		if c >= 0 {
			if x := as.groupByCol(c); x != nil {
				return x, true, nil
			}
			return nil, true, validationf(id.Line, id.Col, "'%s' must be an aggregate expression or appear in GROUP BY clause", parser.Format(id))
		}
	}
	return nil, false, nil
}

func (b *binder) bindIdent(id *parser.Ident, s *scope) (*expr, error) {
	c := s.find(id.Parts)
	if c == -2 {
		return nil, validationf(id.Line, id.Col, "Column '%s' is ambiguous", parser.Format(id))
	}
	if c >= 0 {
		s.markUsed(c)
		return colExpr(c, s.cols[c].typ), nil
	}
	// row.field written as a qualified name.
	if len(id.Parts) > 1 {
		if c := s.find(id.Parts[:len(id.Parts)-1]); c >= 0 && s.cols[c].typ.Kind == KindRow {
			s.markUsed(c)
			return fieldByName(colExpr(c, s.cols[c].typ), id.Parts[len(id.Parts)-1], id.Pos)
		}
	}
	if e, ok, err := b.outerRef(id, s); ok || err != nil {
		return e, err
	}
	for o := s.outer; o != nil; o = o.outer {
		if o.find(id.Parts) >= 0 {
			return nil, validationf(id.Line, id.Col, "Correlated subqueries are only supported one level deep: column '%s' refers to a query further out", parser.Format(id))
		}
	}
	return nil, validationf(id.Line, id.Col, "Column '%s' cannot be resolved", parser.Format(id))
}

func (b *binder) bindParam(p *parser.Param) (*expr, error) {
	key := p.Name
	if key == "" {
		key = strconv.Itoa(p.Index)
	}
	if b.paramPos == nil {
		b.paramPos = map[string]parser.Pos{}
	}
	if old, ok := b.paramPos[key]; !ok || p.Line < old.Line || p.Line == old.Line && p.Col < old.Col {
		b.paramPos[key] = p.Pos
	}
	n := len(b.params)
	defer func() {
		// A parameter bound twice (pushdown probes, CTEs used twice) is
		// reported once.
		for i := n; i < len(b.params); i++ {
			for j := 0; j < n; j++ {
				if b.params[j].Name == b.params[i].Name {
					b.params = append(b.params[:i], b.params[i+1:]...)
					i--
					break
				}
			}
		}
	}()
	if v, ok := b.q.params[key]; ok {
		t := Type{Kind: v.Kind}
		if v.Kind == KindArray && len(v.Elems) > 0 {
			t = ArrayOf(Type{Kind: v.Elems[0].Kind})
		}
		b.params = append(b.params, Param{Name: key, Type: t})
		return constExpr(v, t), nil
	}
	if key == "scheduled_runtime" {
		b.params = append(b.params, Param{Name: key, Type: TypeTimestamp})
		return constExpr(Timestamp(b.q.now), TypeTimestamp), nil
	}
	if b.q.prepare {
		b.params = append(b.params, Param{Name: key, Type: TypeUnknown})
		e := constExpr(Null(KindUnknown), TypeUnknown)
		e.param = key
		return e, nil
	}
	return nil, validationf(p.Line, p.Col, "No value given for parameter @%s", key)
}

// inferParam gives a Prepare placeholder the type of what it is compared
// or combined with.
func (b *binder) inferParam(e *expr, t Type) {
	if e.param == "" || t.Kind == KindUnknown {
		return
	}
	if t.Kind == KindIntervalDayToSecond && e.typ.Kind == KindUnknown {
		return
	}
	for i := range b.params {
		if b.params[i].Name == e.param && b.params[i].Type.Kind == KindUnknown {
			b.params[i].Type = t
		}
	}
}

func (b *binder) bindCase(x *parser.Case, s *scope) (*expr, error) {
	var operand *expr
	var err error
	if x.Operand != nil {
		if operand, err = b.bindExpr(x.Operand, s); err != nil {
			return nil, err
		}
	}
	var conds, results []*expr
	rt := TypeUnknown
	for _, w := range x.Whens {
		c, err := b.bindExpr(w.Cond, s)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			if c, err = bindCompare(parser.OpEQ, operand, c, w.Pos); err != nil {
				return nil, err
			}
		} else if c, err = b.expectBool(c); err != nil {
			return nil, err
		}
		r, err := b.bindExpr(w.Result, s)
		if err != nil {
			return nil, err
		}
		t, ok := commonType(rt, r.typ)
		if !ok {
			return nil, validationf(w.Line, w.Col, "All CASE results must be the same type: %s, %s", rt, r.typ)
		}
		rt = t
		conds = append(conds, c)
		results = append(results, r)
	}
	var els *expr
	if x.Else != nil {
		if els, err = b.bindExpr(x.Else, s); err != nil {
			return nil, err
		}
		t, ok := commonType(rt, els.typ)
		if !ok {
			return nil, validationf(x.Line, x.Col, "All CASE results must be the same type: %s, %s", rt, els.typ)
		}
		rt = t
	} else {
		els = constExpr(Null(rt.Kind), rt)
	}
	for i := range results {
		if results[i], err = coerce(results[i], rt); err != nil {
			return nil, err
		}
	}
	if els, err = coerce(els, rt); err != nil {
		return nil, err
	}
	children := append(append(append([]*expr{}, conds...), results...), els)
	e, err := derived(rt, children, func(row []Value) (Value, error) {
		for i, c := range conds {
			v, err := c.eval(row)
			if err != nil {
				return v, err
			}
			if !v.Null && v.B {
				return results[i].eval(row)
			}
		}
		return els.eval(row)
	})
	if err != nil {
		return nil, err
	}
	e.cases = &caseParts{conds: conds, results: results, els: els}
	return e, nil
}

func (b *binder) bindInList(x *parser.InList, s *scope) (*expr, error) {
	v, err := b.bindExpr(x.X, s)
	if err != nil {
		return nil, err
	}
	var list []*expr
	t := v.typ
	for _, a := range x.List {
		e, err := b.bindExpr(a, s)
		if err != nil {
			return nil, err
		}
		if e.konst && e.typ.Kind == KindVarchar && (t.Kind == KindTimestamp || t.Kind == KindDate) {
			if e, err = coerce(e, t); err != nil {
				return nil, err
			}
		}
		nt, ok := commonType(t, e.typ)
		if !ok {
			return nil, validationf(x.Line, x.Col, "IN value and list items must be the same type: %s, %s", t, e.typ)
		}
		t = nt
		list = append(list, e)
	}
	not := x.Not
	allConst := true
	for _, e := range list {
		if !e.konst {
			allConst = false
		}
	}
	if allConst {
		set := map[string]bool{}
		hasNull := false
		for _, e := range list {
			if e.val.Null {
				hasNull = true
				continue
			}
			set[string(appendKey(nil, coerceValue(e.val, t)))] = true
		}
		return derived(TypeBoolean, append([]*expr{v}, list...), func(row []Value) (Value, error) {
			a, err := v.eval(row)
			if err != nil || a.Null {
				return Null(KindBoolean), err
			}
			// A stack buffer: scan workers evaluate this concurrently.
			var kb [32]byte
			key := appendKey(kb[:0], coerceValue(a, t))
			if set[string(key)] {
				return boolValue(!not), nil
			}
			if hasNull {
				return Null(KindBoolean), nil
			}
			return boolValue(not), nil
		})
	}
	return derived(TypeBoolean, append([]*expr{v}, list...), func(row []Value) (Value, error) {
		a, err := v.eval(row)
		if err != nil || a.Null {
			return Null(KindBoolean), err
		}
		sawNull := false
		for _, e := range list {
			c, err := e.eval(row)
			if err != nil {
				return c, err
			}
			if c.Null {
				sawNull = true
				continue
			}
			if compareValues(a, c) == 0 {
				return boolValue(!not), nil
			}
		}
		if sawNull {
			return Null(KindBoolean), nil
		}
		return boolValue(not), nil
	})
}

func (b *binder) bindLike(x *parser.Like, s *scope) (*expr, error) {
	v, err := b.bindExpr(x.X, s)
	if err != nil {
		return nil, err
	}
	p, err := b.bindExpr(x.Pattern, s)
	if err != nil {
		return nil, err
	}
	esc := constExpr(Null(KindVarchar), TypeVarchar)
	if x.Escape != nil {
		if esc, err = b.bindExpr(x.Escape, s); err != nil {
			return nil, err
		}
	}
	for _, e := range []*expr{v, p, esc} {
		if e.typ.Kind != KindVarchar && e.typ.Kind != KindUnknown {
			return nil, validationf(x.Line, x.Col, "LIKE cannot be applied to %s", e.typ)
		}
	}
	not := x.Not
	var cached *likeMatcher
	if p.konst && esc.konst && !p.val.Null {
		m, err := compileLike(p.val.S, esc.val)
		if err != nil {
			return nil, err
		}
		cached = m
	}
	return derived(TypeBoolean, []*expr{v, p, esc}, func(row []Value) (Value, error) {
		a, err := v.eval(row)
		if err != nil || a.Null {
			return Null(KindBoolean), err
		}
		m := cached
		if m == nil {
			pv, err := p.eval(row)
			if err != nil || pv.Null {
				return Null(KindBoolean), err
			}
			ev, err := esc.eval(row)
			if err != nil {
				return ev, err
			}
			if m, err = compileLike(pv.S, ev); err != nil {
				return Value{}, err
			}
		}
		return boolValue(m.match(a.S) != not), nil
	})
}
