package exec

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected results of query/testdata/*.test")

// Script tests live in query/testdata/*.test. A file is a sequence of
// blocks separated by blank lines:
//
//	# comment
//	load db.table
//	t=0 m=cpu host=a v=double:1.5
//	t=10 m=metrics host=a load=double:0.5 procs=bigint:3
//
//	query [rowsort]
//	SELECT ...
//	----
//	col:type | col:type
//	value | value
//
//	query error
//	SELECT ...
//	----
//	expected error text (substring)
//
// In load lines t is seconds after 2024-01-01T00:00:00Z, m the measure
// name, v the value of a single-measure record, any other name=type:value
// a multi-measure attribute and name=value a dimension. Values may be
// double-quoted Go strings. The engine's clock is 2024-01-01T12:00:00Z.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no script files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScript(t, f) })
	}
}

var scriptNow = time.Unix(0, tsbsStart+12*3600e9).UTC()

func splitTokens(line string) []string {
	var out []string
	var cur strings.Builder
	inQ := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"' && (i == 0 || line[i-1] != '\\'):
			inQ = !inQ
			cur.WriteByte(c)
		case c == ' ' && !inQ:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func unq(s string) string {
	if strings.HasPrefix(s, `"`) {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	return s
}

func parseTestValue(t *testing.T, s string) (ingest.Value, bool) {
	typ, val, ok := strings.Cut(s, ":")
	if !ok {
		return ingest.Value{}, false
	}
	val = unq(val)
	switch typ {
	case "double":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatalf("bad double %q", val)
		}
		return ingest.Float(f), true
	case "bigint":
		i, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			t.Fatalf("bad bigint %q", val)
		}
		return ingest.Int(i), true
	case "varchar":
		return ingest.String(val), true
	case "boolean":
		return ingest.Bool(val == "true"), true
	case "timestamp":
		i, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			t.Fatalf("bad timestamp %q", val)
		}
		return ingest.Timestamp(tsbsStart + i*1e9), true
	}
	return ingest.Value{}, false
}

func parseRecord(t *testing.T, line string) ingest.Record {
	var r ingest.Record
	for _, tok := range splitTokens(line) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			t.Fatalf("bad load token %q", tok)
		}
		switch k {
		case "t":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("bad time %q", v)
			}
			r.Time = tsbsStart + int64(f*1e9)
		case "m":
			r.MeasureName = unq(v)
		case "v":
			val, ok := parseTestValue(t, v)
			if !ok {
				t.Fatalf("bad value %q", v)
			}
			r.Value = val
		default:
			if val, ok := parseTestValue(t, v); ok {
				r.Measures = append(r.Measures, ingest.Measure{Name: k, Value: val})
			} else {
				r.Dimensions = append(r.Dimensions, ingest.Dimension{Name: k, Value: unq(v)})
			}
		}
	}
	return r
}

func formatResult(res *Result, rowsort bool) []string {
	var hdr []string
	for _, c := range res.Columns {
		hdr = append(hdr, c.Name+":"+c.Type.String())
	}
	var rows []string
	for _, r := range res.Rows {
		var cells []string
		for _, v := range r {
			cells = append(cells, v.String())
		}
		rows = append(rows, strings.Join(cells, " | "))
	}
	if rowsort {
		sort.Strings(rows)
	}
	return append([]string{strings.Join(hdr, " | ")}, rows...)
}

func runScript(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read script: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	db := newTestDB(t)
	e := New(db.cat, db, Options{Now: func() time.Time { return scriptNow }, Parallelism: 2})
	var out []string
	changed := false
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "load "):
			name := strings.TrimSpace(strings.TrimPrefix(line, "load "))
			dbn, tbl, _ := strings.Cut(name, ".")
			out = append(out, line)
			i++
			var recs []ingest.Record
			for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
				out = append(out, lines[i])
				recs = append(recs, parseRecord(t, lines[i]))
				i++
			}
			db.load(t, dbn, tbl, recs)
		case strings.HasPrefix(line, "query"):
			start := i + 1
			mode := strings.Fields(line)[1:]
			isErr := len(mode) > 0 && mode[0] == "error"
			rowsort := len(mode) > 0 && mode[0] == "rowsort"
			out = append(out, line)
			i++
			var sqlLines []string
			for i < len(lines) && lines[i] != "----" {
				sqlLines = append(sqlLines, lines[i])
				out = append(out, lines[i])
				i++
			}
			if i >= len(lines) {
				t.Fatalf("%s:%d: query without ----", path, start)
			}
			out = append(out, "----")
			i++
			var want []string
			for i < len(lines) && lines[i] != "" {
				want = append(want, lines[i])
				i++
			}
			sql := strings.Join(sqlLines, "\n")
			res, err := e.Query(context.Background(), sql, map[string]Value{"p": Bigint(7), "1": Varchar("x")})
			var got []string
			if isErr {
				if err == nil {
					got = []string{"<no error>"}
				} else {
					var qe *Error
					if !errors.As(err, &qe) {
						t.Errorf("%s:%d: error is %T, not *Error", path, start, err)
					}
					got = []string{err.Error()}
					if len(want) == 1 && strings.Contains(err.Error(), want[0]) {
						got = want
					}
				}
			} else if err != nil {
				got = []string{"error: " + err.Error()}
			} else {
				got = formatResult(res, rowsort)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				if *rewrite {
					changed = true
				} else {
					t.Errorf("%s:%d:\n%s\ngot:\n%s\nwant:\n%s", path, start, sql, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
			out = append(out, got...)
		default:
			out = append(out, line)
			i++
		}
		if i < len(lines) && lines[i] == "" {
			out = append(out, "")
			i++
		}
	}
	if *rewrite && changed {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
	}
}
