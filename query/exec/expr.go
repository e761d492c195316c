package exec

import (
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/tidaldb/tidal/query/parser"
)

// expr is a bound, typed expression compiled to a closure over a row of
// the input node. Constants are folded at bind time (konst).
type expr struct {
	typ   Type
	fn    func(row []Value) (Value, error)
	konst bool
	val   Value
	col   int   // input column for a plain column reference, else -1
	refs  []int // input columns the expression reads
	pos   parser.Pos
	// seriesOnly marks CASE conditions, and conjuncts of them, that read
	// only series columns.
	seriesOnly bool
	// and holds the operands of a bound AND.
	and []*expr
	// volatile marks expressions that must not be folded (rand()).
	volatile bool
	// cases keeps the arms of a searched CASE so that a scan can pick the
	// arm once per series when the conditions read only series columns.
	cases *caseParts
	// bin is set for bin(column, constant width).
	bin *binInfo
	// param names the parameter a Prepare placeholder stands for.
	param string
}

type binInfo struct {
	col   int
	width int64
}

type caseParts struct {
	conds, results []*expr
	els            *expr
}

func (e *expr) eval(row []Value) (Value, error) {
	if e.konst {
		return e.val, nil
	}
	return e.fn(row)
}

func constExpr(v Value, t Type) *expr {
	if v.Kind == KindUnknown && t.Kind != KindUnknown {
		v.Kind = t.Kind
	}
	return &expr{typ: t, konst: true, val: v, col: -1}
}

func colExpr(i int, t Type) *expr {
	return &expr{typ: t, col: i, refs: []int{i}, fn: func(row []Value) (Value, error) { return row[i], nil }}
}

// derived builds an expression over children, folding it when every child
// is constant.
func derived(t Type, children []*expr, fn func(row []Value) (Value, error)) (*expr, error) {
	e := &expr{typ: t, fn: fn, col: -1}
	allConst := true
	for _, c := range children {
		if c == nil {
			continue
		}
		e.refs = mergeRefs(e.refs, c.refs)
		if !c.konst || c.volatile {
			allConst = false
		}
		if c.volatile {
			e.volatile = true
		}
	}
	if allConst {
		v, err := fn(nil)
		if err != nil {
			// Leave it to run time, where TRY, CASE and empty inputs
			// decide whether the error surfaces.
			return e, nil //nolint:nilerr // see above
		}
		if v.Kind == KindUnknown && t.Kind != KindUnknown {
			v.Kind = t.Kind
		}
		e.konst, e.val = true, v
	}
	return e, nil
}

func mergeRefs(a, b []int) []int {
	for _, x := range b {
		found := false
		for _, y := range a {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			a = append(a, x)
		}
	}
	return a
}

// ---- coercion ----

// commonType is the type both a and b coerce to, Trino style.
func commonType(a, b Type) (Type, bool) {
	switch {
	case a.Kind == KindUnknown:
		return b, true
	case b.Kind == KindUnknown:
		return a, true
	case a.Kind == b.Kind && a.Kind != KindArray && a.Kind != KindRow && a.Kind != KindTimeSeries:
		return a, true
	case a.Equal(b):
		return a, true
	case isNumeric(a.Kind) && isNumeric(b.Kind):
		if a.Kind == KindDouble || b.Kind == KindDouble {
			return TypeDouble, true
		}
		return TypeBigint, true
	case a.Kind == KindTimestamp && b.Kind == KindDate, a.Kind == KindDate && b.Kind == KindTimestamp:
		return TypeTimestamp, true
	case (a.Kind == KindArray && b.Kind == KindArray) || (a.Kind == KindTimeSeries && b.Kind == KindTimeSeries):
		if a.Elem == nil || a.Elem.Kind == KindUnknown {
			return b, true
		}
		if b.Elem == nil || b.Elem.Kind == KindUnknown {
			return a, true
		}
		if t, ok := commonType(*a.Elem, *b.Elem); ok {
			return Type{Kind: a.Kind, Elem: &t}, true
		}
	}
	return Type{}, false
}

