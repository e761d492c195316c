package parser

import (
	"strconv"
	"strings"
)

// Format prints a node as canonical SQL on one line: keywords upper-case,
// identifiers as written, parentheses only where precedence needs them,
// duration literals in their largest exact unit. For any statement s that
// Parse accepts, Parse(Format(s)) yields s again (positions aside).
func Format(n Node) string {
	var f formatter
	f.node(n)
	return f.b.String()
}

type formatter struct {
	b strings.Builder
}

func (f *formatter) s(s string) { f.b.WriteString(s) }

func (f *formatter) node(n Node) {
	switch n := n.(type) {
	case nil:
	case Statement:
		f.statement(n)
	case Expr:
		f.expr(n, precLambda)
	case QueryBody:
		f.body(n, 0)
	case Relation:
		f.relation(n)
	case *Type:
		f.typ(n)
	case *SelectItem:
		f.selectItem(n)
	case *OrderItem:
		f.orderItem(n)
	case *Window:
		f.window(n)
	case *GroupingElement:
		f.groupingElement(n)
	}
}

func (f *formatter) statement(st Statement) {
	switch st := st.(type) {
	case *Query:
		f.query(st)
	case *ShowDatabases:
		f.s("SHOW DATABASES")
		f.like(st.Like)
	case *ShowTables:
		f.s("SHOW TABLES")
		if st.From != nil {
			f.s(" FROM ")
			f.ident(st.From)
		}
		f.like(st.Like)
	case *ShowMeasures:
		f.s("SHOW MEASURES FROM ")
		f.ident(st.From)
		f.like(st.Like)
	case *Describe:
		f.s("DESCRIBE ")
		f.ident(st.Table)
	case *Unload:
		f.s("UNLOAD (")
		f.query(st.Query)
		f.s(") TO ")
		f.literal(st.To)
		if len(st.Options) > 0 {
			f.s(" WITH (")
			for i, o := range st.Options {
				if i > 0 {
					f.s(", ")
				}
				f.name(o.Name)
				f.s(" = ")
				f.expr(o.Value, precLambda)
			}
			f.s(")")
		}
	}
}

func (f *formatter) like(l *Literal) {
	if l != nil {
		f.s(" LIKE ")
		f.literal(l)
	}
}

// ---- queries ----

func (f *formatter) query(q *Query) {
	if q == nil {
		return
	}
	if len(q.With) > 0 {
		f.s("WITH ")
		for i, c := range q.With {
			if i > 0 {
				f.s(", ")
			}
			f.name(c.Name)
			if len(c.Columns) > 0 {
				f.nameList(c.Columns)
			}
			f.s(" AS (")
			f.query(c.Query)
			f.s(")")
		}
		f.s(" ")
	}
	f.body(q.Body, 0)
	if len(q.OrderBy) > 0 {
		f.s(" ORDER BY ")
		f.orderItems(q.OrderBy)
	}
	// OFFSET comes first (Trino's order) unless that would renumber ?
	// parameters written as LIMIT ? OFFSET ?.
	lp, lok := q.Limit.(*Param)
	op, ook := q.Offset.(*Param)
	if lok && ook && lp.Name == "" && op.Name == "" && lp.Index < op.Index {
		f.limit(q)
		f.offset(q)
		return
	}
	f.offset(q)
	f.limit(q)
}

func (f *formatter) offset(q *Query) {
	if q.Offset != nil {
		f.s(" OFFSET ")
		f.expr(q.Offset, precPrimary)
	}
}

func (f *formatter) limit(q *Query) {
	if q.LimitAll {
		f.s(" LIMIT ALL")
	} else if q.Limit != nil {
		f.s(" LIMIT ")
		f.expr(q.Limit, precPrimary)
	}
}

func setPrec(b QueryBody) int {
	if s, ok := b.(*SetOperation); ok {
		if s.Op == Intersect {
			return 2
		}
		return 1
	}
	return 3
}

