package parser

import (
	"errors"
	"slices"
	"strings"
)

// reserved holds the upper-cased reserved words (Trino's list): they cannot
// be bare identifiers.
var reserved = reservedWords()

func reservedWords() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`ALTER AND AS BETWEEN BY CASE CAST CONSTRAINT CREATE CROSS CUBE
		CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DEALLOCATE DELETE DESCRIBE DISTINCT
		DROP ELSE END ESCAPE EXCEPT EXECUTE EXISTS EXTRACT FALSE FOR FROM FULL GROUP GROUPING HAVING
		IN INNER INSERT INTERSECT INTO IS JOIN LEFT LIKE LOCALTIME LOCALTIMESTAMP NATURAL NORMALIZE
		NOT NULL ON OR ORDER OUTER PREPARE RECURSIVE RIGHT ROLLUP SELECT TABLE THEN TRUE UESCAPE
		UNION UNNEST USING VALUES WHEN WHERE WITH`) {
		m[w] = true
	}
	return m
}

// isReserved reports whether the bare word s is reserved.
func isReserved(s string) bool {
	_, ok := lookupUpper(reserved, s)
	return ok
}

// lookupUpper looks s up in m by its ASCII upper-case form without
// allocating.
func lookupUpper[V any](m map[string]V, s string) (V, bool) {
	var buf [24]byte
	if len(s) > len(buf) {
		var zero V
		return zero, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	v, ok := m[string(buf[:len(s)])]
	return v, ok
}

// noImplicitAlias lists non-reserved words that end a relation or select
// item instead of being taken as an alias written without AS.
func noImplicitAlias(s string) bool {
	return equalFold(s, "LIMIT") || equalFold(s, "OFFSET") || equalFold(s, "FETCH") || equalFold(s, "WINDOW")
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// Parse parses one SQL statement (an optional trailing ';' is allowed).
// Errors are *Error values.
func Parse(sql string) (Statement, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	st, err := p.statement()
	if err != nil {
		return nil, err
	}
	p.acceptOp(";")
	if err := p.wantEOF(); err != nil {
		return nil, err
	}
	return st, nil
}

// ParseExpr parses one scalar expression.
func ParseExpr(s string) (Expr, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.wantEOF(); err != nil {
		return nil, err
	}
	return e, nil
}

// parser is a recursive-descent parser over a token slice. Backtracking is
// done by saving and restoring i.
type parser struct {
	toks     []token
	i        int
	depth    int
	nparam   int
	expAt    int      // token index the expected set belongs to
	expected []string // what was tried at expAt: keywords, operators, <placeholders>
}

func newParser(sql string) (*parser, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks, expAt: -1}, nil
}

func (p *parser) cur() token { return p.toks[p.i] }

func (p *parser) peek(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() {
	if p.i < len(p.toks)-1 {
		p.i++
	}
}

// expect records that what was acceptable at the current token.
func (p *parser) expect(what string) {
	if p.expAt != p.i {
		p.expAt = p.i
		p.expected = p.expected[:0]
	}
	p.expected = append(p.expected, what)
}

func isKw(t token, kw string) bool { return t.Kind == tkIdent && equalFold(t.Text, kw) }

func isOp(t token, op string) bool { return t.Kind == tkOp && t.Text == op }

func (p *parser) atKw(kw string) bool {
	if isKw(p.cur(), kw) {
		return true
	}
	p.expect(kw)
	return false
}

func (p *parser) atOp(op string) bool {
	if isOp(p.cur(), op) {
		return true
	}
	p.expect(op)
	return false
}

func (p *parser) acceptKw(kw string) bool {
	if p.atKw(kw) {
		p.advance()
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.atOp(op) {
		p.advance()
		return true
	}
	return false
}

func (p *parser) wantKw(kw string) error {
	if p.acceptKw(kw) {
		return nil
	}
	return p.mismatch()
}

func (p *parser) wantOp(op string) error {
	if p.acceptOp(op) {
		return nil
	}
	return p.mismatch()
}

func (p *parser) wantEOF() error {
	if p.cur().Kind == tkEOF {
		return nil
	}
	p.expect("<EOF>")
	return p.mismatch()
}

// enter guards recursion depth; every successful enter is paired with leave.
func (p *parser) enter() error {
	if p.depth >= maxDepth {
		t := p.cur()
		return &Error{Line: t.Pos.Line, Col: t.Pos.Col, Msg: sprintf("statement is too deeply nested (more than %d levels)", maxDepth)}
	}
	p.depth++
	return nil
}

func (p *parser) leave() { p.depth-- }

// display renders a token as the error message quotes it.
func display(t token) string {
	switch t.Kind {
	case tkEOF:
		return "<EOF>"
	case tkString:
		return "'" + strings.ReplaceAll(t.Text, "'", "''") + "'"
	case tkQuotedIdent:
		return `"` + strings.ReplaceAll(t.Text, `"`, `""`) + `"`
	case tkParam:
		return "@" + t.Text
	default:
		return t.Text
	}
}

// mismatch returns the error for the current token, listing what the
// parser tried at this position.
func (p *parser) mismatch() *Error {
	t := p.cur()
	msg := "mismatched input '" + display(t) + "'"
	if p.expAt == p.i && len(p.expected) > 0 {
		exp := slices.Clone(p.expected)
		slices.SortFunc(exp, func(a, b string) int {
			ap, bp := strings.HasPrefix(a, "<") && len(a) > 1, strings.HasPrefix(b, "<") && len(b) > 1
			if ap != bp {
				if ap {
					return 1
				}
				return -1
			}
			return strings.Compare(a, b)
		})
		exp = slices.Compact(exp)
		for i, e := range exp {
			if !(strings.HasPrefix(e, "<") && len(e) > 1) {
				exp[i] = "'" + e + "'"
			}
		}
		msg += ". Expecting: " + strings.Join(exp, ", ")
	}
	return &Error{Line: t.Pos.Line, Col: t.Pos.Col, Msg: msg}
}

// further returns whichever error is further into the input.
func further(a, b *Error) *Error {
	if b.Line > a.Line || (b.Line == a.Line && b.Col > a.Col) {
		return b
	}
	return a
}

// ---- names ----

// isNameTok reports whether t can be an identifier.
func isNameTok(t token) bool {
	return t.Kind == tkQuotedIdent || (t.Kind == tkIdent && !isReserved(t.Text))
}

func (p *parser) name() (Name, error) {
	t := p.cur()
	if isNameTok(t) {
		p.advance()
		return Name{Value: t.Text, Quoted: t.Kind == tkQuotedIdent}, nil
	}
	p.expect("<identifier>")
	return Name{}, p.mismatch()
}

// qualifiedName parses name(.name)*.
func (p *parser) qualifiedName() (*Ident, error) {
	pos := p.cur().Pos
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	id := &Ident{Pos: pos, Parts: []Name{n}}
	for isOp(p.cur(), ".") && isNameTok(p.peek(1)) {
		p.advance()
		n, _ := p.name()
		id.Parts = append(id.Parts, n)
	}
	return id, nil
}

// nameList parses "(name, ...)" after the opening parenthesis was seen.
func (p *parser) nameList() ([]Name, error) {
	if err := p.wantOp("("); err != nil {
		return nil, err
	}
	var out []Name
	for {
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if !p.acceptOp(",") {
			break
		}
	}
	return out, p.wantOp(")")
}

func (p *parser) stringLit() (*Literal, error) {
	t := p.cur()
	if t.Kind != tkString {
		p.expect("<string>")
		return nil, p.mismatch()
	}
	p.advance()
	return &Literal{Pos: t.Pos, Kind: LitString, Value: t.Text}, nil
}

// ---- statements ----

func (p *parser) statement() (Statement, error) {
	t := p.cur()
	switch {
	case isKw(t, "SHOW"):
		return p.show()
	case isKw(t, "DESCRIBE"):
		p.advance()
		id, err := p.qualifiedName()
		if err != nil {
			return nil, err
		}
		return &Describe{Pos: t.Pos, Table: id}, nil
	case isKw(t, "UNLOAD"):
		return p.unload()
	}
	p.expect("SHOW")
	p.expect("DESCRIBE")
	p.expect("UNLOAD")
	return p.query()
}

func (p *parser) likeClause() (*Literal, error) {
	if !p.acceptKw("LIKE") {
		return nil, nil
	}
	return p.stringLit()
}

func (p *parser) show() (Statement, error) {
	pos := p.cur().Pos
	p.advance()
	switch {
	case p.acceptKw("DATABASES"):
		like, err := p.likeClause()
		if err != nil {
			return nil, err
		}
		return &ShowDatabases{Pos: pos, Like: like}, nil
	case p.acceptKw("TABLES"):
		st := &ShowTables{Pos: pos}
		if p.acceptKw("FROM") || p.acceptKw("IN") {
			id, err := p.qualifiedName()
			if err != nil {
				return nil, err
			}
			st.From = id
		}
		like, err := p.likeClause()
		if err != nil {
			return nil, err
		}
		st.Like = like
		return st, nil
	case p.acceptKw("MEASURES"):
		if err := p.wantKw("FROM"); err != nil {
			return nil, err
		}
		id, err := p.qualifiedName()
		if err != nil {
			return nil, err
		}
		like, err := p.likeClause()
		if err != nil {
			return nil, err
		}
		return &ShowMeasures{Pos: pos, From: id, Like: like}, nil
	}
	return nil, p.mismatch()
}

func (p *parser) unload() (Statement, error) {
	pos := p.cur().Pos
	p.advance()
	if err := p.wantOp("("); err != nil {
		return nil, err
	}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	if err := p.wantOp(")"); err != nil {
		return nil, err
	}
	if err := p.wantKw("TO"); err != nil {
		return nil, err
	}
	to, err := p.stringLit()
	if err != nil {
		return nil, err
	}
	u := &Unload{Pos: pos, Query: q, To: to}
	if p.acceptKw("WITH") {
		if err := p.wantOp("("); err != nil {
			return nil, err
		}
		for {
			ppos := p.cur().Pos
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.wantOp("="); err != nil {
				return nil, err
			}
			v, err := p.expr()
			if err != nil {
				return nil, err
			}
			u.Options = append(u.Options, &Property{Pos: ppos, Name: n, Value: v})
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.wantOp(")"); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// ---- queries ----

// startsQuery reports whether the token at i begins a query after any
// number of opening parentheses.
func (p *parser) startsQuery(i int) bool {
	for i < len(p.toks) && isOp(p.toks[i], "(") {
		i++
	}
	if i >= len(p.toks) {
		return false
	}
	t := p.toks[i]
	return isKw(t, "SELECT") || isKw(t, "WITH") || isKw(t, "VALUES")
}

func (p *parser) query() (*Query, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	q := &Query{Pos: p.cur().Pos}
	if p.acceptKw("WITH") {
		for {
			cpos := p.cur().Pos
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			c := &CTE{Pos: cpos, Name: n}
			if isOp(p.cur(), "(") {
				if c.Columns, err = p.nameList(); err != nil {
					return nil, err
				}
			}
			if err := p.wantKw("AS"); err != nil {
				return nil, err
			}
			if err := p.wantOp("("); err != nil {
				return nil, err
			}
			if c.Query, err = p.query(); err != nil {
				return nil, err
			}
			if err := p.wantOp(")"); err != nil {
				return nil, err
			}
			q.With = append(q.With, c)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	body, err := p.setExpr()
	if err != nil {
		return nil, err
	}
	q.Body = body
	if p.acceptKw("ORDER") {
		if err := p.wantKw("BY"); err != nil {
			return nil, err
		}
		if q.OrderBy, err = p.orderItems(); err != nil {
			return nil, err
		}
	}
	for range 2 {
		switch {
		case q.Offset == nil && p.acceptKw("OFFSET"):
			if q.Offset, err = p.rowCount(); err != nil {
				return nil, err
			}
			if !p.acceptKw("ROWS") {
				p.acceptKw("ROW")
			}
		case q.Limit == nil && !q.LimitAll && p.acceptKw("LIMIT"):
			if p.acceptKw("ALL") {
				q.LimitAll = true
			} else if q.Limit, err = p.rowCount(); err != nil {
				return nil, err
			}
		}
	}
	return q, nil
}

// rowCount parses the integer or ? of LIMIT and OFFSET.
func (p *parser) rowCount() (Expr, error) {
	t := p.cur()
	switch t.Kind {
	case tkInteger:
		p.advance()
		return &Literal{Pos: t.Pos, Kind: LitInteger, Value: t.Text}, nil
	case tkQuestion:
		p.advance()
		p.nparam++
		return &Param{Pos: t.Pos, Index: p.nparam}, nil
	case tkParam:
		p.advance()
		return &Param{Pos: t.Pos, Name: t.Text}, nil
	}
	p.expect("<integer>")
	return nil, p.mismatch()
}

func (p *parser) orderItems() ([]*OrderItem, error) {
	var out []*OrderItem
	for {
		it := &OrderItem{Pos: p.cur().Pos}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		it.Expr = e
		if p.acceptKw("ASC") {
			it.Order = SortAsc
		} else if p.acceptKw("DESC") {
			it.Order = SortDesc
		}
		if p.acceptKw("NULLS") {
			if p.acceptKw("FIRST") {
				it.Nulls = NullsFirst
			} else if p.acceptKw("LAST") {
				it.Nulls = NullsLast
			} else {
				return nil, p.mismatch()
			}
		}
		out = append(out, it)
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}

// setExpr parses UNION and EXCEPT (left-associative) over INTERSECT terms.
func (p *parser) setExpr() (QueryBody, error) {
	left, err := p.intersectExpr()
	if err != nil {
		return nil, err
	}
	for {
		pos := p.cur().Pos
		var op SetOp
		switch {
		case p.acceptKw("UNION"):
			op = Union
		case p.acceptKw("EXCEPT"):
			op = Except
		default:
			return left, nil
		}
		s := &SetOperation{Pos: pos, Op: op, Left: left}
		s.All, s.Distinct = p.setQuantifier()
		if s.Right, err = p.intersectExpr(); err != nil {
			return nil, err
		}
		left = s
	}
}

func (p *parser) setQuantifier() (all, distinct bool) {
	if p.acceptKw("ALL") {
		return true, false
	}
	return false, p.acceptKw("DISTINCT")
}

func (p *parser) intersectExpr() (QueryBody, error) {
	left, err := p.queryPrimary()
	if err != nil {
		return nil, err
	}
	for {
		pos := p.cur().Pos
		if !p.acceptKw("INTERSECT") {
			return left, nil
		}
		s := &SetOperation{Pos: pos, Op: Intersect, Left: left}
		s.All, s.Distinct = p.setQuantifier()
		if s.Right, err = p.queryPrimary(); err != nil {
			return nil, err
		}
		left = s
	}
}

func (p *parser) queryPrimary() (QueryBody, error) {
	t := p.cur()
	switch {
	case isKw(t, "SELECT"):
		return p.selectBody()
	case isKw(t, "VALUES"):
		p.advance()
		v := &Values{Pos: t.Pos}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			v.Rows = append(v.Rows, e)
			if !p.acceptOp(",") {
				return v, nil
			}
		}
	case isOp(t, "("):
		p.advance()
		q, err := p.query()
		if err != nil {
			return nil, err
		}
		if err := p.wantOp(")"); err != nil {
			return nil, err
		}
		if q.With == nil && q.OrderBy == nil && q.Limit == nil && !q.LimitAll && q.Offset == nil {
			return q.Body, nil
		}
		return q, nil
	}
	p.expect("SELECT")
	p.expect("VALUES")
	p.expect("(")
	return nil, p.mismatch()
}

func (p *parser) selectBody() (*Select, error) {
	s := &Select{Pos: p.cur().Pos}
	p.advance()
	if !p.acceptKw("ALL") {
		s.Distinct = p.acceptKw("DISTINCT")
	}
	for {
		it, err := p.selectItem()
		if err != nil {
			return nil, err
		}
		s.Items = append(s.Items, it)
		if !p.acceptOp(",") {
			break
		}
	}
	var err error
	if p.acceptKw("FROM") {
		for {
			r, err := p.relation()
			if err != nil {
				return nil, err
			}
			s.From = append(s.From, r)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("WHERE") {
		if s.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.acceptKw("GROUP") {
		if s.GroupBy, err = p.groupBy(); err != nil {
			return nil, err
		}
	}
	if p.acceptKw("HAVING") {
		if s.Having, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) selectItem() (*SelectItem, error) {
	t := p.cur()
	it := &SelectItem{Pos: t.Pos}
	if isOp(t, "*") {
		p.advance()
		it.Star = true
		return it, nil
	}
	// name(.name)*.* selects all columns of a relation.
	if isNameTok(t) {
		j := p.i + 1
		for j+1 < len(p.toks) && isOp(p.toks[j], ".") && isNameTok(p.toks[j+1]) {
			j += 2
		}
		if j+1 < len(p.toks) && isOp(p.toks[j], ".") && isOp(p.toks[j+1], "*") {
			id, err := p.qualifiedName()
			if err != nil {
				return nil, err
			}
			p.advance()
			p.advance()
			it.Star, it.StarOf = true, id
			return it, nil
		}
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	it.Expr = e
	alias, err := p.optAlias()
	if err != nil {
		return nil, err
	}
	it.Alias = alias
	return it, nil
}

// optAlias parses "[AS] name" if present.
func (p *parser) optAlias() (*Name, error) {
	if p.acceptKw("AS") {
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		return &n, nil
	}
	t := p.cur()
	if isNameTok(t) && !(t.Kind == tkIdent && noImplicitAlias(t.Text)) {
		p.advance()
		return &Name{Value: t.Text, Quoted: t.Kind == tkQuotedIdent}, nil
	}
	return nil, nil
}

func (p *parser) groupBy() (*GroupBy, error) {
	g := &GroupBy{Pos: p.cur().Pos}
	if err := p.wantKw("BY"); err != nil {
		return nil, err
	}
	if p.acceptKw("ALL") {
		g.All = true
	} else {
		g.Distinct = p.acceptKw("DISTINCT")
	}
	for {
		t := p.cur()
		el := &GroupingElement{Pos: t.Pos}
		switch {
		case isOp(t, "(") && isOp(p.peek(1), ")"):
			p.advance()
			p.advance()
			el.Kind = GroupEmpty
		case (isKw(t, "ROLLUP") || isKw(t, "CUBE")) && isOp(p.peek(1), "("):
			el.Kind = GroupRollup
			if isKw(t, "CUBE") {
				el.Kind = GroupCube
			}
			p.advance()
			set, err := p.groupingSet()
			if err != nil {
				return nil, err
			}
			el.Sets = [][]Expr{set}
		case isKw(t, "GROUPING") && isKw(p.peek(1), "SETS"):
			p.advance()
			p.advance()
			el.Kind = GroupSets
			if err := p.wantOp("("); err != nil {
				return nil, err
			}
			for {
				if isOp(p.cur(), "(") {
					set, err := p.groupingSet()
					if err != nil {
						return nil, err
					}
					el.Sets = append(el.Sets, set)
				} else {
					e, err := p.expr()
					if err != nil {
						return nil, err
					}
					el.Sets = append(el.Sets, []Expr{e})
				}
				if !p.acceptOp(",") {
					break
				}
			}
			if err := p.wantOp(")"); err != nil {
				return nil, err
			}
		default:
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			el.Expr = e
		}
		g.Elements = append(g.Elements, el)
		if !p.acceptOp(",") {
			return g, nil
		}
	}
}

// groupingSet parses "(e, ...)" (possibly empty).
func (p *parser) groupingSet() ([]Expr, error) {
	if err := p.wantOp("("); err != nil {
		return nil, err
	}
	out := []Expr{}
	if p.acceptOp(")") {
		return out, nil
	}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if !p.acceptOp(",") {
			break
		}
	}
	return out, p.wantOp(")")
}

// ---- relations ----

func (p *parser) relation() (Relation, error) {
	left, err := p.aliasedRelation()
	if err != nil {
		return nil, err
	}
	for {
		pos := p.cur().Pos
		var kind JoinKind
		switch {
		case p.acceptKw("CROSS"):
			kind = CrossJoin
		case p.acceptKw("INNER"):
			kind = InnerJoin
		case p.acceptKw("LEFT"):
			kind = LeftJoin
			p.acceptKw("OUTER")
		case p.acceptKw("RIGHT"):
			kind = RightJoin
			p.acceptKw("OUTER")
		case p.acceptKw("FULL"):
			kind = FullJoin
			p.acceptKw("OUTER")
		case p.atKw("JOIN"):
			kind = InnerJoin
		default:
			return left, nil
		}
		if err := p.wantKw("JOIN"); err != nil {
			return nil, err
		}
		right, err := p.aliasedRelation()
		if err != nil {
			return nil, err
		}
		j := &Join{Pos: pos, Kind: kind, Left: left, Right: right}
		if kind != CrossJoin {
			switch {
			case p.acceptKw("ON"):
				if j.On, err = p.expr(); err != nil {
					return nil, err
				}
			case p.acceptKw("USING"):
				if j.Using, err = p.nameList(); err != nil {
					return nil, err
				}
			default:
				return nil, p.mismatch()
			}
		}
		left = j
	}
}

func (p *parser) aliasedRelation() (Relation, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.cur()
	var rel Relation
	var aliasp **Alias
	switch {
	case isKw(t, "UNNEST"):
		p.advance()
		u := &Unnest{Pos: t.Pos}
		if err := p.wantOp("("); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			u.Args = append(u.Args, e)
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.wantOp(")"); err != nil {
			return nil, err
		}
		if p.acceptKw("WITH") {
			if err := p.wantKw("ORDINALITY"); err != nil {
				return nil, err
			}
			u.WithOrdinality = true
		}
		rel, aliasp = u, &u.Alias
	case isOp(t, "("):
		if p.startsQuery(p.i + 1) {
			save := p.i
			p.advance()
			q, qerr := p.query()
			if qerr == nil {
				qerr = p.wantOp(")")
			}
			if qerr == nil {
				s := &SubqueryRelation{Pos: t.Pos, Query: q}
				rel, aliasp = s, &s.Alias
				break
			}
			if !isOp(p.toks[save+1], "(") {
				return nil, qerr
			}
			p.i = save
			r, err := p.parenRelation()
			if err != nil {
				var e1, e2 *Error
				if errors.As(qerr, &e1) && errors.As(err, &e2) {
					return nil, further(e1, e2)
				}
				return nil, err
			}
			rel, aliasp = r, &r.Alias
			break
		}
		r, err := p.parenRelation()
		if err != nil {
			return nil, err
		}
		rel, aliasp = r, &r.Alias
	default:
		id, err := p.qualifiedName()
		if err != nil {
			p.expect("(")
			p.expect("UNNEST")
			return nil, p.mismatch()
		}
		tb := &Table{Pos: t.Pos, Name: id}
		rel, aliasp = tb, &tb.Alias
	}
	apos := p.cur().Pos
	n, err := p.optAlias()
	if err != nil {
		return nil, err
	}
	if n != nil {
		a := &Alias{Pos: apos, Name: *n}
		if isOp(p.cur(), "(") {
			if a.Columns, err = p.nameList(); err != nil {
				return nil, err
			}
		}
		*aliasp = a
	}
	return rel, nil
}

func (p *parser) parenRelation() (*ParenRelation, error) {
	pos := p.cur().Pos
	p.advance()
	r, err := p.relation()
	if err != nil {
		return nil, err
	}
	if err := p.wantOp(")"); err != nil {
		return nil, err
	}
	return &ParenRelation{Pos: pos, Relation: r}, nil
}
