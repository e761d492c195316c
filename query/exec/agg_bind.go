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