// body prints a query body, parenthesised when its set-operator precedence
// is below min.
func (f *formatter) body(b QueryBody, min int) {
	if q, ok := b.(*Query); ok {
		f.s("(")
		f.query(q)
		f.s(")")
		return
	}
	if setPrec(b) < min {
		f.s("(")
		f.body(b, 0)
		f.s(")")
		return
	}
	switch b := b.(type) {
	case *Select:
		f.selectBody(b)
	case *Values:
		f.s("VALUES ")
		for i, r := range b.Rows {
			if i > 0 {
				f.s(", ")
			}
			if row, ok := r.(*RowCtor); ok && len(row.Elems) > 1 {
				f.s("(")
				f.exprs(row.Elems)
				f.s(")")
				continue
			}
			f.expr(r, precLambda)
		}
	case *SetOperation:
		p := setPrec(b)
		f.body(b.Left, p)
		f.s([...]string{" UNION ", " INTERSECT ", " EXCEPT "}[b.Op%3])
		if b.All {
			f.s("ALL ")
		} else if b.Distinct {
			f.s("DISTINCT ")
		}
		f.body(b.Right, p+1)
	}
}

func (f *formatter) selectBody(s *Select) {
	f.s("SELECT ")
	if s.Distinct {
		f.s("DISTINCT ")
	}
	for i, it := range s.Items {
		if i > 0 {
			f.s(", ")
		}
		f.selectItem(it)
	}
	if len(s.From) > 0 {
		f.s(" FROM ")
		for i, r := range s.From {
			if i > 0 {
				f.s(", ")
			}
			f.relation(r)
		}
	}
	if s.Where != nil {
		f.s(" WHERE ")
		f.expr(s.Where, precLambda)
	}
	if g := s.GroupBy; g != nil {
		f.s(" GROUP BY ")
		if g.All {
			f.s("ALL ")
		} else if g.Distinct {
			f.s("DISTINCT ")
		}
		for i, el := range g.Elements {
			if i > 0 {
				f.s(", ")
			}
			f.groupingElement(el)
		}
	}
	if s.Having != nil {
		f.s(" HAVING ")
		f.expr(s.Having, precLambda)
	}
}

func (f *formatter) selectItem(it *SelectItem) {
	switch {
	case it.Star && it.StarOf != nil:
		f.ident(it.StarOf)
		f.s(".*")
	case it.Star:
		f.s("*")
	default:
		f.expr(it.Expr, precLambda)
		if it.Alias != nil {
			f.s(" AS ")
			f.name(*it.Alias)
		}
	}
}

func (f *formatter) groupingElement(el *GroupingElement) {
	set := func(es []Expr) {
		f.s("(")
		f.exprs(es)
		f.s(")")
	}
	switch el.Kind {
	case GroupExpr:
		f.expr(el.Expr, precLambda)
	case GroupEmpty:
		f.s("()")
	case GroupRollup, GroupCube:
		if el.Kind == GroupRollup {
			f.s("ROLLUP ")
		} else {
			f.s("CUBE ")
		}
		if len(el.Sets) > 0 {
			set(el.Sets[0])
		} else {
			f.s("()")
		}
	case GroupSets:
		f.s("GROUPING SETS (")
		for i, s := range el.Sets {
			if i > 0 {
				f.s(", ")
			}
			set(s)
		}
		f.s(")")
	}
}

func (f *formatter) orderItems(items []*OrderItem) {
	for i, it := range items {
		if i > 0 {
			f.s(", ")
		}
		f.orderItem(it)
	}
}

func (f *formatter) orderItem(it *OrderItem) {
	f.expr(it.Expr, precLambda)
	switch it.Order {
	case SortAsc:
		f.s(" ASC")
	case SortDesc:
		f.s(" DESC")
	}
	switch it.Nulls {
	case NullsFirst:
		f.s(" NULLS FIRST")
	case NullsLast:
		f.s(" NULLS LAST")
	}
}

// ---- relations ----

func (f *formatter) relation(r Relation) {
	switch r := r.(type) {
	case *Table:
		f.ident(r.Name)
		f.alias(r.Alias)
	case *SubqueryRelation:
		f.s("(")
		f.query(r.Query)
		f.s(")")
		f.alias(r.Alias)
	case *ParenRelation:
		f.s("(")
		f.relation(r.Relation)
		f.s(")")
		f.alias(r.Alias)
	case *Join:
		f.relation(r.Left)
		f.s([...]string{" JOIN ", " LEFT JOIN ", " RIGHT JOIN ", " FULL JOIN ", " CROSS JOIN "}[r.Kind%5])
		if _, ok := r.Right.(*Join); ok {
			f.s("(")
			f.relation(r.Right)
			f.s(")")
		} else {
			f.relation(r.Right)
		}
		if r.On != nil {
			f.s(" ON ")
			f.expr(r.On, precLambda)
		} else if len(r.Using) > 0 {
			f.s(" USING ")
			f.nameList(r.Using)
		}
	case *Unnest:
		f.s("UNNEST(")
		f.exprs(r.Args)
		f.s(")")
		if r.WithOrdinality {
			f.s(" WITH ORDINALITY")
		}
		f.alias(r.Alias)
	}
}

