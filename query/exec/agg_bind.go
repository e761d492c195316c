package exec

// Binding an aggregate call: arguments, arity, FILTER and result type.

import (
	"strings"

	"github.com/tidaldb/tidal/query/parser"
)

// aggCall is one bound aggregate call of a query.
type aggCall struct {
	text     string
	name     string
	def      *aggDef
	args     []*expr
	argTypes []Type
	distinct bool
	filter   *expr
	typ      Type
	consts   []Value // constant extra arguments (percentile, weight...)
	// arms, when set, are the measure names of a first argument shaped
	// CASE WHEN measure_name = 'x' THEN ... [ELSE NULL] END: the argument
	// is NULL on every row of any other measure. armCol is the input
	// column the conditions compare.
	arms   []string
	armCol int
}

func (b *binder) bindAggCall(c *parser.Call, in *scope) (*aggCall, error) {
	name := strings.ToLower(c.Name.Parts[0].Value)
	def := aggDefs[name]
	call := &aggCall{text: parser.Format(c), name: name, def: def, distinct: c.Distinct}
	if c.Star {
		if name != "count" {
			return nil, validationf(c.Line, c.Col, "%s(*) is not allowed", name)
		}
	} else {
		for _, a := range c.Args {
			if containsAgg(a) {
				p := a.Position()
				return nil, validationf(p.Line, p.Col, "Cannot nest aggregations inside aggregation '%s'", name)
			}
			e, err := b.bindExpr(a, in)
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, e)
			call.argTypes = append(call.argTypes, e.typ)
		}
	}
	if !c.Star && (len(call.args) < def.minArgs || len(call.args) > def.maxArgs) {
		return nil, validationf(c.Line, c.Col, "Function %s does not accept %d arguments", name, len(call.args))
	}
	if c.Filter != nil {
		f, err := b.bindExpr(c.Filter, in)
		if err != nil {
			return nil, err
		}
		if call.filter, err = b.expectBool(f); err != nil {
			return nil, err
		}
	}
	t, err := def.typ(call.argTypes)
	if err != nil {
		return nil, validationf(c.Line, c.Col, "Unexpected parameters (%s) for function %s: %v", typeList(call.argTypes), name, err)
	}
	call.typ = t
	if len(c.Args) > 0 {
		call.arms, call.armCol = b.measureArms(c.Args[0], in)
	}
	for _, a := range call.args[min(1, len(call.args)):] {
		if a.konst {
			call.consts = append(call.consts, a.val)
		}
	}
	return call, nil
}

func typeList(ts []Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// measureArms recognises e as CASE WHEN c = 'x' THEN ... [WHEN c = 'y'
// THEN ...] [ELSE NULL] END (or CASE c WHEN 'x' THEN ... END) over one
// column c of in, and returns the constants and c; nil when e has another
// shape. Such an expression is NULL on every row whose c is none of them.
func (b *binder) measureArms(e parser.Expr, in *scope) ([]string, int) {
	cs, ok := e.(*parser.Case)
	if !ok || len(cs.Whens) == 0 {
		return nil, -1
	}
	if cs.Else != nil {
		k, ok := b.constOf(cs.Else)
		if !ok || !k.val.Null {
			return nil, -1
		}
	}
	colOf := func(x parser.Expr) int {
		id, ok := x.(*parser.Ident)
		if !ok {
			return -1
		}
		return in.find(id.Parts)
	}
	str := func(x parser.Expr) (string, bool) {
		k, ok := b.constOf(x)
		if !ok || k.typ.Kind != KindVarchar || k.val.Null {
			return "", false
		}
		return k.val.S, true
	}
	col := -1
	if cs.Operand != nil {
		col = colOf(cs.Operand)
		if col < 0 {
			return nil, -1
		}
	}
	var vals []string
	for _, w := range cs.Whens {
		x := w.Cond
		if cs.Operand == nil {
			eq, ok := w.Cond.(*parser.Binary)
			if !ok || eq.Op != parser.OpEQ {
				return nil, -1
			}
			c, x0 := colOf(eq.L), eq.R
			if c < 0 {
				c, x0 = colOf(eq.R), eq.L
			}
			if c < 0 || (col >= 0 && c != col) {
				return nil, -1
			}
			col, x = c, x0
		}
		v, ok := str(x)
		if !ok {
			return nil, -1
		}
		vals = append(vals, v)
	}
	return vals, col
}