// coerce converts e to t where Trino would do so implicitly; string
// constants coerce to TIMESTAMP and DATE (Timestream's time literals).
func coerce(e *expr, t Type) (*expr, error) {
	if e.typ.Kind == t.Kind && (t.Kind != KindArray && t.Kind != KindTimeSeries || e.typ.Equal(t)) {
		return e, nil
	}
	if e.typ.Kind == KindUnknown {
		if e.konst {
			return constExpr(Null(t.Kind), t), nil
		}
		inner := e
		return derived(t, []*expr{e}, func(row []Value) (Value, error) {
			v, err := inner.eval(row)
			if err != nil {
				return v, err
			}
			return coerceValue(v, t), nil
		})
	}
	ok := false
	switch {
	case isNumeric(e.typ.Kind) && isNumeric(t.Kind):
		ok = true
	case e.typ.Kind == KindVarchar && e.konst && (t.Kind == KindTimestamp || t.Kind == KindDate || t.Kind == KindTime):
		v, err := castValue(e.val, t)
		if err != nil {
			return nil, validationf(e.pos.Line, e.pos.Col, "Cannot coerce '%s' to %s", e.val.S, t)
		}
		return constExpr(v, t), nil
	case e.typ.Kind == KindDate && t.Kind == KindTimestamp:
		ok = true
	case (e.typ.Kind == KindArray || e.typ.Kind == KindTimeSeries) && e.typ.Kind == t.Kind:
		ok = true
	}
	if !ok {
		return nil, validationf(e.pos.Line, e.pos.Col, "Cannot coerce %s to %s", e.typ, t)
	}
	inner := e
	return derived(t, []*expr{e}, func(row []Value) (Value, error) {
		v, err := inner.eval(row)
		if err != nil {
			return v, err
		}
		return coerceValue(v, t), nil
	})
}

// coerceValue converts v to type t for the implicit coercions of coerce.
func coerceValue(v Value, t Type) Value {
	if v.Kind == t.Kind && t.Kind != KindArray {
		return v
	}
	if v.Null {
		return Null(t.Kind)
	}
	switch t.Kind {
	case KindDouble:
		if isNumeric(v.Kind) {
			return Double(v.asFloat())
		}
	case KindBigint, KindInteger:
		if v.Kind == KindBigint || v.Kind == KindInteger {
			return Value{Kind: t.Kind, I: v.I}
		}
	case KindTimestamp:
		if v.Kind == KindDate {
			return Timestamp(v.I * 86400e9)
		}
	case KindArray:
		if v.Kind == KindArray && t.Elem != nil {
			out := make([]Value, len(v.Elems))
			for i, x := range v.Elems {
				out[i] = coerceValue(x, *t.Elem)
			}
			return Value{Kind: KindArray, Elems: out}
		}
	}
	return v
}

// ---- operators ----

func boolValue(b bool) Value { return Value{Kind: KindBoolean, B: b} }

func (b *binder) bindLogical(op parser.BinaryOp, l, r *expr, pos parser.Pos) (*expr, error) {
	var err error
	if l, err = b.expectBool(l); err != nil {
		return nil, err
	}
	if r, err = b.expectBool(r); err != nil {
		return nil, err
	}
	and := op == parser.OpAnd
	e, err := derived(TypeBoolean, []*expr{l, r}, func(row []Value) (Value, error) {
		x, err := l.eval(row)
		if err != nil {
			return x, err
		}
		if !x.Null && x.B != and { // FALSE AND _, TRUE OR _
			return boolValue(!and), nil
		}
		y, err := r.eval(row)
		if err != nil {
			return y, err
		}
		if !y.Null && y.B != and {
			return boolValue(!and), nil
		}
		if x.Null || y.Null {
			return Null(KindBoolean), nil
		}
		return boolValue(and), nil
	})
	if err == nil && and && !e.konst {
		e.and = []*expr{l, r}
	}
	return e, err
}

func (b *binder) expectBool(e *expr) (*expr, error) {
	if e.typ.Kind == KindBoolean {
		return e, nil
	}
	if e.typ.Kind == KindUnknown {
		return coerce(e, TypeBoolean)
	}
	return nil, validationf(e.pos.Line, e.pos.Col, "Value of logical expression must evaluate to a boolean (actual: %s)", e.typ)
}

