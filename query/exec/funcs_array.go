package exec

import (
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/tidaldb/tidal/query/parser"
)

func elemType(t Type) Type {
	if t.Elem != nil {
		return *t.Elem
	}
	return TypeUnknown
}

// arrayFn registers a strict function whose first argument is an array.
func arrayFn(name string, n int, ret func(args []Type) (Type, bool), fn func(a []Value) (Value, error)) {
	funcs[name] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) != n || (args[0].typ.Kind != KindArray && args[0].typ.Kind != KindUnknown) {
			return nil, argErr(name, args, pos)
		}
		ts := make([]Type, len(args))
		for i, a := range args {
			ts[i] = a.typ
		}
		t, ok := ret(ts)
		if !ok {
			return nil, argErr(name, args, pos)
		}
		return strict(t, args, fn)
	}}
}

func retElem(ts []Type) (Type, bool) { return elemType(ts[0]), true }
func retSame(ts []Type) (Type, bool) { return ts[0], true }
func ret(t Type) func([]Type) (Type, bool) {
	return func([]Type) (Type, bool) { return t, true }
}

func indexOf(elems []Value, v Value) int {
	for i, e := range elems {
		if !e.Null && compareValues(e, v) == 0 {
			return i
		}
	}
	return -1
}

func distinctValues(elems []Value) []Value {
	var out []Value
	seen := map[string]bool{}
	for _, e := range elems {
		k := string(appendKey(nil, e))
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

func bindArrayConcat(args []*expr, pos parser.Pos) (*expr, error) {
	args, t, err := commonArgs("concat", args, pos)
	if err != nil {
		return nil, err
	}
	return strict(t, args, func(a []Value) (Value, error) {
		var out []Value
		for _, v := range a {
			out = append(out, v.Elems...)
		}
		return Value{Kind: KindArray, Elems: out}, nil
	})
}

func registerArrayFuncs() {
	arrayFn("cardinality", 1, ret(TypeBigint), func(a []Value) (Value, error) { return Bigint(int64(len(a[0].Elems))), nil })
	arrayFn("element_at", 2, retElem, func(a []Value) (Value, error) {
		n := int64(len(a[0].Elems))
		i := a[1].I
		if i < 0 {
			i = n + i + 1
		}
		if i == 0 && a[1].I == 0 {
			return Value{}, errorf(ErrExecution, "SQL array indices start at 1")
		}
		if i < 1 || i > n {
			return Null(KindUnknown), nil
		}
		return a[0].Elems[i-1], nil
	})
	arrayFn("contains", 2, ret(TypeBoolean), func(a []Value) (Value, error) { return Boolean(indexOf(a[0].Elems, a[1]) >= 0), nil })
	arrayFn("array_position", 2, ret(TypeBigint), func(a []Value) (Value, error) { return Bigint(int64(indexOf(a[0].Elems, a[1]) + 1)), nil })
	arrayFn("array_distinct", 1, retSame, func(a []Value) (Value, error) {
		return Value{Kind: KindArray, Elems: distinctValues(a[0].Elems)}, nil
	})
	arrayFn("array_remove", 2, retSame, func(a []Value) (Value, error) {
		var out []Value
		for _, e := range a[0].Elems {
			if e.Null || compareValues(e, a[1]) != 0 {
				out = append(out, e)
			}
		}
		return Value{Kind: KindArray, Elems: out}, nil
	})
	arrayFn("array_sort", 1, retSame, func(a []Value) (Value, error) {
		out := slices.Clone(a[0].Elems)
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Null || out[j].Null {
				return !out[i].Null && out[j].Null
			}
			return compareValues(out[i], out[j]) < 0
		})
		return Value{Kind: KindArray, Elems: out}, nil
	})
	extreme := func(max bool) func(a []Value) (Value, error) {
		return func(a []Value) (Value, error) {
			var best Value
			best.Null = true
			for i, e := range a[0].Elems {
				if e.Null {
					return e, nil
				}
				if i == 0 || (max && compareValues(e, best) > 0) || (!max && compareValues(e, best) < 0) {
					best = e
				}
			}
			return best, nil
		}
	}
	arrayFn("array_max", 1, retElem, extreme(true))
	arrayFn("array_min", 1, retElem, extreme(false))
	setOp := func(name string, keep func(inB bool) bool) {
		arrayFn(name, 2, retSame, func(a []Value) (Value, error) {
			var out []Value
			for _, e := range distinctValues(a[0].Elems) {
				if keep(indexOf(a[1].Elems, e) >= 0) {
					out = append(out, e)
				}
			}
			return Value{Kind: KindArray, Elems: out}, nil
		})
	}
	setOp("array_intersect", func(in bool) bool { return in })
	setOp("array_except", func(in bool) bool { return !in })
	arrayFn("array_union", 2, retSame, func(a []Value) (Value, error) {
		return Value{Kind: KindArray, Elems: distinctValues(append(slices.Clone(a[0].Elems), a[1].Elems...))}, nil
	})
	arrayFn("arrays_overlap", 2, ret(TypeBoolean), func(a []Value) (Value, error) {
		for _, e := range a[0].Elems {
			if indexOf(a[1].Elems, e) >= 0 {
				return Boolean(true), nil
			}
		}
		return Boolean(false), nil
	})
	join := func(a []Value) (Value, error) {
		var s []byte
		first := true
		for _, e := range a[0].Elems {
			if e.Null {
				if len(a) < 3 {
					continue
				}
				e = a[2]
			}
			if !first {
				s = append(s, a[1].S...)
			}
			first = false
			s = append(s, e.String()...)
		}
		return Varchar(string(s)), nil
	}
	funcs["array_join"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if (len(args) != 2 && len(args) != 3) || args[0].typ.Kind != KindArray {
			return nil, argErr("array_join", args, pos)
		}
		return strict(TypeVarchar, args, join)
	}}
	arrayFn("flatten", 1, func(ts []Type) (Type, bool) { return elemType(ts[0]), elemType(ts[0]).Kind == KindArray }, func(a []Value) (Value, error) {
		var out []Value
		for _, e := range a[0].Elems {
			out = append(out, e.Elems...)
		}
		return Value{Kind: KindArray, Elems: out}, nil
	})
	arrayFn("slice", 3, retSame, func(a []Value) (Value, error) {
		n := int64(len(a[0].Elems))
		s, l := a[1].I, a[2].I
		if s == 0 {
			return Value{}, errorf(ErrExecution, "SQL array indices start at 1")
		}
		if l < 0 {
			return Value{}, errorf(ErrExecution, "Length must be greater than or equal to 0")
		}
		if s < 0 {
			s = n + s + 1
		}
		if s < 1 || s > n {
			return Value{Kind: KindArray, Elems: []Value{}}, nil
		}
		e := min(n, s-1+l)
		return Value{Kind: KindArray, Elems: slices.Clone(a[0].Elems[s-1 : e])}, nil
	})
	arrayFn("shuffle", 1, retSame, func(a []Value) (Value, error) {
		out := slices.Clone(a[0].Elems)
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return Value{Kind: KindArray, Elems: out}, nil
	})
	arrayFn("ngrams", 2, func(ts []Type) (Type, bool) { return ArrayOf(ts[0]), true }, func(a []Value) (Value, error) {
		n := a[1].I
		if n <= 0 {
			return Value{}, errorf(ErrExecution, "N must be positive")
		}
		el := a[0].Elems
		if int64(len(el)) <= n {
			return Value{Kind: KindArray, Elems: []Value{a[0]}}, nil
		}
		var out []Value
		for i := 0; int64(i)+n <= int64(len(el)); i++ {
			out = append(out, Value{Kind: KindArray, Elems: slices.Clone(el[i : int64(i)+n])})
		}
		return Value{Kind: KindArray, Elems: out}, nil
	})
	funcs["repeat"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) != 2 || !isIntLike(args[1].typ.Kind) {
			return nil, argErr("repeat", args, pos)
		}
		return lenient(ArrayOf(args[0].typ), args, func(a []Value) (Value, error) {
			if a[1].Null {
				return Null(KindArray), nil
			}
			if a[1].I < 0 || a[1].I > 10000 {
				return Value{}, errorf(ErrExecution, "count argument of repeat function must be between 0 and 10000")
			}
			out := make([]Value, a[1].I)
			for i := range out {
				out[i] = a[0]
			}
			return Value{Kind: KindArray, Elems: out}, nil
		})
	}}
	funcs["sequence"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) < 2 || len(args) > 3 {
			return nil, argErr("sequence", args, pos)
		}
		k := args[0].typ.Kind
		switch {
		case isIntLike(k) && k != KindTimestamp && k != KindDate:
			if len(args) == 2 {
				args = append(args, constExpr(Bigint(1), TypeBigint))
			}
			return strict(ArrayOf(TypeBigint), args, func(a []Value) (Value, error) { return sequence(KindBigint, a[0].I, a[1].I, a[2].I) })
		case k == KindTimestamp || k == KindDate:
			if len(args) == 2 {
				args = append(args, constExpr(intervalDS(86400e9), TypeIntervalDS))
			}
			var err error
			if args[1], err = coerce(args[1], args[0].typ); err != nil {
				return nil, err
			}
			if args[2].typ.Kind != KindIntervalDayToSecond {
				return nil, argErr("sequence", args, pos)
			}
			return strict(ArrayOf(args[0].typ), args, func(a []Value) (Value, error) {
				scale := int64(1)
				if k == KindDate {
					scale = 86400e9
				}
				v, err := sequence(KindTimestamp, a[0].I*scale, a[1].I*scale, a[2].I)
				if k == KindDate {
					for i := range v.Elems {
						v.Elems[i] = Value{Kind: KindDate, I: v.Elems[i].I / scale}
					}
				}
				return v, err
			})
		}
		return nil, argErr("sequence", args, pos)
	}}
	funcs["zip"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		var fields []Field
		for i, a := range args {
			if a.typ.Kind != KindArray {
				return nil, argErr("zip", args, pos)
			}
			fields = append(fields, Field{Name: "field" + string(rune('0'+i)), Type: elemType(a.typ)})
		}
		return strict(ArrayOf(Type{Kind: KindRow, Fields: fields}), args, func(a []Value) (Value, error) {
			n := 0
			for _, v := range a {
				n = max(n, len(v.Elems))
			}
			out := make([]Value, n)
			for i := range out {
				r := make([]Value, len(a))
				for j, v := range a {
					if i < len(v.Elems) {
						r[j] = v.Elems[i]
					} else {
						r[j] = Null(fields[j].Type.Kind)
					}
				}
				out[i] = Value{Kind: KindRow, Elems: r}
			}
			return Value{Kind: KindArray, Elems: out}, nil
		})
	}}
	// Lambdas over arrays and time series.
	funcs["transform"] = funcDef{hof: func(b *binder, c *parser.Call, s *scope) (*expr, error) {
		return b.bindHOF(c, s, "transform")
	}}
	funcs["filter"] = funcDef{hof: func(b *binder, c *parser.Call, s *scope) (*expr, error) {
		return b.bindHOF(c, s, "filter")
	}}
	funcs["reduce"] = funcDef{hof: func(b *binder, c *parser.Call, s *scope) (*expr, error) {
		return b.bindHOF(c, s, "reduce")
	}}
	funcs["zip_with"] = funcDef{hof: func(b *binder, c *parser.Call, s *scope) (*expr, error) {
		return b.bindHOF(c, s, "zip_with")
	}}
	funcs["any_match"] = funcDef{hof: func(b *binder, c *parser.Call, s *scope) (*expr, error) { return b.bindHOF(c, s, "any_match") }}
	funcs["all_match"] = funcDef{hof: func(b *binder, c *parser.Call, s *scope) (*expr, error) { return b.bindHOF(c, s, "all_match") }}
}

