package parser

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenKind classifies a token.
type tokenKind uint8

const (
	tkEOF         tokenKind = iota
	tkIdent                 // bare identifier or keyword; Text is as written
	tkQuotedIdent           // "quoted" identifier; Text is the unescaped name
	tkString                // 'string'; Text is the unescaped value
	tkInteger               // 123
	tkDecimal               // 1.5, .5, 1e10
	tkDuration              // 15m; Text as written, Dur the nanoseconds
	tkParam                 // @name; Text is the name without '@'
	tkQuestion              // ?
	tkOp                    // punctuation; Text is the operator
)

// token is one lexical unit with its source position.
type token struct {
	Kind tokenKind
	Text string
	Dur  int64 // nanoseconds, for tkDuration
	Pos  Pos
}

// durationUnits maps a duration literal unit to its length in nanoseconds.
var durationUnits = map[string]int64{
	"ns": 1, "nanosecond": 1,
	"us": 1e3, "microsecond": 1e3,
	"ms": 1e6, "millisecond": 1e6,
	"s": 1e9, "second": 1e9,
	"m": 60e9, "minute": 60e9,
	"h": 3600e9, "hour": 3600e9,
	"d": 86400e9, "day": 86400e9,
}

// lexer splits SQL text into tokens, tracking line and column (1-based,
// counted in runes).
type lexer struct {
	src     string
	off     int // current byte offset
	line    int
	col     int // column of src[colOff]
	colOff  int // byte offset at which col was last computed
	lineOff int // byte offset of the start of the current line
}

// lex returns all tokens of src, ending with a tkEOF token.
func lex(src string) ([]token, error) {
	l := &lexer{src: src, line: 1, col: 1}
	toks := make([]token, 0, len(src)/6+1)
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.Kind == tkEOF {
			return toks, nil
		}
	}
}

// pos returns the position of byte offset off, which must not precede the
// last offset asked for on the current line.
func (l *lexer) pos(off int) Pos {
	if l.colOff < l.lineOff {
		l.colOff, l.col = l.lineOff, 1
	}
	l.col += utf8.RuneCountInString(l.src[l.colOff:off])
	l.colOff = off
	return Pos{Line: l.line, Col: l.col}
}

// newline records that a line starts at byte offset off.
func (l *lexer) newline(off int) {
	l.line++
	l.lineOff = off
}

func (l *lexer) errAt(off int, format string, args ...any) *Error {
	p := l.pos(off)
	return &Error{Line: p.Line, Col: p.Col, Msg: sprintf(format, args...)}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= utf8.RuneSelf
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || isDigit(c)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipSpace skips white space and comments.
func (l *lexer) skipSpace() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == '\n':
			l.off++
			l.newline(l.off)
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.off++
		case c == '-' && strings.HasPrefix(l.src[l.off:], "--"):
			i := strings.IndexByte(l.src[l.off:], '\n')
			if i < 0 {
				l.off = len(l.src)
			} else {
				l.off += i
			}
		case c == '/' && strings.HasPrefix(l.src[l.off:], "/*"):
			start := l.off
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				return l.errAt(start, "unterminated comment")
			}
			stop := l.off + 2 + end + 2
			for i := l.off; i < stop; i++ {
				if l.src[i] == '\n' {
					l.newline(i + 1)
				}
			}
			l.off = stop
		default:
			return nil
		}
	}
	return nil
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.off
	if start >= len(l.src) {
		return token{Kind: tkEOF, Pos: l.pos(start)}, nil
	}
	pos := l.pos(start)
	c := l.src[start]
	switch {
	case isIdentStart(c):
		return l.ident(start, pos), nil
	case isDigit(c) || (c == '.' && start+1 < len(l.src) && isDigit(l.src[start+1])):
		return l.number(start, pos)
	case c == '\'':
		s, err := l.quoted('\'', start, "unterminated string literal")
		if err != nil {
			return token{}, err
		}
		return token{Kind: tkString, Text: s, Pos: pos}, nil
	case c == '"':
		s, err := l.quoted('"', start, "unterminated quoted identifier")
		if err != nil {
			return token{}, err
		}
		if s == "" {
			return token{}, l.errAt(start, "zero-length delimited identifier not allowed")
		}
		return token{Kind: tkQuotedIdent, Text: s, Pos: pos}, nil
	case c == '@':
		i := start + 1
		for i < len(l.src) && isIdentPart(l.src[i]) {
			i++
		}
		if i == start+1 {
			return token{}, l.errAt(start, "token recognition error at: '@'")
		}
		l.off = i
		return token{Kind: tkParam, Text: l.src[start+1 : i], Pos: pos}, nil
	case c == '?':
		l.off++
		return token{Kind: tkQuestion, Text: "?", Pos: pos}, nil
	}
	for _, op := range [...]string{"<>", "!=", "<=", ">=", "||", "->", "::"} {
		if strings.HasPrefix(l.src[start:], op) {
			l.off += 2
			return token{Kind: tkOp, Text: op, Pos: pos}, nil
		}
	}
	if strings.IndexByte("=<>+-*/%()[],.;", c) >= 0 {
		l.off++
		return token{Kind: tkOp, Text: l.src[start : start+1], Pos: pos}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	return token{}, l.errAt(start, "token recognition error at: '%c'", r)
}

