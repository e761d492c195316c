package parser

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is a
// *Error, and that every accepted statement prints to text that parses
// back to the same AST.
func FuzzParse(f *testing.F) {
	for _, tc := range validQueries {
		f.Add(tc.in)
	}
	for _, tc := range invalidQueries {
		f.Add(tc.in)
	}
	for _, q := range tsbsQueries(5) {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := Parse(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("Parse(%q) error %v is not a positioned *Error", s, err)
			}
			return
		}
		checkRoundTrip(t, st)
	})
}

// FuzzParseExpr does the same for ParseExpr.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		"a OR b AND NOT c", "x -> x + 1", "-a * b AT TIME ZONE 'UTC'", "f(x)[1].y",
		"CASE WHEN a THEN 1 ELSE 2 END", "CAST(x AS ROW(a BIGINT))", "a IN (SELECT 1)",
		"time > now() - 1h", "(a, b) -> a || b", "INTERVAL '1' DAY", "\"a\"\"b\".c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpr(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("ParseExpr(%q) error %v is not a *Error", s, err)
			}
			return
		}
		out := Format(e)
		e2, err := ParseExpr(out)
		if err != nil {
			t.Fatalf("printed form %q of %q does not parse: %v", out, s, err)
		}
		if !sameAST(e, e2) {
			t.Fatalf("printed form %q of %q parses to a different AST", out, s)
		}
	})
}
