package deletes

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/query/exec"
)

func TestIsDelete(t *testing.T) {
	for sql, want := range map[string]bool{
		"DELETE FROM a.b":                 true,
		"  delete from a.b":               true,
		"-- c\n/* x */ Delete FROM a.b":   true,
		"DELETED FROM a.b":                false,
		"SELECT 1":                        false,
		"/* unterminated DELETE":          false,
		"-- only a comment":               false,
		"DELETE":                          true,
		"deletefrom":                      false,
		"UNLOAD (SELECT 1) TO 'file:///'": false,
	} {
		if got := IsDelete(sql); got != want {
			t.Errorf("IsDelete(%q) = %v, want %v", sql, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	eq := func(n, v string) tombstone.Matcher {
		return tombstone.Matcher{Name: n, Op: tombstone.OpEqual, Values: []string{v}}
	}
	for _, c := range []struct {
		sql  string
		want Spec
	}{
		{"DELETE FROM db.t", Spec{Database: "db", Table: "t"}},
		{`DELETE FROM "db"."t" WHERE host = 'a'`, Spec{Database: "db", Table: "t", Where: []tombstone.Matcher{eq("host", "a")}}},
		{"DELETE FROM db.t WHERE 'a' = host AND measure_name = 'cpu'", Spec{Database: "db", Table: "t",
			Where: []tombstone.Matcher{eq("host", "a"), eq("measure_name", "cpu")}}},
		{"DELETE FROM db.t WHERE time BETWEEN ago(1h) AND now() AND region IN ('x', 'y')", Spec{Database: "db", Table: "t",
			Where:  []tombstone.Matcher{{Name: "region", Op: tombstone.OpIn, Values: []string{"x", "y"}}},
			Bounds: []Bound{{">=", "ago(1h)"}, {"<=", "now()"}}}},
		{"DELETE FROM db.t WHERE ago(1h) < time AND time < '2026-01-01 00:00:00'", Spec{Database: "db", Table: "t",
			Bounds: []Bound{{">", "ago(1h)"}, {"<", "'2026-01-01 00:00:00'"}}}},
		{"DELETE FROM db.t WHERE host LIKE 'web-%' AND az NOT IN ('1') AND rack IS NULL AND os IS NOT NULL AND dc <> 'z' AND x LIKE 'exact'",
			Spec{Database: "db", Table: "t", Where: []tombstone.Matcher{
				{Name: "host", Op: tombstone.OpPrefix, Values: []string{"web-"}},
				{Name: "az", Op: tombstone.OpNotIn, Values: []string{"1"}},
				{Name: "rack", Op: tombstone.OpAbsent},
				{Name: "os", Op: tombstone.OpPresent},
				{Name: "dc", Op: tombstone.OpNotEqual, Values: []string{"z"}},
				eq("x", "exact"),
			}}},
	} {
		got, err := Parse(c.sql)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.sql, err)
			continue
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("Parse(%q) =\n %+v, want\n %+v", c.sql, *got, c.want)
		}
	}
}

func TestParseRefused(t *testing.T) {
	for _, sql := range []string{
		"DELETE FROM t",          // no database
		"DELETE FROM db.t AS x",  // alias
		"DELETE FROM db.t, db.u", // two tables
		"DELETE FROM db.t WHERE host = 'a' OR host = 'b'",
		"DELETE FROM db.t WHERE NOT host = 'a'",
		"DELETE FROM db.t WHERE host = 1",
		"DELETE FROM db.t WHERE host = region",
		"DELETE FROM db.t WHERE measure_value::double > 1",
		"DELETE FROM db.t WHERE time <> now()",
		"DELETE FROM db.t WHERE time NOT BETWEEN ago(1h) AND now()",
		"DELETE FROM db.t WHERE host LIKE '%a'",
		"DELETE FROM db.t WHERE host LIKE 'a_b%'",
		"DELETE FROM db.t WHERE host NOT LIKE 'a%'",
		"DELETE FROM db.t WHERE measure_name IS NULL",
		"DELETE FROM db.t WHERE host IN ('a', 1)",
		"DELETE FROM db.t ORDER BY time",
		"DELETE FROM db.t LIMIT 1",
		"DELETE FROM (SELECT 1)",
		"DELETE db.t",
		"DELETE FROM db.t WHERE",
		"SELECT * FROM db.t",
	} {
		_, err := Parse(sql)
		var ee *exec.Error
		if !errors.As(err, &ee) || ee.Kind != exec.ErrValidation {
			t.Errorf("Parse(%q): %v, want a validation error", sql, err)
		}
	}
}

func TestApplyBound(t *testing.T) {
	for _, c := range []struct {
		op     string
		v      int64
		lo, hi int64
		ok     bool
	}{
		{">=", 5, 5, math.MaxInt64, true},
		{">", 5, 6, math.MaxInt64, true},
		{"<=", 5, math.MinInt64, 5, true},
		{"<", 5, math.MinInt64, 4, true},
		{"=", 5, 5, 5, true},
		{">", math.MaxInt64, math.MinInt64, math.MaxInt64, false},
		{"<", math.MinInt64, math.MinInt64, math.MaxInt64, false},
	} {
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		ok := applyBound(&lo, &hi, c.op, c.v)
		if ok != c.ok || ok && (lo != c.lo || hi != c.hi) {
			t.Errorf("time %s %d: [%d, %d] %v, want [%d, %d] %v", c.op, c.v, lo, hi, ok, c.lo, c.hi, c.ok)
		}
	}
}

// FuzzParse: Parse never panics, accepts only what IsDelete accepts, and
// what it accepts names a table and valid matchers.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"DELETE FROM db.t WHERE time BETWEEN ago(1h) AND now() AND host = 'a'",
		"DELETE FROM db.t WHERE host LIKE 'web-%' AND az NOT IN ('1', '2') AND rack IS NULL",
		"delete from \"db\".\"t\" where measure_name = 'cpu' and time < from_iso8601_timestamp('2026-01-01T00:00:00Z')",
		"-- c\nDELETE FROM db.t WHERE 'x' <> host",
		"DELETE FROM db.t WHERE (host = 'a' AND (time > ago(5m)))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		spec, err := Parse(sql)
		if err != nil {
			var ee *exec.Error
			if !errors.As(err, &ee) {
				t.Fatalf("Parse(%q): %T %v, want *exec.Error", sql, err, err)
			}
			return
		}
		if !IsDelete(sql) || spec.Database == "" && spec.Table == "" {
			t.Fatalf("Parse(%q) accepted %+v", sql, spec)
		}
		ts := tombstone.Tombstone{Where: spec.Where, MinTime: 0, MaxTime: 1}
		if err := ts.Validate(); err != nil {
			t.Fatalf("Parse(%q) gave invalid matchers: %v", sql, err)
		}
		for _, b := range spec.Bounds {
			if !strings.Contains(">=<=", b.Op) || b.Expr == "" {
				t.Fatalf("Parse(%q) gave bound %+v", sql, b)
			}
		}
	})
}