// bindCompare binds l op r for a comparison operator.
func bindCompare(op parser.BinaryOp, l, r *expr, pos parser.Pos) (*expr, error) {
	// Timestream compares time with string literals.
	if l.typ.Kind == KindVarchar && l.konst && (r.typ.Kind == KindTimestamp || r.typ.Kind == KindDate) {
		var err error
		if l, err = coerce(l, r.typ); err != nil {
			return nil, err
		}
	}
	if r.typ.Kind == KindVarchar && r.konst && (l.typ.Kind == KindTimestamp || l.typ.Kind == KindDate) {
		var err error
		if r, err = coerce(r, l.typ); err != nil {
			return nil, err
		}
	}
	t, ok := commonType(l.typ, r.typ)
	if !ok {
		return nil, validationf(pos.Line, pos.Col, "'%s' cannot be applied to %s, %s", op, l.typ, r.typ)
	}
	var err error
	if !isNumeric(t.Kind) {
		if l, err = coerce(l, t); err != nil {
			return nil, err
		}
		if r, err = coerce(r, t); err != nil {
			return nil, err
		}
	}
	test := cmpTest(op)
	// Fast paths for the common shapes column op constant.
	if r.konst && !r.val.Null && l.col >= 0 && !l.konst {
		c, k := l.col, r.val
		switch {
		case l.typ.Kind == KindVarchar && k.Kind == KindVarchar && op == parser.OpEQ:
			s := k.S
			return derived(TypeBoolean, []*expr{l, r}, func(row []Value) (Value, error) {
				v := row[c]
				if v.Null {
					return Null(KindBoolean), nil
				}
				return boolValue(v.S == s), nil
			})
		case l.typ.Kind == KindDouble && isNumeric(k.Kind):
			f := k.asFloat()
			return derived(TypeBoolean, []*expr{l, r}, func(row []Value) (Value, error) {
				v := row[c]
				if v.Null {
					return Null(KindBoolean), nil
				}
				return boolValue(test(compareFloat(v.F, f))), nil
			})
		case isIntLike(l.typ.Kind) && isIntLike(k.Kind):
			i := k.I
			return derived(TypeBoolean, []*expr{l, r}, func(row []Value) (Value, error) {
				v := row[c]
				if v.Null {
					return Null(KindBoolean), nil
				}
				return boolValue(test(cmpInt(v.I, i))), nil
			})
		}
	}
	return derived(TypeBoolean, []*expr{l, r}, func(row []Value) (Value, error) {
		x, err := l.eval(row)
		if err != nil {
			return x, err
		}
		y, err := r.eval(row)
		if err != nil {
			return y, err
		}
		if x.Null || y.Null {
			return Null(KindBoolean), nil
		}
		if x.Kind == KindDouble && y.Kind == KindDouble && (math.IsNaN(x.F) || math.IsNaN(y.F)) {
			return boolValue(op == parser.OpNE), nil
		}
		return boolValue(test(compareValues(x, y))), nil
	})
}

func cmpTest(op parser.BinaryOp) func(int) bool {
	switch op {
	case parser.OpEQ:
		return func(c int) bool { return c == 0 }
	case parser.OpNE:
		return func(c int) bool { return c != 0 }
	case parser.OpLT:
		return func(c int) bool { return c < 0 }
	case parser.OpLE:
		return func(c int) bool { return c <= 0 }
	case parser.OpGT:
		return func(c int) bool { return c > 0 }
	}
	return func(c int) bool { return c >= 0 }
}

var errDivZero = &Error{Kind: ErrExecution, Msg: "Division by zero"}

func overflow(op string) error {
	return errorf(ErrExecution, "bigint %s overflow", op)
}

