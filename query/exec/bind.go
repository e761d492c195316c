package exec

import (
	"strconv"

	"github.com/tidaldb/tidal/query/parser"
)

// scope is what names resolve against while binding an expression.
type scope struct {
	cols  []colRef
	scans []*scanSlot // per column: the scan column it reads, for projection
	agg   *aggScope
	outer *scope
}

type scanSlot struct {
	n   *scanNode
	idx int
}

func newScope(n node) *scope {
	s := &scope{cols: n.columns()}
	s.scans = make([]*scanSlot, len(s.cols))
	fillSlots(n, s.scans, 0)
	return s
}

// fillSlots records which columns of n come straight from a scan.
func fillSlots(n node, slots []*scanSlot, off int) {
	switch x := n.(type) {
	case *scanNode:
		for i := range x.cols {
			slots[off+i] = &scanSlot{n: x, idx: i}
		}
	case *filterNode:
		fillSlots(x.child, slots, off)
	case *aliasNode:
		fillSlots(x.child, slots, off)
	case *joinNode:
		fillSlots(x.left, slots, off)
		fillSlots(x.right, slots, off+len(x.left.columns()))
	}
}

// starOrder lists the columns * expands to: all of them in order, except
// that an unqualified * over a JOIN ... USING shows the merged join
// columns first and not each side's copy (Trino's order).
func starOrder(cols []colRef, unqualified bool) []int {
	var merged, rest []int
	for i, c := range cols {
		switch {
		case unqualified && c.using == usingMerged:
			merged = append(merged, i)
		case unqualified && c.using == usingSide:
		default:
			rest = append(rest, i)
		}
	}
	return append(merged, rest...)
}

// aggScope binds expressions above a GROUP BY: group expressions and
// aggregate calls become columns of the aggregation's output.
type aggScope struct {
	input  *scope
	groups []groupKey
	aggs   []*aggCall
}

type groupKey struct {
	text string
	col  int
	e    *expr
}

// binder turns a parsed statement into a plan for one query.
type binder struct {
	q        *qctx
	ctes     []map[string]*parser.CTE
	params   []Param
	paramPos map[string]parser.Pos
	depth    int
	// corr is the stack of subqueries being bound, for outer references.
	corr []*corrCtx
	// windows collects the window calls of the SELECT being bound;
	// windowBase is where their columns start in the window node's rows.
	windows    *[]*windowCall
	windowBase *int
}

func (b *binder) lookupCTE(name parser.Name) (*parser.CTE, int) {
	for i := len(b.ctes) - 1; i >= 0; i-- {
		for k, c := range b.ctes[i] {
			if name.Matches(k) {
				return c, i
			}
		}
	}
	return nil, -1
}

// bindQuery plans a full query.
func (b *binder) bindQuery(qry *parser.Query, outer *scope) (node, error) {
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > 64 {
		return nil, validationf(qry.Line, qry.Col, "Query is nested too deeply")
	}
	if len(qry.With) > 0 {
		m := map[string]*parser.CTE{}
		for _, c := range qry.With {
			m[c.Name.Value] = c
		}
		b.ctes = append(b.ctes, m)
		defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
	}
	var n node
	var keys []sortKey
	visible := -1
	var err error
	if sel, ok := qry.Body.(*parser.Select); ok {
		n, keys, visible, err = b.bindSelect(sel, qry.OrderBy, outer)
		if err != nil {
			return nil, err
		}
	} else {
		if n, err = b.bindBody(qry.Body, outer); err != nil {
			return nil, err
		}
		cols := n.columns()
		for _, o := range qry.OrderBy {
			c, err := outputOrdinal(o.Expr, cols, nil)
			if err != nil {
				return nil, err
			}
			keys = append(keys, makeSortKey(c, o))
		}
	}
	offset, limit := int64(0), int64(-1)
	if qry.Offset != nil {
		if offset, err = b.constInt(qry.Offset, "OFFSET"); err != nil {
			return nil, err
		}
	}
	if qry.Limit != nil {
		if limit, err = b.constInt(qry.Limit, "LIMIT"); err != nil {
			return nil, err
		}
	}
	if len(keys) > 0 {
		keep := int64(-1)
		if limit >= 0 {
			keep = offset + limit
		}
		n = &sortNode{child: n, keys: keys, keep: keep}
	}
	if offset > 0 || limit >= 0 {
		n = &limitNode{child: n, offset: offset, limit: limit}
	}
	if visible >= 0 && visible < len(n.columns()) {
		n = &trimNode{child: n, n: visible}
	}
	return n, nil
}