func (f *formatter) alias(a *Alias) {
	if a == nil {
		return
	}
	f.s(" AS ")
	f.name(a.Name)
	if len(a.Columns) > 0 {
		f.nameList(a.Columns)
	}
}

// ---- names ----

// isBareName reports whether s can be printed without quotes and lexes
// back as one unquoted identifier.
func isBareName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	i := 0
	for i < len(s) && isIdentPart(s[i]) {
		i++
	}
	if i < len(s) {
		if !equalFold(s[:i], "measure_value") || !strings.HasPrefix(s[i:], "::") || i+2 >= len(s) || !isIdentStart(s[i+2]) {
			return false
		}
		for i += 2; i < len(s) && isIdentPart(s[i]); i++ {
		}
		if i < len(s) {
			return false
		}
	}
	return !isReserved(s)
}

func (f *formatter) name(n Name) {
	if !n.Quoted && isBareName(n.Value) {
		f.s(n.Value)
		return
	}
	f.s(`"`)
	f.s(strings.ReplaceAll(n.Value, `"`, `""`))
	f.s(`"`)
}

func (f *formatter) nameList(ns []Name) {
	f.s("(")
	for i, n := range ns {
		if i > 0 {
			f.s(", ")
		}
		f.name(n)
	}
	f.s(")")
}

func (f *formatter) ident(id *Ident) {
	for i, n := range id.Parts {
		if i > 0 {
			f.s(".")
		}
		f.name(n)
	}
}

// ---- expressions ----

// prec returns the precedence level of e (see precLambda...precPrimary).
func prec(e Expr) int {
	switch e := e.(type) {
	case *Lambda:
		return precLambda
	case *Binary:
		switch e.Op {
		case OpOr:
			return precOr
		case OpAnd:
			return precAnd
		case OpConcat:
			return precConcat
		case OpAdd, OpSub:
			return precAdd
		case OpMul, OpDiv, OpMod:
			return precMul
		}
		return precPred
	case *Unary:
		if e.Op == OpNot {
			return precNot
		}
		return precUnary
	case *Between, *InList, *InSubquery, *Like, *IsNull, *IsDistinct, *Quantified:
		return precPred
	case *AtTimeZone:
		return precAt
	}
	return precPrimary
}

func (f *formatter) exprs(es []Expr) {
	for i, e := range es {
		if i > 0 {
			f.s(", ")
		}
		f.expr(e, precLambda)
	}
}

// expr prints e, in parentheses if its precedence is below min.
func (f *formatter) expr(e Expr, min int) {
	if e == nil {
		return
	}
	if prec(e) < min || softWordExpr(e) {
		f.s("(")
		f.exprNoParens(e)
		f.s(")")
		return
	}
	f.exprNoParens(e)
}

// softWords are non-reserved words that the parser reads as keywords in
// some positions (SELECT ALL, = ANY (...), UNBOUNDED PRECEDING, CURRENT
// ROW); names and calls spelled so are printed in parentheses.
var softWords = map[string]bool{"ALL": true, "ANY": true, "SOME": true, "UNBOUNDED": true, "CURRENT": true}

func softWordExpr(e Expr) bool {
	var id *Ident
	switch e := e.(type) {
	case *Ident:
		id = e
	case *Call:
		id = e.Name
	default:
		return false
	}
	if id == nil || len(id.Parts) == 0 || id.Parts[0].Quoted {
		return false
	}
	_, ok := lookupUpper(softWords, id.Parts[0].Value)
	return ok
}