// bindArith binds l op r for + - * / %.
func bindArith(op parser.BinaryOp, l, r *expr, pos parser.Pos) (*expr, error) {
	lk, rk := l.typ.Kind, r.typ.Kind
	if lk == KindUnknown {
		lk = rk
	}
	if rk == KindUnknown {
		rk = lk
	}
	bad := func() (*expr, error) {
		return nil, validationf(pos.Line, pos.Col, "'%s' cannot be applied to %s, %s", op, l.typ, r.typ)
	}
	two := func(t Type, f func(x, y Value) (Value, error)) (*expr, error) {
		return derived(t, []*expr{l, r}, func(row []Value) (Value, error) {
			x, err := l.eval(row)
			if err != nil {
				return x, err
			}
			y, err := r.eval(row)
			if err != nil {
				return y, err
			}
			if x.Null || y.Null {
				return Null(t.Kind), nil
			}
			return f(x, y)
		})
	}
	switch {
	case isNumeric(lk) && isNumeric(rk):
		if lk == KindDouble || rk == KindDouble {
			return two(TypeDouble, func(x, y Value) (Value, error) {
				a, b := x.asFloat(), y.asFloat()
				switch op {
				case parser.OpAdd:
					return Double(a + b), nil
				case parser.OpSub:
					return Double(a - b), nil
				case parser.OpMul:
					return Double(a * b), nil
				case parser.OpDiv:
					return Double(a / b), nil
				}
				return Double(math.Mod(a, b)), nil
			})
		}
		return two(TypeBigint, func(x, y Value) (Value, error) { return intArith(op, x.I, y.I) })
	case lk == KindTimestamp && rk == KindIntervalDayToSecond && (op == parser.OpAdd || op == parser.OpSub),
		lk == KindIntervalDayToSecond && rk == KindTimestamp && op == parser.OpAdd:
		return two(TypeTimestamp, func(x, y Value) (Value, error) {
			if x.Kind == KindIntervalDayToSecond {
				x, y = y, x
			}
			v, err := intArith(op, x.I, y.I)
			v.Kind = KindTimestamp
			return v, err
		})
	case lk == KindDate && rk == KindIntervalDayToSecond && (op == parser.OpAdd || op == parser.OpSub):
		return two(TypeDate, func(x, y Value) (Value, error) {
			d := floorDiv(y.I, 86400e9)
			if op == parser.OpSub {
				d = -d
			}
			return Value{Kind: KindDate, I: x.I + d}, nil
		})
	case (lk == KindTimestamp || lk == KindDate) && rk == KindIntervalYearToMonth && (op == parser.OpAdd || op == parser.OpSub):
		return two(Type{Kind: lk}, func(x, y Value) (Value, error) {
			m := y.I
			if op == parser.OpSub {
				m = -m
			}
			return addMonths(x, m), nil
		})
	case lk == KindTimestamp && rk == KindTimestamp && op == parser.OpSub:
		return two(TypeIntervalDS, func(x, y Value) (Value, error) {
			v, err := intArith(op, x.I, y.I)
			v.Kind = KindIntervalDayToSecond
			return v, err
		})
	case lk == rk && (lk == KindIntervalDayToSecond || lk == KindIntervalYearToMonth) && (op == parser.OpAdd || op == parser.OpSub):
		return two(Type{Kind: lk}, func(x, y Value) (Value, error) {
			v, err := intArith(op, x.I, y.I)
			v.Kind = lk
			return v, err
		})
	case (lk == KindIntervalDayToSecond || lk == KindIntervalYearToMonth) && isNumeric(rk) && (op == parser.OpMul || op == parser.OpDiv):
		return two(Type{Kind: lk}, func(x, y Value) (Value, error) {
			f := y.asFloat()
			var r float64
			if op == parser.OpMul {
				r = float64(x.I) * f
			} else {
				if f == 0 {
					return Value{}, errDivZero
				}
				r = float64(x.I) / f
			}
			return Value{Kind: lk, I: int64(r)}, nil
		})
	}
	return bad()
}

func intArith(op parser.BinaryOp, a, b int64) (Value, error) {
	switch op {
	case parser.OpAdd:
		s := a + b
		if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
			return Value{}, overflow("addition")
		}
		return Bigint(s), nil
	case parser.OpSub:
		s := a - b
		if (a >= 0) != (b >= 0) && (s >= 0) != (a >= 0) {
			return Value{}, overflow("subtraction")
		}
		return Bigint(s), nil
	case parser.OpMul:
		hi, lo := bits.Mul64(uint64(absInt(a)), uint64(absInt(b)))
		neg := (a < 0) != (b < 0)
		if hi != 0 || lo > math.MaxInt64+boolU(neg) || a == math.MinInt64 && b != 1 && b != 0 || b == math.MinInt64 && a != 1 && a != 0 {
			return Value{}, overflow("multiplication")
		}
		return Bigint(a * b), nil
	case parser.OpDiv:
		if b == 0 {
			return Value{}, errDivZero
		}
		if a == math.MinInt64 && b == -1 {
			return Value{}, overflow("division")
		}
		return Bigint(a / b), nil
	}
	if b == 0 {
		return Value{}, errDivZero
	}
	if b == -1 {
		return Bigint(0), nil
	}
	return Bigint(a % b), nil
}