func (b *binder) constInt(e parser.Expr, what string) (int64, error) {
	x, err := b.bindExpr(e, &scope{})
	if err != nil {
		return 0, err
	}
	if !x.konst || !isIntLike(x.typ.Kind) || x.val.Null || x.val.I < 0 {
		p := e.Position()
		return 0, validationf(p.Line, p.Col, "%s must be a non-negative integer constant", what)
	}
	return x.val.I, nil
}

func makeSortKey(col int, o *parser.OrderItem) sortKey {
	k := sortKey{col: col, desc: o.Order == parser.SortDesc}
	// Trino: NULLS LAST by default in both directions.
	k.nullsFirst = o.Nulls == parser.NullsFirst
	return k
}

// outputOrdinal resolves an ORDER BY item that names an output column: an
// ordinal or an output name. It returns -1 when e is neither and exprs is
// non-nil (the caller binds it as an expression).
func outputOrdinal(e parser.Expr, cols []colRef, names []string) (int, error) {
	p := e.Position()
	if l, ok := e.(*parser.Literal); ok && l.Kind == parser.LitInteger {
		i, err := strconv.Atoi(l.Value)
		if err != nil || i < 1 || i > len(cols) {
			return 0, validationf(p.Line, p.Col, "ORDER BY position %s is not in select list", l.Value)
		}
		return i - 1, nil
	}
	if id, ok := e.(*parser.Ident); ok && len(id.Parts) == 1 {
		for i, c := range cols {
			if names != nil && i >= len(names) {
				break
			}
			if id.Parts[0].Matches(c.name) {
				return i, nil
			}
		}
	}
	if names != nil {
		return -1, nil
	}
	return 0, validationf(p.Line, p.Col, "ORDER BY expression '%s' must name an output column", parser.Format(e))
}

func (b *binder) bindBody(body parser.QueryBody, outer *scope) (node, error) {
	switch x := body.(type) {
	case *parser.Query:
		return b.bindQuery(x, outer)
	case *parser.Select:
		n, _, _, err := b.bindSelect(x, nil, outer)
		return n, err
	case *parser.Values:
		return b.bindValues(x)
	case *parser.SetOperation:
		l, err := b.bindBody(x.Left, outer)
		if err != nil {
			return nil, err
		}
		r, err := b.bindBody(x.Right, outer)
		if err != nil {
			return nil, err
		}
		lc, rc := l.columns(), r.columns()
		if len(lc) != len(rc) {
			return nil, validationf(x.Line, x.Col, "%s query has different number of fields: %d, %d", setOpName(x.Op), len(lc), len(rc))
		}
		cols := make([]colRef, len(lc))
		for i := range lc {
			t, ok := commonType(lc[i].typ, rc[i].typ)
			if !ok {
				return nil, validationf(x.Line, x.Col, "column %d in %s query has incompatible types: %s, %s", i+1, setOpName(x.Op), lc[i].typ, rc[i].typ)
			}
			cols[i] = colRef{name: lc[i].name, typ: t}
		}
		return &setOpNode{op: int(x.Op), all: x.All, left: l, right: r, cols: cols}, nil
	}
	p := body.Position()
	return nil, validationf(p.Line, p.Col, "Unsupported query body")
}

func setOpName(op parser.SetOp) string {
	return [...]string{"UNION", "INTERSECT", "EXCEPT"}[op]
}

func (b *binder) bindValues(v *parser.Values) (node, error) {
	var rows [][]*expr
	var cols []colRef
	for ri, r := range v.Rows {
		var elems []parser.Expr
		if rc, ok := r.(*parser.RowCtor); ok {
			elems = rc.Elems
		} else {
			elems = []parser.Expr{r}
		}
		var row []*expr
		for _, e := range elems {
			x, err := b.bindExpr(e, &scope{})
			if err != nil {
				return nil, err
			}
			row = append(row, x)
		}
		if ri == 0 {
			for i, x := range row {
				cols = append(cols, colRef{name: "_col" + strconv.Itoa(i), typ: x.typ})
			}
		} else {
			if len(row) != len(cols) {
				return nil, validationf(v.Line, v.Col, "VALUES rows have different numbers of columns")
			}
			for i, x := range row {
				t, ok := commonType(cols[i].typ, x.typ)
				if !ok {
					return nil, validationf(v.Line, v.Col, "VALUES column %d has incompatible types: %s, %s", i+1, cols[i].typ, x.typ)
				}
				cols[i].typ = t
			}
		}
		rows = append(rows, row)
	}
	return &valuesNode{cols: cols, rows: rows}, nil
}

// ---- FROM ----