func (f *formatter) exprNoParens(e Expr) {
	switch e := e.(type) {
	case *Ident:
		f.ident(e)
	case *Literal:
		f.literal(e)
	case *Duration:
		f.s(formatDuration(e.Nanos))
	case *Interval:
		f.s("INTERVAL ")
		f.s(quoteString(e.Value))
		f.s(" ")
		f.s(e.From)
		if e.To != "" {
			f.s(" TO ")
			f.s(e.To)
		}
	case *Param:
		if e.Name != "" {
			f.s("@")
			f.s(e.Name)
		} else {
			f.s("?")
		}
	case *Binary:
		p := prec(e)
		if p == precPred {
			f.expr(e.L, precConcat)
			f.s(" " + e.Op.String() + " ")
			f.expr(e.R, precConcat)
			return
		}
		f.expr(e.L, p)
		f.s(" " + e.Op.String() + " ")
		f.expr(e.R, p+1)
	case *Unary:
		switch e.Op {
		case OpNot:
			f.s("NOT ")
			f.expr(e.X, precNot)
		default:
			if e.Op == OpNeg {
				f.s("-")
			} else {
				f.s("+")
			}
			if u, ok := e.X.(*Unary); ok && u.Op != OpNot {
				f.s(" ") // keep "- -x" from lexing as a comment
			}
			f.expr(e.X, precUnary)
		}
	case *AtTimeZone:
		f.expr(e.X, precAt)
		f.s(" AT TIME ZONE ")
		f.expr(e.Zone, precPrimary)
	case *Between:
		f.expr(e.X, precConcat)
		f.not(e.Not)
		f.s(" BETWEEN ")
		f.expr(e.Low, precConcat)
		f.s(" AND ")
		f.expr(e.High, precConcat)
	case *InList:
		f.expr(e.X, precConcat)
		f.not(e.Not)
		f.s(" IN (")
		f.exprs(e.List)
		f.s(")")
	case *InSubquery:
		f.expr(e.X, precConcat)
		f.not(e.Not)
		f.s(" IN (")
		f.query(e.Query)
		f.s(")")
	case *Like:
		f.expr(e.X, precConcat)
		f.not(e.Not)
		f.s(" LIKE ")
		f.expr(e.Pattern, precConcat)
		if e.Escape != nil {
			f.s(" ESCAPE ")
			f.expr(e.Escape, precConcat)
		}
	case *IsNull:
		f.expr(e.X, precConcat)
		f.s(" IS")
		f.not(e.Not)
		f.s(" NULL")
	case *IsDistinct:
		f.expr(e.L, precConcat)
		f.s(" IS")
		f.not(e.Not)
		f.s(" DISTINCT FROM ")
		f.expr(e.R, precConcat)
	case *Quantified:
		f.expr(e.X, precConcat)
		f.s(" " + e.Op.String() + " ")
		f.s([...]string{"ANY", "SOME", "ALL"}[e.Quantifier%3])
		f.s(" (")
		f.query(e.Query)
		f.s(")")
	case *Call:
		f.call(e)
	case *Case:
		f.s("CASE")
		if e.Operand != nil {
			f.s(" ")
			f.expr(e.Operand, precLambda)
		}
		for _, w := range e.Whens {
			f.s(" WHEN ")
			f.expr(w.Cond, precLambda)
			f.s(" THEN ")
			f.expr(w.Result, precLambda)
		}
		if e.Else != nil {
			f.s(" ELSE ")
			f.expr(e.Else, precLambda)
		}
		f.s(" END")
	case *Cast:
		if e.Try {
			f.s("TRY_CAST(")
		} else {
			f.s("CAST(")
		}
		f.expr(e.X, precLambda)
		f.s(" AS ")
		f.typ(e.To)
		f.s(")")
	case *Extract:
		f.s("EXTRACT(")
		f.name(Name{Value: e.Field})
		f.s(" FROM ")
		f.expr(e.X, precLambda)
		f.s(")")
	case *Subquery:
		f.s("(")
		f.query(e.Query)
		f.s(")")
	case *Exists:
		f.s("EXISTS (")
		f.query(e.Query)
		f.s(")")
	case *Lambda:
		if len(e.Params) == 1 {
			f.name(e.Params[0])
		} else {
			f.nameList(e.Params)
		}
		f.s(" -> ")
		f.expr(e.Body, precLambda)
	case *ArrayCtor:
		f.s("ARRAY[")
		f.exprs(e.Elems)
		f.s("]")
	case *RowCtor:
		f.s("ROW(")
		f.exprs(e.Elems)
		f.s(")")
	case *Subscript:
		if id, ok := e.X.(*Ident); ok && len(id.Parts) == 1 && !id.Parts[0].Quoted && equalFold(id.Parts[0].Value, "ARRAY") {
			f.s("(")
			f.ident(id)
			f.s(")")
		} else {
			f.expr(e.X, precPrimary)
		}
		f.s("[")
		f.expr(e.Index, precLambda)
		f.s("]")
	case *FieldAccess:
		switch e.X.(type) {
		case *Ident, *Literal, *Duration: // a.b would be one name, 1.b a bad number

			f.s("(")
			f.expr(e.X, precLambda)
			f.s(")")
		default:
			f.expr(e.X, precPrimary)
		}
		f.s(".")
		f.name(e.Field)
	}
}

