package parser

import (
	"reflect"
	"testing"
)

var posType = reflect.TypeFor[Pos]()

// stripPos zeroes every Pos reachable from v so that ASTs parsed from
// different texts can be compared structurally.
func stripPos(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stripPos(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			stripPos(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == posType {
			if v.CanSet() {
				v.Set(reflect.Zero(posType))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			stripPos(v.Field(i))
		}
	}
}

// sameAST reports whether a and b are equal ignoring positions. It
// modifies both.
func sameAST(a, b any) bool {
	stripPos(reflect.ValueOf(&a).Elem())
	stripPos(reflect.ValueOf(&b).Elem())
	return reflect.DeepEqual(a, b)
}

// checkRoundTrip asserts that st prints to text that parses back to the
// same AST and prints identically again; it returns the printed text.
func checkRoundTrip(t testing.TB, st Statement) string {
	t.Helper()
	out := Format(st)
	st2, err := Parse(out)
	if err != nil {
		t.Fatalf("printed form does not parse: %v\nprinted: %s", err, out)
	}
	if out2 := Format(st2); out2 != out {
		t.Fatalf("printing is not stable:\nfirst:  %s\nsecond: %s", out, out2)
	}
	if !sameAST(st, st2) {
		t.Fatalf("printed form parses to a different AST: %s", out)
	}
	return out
}