// aliasNode renames a relation's columns.
type aliasNode struct {
	child node
	cols  []colRef
}

func (n *aliasNode) columns() []colRef { return n.cols }

func (n *aliasNode) run(q *qctx, emit func([]Value) error) error { return n.child.run(q, emit) }

func applyAlias(n node, a *parser.Alias) (node, error) {
	if a == nil {
		return n, nil
	}
	cols := append([]colRef(nil), n.columns()...)
	if len(a.Columns) > 0 && len(a.Columns) != len(cols) {
		return nil, validationf(a.Line, a.Col, "Column alias list has %d entries but relation has %d columns", len(a.Columns), len(cols))
	}
	for i := range cols {
		cols[i].qual = a.Name.Value
		if len(a.Columns) > 0 {
			cols[i].name = a.Columns[i].Value
		}
	}
	return &aliasNode{child: n, cols: cols}, nil
}

func (b *binder) bindRelation(r parser.Relation, outer *scope) (node, error) {
	switch x := r.(type) {
	case *parser.Table:
		parts := x.Name.Parts
		if len(parts) == 1 {
			if c, level := b.lookupCTE(parts[0]); c != nil {
				saved := b.ctes
				b.ctes = append([]map[string]*parser.CTE(nil), saved[:level]...) // a CTE sees only earlier scopes
				if level < len(saved) {
					m := map[string]*parser.CTE{}
					for k, v := range saved[level] {
						if v != c {
							m[k] = v
						}
					}
					b.ctes = append(b.ctes, m)
				}
				n, err := b.bindQuery(c.Query, nil)
				b.ctes = saved
				if err != nil {
					return nil, err
				}
				alias := &parser.Alias{Name: c.Name, Columns: c.Columns}
				if x.Alias != nil {
					alias = &parser.Alias{Name: x.Alias.Name, Columns: c.Columns}
					if len(x.Alias.Columns) > 0 {
						alias.Columns = x.Alias.Columns
					}
				}
				return applyAlias(n, alias)
			}
			return nil, validationf(x.Line, x.Col, "Table %s does not exist or is not qualified with a database", parts[0].Value)
		}
		if len(parts) != 2 {
			return nil, validationf(x.Line, x.Col, "Invalid table name %s", parser.Format(x.Name))
		}
		if b.q.e.cat == nil {
			return nil, validationf(x.Line, x.Col, "Database %s does not exist", parts[0].Value)
		}
		t, err := b.q.e.cat.Table(parts[0].Value, parts[1].Value)
		if err != nil {
			return nil, validationf(x.Line, x.Col, "Table %s.%s does not exist", parts[0].Value, parts[1].Value)
		}
		qual := t.Name
		if x.Alias != nil {
			qual = x.Alias.Name.Value
		}
		n := newScanNode(t, qual)
		if x.Alias != nil && len(x.Alias.Columns) > 0 {
			return applyAlias(n, x.Alias)
		}
		return n, nil
	case *parser.SubqueryRelation:
		n, err := b.bindQuery(x.Query, nil)
		if err != nil {
			return nil, err
		}
		return applyAlias(n, x.Alias)
	case *parser.ParenRelation:
		n, err := b.bindRelation(x.Relation, outer)
		if err != nil {
			return nil, err
		}
		return applyAlias(n, x.Alias)
	case *parser.Join:
		return b.bindJoin(x, outer)
	case *parser.Unnest:
		return b.bindUnnest(x, nil, &scope{})
	}
	p := r.Position()
	return nil, validationf(p.Line, p.Col, "Unsupported relation")
}

func (b *binder) bindFrom(from []parser.Relation, outer *scope) (node, error) {
	if len(from) == 0 {
		return &rowsNode{rows: [][]Value{{}}}, nil
	}
	n, err := b.bindRelation(from[0], outer)
	if err != nil {
		return nil, err
	}
	for _, r := range from[1:] {
		if u, ok := r.(*parser.Unnest); ok {
			if n, err = b.bindUnnest(u, n, newScope(n)); err != nil {
				return nil, err
			}
			continue
		}
		right, err := b.bindRelation(r, outer)
		if err != nil {
			return nil, err
		}
		n = &joinNode{kind: parser.CrossJoin, left: n, right: right}
	}
	return n, nil
}

// ---- SELECT ----

type outItem struct {
	name string
	e    *expr
}

