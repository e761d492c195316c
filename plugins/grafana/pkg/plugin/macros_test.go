package plugin

import (
	"strings"
	"testing"
	"time"
)

func TestExpandMacros(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(6 * time.Hour)
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	base := macroContext{From: from, To: to, Interval: 30 * time.Second, Now: now,
		DefaultDB: "devops", DefaultTable: "cpu", DefaultMeasure: "usage_user"}
	for _, c := range []struct {
		name, in, want string
		edit           func(*macroContext)
		err            string
	}{
		{name: "timeFilter", in: "WHERE $__timeFilter", want: "WHERE time BETWEEN from_milliseconds(1767225600000) AND from_milliseconds(1767247200000)"},
		{name: "from and to", in: "$__timeFrom,$__timeTo", want: "1767225600000,1767247200000"},
		{name: "intervals longest first", in: "$__interval $__interval_ms $__interval_raw_ms", want: "30000ms 30000ms 30000"},
		{name: "now", in: "$__now_ms", want: "1767312000000"},
		{name: "defaults quoted", in: "FROM $__database.$__table WHERE measure_name = '$__measure'", want: `FROM "devops"."cpu" WHERE measure_name = 'usage_user'`},
		{name: "query names win", in: "$__database.$__table $__measure", want: `"db"."t" m`,
			edit: func(m *macroContext) { m.Database, m.Table, m.Measure = "db", "t", "m" }},
		{name: "unexpanded variable falls back", in: "$__database", want: `"devops"`,
			edit: func(m *macroContext) { m.Database = "${db}" }},
		{name: "quoted name kept", in: "$__table", want: `"my table"`,
			edit: func(m *macroContext) { m.Table = `"my table"` }},
		{name: "quote in a name", in: "$__table", want: `"a""b"`,
			edit: func(m *macroContext) { m.Table = `a"b` }},
		{name: "alert: interval from range", in: "$__interval", want: "20000ms", // 6h/1024 rounds to 20s
			edit: func(m *macroContext) { m.Interval = 0 }},
		{name: "alert: interval from max data points", in: "$__interval_raw_ms", want: "60000",
			edit: func(m *macroContext) { m.Interval, m.MaxDataPoints = 0, 360 }},
		{name: "no macros", in: "SELECT 1", want: "SELECT 1"},
		{name: "missing table", in: "FROM $__table", err: "no table chosen",
			edit: func(m *macroContext) { m.DefaultTable = "" }},
		{name: "unknown macro left alone", in: "$__unknown", want: "$__unknown"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := base
			if c.edit != nil {
				c.edit(&m)
			}
			got, err := expandMacros(c.in, &m)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("expandMacros(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

// FuzzExpandMacros checks the expander never panics, is a no-op on text
// without "$__", and leaves no macro behind: expanding its output again
// changes nothing (replacements hold no "$", so none can form a new name).
func FuzzExpandMacros(f *testing.F) {
	for _, s := range []string{"$__timeFilter", "$__interval_ms$__interval", "$$__table__", "SELECT 1", "$__interval_raw_ms_ms", "'$__measure'"} {
		f.Add(s, int64(30000), int64(100))
	}
	f.Fuzz(func(t *testing.T, sql string, ivMs, points int64) {
		m := &macroContext{From: time.UnixMilli(0), To: time.UnixMilli(3600_000), Interval: time.Duration(ivMs%1e9) * time.Millisecond,
			MaxDataPoints: points, Now: time.UnixMilli(1), DefaultDB: "d", DefaultTable: "t", DefaultMeasure: "m"}
		got, err := expandMacros(sql, m)
		if err != nil {
			t.Fatalf("expandMacros(%q): %v", sql, err)
		}
		if !strings.Contains(sql, "$__") && got != sql {
			t.Fatalf("changed text without macros: %q -> %q", sql, got)
		}
		if again, err := expandMacros(got, m); err != nil || again != got {
			t.Fatalf("a macro survives in %q (from %q): %q, %v", got, sql, again, err)
		}
	})
}
