package parser

import (
	"sync"
	"testing"
)

func TestFormatNodes(t *testing.T) {
	st, err := Parse(`SELECT t.*, CAST(x AS ROW(a ARRAY(VARCHAR(3)), INTERVAL YEAR TO MONTH)), rank() OVER (PARTITION BY h ORDER BY v DESC NULLS FIRST ROWS 3 PRECEDING) AS r FROM a AS t(x) CROSS JOIN UNNEST(s) GROUP BY CUBE (a, b)`)
	if err != nil {
		t.Fatal(err)
	}
	sel := st.(*Query).Body.(*Select)
	call := sel.Items[2].Expr.(*Call)
	tests := []struct {
		n    Node
		want string
	}{
		{sel.Items[0], "t.*"},
		{sel.Items[1].Expr.(*Cast).To, "ROW(a ARRAY(VARCHAR(3)), INTERVAL YEAR TO MONTH)"},
		{sel.Items[2], "rank() OVER (PARTITION BY h ORDER BY v DESC NULLS FIRST ROWS 3 PRECEDING) AS r"},
		{call.Over, "OVER (PARTITION BY h ORDER BY v DESC NULLS FIRST ROWS 3 PRECEDING)"},
		{call.Over.OrderBy[0], "v DESC NULLS FIRST"},
		{sel.From[0], "a AS t(x) CROSS JOIN UNNEST(s)"},
		{sel.From[0].(*Join).Left, "a AS t(x)"},
		{sel.GroupBy.Elements[0], "CUBE (a, b)"},
		{sel, Format(st)},
		{nil, ""},
		{&Ident{Parts: []Name{{Value: "select"}, {Value: "a b"}, {Value: "ok"}}}, `"select"."a b".ok`},
		{&Binary{Op: OpMul, L: &Binary{Op: OpAdd, L: &Ident{Parts: []Name{{Value: "a"}}}, R: &Literal{Kind: LitInteger, Value: "1"}}, R: &Duration{Nanos: 90e9}}, "(a + 1) * 90s"},
		{&Unary{Op: OpNeg, X: &Unary{Op: OpNeg, X: &Literal{Kind: LitInteger, Value: "1"}}}, "- -1"},
		{&Join{Kind: InnerJoin, Left: &Table{Name: &Ident{Parts: []Name{{Value: "a"}}}}, Right: &Join{Kind: CrossJoin, Left: &Table{Name: &Ident{Parts: []Name{{Value: "b"}}}}, Right: &Table{Name: &Ident{Parts: []Name{{Value: "c"}}}}}, Using: []Name{{Value: "k"}}}, "a JOIN (b CROSS JOIN c) USING (k)"},
	}
	for _, tc := range tests {
		if got := Format(tc.n); got != tc.want {
			t.Errorf("Format(%T) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestParseConcurrent(t *testing.T) {
	qs := tsbsQueries(2)
	want := make([]string, len(qs))
	for i, q := range qs {
		st, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = Format(st)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(qs))
	for range 4 {
		wg.Go(func() {
			for i, q := range qs {
				st, err := Parse(q)
				if err != nil || Format(st) != want[i] {
					errs <- q
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for q := range errs {
		t.Errorf("concurrent Parse(%q) differed", q)
	}
}