// ident lexes a bare identifier. measure_value::<type> is one identifier:
// Timestream spells the value column of single-measure records that way.
func (l *lexer) ident(start int, pos Pos) token {
	i := start
	for i < len(l.src) && isIdentPart(l.src[i]) {
		i++
	}
	if strings.EqualFold(l.src[start:i], "measure_value") && strings.HasPrefix(l.src[i:], "::") &&
		i+2 < len(l.src) && isIdentStart(l.src[i+2]) {
		i += 2
		for i < len(l.src) && isIdentPart(l.src[i]) {
			i++
		}
	}
	l.off = i
	return token{Kind: tkIdent, Text: l.src[start:i], Pos: pos}
}

// number lexes an integer, a decimal or a duration literal.
func (l *lexer) number(start int, pos Pos) (token, error) {
	i := start
	kind := tkInteger
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	if i < len(l.src) && l.src[i] == '.' {
		kind = tkDecimal
		i++
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
	}
	if i < len(l.src) && (l.src[i] == 'e' || l.src[i] == 'E') {
		j := i + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j < len(l.src) && isDigit(l.src[j]) {
			for j < len(l.src) && isDigit(l.src[j]) {
				j++
			}
			kind, i = tkDecimal, j
		}
	}
	numEnd := i
	for i < len(l.src) && isIdentPart(l.src[i]) {
		i++
	}
	l.off = i
	if i == numEnd {
		return token{Kind: kind, Text: l.src[start:i], Pos: pos}, nil
	}
	unit := strings.ToLower(l.src[numEnd:i])
	scale, ok := durationUnits[unit]
	if !ok || kind != tkInteger {
		return token{}, l.errAt(start, "invalid duration literal '%s'", l.src[start:i])
	}
	n, err := strconv.ParseInt(l.src[start:numEnd], 10, 64)
	if err != nil || n > math.MaxInt64/scale {
		return token{}, l.errAt(start, "duration literal out of range '%s'", l.src[start:i])
	}
	return token{Kind: tkDuration, Text: l.src[start:i], Dur: n * scale, Pos: pos}, nil
}

// quoted lexes a literal delimited by q in which a doubled q stands for
// one q, and returns its unescaped content.
func (l *lexer) quoted(q byte, start int, unterminated string) (string, error) {
	i := start + 1
	var b strings.Builder
	seg := i
	escaped := false
	for {
		j := strings.IndexByte(l.src[i:], q)
		if j < 0 {
			return "", l.errAt(start, "%s", unterminated)
		}
		i += j
		if i+1 < len(l.src) && l.src[i+1] == q {
			b.WriteString(l.src[seg : i+1])
			i += 2
			seg = i
			escaped = true
			continue
		}
		break
	}
	for k := start; k < i; k++ {
		if l.src[k] == '\n' {
			l.newline(k + 1)
		}
	}
	l.off = i + 1
	if !escaped {
		return l.src[start+1 : i], nil
	}
	b.WriteString(l.src[seg:i])
	return b.String(), nil
}