// bindSelect plans one SELECT block; keys are the ORDER BY keys over the
// returned node's columns, of which the first visible are the output.
func (b *binder) bindSelect(sel *parser.Select, orderBy []*parser.OrderItem, outer *scope) (node, []sortKey, int, error) {
	from, err := b.bindFrom(sel.From, outer)
	if err != nil {
		return nil, nil, 0, err
	}
	in := newScope(from)
	in.outer = outer
	savedW, savedB := b.windows, b.windowBase
	b.windows, b.windowBase = nil, nil
	defer func() { b.windows, b.windowBase = savedW, savedB }()
	if sel.Where != nil {
		if containsAgg(sel.Where) {
			p := sel.Where.Position()
			return nil, nil, 0, validationf(p.Line, p.Col, "WHERE clause cannot contain aggregations or window functions")
		}
		if from, err = b.bindWhere(from, in, sel.Where); err != nil {
			return nil, nil, 0, err
		}
	}
	// Expand the select list.
	type item struct {
		ast   parser.Expr
		name  string
		colIx int // star column, else -1
	}
	var items []item
	for _, it := range sel.Items {
		if it.Star {
			found := false
			for _, i := range starOrder(in.cols, it.StarOf == nil) {
				c := in.cols[i]
				if it.StarOf != nil && !in.qualMatches(c, it.StarOf.Parts) {
					continue
				}
				found = true
				items = append(items, item{name: c.name, colIx: i})
			}
			if !found && it.StarOf != nil {
				return nil, nil, 0, validationf(it.Line, it.Col, "Table '%s' not found", parser.Format(it.StarOf))
			}
			continue
		}
		name := ""
		if it.Alias != nil {
			name = it.Alias.Value
		} else if id, ok := it.Expr.(*parser.Ident); ok {
			name = id.Parts[len(id.Parts)-1].Value
		} else if fa, ok := it.Expr.(*parser.FieldAccess); ok {
			name = fa.Field.Value
		} else {
			name = "_col" + strconv.Itoa(len(items))
		}
		items = append(items, item{ast: it.Expr, name: name, colIx: -1})
	}
	hasAgg := sel.GroupBy != nil || (sel.Having != nil)
	for _, it := range items {
		if it.ast != nil && containsAgg(it.ast) {
			hasAgg = true
		}
	}
	for _, o := range orderBy {
		if containsAgg(o.Expr) {
			hasAgg = true
		}
	}
	b.windows, b.windowBase = &[]*windowCall{}, new(int)
	s := in
	if hasAgg {
		as := &aggScope{input: in}
		if sel.GroupBy != nil {
			for _, g := range sel.GroupBy.Elements {
				var exprs []parser.Expr
				switch g.Kind {
				case parser.GroupExpr:
					exprs = []parser.Expr{g.Expr}
				case parser.GroupEmpty:
				default:
					return nil, nil, 0, validationf(g.Line, g.Col, "ROLLUP, CUBE and GROUPING SETS are not supported")
				}
				for _, ge := range exprs {
					// Ordinals and select aliases.
					if l, ok := ge.(*parser.Literal); ok && l.Kind == parser.LitInteger {
						i, err := strconv.Atoi(l.Value)
						if err != nil || i < 1 || i > len(items) {
							return nil, nil, 0, validationf(l.Line, l.Col, "GROUP BY position %s is not in select list", l.Value)
						}
						if items[i-1].ast == nil {
							ge = &parser.Ident{Pos: l.Pos, Parts: []parser.Name{{Value: in.cols[items[i-1].colIx].name, Quoted: true}}}
							if err := b.addGroupCol(as, items[i-1].colIx, l.Pos); err != nil {
								return nil, nil, 0, err
							}
							continue
						}
						ge = items[i-1].ast
					} else if id, ok := ge.(*parser.Ident); ok && len(id.Parts) == 1 && in.find(id.Parts) < 0 {
						for _, it := range items {
							if it.ast != nil && id.Parts[0].Matches(it.name) {
								ge = it.ast
								break
							}
						}
					}
					if containsAgg(ge) {
						p := ge.Position()
						return nil, nil, 0, validationf(p.Line, p.Col, "GROUP BY clause cannot contain aggregations or window functions")
					}
					e, err := b.bindExpr(ge, in)
					if err != nil {
						return nil, nil, 0, err
					}
					as.groups = append(as.groups, groupKey{text: parser.Format(ge), col: e.col, e: e})
				}
			}
		}
		s = &scope{cols: in.cols, scans: in.scans, agg: as, outer: outer}
	}
	var outs []outItem
	for _, it := range items {
		var e *expr
		if it.ast == nil {
			if s.agg != nil {
				e, err = b.bindExpr(&parser.Ident{Parts: []parser.Name{{Value: in.cols[it.colIx].name, Quoted: true}}}, s)
				if err != nil {
					// Re-resolve by index: duplicate names across a join.
					if e = s.agg.groupByCol(it.colIx); e == nil {
						return nil, nil, 0, err
					}
				}
			} else {
				in.markUsed(it.colIx)
				e = colExpr(it.colIx, in.cols[it.colIx].typ)
			}
		} else {
			if e, err = b.bindExpr(it.ast, s); err != nil {
				return nil, nil, 0, err
			}
		}
		outs = append(outs, outItem{name: it.name, e: e})
	}
	var having *expr
	if sel.Having != nil {
		if having, err = b.bindExpr(sel.Having, s); err != nil {
			return nil, nil, 0, err
		}
		if having, err = b.expectBool(having); err != nil {
			return nil, nil, 0, err
		}
	}
	// ORDER BY: output columns first, then expressions as hidden columns.
	visible := len(outs)
	outCols := make([]colRef, len(outs))
	names := make([]string, len(outs))
	for i, o := range outs {
		outCols[i] = colRef{name: o.name, typ: o.e.typ}
		names[i] = o.name
	}
	var keys []sortKey
	for _, o := range orderBy {
		c, err := outputOrdinal(o.Expr, outCols, names)
		if err != nil {
			return nil, nil, 0, err
		}
		if c < 0 {
			e, err := b.bindExpr(o.Expr, s)
			if err != nil {
				return nil, nil, 0, err
			}
			if sel.Distinct {
				p := o.Expr.Position()
				return nil, nil, 0, validationf(p.Line, p.Col, "For SELECT DISTINCT, ORDER BY expressions must appear in select list")
			}
			c = len(outs)
			outs = append(outs, outItem{name: "$order" + strconv.Itoa(c), e: e})
		}
		keys = append(keys, makeSortKey(c, o))
	}
	n := from
	if s.agg != nil {
		n = b.newAggNode(from, s.agg)
		if having != nil {
			n = &filterNode{child: n, pred: having}
		}
	}
	cols := make([]colRef, len(outs))
	exprs := make([]*expr, len(outs))
	for i, o := range outs {
		cols[i] = colRef{name: o.name, typ: o.e.typ}
		exprs[i] = o.e
	}
	n, err = b.bindWindows(n, s, cols, exprs)
	if err != nil {
		return nil, nil, 0, err
	}
	if sel.Distinct {
		n = &distinctNode{child: n}
	}
	finishScans(from)
	return n, keys, visible, nil
}

