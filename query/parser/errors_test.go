package parser

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// invalidQueries must fail with exactly this position and message.
var invalidQueries = []struct {
	in        string
	line, col int
	msg       string
}{
	{"SELECT a, b FORM t", 1, 18, "mismatched input 't'. Expecting: ',', ';', 'EXCEPT', 'FROM', 'GROUP', 'HAVING', 'INTERSECT', 'LIMIT', 'OFFSET', 'ORDER', 'UNION', 'WHERE', <EOF>"},
	{"SELECT", 1, 7, "mismatched input '<EOF>'. Expecting: 'ALL', 'DISTINCT', <expression>"},
	{"SELECT a FROM", 1, 14, "mismatched input '<EOF>'. Expecting: '(', 'UNNEST', <identifier>"},
	{"SELECT a FROM t WHERE", 1, 22, "mismatched input '<EOF>'. Expecting: <expression>"},
	{"SELEC a FROM t", 1, 1, "mismatched input 'SELEC'. Expecting: '(', 'DESCRIBE', 'SELECT', 'SHOW', 'UNLOAD', 'VALUES', 'WITH'"},
	{"SELECT a FROM t GROUP 1", 1, 23, "mismatched input '1'. Expecting: 'BY'"},
	{"SELECT a FROM t ORDER BY", 1, 25, "mismatched input '<EOF>'. Expecting: <expression>"},
	{"SELECT (a + b FROM t", 1, 15, "mismatched input 'FROM'. Expecting: ')', ',', 'AND', 'BETWEEN', 'IN', 'IS', 'LIKE', 'OR'"},
	{"SELECT a FROM t WHERE x = 'abc", 1, 27, "unterminated string literal"},
	{"SELECT \"abc FROM t", 1, 8, "unterminated quoted identifier"},
	{"SELECT a FROM t /* never closed", 1, 17, "unterminated comment"},
	{"SELECT 1x", 1, 8, "invalid duration literal '1x'"},
	{"SELECT 1.5h", 1, 8, "invalid duration literal '1.5h'"},
	{"SELECT 99999999999999999999d", 1, 8, "duration literal out of range '99999999999999999999d'"},
	{"SELECT a FROM t JOIN u", 1, 23, "mismatched input '<EOF>'. Expecting: 'AS', 'ON', 'USING'"},
	{"SELECT CAST(x AS) FROM t", 1, 17, "mismatched input ')'. Expecting: <type>"},
	{"SELECT CASE END", 1, 13, "mismatched input 'END'. Expecting: <expression>"},
	{"SELECT a NOT 5", 1, 14, "mismatched input '5'. Expecting: 'BETWEEN', 'IN', 'LIKE'"},
	{"SELECT a = b = c", 1, 14, "mismatched input '='. Expecting: ',', ';', 'AND', 'AS', 'EXCEPT', 'FROM', 'GROUP', 'HAVING', 'INTERSECT', 'LIMIT', 'OFFSET', 'OR', 'ORDER', 'UNION', 'WHERE', <EOF>"},
	{"SELECT x::double FROM t", 1, 9, "mismatched input '::'. Expecting: ',', ';', 'AND', 'AS', 'BETWEEN', 'EXCEPT', 'FROM', 'GROUP', 'HAVING', 'IN', 'INTERSECT', 'IS', 'LIKE', 'LIMIT', 'OFFSET', 'OR', 'ORDER', 'UNION', 'WHERE', <EOF>"},
	{"SELECT a FROM t LIMIT x", 1, 23, "mismatched input 'x'. Expecting: 'ALL', <integer>"},
	{"SHOW", 1, 5, "mismatched input '<EOF>'. Expecting: 'DATABASES', 'MEASURES', 'TABLES'"},
	{"SHOW MEASURES devops.cpu", 1, 15, "mismatched input 'devops'. Expecting: 'FROM'"},
	{"DESCRIBE", 1, 9, "mismatched input '<EOF>'. Expecting: <identifier>"},
	{"SELECT INTERVAL '1' WEEK", 1, 21, "mismatched input 'WEEK'. Expecting: 'DAY', 'HOUR', 'MINUTE', 'MONTH', 'SECOND', 'YEAR'"},
	{"SELECT a FROM t; SELECT b", 1, 18, "mismatched input 'SELECT'. Expecting: <EOF>"},
	{"SELECT #", 1, 8, "token recognition error at: '#'"},
	{"SELECT \"\"", 1, 8, "zero-length delimited identifier not allowed"},
	{"SELECT f(x) OVER (ROWS BETWEEN 1 AND 2)", 1, 34, "mismatched input 'AND'. Expecting: 'FOLLOWING', 'PRECEDING'"},
	{"SELECT @", 1, 8, "token recognition error at: '@'"},
	{"SELECT a FROM t UNION", 1, 22, "mismatched input '<EOF>'. Expecting: '(', 'ALL', 'DISTINCT', 'SELECT', 'VALUES'"},
	{"SELECT * FROM t WHERE a IN ()", 1, 29, "mismatched input ')'. Expecting: <expression>"},
	{"WITH x AS SELECT 1 SELECT 2", 1, 11, "mismatched input 'SELECT'. Expecting: '('"},
	{"SELECT a\nFROM t\nWHERE x = = 1", 3, 11, "mismatched input '='. Expecting: <expression>"},
	{"SELECT 'multi\nliné' FROM t WHERE = 1", 2, 20, "mismatched input '='. Expecting: <expression>"},
	{"SELECT 'é' FORM t", 1, 17, "mismatched input 't'. Expecting: ',', ';', 'EXCEPT', 'FROM', 'GROUP', 'HAVING', 'INTERSECT', 'LIMIT', 'OFFSET', 'ORDER', 'UNION', 'WHERE', <EOF>"},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range invalidQueries {
		st, err := Parse(tc.in)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, %v; want a *Error", tc.in, st, err)
			continue
		}
		if pe.Line != tc.line || pe.Col != tc.col || pe.Msg != tc.msg {
			t.Errorf("Parse(%q):\n got  %d:%d %s\n want %d:%d %s", tc.in, pe.Line, pe.Col, pe.Msg, tc.line, tc.col, tc.msg)
		}
		if want := "line " + itoa(tc.line) + ":" + itoa(tc.col) + ": " + tc.msg; err.Error() != want {
			t.Errorf("Error() = %q, want %q", err.Error(), want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestDepthLimit(t *testing.T) {
	deep := []string{
		strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000),
		strings.Repeat("- ", 5000) + "1",
		strings.Repeat("NOT ", 5000) + "x",
		strings.Repeat("f(", 5000) + "1" + strings.Repeat(")", 5000),
		strings.Repeat("ARRAY[", 5000) + "1" + strings.Repeat("]", 5000),
		strings.Repeat("x -> ", 5000) + "1",
	}
	for _, s := range deep {
		_, err := ParseExpr(s)
		var pe *Error
		if !errors.As(err, &pe) || !strings.HasPrefix(pe.Msg, "statement is too deeply nested") {
			t.Errorf("ParseExpr(%.20q...) = %v, want a nesting error", s, err)
		}
	}
	for _, s := range []string{
		"SELECT * FROM " + strings.Repeat("(", 5000) + "t" + strings.Repeat(")", 5000),
		strings.Repeat("(", 5000) + "SELECT 1" + strings.Repeat(")", 5000),
		"SELECT CAST(x AS " + strings.Repeat("ARRAY(", 5000) + "INT" + strings.Repeat(")", 5000) + ")",
		"SELECT " + strings.Repeat("(SELECT ", 5000) + "1" + strings.Repeat(")", 5000),
	} {
		_, err := Parse(s)
		var pe *Error
		if !errors.As(err, &pe) || !strings.HasPrefix(pe.Msg, "statement is too deeply nested") {
			t.Errorf("Parse(%.20q...) = %v, want a nesting error", s, err)
		}
	}
	// Nesting below the limit still parses.
	ok := strings.Repeat("(", 50) + "1" + strings.Repeat(")", 50)
	if e, err := ParseExpr(ok); err != nil || Format(e) != "1" {
		t.Errorf("ParseExpr(50 parens) = %v, %v", e, err)
	}
}

func TestLongFlatExpression(t *testing.T) {
	// Long left-deep chains are loops, not recursion, and are not limited.
	terms := make([]string, 20000)
	for i := range terms {
		terms[i] = "hostname = 'host_1'"
	}
	e, err := ParseExpr(strings.Join(terms, " OR "))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for b, ok := e.(*Binary); ok && b.Op == OpOr; b, ok = b.L.(*Binary) {
		n++
	}
	if n != len(terms)-1 {
		t.Errorf("OR chain depth = %d, want %d", n, len(terms)-1)
	}
}
