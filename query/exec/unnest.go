package exec

import (
	"slices"

	"github.com/tidaldb/tidal/query/parser"
)

// unnestNode expands arrays and time series into rows, next to the columns
// of its child (CROSS JOIN UNNEST).
type unnestNode struct {
	child   node
	args    []*expr
	widths  []int // output columns per argument
	ordinal bool
	cols    []colRef
}

func (n *unnestNode) columns() []colRef { return n.cols }

func (b *binder) bindUnnest(u *parser.Unnest, child node, s *scope) (node, error) {
	if child == nil {
		child = &rowsNode{rows: [][]Value{{}}}
		s = &scope{}
	}
	n := &unnestNode{child: child, ordinal: u.WithOrdinality, cols: slices.Clone(child.columns())}
	var names []parser.Name
	qual := ""
	if u.Alias != nil {
		names = u.Alias.Columns
		qual = u.Alias.Name.Value
	}
	var newCols []colRef
	for _, a := range u.Args {
		e, err := b.bindExpr(a, s)
		if err != nil {
			return nil, err
		}
		switch e.typ.Kind {
		case KindArray:
			et := elemType(e.typ)
			if et.Kind == KindRow {
				for _, f := range et.Fields {
					newCols = append(newCols, colRef{qual: qual, name: f.Name, typ: f.Type})
				}
				n.widths = append(n.widths, len(et.Fields))
			} else {
				newCols = append(newCols, colRef{qual: qual, name: "_col" + itoa(len(newCols)), typ: et})
				n.widths = append(n.widths, 1)
			}
		case KindTimeSeries:
			newCols = append(newCols, colRef{qual: qual, name: "time", typ: TypeTimestamp}, colRef{qual: qual, name: "value", typ: elemType(e.typ)})
			n.widths = append(n.widths, 2)
		default:
			return nil, validationf(u.Line, u.Col, "Cannot unnest type: %s", e.typ)
		}
		n.args = append(n.args, e)
	}
	if n.ordinal {
		newCols = append(newCols, colRef{qual: qual, name: "ordinality", typ: TypeBigint})
	}
	if len(names) > 0 {
		if len(names) != len(newCols) {
			return nil, validationf(u.Line, u.Col, "Column alias list has %d entries but UNNEST has %d columns", len(names), len(newCols))
		}
		for i := range newCols {
			newCols[i].name = names[i].Value
		}
	}
	n.cols = append(n.cols, newCols...)
	return n, nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func (n *unnestNode) run(q *qctx, emit func([]Value) error) error {
	base := len(n.child.columns())
	out := make([]Value, len(n.cols))
	vals := make([]Value, len(n.args))
	// One input row can expand to many rows (a lateral unnest over another
	// is a cross join): the context is checked every 4096 rows out.
	emitted := 0
	return n.child.run(q, func(r []Value) error {
		copy(out, r)
		rowsOut := 0
		for i, a := range n.args {
			v, err := a.eval(r)
			if err != nil {
				return err
			}
			vals[i] = v
			if !v.Null {
				rowsOut = max(rowsOut, len(v.Elems), len(v.Points))
			}
		}
		for k := range rowsOut {
			c := base
			for i, v := range vals {
				w := n.widths[i]
				switch {
				case v.Kind == KindTimeSeries && !v.Null && k < len(v.Points):
					out[c], out[c+1] = Timestamp(v.Points[k].Time), v.Points[k].Value
				case v.Kind == KindArray && !v.Null && k < len(v.Elems):
					e := v.Elems[k]
					if w == 1 && n.cols[c].typ.Kind != KindRow {
						out[c] = e
					} else if w == 1 {
						out[c] = e
					} else {
						for j := range w {
							if e.Null || j >= len(e.Elems) {
								out[c+j] = Null(n.cols[c+j].typ.Kind)
							} else {
								out[c+j] = e.Elems[j]
							}
						}
					}
				default:
					for j := range w {
						out[c+j] = Null(n.cols[c+j].typ.Kind)
					}
				}
				c += w
			}
			if n.ordinal {
				out[c] = Bigint(int64(k + 1))
			}
			if emitted++; emitted&4095 == 0 {
				if err := q.check(); err != nil {
					return err
				}
			}
			if err := emit(out); err != nil {
				return err
			}
		}
		return nil
	})
}
