package parser

import (
	"errors"
	"strings"
)

// Expression precedence, lowest first (Trino's grammar). Format uses the
// same table to decide where parentheses are needed.
const (
	precLambda  = iota // x -> ...
	precOr             // OR
	precAnd            // AND
	precNot            // NOT x
	precPred           // comparison, BETWEEN, IN, LIKE, IS
	precConcat         // ||
	precAdd            // + -
	precMul            // * / %
	precUnary          // -x +x
	precAt             // x AT TIME ZONE z
	precPrimary        // everything else
)

// binaryOps maps operator tokens of the value-expression levels to their
// operator and precedence.
func valueOp(t token) (BinaryOp, int, bool) {
	if t.Kind != tkOp {
		return 0, 0, false
	}
	switch t.Text {
	case "||":
		return OpConcat, precConcat, true
	case "+":
		return OpAdd, precAdd, true
	case "-":
		return OpSub, precAdd, true
	case "*":
		return OpMul, precMul, true
	case "/":
		return OpDiv, precMul, true
	case "%":
		return OpMod, precMul, true
	}
	return 0, 0, false
}

func comparisonOp(t token) (BinaryOp, bool) {
	if t.Kind != tkOp {
		return 0, false
	}
	switch t.Text {
	case "=":
		return OpEQ, true
	case "<>", "!=":
		return OpNE, true
	case "<":
		return OpLT, true
	case ">":
		return OpGT, true
	case "<=":
		return OpLE, true
	case ">=":
		return OpGE, true
	}
	return 0, false
}

// expr parses a full expression, including lambdas.
func (p *parser) expr() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if l, ok, err := p.lambda(); ok || err != nil {
		return l, err
	}
	return p.or()
}

// lambda parses "x -> body" or "(x, y) -> body" if the tokens ahead have
// that shape.
func (p *parser) lambda() (Expr, bool, error) {
	t := p.cur()
	var params []Name
	switch {
	case isNameTok(t) && isOp(p.peek(1), "->"):
		params = []Name{{Value: t.Text, Quoted: t.Kind == tkQuotedIdent}}
		p.advance()
	case isOp(t, "("):
		j := p.i + 1
		if isOp(p.toks[j], ")") {
			j++
		} else {
			for {
				if j >= len(p.toks) || !isNameTok(p.toks[j]) {
					return nil, false, nil
				}
				j++
				if j < len(p.toks) && isOp(p.toks[j], ",") {
					j++
					continue
				}
				break
			}
			if j >= len(p.toks) || !isOp(p.toks[j], ")") {
				return nil, false, nil
			}
			j++
		}
		if j >= len(p.toks) || !isOp(p.toks[j], "->") {
			return nil, false, nil
		}
		params = []Name{}
		for k := p.i + 1; k < j-1; k += 2 {
			params = append(params, Name{Value: p.toks[k].Text, Quoted: p.toks[k].Kind == tkQuotedIdent})
		}
		p.i = j
	default:
		return nil, false, nil
	}
	p.advance() // ->
	body, err := p.expr()
	if err != nil {
		return nil, true, err
	}
	return &Lambda{Pos: t.Pos, Params: params, Body: body}, true, nil
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		pos := p.cur().Pos
		if !p.acceptKw("OR") {
			return l, nil
		}
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: pos, Op: OpOr, L: l, R: r}
	}
}

func (p *parser) and() (Expr, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for {
		pos := p.cur().Pos
		if !p.acceptKw("AND") {
			return l, nil
		}
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: pos, Op: OpAnd, L: l, R: r}
	}
}

func (p *parser) not() (Expr, error) {
	t := p.cur()
	if isKw(t, "NOT") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.advance()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &Unary{Pos: t.Pos, Op: OpNot, X: x}, nil
	}
	return p.predicate()
}