func (a *aggScope) groupByCol(c int) *expr {
	for i, g := range a.groups {
		if g.col == c {
			return colExpr(i, g.e.typ)
		}
	}
	return nil
}

func (b *binder) addGroupCol(as *aggScope, c int, pos parser.Pos) error {
	as.input.markUsed(c)
	as.groups = append(as.groups, groupKey{text: "\x00col" + strconv.Itoa(c), col: c, e: colExpr(c, as.input.cols[c].typ)})
	return nil
}

// finishScans computes the projection of every scan under n.
func finishScans(n node) {
	switch x := n.(type) {
	case *scanNode:
		x.finish()
	case *filterNode:
		finishScans(x.child)
	case *aliasNode:
		finishScans(x.child)
	case *joinNode:
		finishScans(x.left)
		finishScans(x.right)
	case *unnestNode:
		finishScans(x.child)
	}
}

// ---- name resolution ----

func (s *scope) qualMatches(c colRef, quals []parser.Name) bool {
	if len(quals) == 0 {
		return true
	}
	return quals[len(quals)-1].Matches(c.qual)
}

// find returns the column an identifier names, -1 if none, -2 if
// ambiguous.
func (s *scope) find(parts []parser.Name) int {
	name := parts[len(parts)-1]
	quals := parts[:len(parts)-1]
	found := -1
	for i, c := range s.cols {
		if name.Matches(c.name) && s.qualMatches(c, quals) {
			if found >= 0 {
				return s.findMerged(name, quals)
			}
			found = i
		}
	}
	return found
}

// findMerged resolves a name that matches several columns when one of
// them is the merged column of a JOIN ... USING: -2 (ambiguous) otherwise.
func (s *scope) findMerged(name parser.Name, quals []parser.Name) int {
	found := -2
	for i, c := range s.cols {
		if c.using == usingMerged && name.Matches(c.name) && s.qualMatches(c, quals) {
			if found >= 0 {
				return -2
			}
			found = i
		}
	}
	return found
}

func (s *scope) markUsed(i int) {
	if i < len(s.scans) && s.scans[i] != nil {
		s.scans[i].n.used[s.scans[i].idx] = true
	}
}
