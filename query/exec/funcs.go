package exec

import (
	"strings"
	"sync"

	"github.com/tidaldb/tidal/query/parser"
)

// funcDef binds a scalar function call. Most functions are strict (NULL in,
// NULL out); bind receives bound arguments. hof binds higher-order
// functions whose arguments include lambdas.
type funcDef struct {
	bind func(b *binder, args []*expr, pos parser.Pos) (*expr, error)
	hof  func(b *binder, c *parser.Call, s *scope) (*expr, error)
}

var funcs map[string]funcDef

func argErr(name string, args []*expr, pos parser.Pos) error {
	ts := make([]Type, len(args))
	for i, a := range args {
		ts[i] = a.typ
	}
	return validationf(pos.Line, pos.Col, "Unexpected parameters (%s) for function %s", typeList(ts), name)
}

// strict builds a NULL-propagating call.
func strict(t Type, args []*expr, fn func(a []Value) (Value, error)) (*expr, error) {
	return derived(t, args, func(row []Value) (Value, error) {
		// The arguments escape into fn, so a local array would be a heap
		// allocation per call; a pooled one is not. fn must not keep a.
		buf := getArgs()
		defer putArgs(buf)
		vals := buf[:0]
		for _, a := range args {
			v, err := a.eval(row)
			if err != nil {
				return v, err
			}
			if v.Null {
				return Null(t.Kind), nil
			}
			vals = append(vals, v)
		}
		return fn(vals)
	})
}

var argsPool = sync.Pool{New: func() any { return new([4]Value) }}

// getArgs returns scratch space for the arguments of one call.
func getArgs() *[4]Value { return argsPool.Get().(*[4]Value) }

// putArgs clears buf, so that it holds no strings or slices, and pools it.
func putArgs(buf *[4]Value) {
	*buf = [4]Value{}
	argsPool.Put(buf)
}

// lenient builds a call that sees NULL arguments.
func lenient(t Type, args []*expr, fn func(a []Value) (Value, error)) (*expr, error) {
	return derived(t, args, func(row []Value) (Value, error) {
		vals := make([]Value, len(args))
		for i, a := range args {
			v, err := a.eval(row)
			if err != nil {
				return v, err
			}
			vals[i] = v
		}
		return fn(vals)
	})
}

type sig struct {
	args []Kind // KindUnknown: any
	ret  Type
	fn   func(a []Value) (Value, error)
}

// overloads picks the first signature whose argument kinds fit, coercing
// BIGINT to DOUBLE and string constants to time types where needed.
func overloads(name string, sigs ...sig) funcDef {
	return funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		for pass := 0; pass < 2; pass++ {
		next:
			for _, s := range sigs {
				if len(s.args) != len(args) {
					continue
				}
				conv := make([]*expr, len(args))
				for i, k := range s.args {
					a := args[i]
					switch {
					case k == KindUnknown || a.typ.Kind == k || a.typ.Kind == KindUnknown:
						conv[i] = a
						if a.typ.Kind == KindUnknown && k != KindUnknown {
							conv[i] = constExpr(Null(k), Type{Kind: k})
						}
					case pass == 1:
						c, err := coerce(a, Type{Kind: k})
						if err != nil {
							continue next
						}
						conv[i] = c
					default:
						continue next
					}
				}
				return strict(s.ret, conv, s.fn)
			}
		}
		return nil, argErr(name, args, pos)
	}}
}

func (b *binder) callFunc(name string, args []*expr, pos parser.Pos) (*expr, error) {
	f, ok := funcs[name]
	if !ok || f.bind == nil {
		return nil, validationf(pos.Line, pos.Col, "Function %s not registered", name)
	}
	return f.bind(b, args, pos)
}

func (b *binder) bindCall(c *parser.Call, s *scope) (*expr, error) {
	if c.Over != nil {
		return b.bindWindowCall(c, s)
	}
	name := strings.ToLower(c.Name.Parts[len(c.Name.Parts)-1].Value)
	if len(c.Name.Parts) != 1 {
		return nil, validationf(c.Line, c.Col, "Function %s not registered", parser.Format(c.Name))
	}
	if _, ok := aggDefs[name]; ok {
		return nil, validationf(c.Line, c.Col, "Aggregate function %s is not allowed here", name)
	}
	if c.Distinct || c.Filter != nil || c.Star {
		return nil, validationf(c.Line, c.Col, "DISTINCT, FILTER and * are only allowed in aggregate functions")
	}
	f, ok := funcs[name]
	if !ok {
		return nil, validationf(c.Line, c.Col, "Function %s not registered", name)
	}
	if f.hof != nil {
		return f.hof(b, c, s)
	}
	var args []*expr
	for _, a := range c.Args {
		e, err := b.bindExpr(a, s)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return f.bind(b, args, c.Pos)
}

// bindLambda binds a lambda whose parameters have the given types. The
// body sees only its parameters (and constants).
func (b *binder) bindLambda(a parser.Expr, params []Type) (*expr, error) {
	l, ok := a.(*parser.Lambda)
	p := a.Position()
	if !ok {
		return nil, validationf(p.Line, p.Col, "Expected a lambda expression")
	}
	if len(l.Params) != len(params) {
		return nil, validationf(p.Line, p.Col, "Lambda expects %d parameters, got %d", len(params), len(l.Params))
	}
	ls := &scope{}
	for i, n := range l.Params {
		ls.cols = append(ls.cols, colRef{name: n.Value, typ: params[i]})
	}
	ls.scans = make([]*scanSlot, len(ls.cols))
	return b.bindExpr(l.Body, ls)
}

func init() {
	funcs = map[string]funcDef{}
	registerTimeFuncs()
	registerScalarFuncs()
	registerArrayFuncs()
	registerSeriesFuncs()
}