func absInt(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}

func boolU(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// ---- literals ----

func bindLiteral(l *parser.Literal) (*expr, error) {
	var e *expr
	switch l.Kind {
	case parser.LitString:
		e = constExpr(Varchar(l.Value), TypeVarchar)
	case parser.LitInteger:
		i, err := strconv.ParseInt(l.Value, 10, 64)
		if err != nil {
			return nil, validationf(l.Line, l.Col, "Invalid numeric literal: %s", l.Value)
		}
		e = constExpr(Bigint(i), TypeBigint)
	case parser.LitDecimal:
		f, err := strconv.ParseFloat(l.Value, 64)
		if err != nil {
			return nil, validationf(l.Line, l.Col, "Invalid numeric literal: %s", l.Value)
		}
		e = constExpr(Double(f), TypeDouble)
	case parser.LitTrue, parser.LitFalse:
		e = constExpr(Boolean(l.Kind == parser.LitTrue), TypeBoolean)
	case parser.LitNull:
		e = constExpr(Null(KindUnknown), TypeUnknown)
	case parser.LitTimestamp:
		ns, ok := parseTimestamp(l.Value)
		if !ok {
			return nil, validationf(l.Line, l.Col, "Value cannot be cast to timestamp: %s", l.Value)
		}
		e = constExpr(Timestamp(ns), TypeTimestamp)
	case parser.LitDate:
		d, ok := parseDate(l.Value)
		if !ok {
			return nil, validationf(l.Line, l.Col, "Value cannot be cast to date: %s", l.Value)
		}
		e = constExpr(Value{Kind: KindDate, I: d}, TypeDate)
	case parser.LitTime:
		ns, ok := parseTimeOfDay(l.Value)
		if !ok {
			return nil, validationf(l.Line, l.Col, "Value cannot be cast to time: %s", l.Value)
		}
		e = constExpr(Value{Kind: KindTime, I: ns}, TypeTime)
	default:
		return nil, validationf(l.Line, l.Col, "Unsupported literal")
	}
	e.pos = l.Pos
	return e, nil
}

var unitNanos = map[string]int64{"DAY": 86400e9, "HOUR": 3600e9, "MINUTE": 60e9, "SECOND": 1e9, "MILLISECOND": 1e6}

func bindInterval(iv *parser.Interval) (*expr, error) {
	bad := validationf(iv.Line, iv.Col, "Invalid INTERVAL literal '%s'", iv.Value)
	s := strings.TrimSpace(iv.Value)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	switch iv.From {
	case "YEAR", "MONTH":
		var months int64
		if iv.From == "YEAR" && iv.To == "MONTH" {
			y, m, ok := strings.Cut(s, "-")
			yi, err1 := strconv.ParseInt(y, 10, 64)
			mi, err2 := strconv.ParseInt(m, 10, 64)
			if !ok || err1 != nil || err2 != nil {
				return nil, bad
			}
			months = yi*12 + mi
		} else {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, bad
			}
			months = n
			if iv.From == "YEAR" {
				months *= 12
			}
		}
		if neg {
			months = -months
		}
		return constExpr(Value{Kind: KindIntervalYearToMonth, I: months}, TypeIntervalYM), nil
	}
	unit, ok := unitNanos[iv.From]
	if !ok {
		return nil, bad
	}
	var ns int64
	if iv.To == "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, bad
		}
		ns = int64(f * float64(unit))
	} else {
		// "D HH:MM:SS.fff" and its tails.
		var total float64
		fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ':' })
		units := []int64{86400e9, 3600e9, 60e9, 1e9}
		start := 0
		for i, n := range []string{"DAY", "HOUR", "MINUTE", "SECOND"} {
			if n == iv.From {
				start = i
			}
		}
		if len(fields) > len(units)-start {
			return nil, bad
		}
		for i, f := range fields {
			x, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, bad
			}
			total += x * float64(units[start+i])
		}
		ns = int64(total)
	}
	if neg {
		ns = -ns
	}
	return constExpr(intervalDS(ns), TypeIntervalDS), nil
}