// predicate parses a value expression followed by at most one predicate.
func (p *parser) predicate() (Expr, error) {
	x, err := p.value(precConcat)
	if err != nil {
		return nil, err
	}
	t := p.cur()
	if op, ok := comparisonOp(t); ok {
		p.advance()
		q := p.cur()
		if (isKw(q, "ANY") || isKw(q, "SOME") || isKw(q, "ALL")) && isOp(p.peek(1), "(") {
			p.advance()
			p.advance()
			sub, err := p.query()
			if err != nil {
				return nil, err
			}
			if err := p.wantOp(")"); err != nil {
				return nil, err
			}
			quant := QuantAny
			if isKw(q, "SOME") {
				quant = QuantSome
			} else if isKw(q, "ALL") {
				quant = QuantAll
			}
			return &Quantified{Pos: t.Pos, Op: op, X: x, Quantifier: quant, Query: sub}, nil
		}
		r, err := p.value(precConcat)
		if err != nil {
			return nil, err
		}
		return &Binary{Pos: t.Pos, Op: op, L: x, R: r}, nil
	}
	if p.acceptKw("IS") {
		not := p.acceptKw("NOT")
		if p.acceptKw("NULL") {
			return &IsNull{Pos: t.Pos, X: x, Not: not}, nil
		}
		if err := p.wantKw("DISTINCT"); err != nil {
			return nil, err
		}
		if err := p.wantKw("FROM"); err != nil {
			return nil, err
		}
		r, err := p.value(precConcat)
		if err != nil {
			return nil, err
		}
		return &IsDistinct{Pos: t.Pos, L: x, R: r, Not: not}, nil
	}
	not := false
	if isKw(t, "NOT") {
		// NOT is reserved, so after a value it can only start NOT BETWEEN,
		// NOT IN or NOT LIKE.
		p.advance()
		not = true
	}
	switch {
	case p.acceptKw("BETWEEN"):
		lo, err := p.value(precConcat)
		if err != nil {
			return nil, err
		}
		if err := p.wantKw("AND"); err != nil {
			return nil, err
		}
		hi, err := p.value(precConcat)
		if err != nil {
			return nil, err
		}
		return &Between{Pos: t.Pos, X: x, Low: lo, High: hi, Not: not}, nil
	case p.acceptKw("LIKE"):
		pat, err := p.value(precConcat)
		if err != nil {
			return nil, err
		}
		l := &Like{Pos: t.Pos, X: x, Pattern: pat, Not: not}
		if p.acceptKw("ESCAPE") {
			if l.Escape, err = p.value(precConcat); err != nil {
				return nil, err
			}
		}
		return l, nil
	case p.acceptKw("IN"):
		return p.inRest(t.Pos, x, not)
	}
	if not {
		return nil, p.mismatch()
	}
	return x, nil
}

// inRest parses the parenthesised list or subquery after IN.
func (p *parser) inRest(pos Pos, x Expr, not bool) (Expr, error) {
	if !isOp(p.cur(), "(") {
		p.expect("(")
		return nil, p.mismatch()
	}
	if p.startsQuery(p.i + 1) {
		save := p.i
		p.advance()
		q, qerr := p.query()
		if qerr == nil {
			qerr = p.wantOp(")")
		}
		if qerr == nil {
			return &InSubquery{Pos: pos, X: x, Query: q, Not: not}, nil
		}
		if !isOp(p.toks[save+1], "(") {
			return nil, qerr
		}
		p.i = save
		e, err := p.inList(pos, x, not)
		if err != nil {
			return nil, furthest(qerr, err)
		}
		return e, nil
	}
	return p.inList(pos, x, not)
}

func (p *parser) inList(pos Pos, x Expr, not bool) (Expr, error) {
	p.advance() // (
	in := &InList{Pos: pos, X: x, Not: not}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		in.List = append(in.List, e)
		if !p.acceptOp(",") {
			break
		}
	}
	return in, p.wantOp(")")
}

// furthest returns whichever of two parse errors lies further into the
// input.
func furthest(a, b error) error {
	var e1, e2 *Error
	if errors.As(a, &e1) && errors.As(b, &e2) {
		return further(e1, e2)
	}
	return b
}

// value parses ||, + -, * / % with precedence climbing.
func (p *parser) value(minPrec int) (Expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.cur()
		op, prec, ok := valueOp(t)
		if !ok || prec < minPrec {
			return l, nil
		}
		p.advance()
		r, err := p.value(prec + 1)
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: t.Pos, Op: op, L: l, R: r}
	}
}

