package parser

import (
	"fmt"
	"testing"
)

func TestLex(t *testing.T) {
	tests := []struct {
		in   string
		want string // kind:text@line:col tokens, space-separated
	}{
		{"SELECT a,b", "I:SELECT@1:1 I:a@1:8 O:,@1:9 I:b@1:10"},
		{`"my ""db""".t`, `Q:my "db"@1:1 O:.@1:12 I:t@1:13`},
		{`'it''s' 'x'`, `S:it's@1:1 S:x@1:9`},
		{"1 2.5 .5 1e3 1E-2 7.", "N:1@1:1 D:2.5@1:3 D:.5@1:7 D:1e3@1:10 D:1E-2@1:14 D:7.@1:19"},
		{"15m 1h 100ms 2us 5ns 1d 12second 3MINUTE", "T:15m=900000000000@1:1 T:1h=3600000000000@1:5 T:100ms=100000000@1:8 T:2us=2000@1:14 T:5ns=5@1:18 T:1d=86400000000000@1:22 T:12second=12000000000@1:25 T:3MINUTE=180000000000@1:34"},
		{"= <> != < > <= >= + - * / % || -> ( ) [ ] , . :: ;", "O:=@1:1 O:<>@1:3 O:!=@1:6 O:<@1:9 O:>@1:11 O:<=@1:13 O:>=@1:16 O:+@1:19 O:-@1:21 O:*@1:23 O:/@1:25 O:%@1:27 O:||@1:29 O:->@1:32 O:(@1:35 O:)@1:37 O:[@1:39 O:]@1:41 O:,@1:43 O:.@1:45 O:::@1:47 O:;@1:50"},
		{"@scheduled_runtime ? ?", "P:scheduled_runtime@1:1 ?:?@1:20 ?:?@1:22"},
		{"measure_value::double b.measure_value::bigint x::int", "I:measure_value::double@1:1 I:b@1:23 O:.@1:24 I:measure_value::bigint@1:25 I:x@1:47 O:::@1:48 I:int@1:50"},
		{"a -- comment\n  b /* x\ny */ c", "I:a@1:1 I:b@2:3 I:c@3:6"},
		{"'a\nb' x", "S:a\nb@1:1 I:x@2:4"},
		{"é ü", "I:é@1:1 I:ü@1:3"},
		{"a-1", "I:a@1:1 O:-@1:2 N:1@1:3"},
		{"a--1\nb", "I:a@1:1 I:b@2:1"},
	}
	kinds := map[tokenKind]string{tkIdent: "I", tkQuotedIdent: "Q", tkString: "S", tkInteger: "N", tkDecimal: "D", tkDuration: "T", tkParam: "P", tkQuestion: "?", tkOp: "O"}
	for _, tc := range tests {
		toks, err := lex(tc.in)
		if err != nil {
			t.Errorf("lex(%q): %v", tc.in, err)
			continue
		}
		got := ""
		for _, tk := range toks {
			if tk.Kind == tkEOF {
				break
			}
			if got != "" {
				got += " "
			}
			got += kinds[tk.Kind] + ":" + tk.Text
			if tk.Kind == tkDuration {
				got += fmt.Sprintf("=%d", tk.Dur)
			}
			got += fmt.Sprintf("@%d:%d", tk.Pos.Line, tk.Pos.Col)
		}
		if got != tc.want {
			t.Errorf("lex(%q):\n got  %s\n want %s", tc.in, got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{0, "0s"}, {1, "1ns"}, {1500, "1500ns"}, {2000, "2us"}, {1e6, "1ms"}, {1500e6, "1500ms"},
		{60e9, "1m"}, {90e9, "90s"}, {3600e9, "1h"}, {86400e9, "1d"}, {2 * 86400e9, "2d"}, {25 * 3600e9, "25h"},
	}
	for _, tc := range tests {
		if got := formatDuration(tc.ns); got != tc.want {
			t.Errorf("formatDuration(%d) = %s, want %s", tc.ns, got, tc.want)
		}
	}
}
