package exec

import (
	"testing"
	"time"
)

// FuzzParseDatetime feeds parse_datetime arbitrary input and patterns: it
// must return a value or an error, never panic, and whatever it formats
// with a full pattern it must parse back to the same instant.
func FuzzParseDatetime(f *testing.F) {
	f.Add("2024-05-06 07:08:09.5", "yyyy-MM-dd HH:mm:ss.S", int64(1714979289123456789))
	f.Add("06/May/2024:07:08:09 +0200", "dd/MMM/yyyy:HH:mm:ss Z", int64(0))
	f.Add("Monday 2024-W19", "EEEE xxxx-'W'ww", int64(-86400e9))
	f.Add("'", "''''", int64(1))
	f.Fuzz(func(t *testing.T, s, pattern string, ns int64) {
		if toks, err := compileJoda(pattern); err == nil {
			_, _ = parseJoda(s, toks)
			_ = formatJoda(time.Unix(0, ns).UTC(), toks)
		}
		// Years 1..9999 round-trip through the full pattern.
		tm := time.Unix(0, ns).UTC()
		if tm.Year() < 1 || tm.Year() > 9999 {
			return
		}
		full, err := compileJoda("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSZZ")
		if err != nil {
			t.Fatal(err)
		}
		out := formatJoda(tm, full)
		got, err := parseJoda(out, full)
		if err != nil || got != ns {
			t.Fatalf("round trip of %d via %q: got %d, %v", ns, out, got, err)
		}
	})
}

func TestJodaTable(t *testing.T) {
	ts := time.Date(2021, 1, 3, 13, 4, 5, 6e6, time.UTC) // a Sunday in ISO week 53 of 2020
	for _, c := range []struct{ pattern, want string }{
		{"xxxx-'W'ww-e", "2020-W53-7"},
		{"yy MM M MMM", "21 01 1 Jan"},
		{"H:m:s.SS", "13:4:5.00"},
		{"KK hh kk a", "01 01 13 PM"},
		{"zzzz", "Coordinated Universal Time"},
	} {
		toks, err := compileJoda(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got := formatJoda(ts, toks); got != c.want {
			t.Errorf("format %q = %q, want %q", c.pattern, got, c.want)
		}
	}
}