func (p *parser) unary() (Expr, error) {
	t := p.cur()
	if isOp(t, "-") || isOp(t, "+") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.advance()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		op := OpNeg
		if t.Text == "+" {
			op = OpPlus
		}
		return &Unary{Pos: t.Pos, Op: op, X: x}, nil
	}
	return p.atTimeZone()
}

func (p *parser) atTimeZone() (Expr, error) {
	x, err := p.postfix()
	if err != nil {
		return nil, err
	}
	for isKw(p.cur(), "AT") && isKw(p.peek(1), "TIME") && isKw(p.peek(2), "ZONE") {
		pos := p.cur().Pos
		p.advance()
		p.advance()
		p.advance()
		z, err := p.postfix()
		if err != nil {
			return nil, err
		}
		x = &AtTimeZone{Pos: pos, X: x, Zone: z}
	}
	return x, nil
}

func (p *parser) postfix() (Expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.cur()
		switch {
		case isOp(t, "["):
			p.advance()
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.wantOp("]"); err != nil {
				return nil, err
			}
			x = &Subscript{Pos: t.Pos, X: x, Index: idx}
		case isOp(t, ".") && isNameTok(p.peek(1)):
			p.advance()
			n, _ := p.name()
			x = &FieldAccess{Pos: t.Pos, X: x, Field: n}
		default:
			return x, nil
		}
	}
}