const maxSequence = 10000

func sequence(k Kind, start, stop, step int64) (Value, error) {
	if step == 0 || (step > 0 && start > stop) || (step < 0 && start < stop) {
		if start == stop {
			return Value{Kind: KindArray, Elems: []Value{{Kind: k, I: start}}}, nil
		}
		return Value{}, errorf(ErrExecution, "sequence step must move from start to stop")
	}
	n := (stop-start)/step + 1
	if n > maxSequence || n < 0 {
		return Value{}, errorf(ErrExecution, "result of sequence function must not have more than %d entries", maxSequence)
	}
	out := make([]Value, n)
	for i := range out {
		out[i] = Value{Kind: k, I: start + int64(i)*step}
	}
	return Value{Kind: KindArray, Elems: out}, nil
}

// pointRow is the row(time, value) a lambda sees for a time series point.
func pointRowType(t Type) Type {
	return Type{Kind: KindRow, Fields: []Field{{Name: "time", Type: TypeTimestamp}, {Name: "value", Type: elemType(t)}}}
}

// bindHOF binds transform, filter, reduce, zip_with, any_match and
// all_match over arrays and time series.
func (b *binder) bindHOF(c *parser.Call, s *scope, name string) (*expr, error) {
	nargs := map[string]int{"transform": 2, "filter": 2, "reduce": 4, "zip_with": 3, "any_match": 2, "all_match": 2}[name]
	if len(c.Args) != nargs && !(name == "reduce" && len(c.Args) == 3) {
		return nil, validationf(c.Line, c.Col, "Function %s expects %d arguments", name, nargs)
	}
	src, err := b.bindExpr(c.Args[0], s)
	if err != nil {
		return nil, err
	}
	series := src.typ.Kind == KindTimeSeries
	if src.typ.Kind != KindArray && !series {
		return nil, validationf(c.Line, c.Col, "Function %s expects an array or a timeseries, got %s", name, src.typ)
	}
	et := elemType(src.typ)
	if series {
		et = pointRowType(src.typ)
	}
	elemOf := func(v Value, i int) Value {
		if series {
			p := v.Points[i]
			return Value{Kind: KindRow, Elems: []Value{Timestamp(p.Time), p.Value}}
		}
		return v.Elems[i]
	}
	count := func(v Value) int {
		if series {
			return len(v.Points)
		}
		return len(v.Elems)
	}
	switch name {
	case "transform", "filter", "any_match", "all_match":
		fn, err := b.bindLambda(c.Args[1], []Type{et})
		if err != nil {
			return nil, err
		}
		if name != "transform" && fn.typ.Kind != KindBoolean && fn.typ.Kind != KindUnknown {
			return nil, validationf(c.Line, c.Col, "Lambda of %s must return boolean", name)
		}
		rt := ArrayOf(fn.typ)
		switch {
		case name == "filter":
			rt = src.typ
		case name == "any_match" || name == "all_match":
			rt = TypeBoolean
		case series:
			rt = TimeSeriesOf(fn.typ)
		}
		return strict(rt, []*expr{src}, func(a []Value) (Value, error) {
			v := a[0]
			var elems []Value
			var pts []Point
			arg := make([]Value, 1)
			for i := range count(v) {
				arg[0] = elemOf(v, i)
				r, err := fn.eval(arg)
				if err != nil {
					return r, err
				}
				switch name {
				case "transform":
					if series {
						pts = append(pts, Point{Time: v.Points[i].Time, Value: r})
					} else {
						elems = append(elems, r)
					}
				case "filter":
					if !r.Null && r.B {
						if series {
							pts = append(pts, v.Points[i])
						} else {
							elems = append(elems, v.Elems[i])
						}
					}
				case "any_match":
					if !r.Null && r.B {
						return Boolean(true), nil
					}
				case "all_match":
					if r.Null || !r.B {
						return Boolean(false), nil
					}
				}
			}
			switch name {
			case "any_match":
				return Boolean(false), nil
			case "all_match":
				return Boolean(true), nil
			}
			if series {
				return Value{Kind: KindTimeSeries, Points: pts}, nil
			}
			if elems == nil {
				elems = []Value{}
			}
			return Value{Kind: KindArray, Elems: elems}, nil
		})
	case "zip_with":
		other, err := b.bindExpr(c.Args[1], s)
		if err != nil {
			return nil, err
		}
		if other.typ.Kind != KindArray || series {
			return nil, validationf(c.Line, c.Col, "zip_with expects two arrays")
		}
		fn, err := b.bindLambda(c.Args[2], []Type{et, elemType(other.typ)})
		if err != nil {
			return nil, err
		}
		return strict(ArrayOf(fn.typ), []*expr{src, other}, func(a []Value) (Value, error) {
			n := max(len(a[0].Elems), len(a[1].Elems))
			out := make([]Value, n)
			arg := make([]Value, 2)
			for i := range n {
				for j := range 2 {
					if i < len(a[j].Elems) {
						arg[j] = a[j].Elems[i]
					} else {
						arg[j] = Null(KindUnknown)
					}
				}
				r, err := fn.eval(arg)
				if err != nil {
					return r, err
				}
				out[i] = r
			}
			return Value{Kind: KindArray, Elems: out}, nil
		})
	}
	// reduce(src, init, (s, x) -> s', s -> r)
	init, err := b.bindExpr(c.Args[1], s)
	if err != nil {
		return nil, err
	}
	st := init.typ
	if st.Kind == KindBigint {
		// Let a BIGINT start accumulate doubles.
		if probe, err := b.bindLambda(c.Args[2], []Type{st, et}); err == nil && probe.typ.Kind == KindDouble {
			st = TypeDouble
		}
	}
	step, err := b.bindLambda(c.Args[2], []Type{st, et})
	if err != nil {
		return nil, err
	}
	var fin *expr
	rt := st
	if len(c.Args) == 4 {
		if fin, err = b.bindLambda(c.Args[3], []Type{st}); err != nil {
			return nil, err
		}
		rt = fin.typ
	}
	return derived(rt, []*expr{src, init}, func(row []Value) (Value, error) {
		v, err := src.eval(row)
		if err != nil || v.Null {
			return Null(rt.Kind), err
		}
		acc, err := init.eval(row)
		if err != nil {
			return acc, err
		}
		acc = coerceValue(acc, st)
		arg := make([]Value, 2)
		for i := range count(v) {
			arg[0], arg[1] = acc, elemOf(v, i)
			if acc, err = step.eval(arg); err != nil {
				return acc, err
			}
			acc = coerceValue(acc, st)
		}
		if fin != nil {
			return fin.eval([]Value{acc})
		}
		return acc, nil
	})
}