func (f *formatter) not(not bool) {
	if not {
		f.s(" NOT")
	}
}

func (f *formatter) call(c *Call) {
	if n := c.Name.Parts; len(n) == 1 && !n[0].Quoted && isCurrentFunc(n[0].Value) {
		f.s(n[0].Value) // reserved words, but printed bare
	} else {
		f.ident(c.Name)
	}
	if c.NoParens {
		return
	}
	f.s("(")
	switch {
	case c.Star:
		f.s("*")
	default:
		if c.Distinct {
			f.s("DISTINCT ")
		}
		f.exprs(c.Args)
	}
	f.s(")")
	if c.Filter != nil {
		f.s(" FILTER (WHERE ")
		f.expr(c.Filter, precLambda)
		f.s(")")
	}
	if c.Over != nil {
		f.s(" ")
		f.window(c.Over)
	}
}

func (f *formatter) window(w *Window) {
	f.s("OVER (")
	sep := ""
	if len(w.PartitionBy) > 0 {
		f.s("PARTITION BY ")
		f.exprs(w.PartitionBy)
		sep = " "
	}
	if len(w.OrderBy) > 0 {
		f.s(sep + "ORDER BY ")
		f.orderItems(w.OrderBy)
		sep = " "
	}
	if fr := w.Frame; fr != nil {
		f.s(sep)
		f.s([...]string{"ROWS ", "RANGE ", "GROUPS "}[fr.Unit%3])
		if fr.End != nil {
			f.s("BETWEEN ")
			f.frameBound(fr.Start)
			f.s(" AND ")
			f.frameBound(fr.End)
		} else {
			f.frameBound(fr.Start)
		}
	}
	f.s(")")
}

func (f *formatter) frameBound(b *FrameBound) {
	if b == nil {
		return
	}
	switch b.Kind {
	case UnboundedPreceding:
		f.s("UNBOUNDED PRECEDING")
	case UnboundedFollowing:
		f.s("UNBOUNDED FOLLOWING")
	case CurrentRow:
		f.s("CURRENT ROW")
	case Preceding:
		f.expr(b.Offset, precConcat)
		f.s(" PRECEDING")
	case Following:
		f.expr(b.Offset, precConcat)
		f.s(" FOLLOWING")
	}
}

func (f *formatter) literal(l *Literal) {
	switch l.Kind {
	case LitString:
		f.s(quoteString(l.Value))
	case LitInteger, LitDecimal:
		f.s(l.Value)
	case LitTrue:
		f.s("TRUE")
	case LitFalse:
		f.s("FALSE")
	case LitNull:
		f.s("NULL")
	case LitTimestamp:
		f.s("TIMESTAMP " + quoteString(l.Value))
	case LitDate:
		f.s("DATE " + quoteString(l.Value))
	case LitTime:
		f.s("TIME " + quoteString(l.Value))
	}
}

func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// formatDuration prints ns in the largest unit that divides it exactly.
func formatDuration(ns int64) string {
	if ns == 0 {
		return "0s"
	}
	for _, u := range [...]struct {
		name string
		n    int64
	}{{"d", 86400e9}, {"h", 3600e9}, {"m", 60e9}, {"s", 1e9}, {"ms", 1e6}, {"us", 1e3}} {
		if ns%u.n == 0 {
			return strconv.FormatInt(ns/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(ns, 10) + "ns"
}

// ---- types ----

func (f *formatter) typ(t *Type) {
	if t == nil {
		return
	}
	f.s(t.Name)
	switch {
	case t.Elem != nil:
		f.s("(")
		f.typ(t.Elem)
		f.s(")")
	case t.Name == "ROW":
		f.s("(")
		for i, fl := range t.Fields {
			if i > 0 {
				f.s(", ")
			}
			if fl.Name != nil {
				f.name(*fl.Name)
				f.s(" ")
			}
			f.typ(fl.Type)
		}
		f.s(")")
	case len(t.Params) > 0:
		f.s("(")
		f.s(strings.Join(t.Params, ", "))
		f.s(")")
	}
}