// exprList parses "e, ..." up to the closing parenthesis, which it consumes.
func (p *parser) exprList() ([]Expr, error) {
	var out []Expr
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

func (p *parser) primary() (Expr, error) {
	t := p.cur()
	switch t.Kind {
	case tkString:
		p.advance()
		return &Literal{Pos: t.Pos, Kind: LitString, Value: t.Text}, nil
	case tkInteger:
		p.advance()
		return &Literal{Pos: t.Pos, Kind: LitInteger, Value: t.Text}, nil
	case tkDecimal:
		p.advance()
		return &Literal{Pos: t.Pos, Kind: LitDecimal, Value: t.Text}, nil
	case tkDuration:
		p.advance()
		return &Duration{Pos: t.Pos, Nanos: t.Dur}, nil
	case tkParam:
		p.advance()
		return &Param{Pos: t.Pos, Name: t.Text}, nil
	case tkQuestion:
		p.advance()
		p.nparam++
		return &Param{Pos: t.Pos, Index: p.nparam}, nil
	case tkOp:
		if t.Text == "(" {
			return p.parenExpr()
		}
	case tkQuotedIdent:
		return p.nameExpr()
	case tkIdent:
		return p.keywordExpr(t)
	}
	p.expect("<expression>")
	return nil, p.mismatch()
}

// parenExpr parses a scalar subquery, a parenthesised expression or a row
// "(a, b, ...)".
func (p *parser) parenExpr() (Expr, error) {
	t := p.cur()
	if p.startsQuery(p.i + 1) {
		save := p.i
		p.advance()
		q, qerr := p.query()
		if qerr == nil {
			qerr = p.wantOp(")")
		}
		if qerr == nil {
			return &Subquery{Pos: t.Pos, Query: q}, nil
		}
		if !isOp(p.toks[save+1], "(") {
			return nil, qerr
		}
		p.i = save
		e, err := p.parenExprNoQuery()
		if err != nil {
			return nil, furthest(qerr, err)
		}
		return e, nil
	}
	return p.parenExprNoQuery()
}

func (p *parser) parenExprNoQuery() (Expr, error) {
	t := p.cur()
	p.advance()
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.acceptOp(",") {
		rest, err := p.exprList()
		if err != nil {
			return nil, err
		}
		return &RowCtor{Pos: t.Pos, Elems: append([]Expr{e}, rest...)}, nil
	}
	return e, p.wantOp(")")
}

// specialWords are the words that start a literal or special form in
// expressions, mapped to themselves.
var specialWords = func() map[string]string {
	m := map[string]string{}
	for _, w := range strings.Fields(`TRUE FALSE NULL TIMESTAMP DATE TIME INTERVAL CASE CAST TRY_CAST
		EXISTS EXTRACT ARRAY ROW CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP LOCALTIME LOCALTIMESTAMP`) {
		m[w] = w
	}
	return m
}()

// keywordExpr handles the bare word at t: literals and special forms
// introduced by a keyword, else a name or function call.
func (p *parser) keywordExpr(t token) (Expr, error) {
	next := p.peek(1)
	word, _ := lookupUpper(specialWords, t.Text)
	switch word {
	case "TRUE":
		p.advance()
		return &Literal{Pos: t.Pos, Kind: LitTrue}, nil
	case "FALSE":
		p.advance()
		return &Literal{Pos: t.Pos, Kind: LitFalse}, nil
	case "NULL":
		p.advance()
		return &Literal{Pos: t.Pos, Kind: LitNull}, nil
	case "TIMESTAMP", "DATE", "TIME":
		if next.Kind == tkString {
			kind := map[string]LitKind{"TIMESTAMP": LitTimestamp, "DATE": LitDate, "TIME": LitTime}[word]
			p.advance()
			p.advance()
			return &Literal{Pos: t.Pos, Kind: kind, Value: next.Text}, nil
		}
	case "INTERVAL":
		if next.Kind == tkString {
			return p.interval()
		}
	case "CASE":
		return p.caseExpr()
	case "CAST":
		return p.cast(false)
	case "TRY_CAST":
		if isOp(next, "(") {
			return p.cast(true)
		}
	case "EXISTS":
		p.advance()
		if err := p.wantOp("("); err != nil {
			return nil, err
		}
		q, err := p.query()
		if err != nil {
			return nil, err
		}
		return &Exists{Pos: t.Pos, Query: q}, p.wantOp(")")
	case "EXTRACT":
		p.advance()
		if err := p.wantOp("("); err != nil {
			return nil, err
		}
		f, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.wantKw("FROM"); err != nil {
			return nil, err
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Extract{Pos: t.Pos, Field: strings.ToUpper(f.Value), X: x}, p.wantOp(")")
	case "ARRAY":
		if isOp(next, "[") {
			p.advance()
			p.advance()
			a := &ArrayCtor{Pos: t.Pos, Elems: []Expr{}}
			if p.acceptOp("]") {
				return a, nil
			}
			for {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				a.Elems = append(a.Elems, e)
				if !p.acceptOp(",") {
					break
				}
			}
			return a, p.wantOp("]")
		}
	case "ROW":
		if isOp(next, "(") {
			p.advance()
			p.advance()
			elems, err := p.exprList()
			if err != nil {
				return nil, err
			}
			return &RowCtor{Pos: t.Pos, Elems: elems}, nil
		}
	case "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP":
		// Reserved words that name functions callable without parentheses.
		id := &Ident{Pos: t.Pos, Parts: []Name{{Value: t.Text}}}
		p.advance()
		if isOp(p.cur(), "(") {
			return p.call(id)
		}
		return &Call{Pos: t.Pos, Name: id, NoParens: true}, nil
	}
	if isReserved(t.Text) {
		p.expect("<expression>")
		return nil, p.mismatch()
	}
	return p.nameExpr()
}

// nameExpr parses a possibly qualified name and, if "(" follows, a
// function call.
func (p *parser) nameExpr() (Expr, error) {
	id, err := p.qualifiedName()
	if err != nil {
		return nil, err
	}
	if isOp(p.cur(), "(") {
		return p.call(id)
	}
	return id, nil
}

func (p *parser) call(name *Ident) (Expr, error) {
	c := &Call{Pos: name.Pos, Name: name, Args: []Expr{}}
	p.advance() // (
	if len(name.Parts) == 1 && name.Parts[0].Matches("position") && !isOp(p.cur(), ")") && !isOp(p.cur(), "*") &&
		!isKw(p.cur(), "DISTINCT") && !isKw(p.cur(), "ALL") {
		return p.position(c)
	}
	switch {
	case p.acceptOp("*"):
		c.Star = true
		if err := p.wantOp(")"); err != nil {
			return nil, err
		}
	case p.acceptOp(")"):
	default:
		if !p.acceptKw("ALL") {
			c.Distinct = p.acceptKw("DISTINCT")
		}
		args, err := p.exprList()
		if err != nil {
			return nil, err
		}
		c.Args = args
	}
	if isKw(p.cur(), "FILTER") && isOp(p.peek(1), "(") {
		p.advance()
		p.advance()
		if err := p.wantKw("WHERE"); err != nil {
			return nil, err
		}
		f, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.wantOp(")"); err != nil {
			return nil, err
		}
		c.Filter = f
	}
	if isKw(p.cur(), "OVER") && isOp(p.peek(1), "(") {
		w, err := p.window()
		if err != nil {
			return nil, err
		}
		c.Over = w
	}
	return c, nil
}

// position parses the SQL form position(substring IN string) after the
// opening parenthesis, as strpos(string, substring), which Trino defines it
// to be. The two-argument call form is left alone.
func (p *parser) position(c *Call) (Expr, error) {
	sub, err := p.value(precConcat)
	if err != nil {
		return nil, err
	}
	if !p.acceptKw("IN") {
		// Not the IN form: an ordinary argument list.
		c.Args = append(c.Args, sub)
		for p.acceptOp(",") {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.Args = append(c.Args, e)
		}
		if err := p.wantOp(")"); err != nil {
			return nil, err
		}
		return c, nil
	}
	str, err := p.value(precConcat)
	if err != nil {
		return nil, err
	}
	if err := p.wantOp(")"); err != nil {
		return nil, err
	}
	c.Name = &Ident{Pos: c.Name.Pos, Parts: []Name{{Value: "strpos"}}}
	c.Args = []Expr{str, sub}
	return c, nil
}

func (p *parser) window() (*Window, error) {
	w := &Window{Pos: p.cur().Pos}
	p.advance()
	p.advance()
	if p.acceptKw("PARTITION") {
		if err := p.wantKw("BY"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			w.PartitionBy = append(w.PartitionBy, e)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	var err error
	if p.acceptKw("ORDER") {
		if err := p.wantKw("BY"); err != nil {
			return nil, err
		}
		if w.OrderBy, err = p.orderItems(); err != nil {
			return nil, err
		}
	}
	fpos := p.cur().Pos
	unit := FrameRows
	switch {
	case p.acceptKw("ROWS"):
	case p.acceptKw("RANGE"):
		unit = FrameRange
	case p.acceptKw("GROUPS"):
		unit = FrameGroups
	default:
		return w, p.wantOp(")")
	}
	f := &Frame{Pos: fpos, Unit: unit}
	if p.acceptKw("BETWEEN") {
		if f.Start, err = p.frameBound(); err != nil {
			return nil, err
		}
		if err := p.wantKw("AND"); err != nil {
			return nil, err
		}
		if f.End, err = p.frameBound(); err != nil {
			return nil, err
		}
	} else if f.Start, err = p.frameBound(); err != nil {
		return nil, err
	}
	w.Frame = f
	return w, p.wantOp(")")
}

func (p *parser) frameBound() (*FrameBound, error) {
	b := &FrameBound{Pos: p.cur().Pos}
	switch {
	case p.acceptKw("UNBOUNDED"):
		if p.acceptKw("PRECEDING") {
			b.Kind = UnboundedPreceding
		} else if p.acceptKw("FOLLOWING") {
			b.Kind = UnboundedFollowing
		} else {
			return nil, p.mismatch()
		}
		return b, nil
	case p.acceptKw("CURRENT"):
		b.Kind = CurrentRow
		return b, p.wantKw("ROW")
	}
	off, err := p.value(precConcat)
	if err != nil {
		return nil, err
	}
	b.Offset = off
	if p.acceptKw("PRECEDING") {
		b.Kind = Preceding
	} else if p.acceptKw("FOLLOWING") {
		b.Kind = Following
	} else {
		return nil, p.mismatch()
	}
	return b, nil
}

func (p *parser) caseExpr() (Expr, error) {
	c := &Case{Pos: p.cur().Pos}
	p.advance()
	var err error
	if !isKw(p.cur(), "WHEN") {
		if c.Operand, err = p.expr(); err != nil {
			return nil, err
		}
	}
	for {
		wpos := p.cur().Pos
		if !p.acceptKw("WHEN") {
			break
		}
		w := &When{Pos: wpos}
		if w.Cond, err = p.expr(); err != nil {
			return nil, err
		}
		if err := p.wantKw("THEN"); err != nil {
			return nil, err
		}
		if w.Result, err = p.expr(); err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		return nil, p.mismatch()
	}
	if p.acceptKw("ELSE") {
		if c.Else, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return c, p.wantKw("END")
}

func (p *parser) cast(try bool) (Expr, error) {
	c := &Cast{Pos: p.cur().Pos, Try: try}
	p.advance()
	if err := p.wantOp("("); err != nil {
		return nil, err
	}
	var err error
	if c.X, err = p.expr(); err != nil {
		return nil, err
	}
	if err := p.wantKw("AS"); err != nil {
		return nil, err
	}
	if c.To, err = p.typ(); err != nil {
		return nil, err
	}
	return c, p.wantOp(")")
}

// intervalFields are the fields of INTERVAL literals and types.
var intervalFields = map[string]bool{"YEAR": true, "MONTH": true, "DAY": true, "HOUR": true, "MINUTE": true, "SECOND": true}

func (p *parser) intervalField() (string, error) {
	t := p.cur()
	if t.Kind == tkIdent && intervalFields[strings.ToUpper(t.Text)] {
		p.advance()
		return strings.ToUpper(t.Text), nil
	}
	for _, f := range [...]string{"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"} {
		p.expect(f)
	}
	return "", p.mismatch()
}

func (p *parser) interval() (Expr, error) {
	iv := &Interval{Pos: p.cur().Pos}
	p.advance()
	iv.Value = p.cur().Text
	p.advance()
	var err error
	if iv.From, err = p.intervalField(); err != nil {
		return nil, err
	}
	if p.acceptKw("TO") {
		if iv.To, err = p.intervalField(); err != nil {
			return nil, err
		}
	}
	return iv, nil
}

// typ parses a SQL type.
func (p *parser) typ() (*Type, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.cur()
	if t.Kind != tkIdent {
		p.expect("<type>")
		return nil, p.mismatch()
	}
	p.advance()
	ty := &Type{Pos: t.Pos, Name: strings.ToUpper(t.Text)}
	switch ty.Name {
	case "INTERVAL":
		from, err := p.intervalField()
		if err != nil {
			return nil, err
		}
		if err := p.wantKw("TO"); err != nil {
			return nil, err
		}
		to, err := p.intervalField()
		if err != nil {
			return nil, err
		}
		ty.Name += " " + from + " TO " + to
		return ty, nil
	case "ARRAY", "TIMESERIES":
		closer := ")"
		switch {
		case p.acceptOp("("):
		case p.acceptOp("["):
			closer = "]"
		case p.acceptOp("<"):
			closer = ">"
		default:
			return nil, p.mismatch()
		}
		elem, err := p.typ()
		if err != nil {
			return nil, err
		}
		ty.Elem = elem
		return ty, p.wantOp(closer)
	case "ROW":
		if err := p.wantOp("("); err != nil {
			return nil, err
		}
		for {
			f := &TypeField{Pos: p.cur().Pos}
			isIntervalType := isKw(p.cur(), "INTERVAL") && isKw(p.peek(2), "TO")
			if isNameTok(p.cur()) && p.peek(1).Kind == tkIdent && !isIntervalType {
				n, _ := p.name()
				f.Name = &n
			}
			ft, err := p.typ()
			if err != nil {
				return nil, err
			}
			f.Type = ft
			ty.Fields = append(ty.Fields, f)
			if !p.acceptOp(",") {
				break
			}
		}
		return ty, p.wantOp(")")
	}
	if p.acceptOp("(") {
		for {
			n := p.cur()
			if n.Kind != tkInteger {
				p.expect("<integer>")
				return nil, p.mismatch()
			}
			p.advance()
			ty.Params = append(ty.Params, n.Text)
			if !p.acceptOp(",") {
				break
			}
		}
		return ty, p.wantOp(")")
	}
	return ty, nil
}

// isCurrentFunc reports whether s names one of the reserved functions that
// may be called without parentheses.
func isCurrentFunc(s string) bool {
	switch strings.ToUpper(s) {
	case "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP":
		return true
	}
	return false
}
