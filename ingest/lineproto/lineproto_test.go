package lineproto

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

var fixedNow = time.Unix(1700000000, 123)

func dims(kv ...string) []ingest.Dimension {
	var d []ingest.Dimension
	for i := 0; i < len(kv); i += 2 {
		d = append(d, ingest.Dimension{Name: kv[i], Value: kv[i+1]})
	}
	return d
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		prec  int64
		table string
		rec   ingest.Record
	}{
		{"all types", `cpu,host=a,region=eu f=1.5,i=-3i,u=7u,s="hi",b=t,B=FALSE 1700000000000000000`, 1, "cpu", ingest.Record{
			Time: 1700000000000000000, Dimensions: dims("host", "a", "region", "eu"), MeasureName: "cpu",
			Measures: []ingest.Measure{{Name: "f", Value: ingest.Float(1.5)}, {Name: "i", Value: ingest.Int(-3)}, {Name: "u", Value: ingest.Int(7)}, {Name: "s", Value: ingest.String("hi")}, {Name: "b", Value: ingest.Bool(true)}, {Name: "B", Value: ingest.Bool(false)}},
		}},
		{"no tags, integer-looking float, exponent", `m v=1,w=-2.5e3 5`, 1, "m", ingest.Record{
			Time: 5, MeasureName: "m", Measures: []ingest.Measure{{Name: "v", Value: ingest.Float(1)}, {Name: "w", Value: ingest.Float(-2500)}},
		}},
		{"measurement escapes", `my\ meas\,ure,t=1 v=1 1`, 1, "my meas,ure", ingest.Record{
			Time: 1, Dimensions: dims("t", "1"), MeasureName: "my meas,ure", Measures: []ingest.Measure{{Name: "v", Value: ingest.Float(1)}},
		}},
		{"equals sign unescaped in measurement", `a=b v=1 1`, 1, "a=b", ingest.Record{
			Time: 1, MeasureName: "a=b", Measures: []ingest.Measure{{Name: "v", Value: ingest.Float(1)}},
		}},
		{"tag and field key escapes", `m,t\ k\=x\,y=v\ a\=l\,ue f\ k\=\,=2i 1`, 1, "m", ingest.Record{
			Time: 1, Dimensions: dims("t k=x,y", "v a=l,ue"), MeasureName: "m", Measures: []ingest.Measure{{Name: "f k=,", Value: ingest.Int(2)}},
		}},
		{"other backslashes kept", `m\x,t=a\b v=1 1`, 1, `m\x`, ingest.Record{
			Time: 1, Dimensions: dims("t", `a\b`), MeasureName: `m\x`, Measures: []ingest.Measure{{Name: "v", Value: ingest.Float(1)}},
		}},
		{"string escapes, comma, space and newline", "m s=\"a \\\"q\\\" \\\\ \\n, x=1\nsecond\" 1", 1, "m", ingest.Record{
			Time: 1, MeasureName: "m", Measures: []ingest.Measure{{Name: "s", Value: ingest.String("a \"q\" \\ \\n, x=1\nsecond")}},
		}},
		{"precision seconds", `m v=1i 1700000000`, 1e9, "m", ingest.Record{
			Time: 1700000000e9, MeasureName: "m", Measures: []ingest.Measure{{Name: "v", Value: ingest.Int(1)}},
		}},
		{"precision ms", `m v=1i 1700000000123`, 1e6, "m", ingest.Record{
			Time: 1700000000123e6, MeasureName: "m", Measures: []ingest.Measure{{Name: "v", Value: ingest.Int(1)}},
		}},
		{"missing timestamp is now", `m v=1i`, 1e9, "m", ingest.Record{
			Time: fixedNow.UnixNano(), MeasureName: "m", Measures: []ingest.Measure{{Name: "v", Value: ingest.Int(1)}},
		}},
		{"trailing spaces and CRLF", "m v=1i 2  \r\n", 1, "m", ingest.Record{
			Time: 2, MeasureName: "m", Measures: []ingest.Measure{{Name: "v", Value: ingest.Int(1)}},
		}},
		{"duplicate field keeps the last", `m v=1i,v=2i 3`, 1, "m", ingest.Record{
			Time: 3, MeasureName: "m", Measures: []ingest.Measure{{Name: "v", Value: ingest.Int(2)}},
		}},
		{"max unsigned", `m v=9223372036854775807u 3`, 1, "m", ingest.Record{
			Time: 3, MeasureName: "m", Measures: []ingest.Measure{{Name: "v", Value: ingest.Int(math.MaxInt64)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pts, errs := Decode([]byte(tt.in), Options{Precision: tt.prec, Now: func() time.Time { return fixedNow }})
			if len(errs) != 0 {
				t.Fatalf("errors: %v", errs)
			}
			if len(pts) != 1 {
				t.Fatalf("got %d points, want 1", len(pts))
			}
			if pts[0].Table != tt.table || pts[0].Line != 1 {
				t.Errorf("table %q line %d, want %q line 1", pts[0].Table, pts[0].Line, tt.table)
			}
			if !reflect.DeepEqual(pts[0].Record, tt.rec) {
				t.Errorf("record\n got %+v\nwant %+v", pts[0].Record, tt.rec)
			}
		})
	}
}

func TestDecodeMeasureNameOption(t *testing.T) {
	pts, errs := Decode([]byte("cpu v=1 1\n"), Options{MeasureName: "metrics"})
	if len(errs) != 0 || len(pts) != 1 {
		t.Fatalf("points %v errors %v", pts, errs)
	}
	if pts[0].Table != "cpu" || pts[0].Record.MeasureName != "metrics" {
		t.Errorf("table %q measure %q, want cpu, metrics", pts[0].Table, pts[0].Record.MeasureName)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		line   string
		reason string
	}{
		{`cpu`, "missing fields"},
		{`cpu `, "missing fields"},
		{`,t=1 v=1`, "missing measurement"},
		{`cpu,t v=1`, "missing tag value"},
		{`cpu,t= v=1`, "missing tag value"},
		{`cpu,=a v=1`, "missing tag key"},
		{`cpu,t=a=b v=1`, "unescaped '='"},
		{`cpu,t=a,t=b v=1`, "duplicate tag"},
		{`cpu v`, "missing field value"},
		{`cpu v=`, "missing field value"},
		{`cpu v=abc`, "invalid field value"},
		{`cpu v=1.5i`, "invalid integer"},
		{`cpu v=-1u`, "invalid unsigned"},
		{`cpu v=18446744073709551615u`, "above the BIGINT range"},
		{`cpu v=0x10`, "invalid field value"},
		{`cpu v=NaN`, "invalid field value"},
		{`cpu v=1e400`, "invalid float"},
		{`cpu v="open`, "unterminated string"},
		{`cpu v=1 12x`, "invalid timestamp"},
		{`cpu v=1 -5`, "out of range"},
		{`cpu v=1 1 2`, "after the timestamp"},
		{`cpu v=1 99999999999999999999`, "invalid timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			in := "good v=1i 1\n" + tt.line + "\ngood v=2i 2\n"
			pts, errs := Decode([]byte(in), Options{})
			if len(errs) != 1 || errs[0].Line != 2 || !strings.Contains(errs[0].Reason, tt.reason) {
				t.Fatalf("errors %v, want one on line 2 containing %q", errs, tt.reason)
			}
			if len(pts) != 2 || pts[0].Record.Measures[0].Value.Int() != 1 || pts[1].Record.Measures[0].Value.Int() != 2 || pts[1].Line != 3 {
				t.Fatalf("good lines not kept: %+v", pts)
			}
		})
	}
}

func TestDecodeLineNumbers(t *testing.T) {
	in := "# comment\n\ncpu v=1 1\ncpu v=\"two\nlines\" 2\nbad\n  \ncpu v=3 3"
	pts, errs := Decode([]byte(in), Options{})
	if len(errs) != 1 || errs[0].Line != 6 {
		t.Fatalf("errors %v, want line 6", errs)
	}
	var lines []int
	for _, p := range pts {
		lines = append(lines, p.Line)
	}
	if !reflect.DeepEqual(lines, []int{3, 4, 8}) {
		t.Errorf("lines %v, want [3 4 8]", lines)
	}
}

func TestDecodeValidates(t *testing.T) {
	long := strings.Repeat("x", ingest.MaxDimensionNameBytes+1)
	_, errs := Decode([]byte("cpu,"+long+"=a v=1 1\n"), Options{})
	if len(errs) != 1 {
		t.Fatalf("errors %v, want the oversized dimension name refused", errs)
	}
}

func TestParsePrecision(t *testing.T) {
	for in, want := range map[string]int64{"": 1, "ns": 1, "n": 1, "us": 1e3, "u": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9} {
		got, err := ParsePrecision(in)
		if err != nil || got != want {
			t.Errorf("ParsePrecision(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParsePrecision("d"); err == nil {
		t.Error("ParsePrecision(d): no error")
	}
}

// encode writes p back as line protocol, escaping as the spec says; the
// fuzz test checks that decoding it gives p again.
func encode(p Point) string {
	var b strings.Builder
	esc := func(s, chars string) string {
		for _, c := range chars {
			s = strings.ReplaceAll(s, string(c), `\`+string(c))
		}
		return s
	}
	b.WriteString(esc(p.Table, ", "))
	for _, d := range p.Record.Dimensions {
		b.WriteString("," + esc(d.Name, ",= ") + "=" + esc(d.Value, ",= "))
	}
	for i, m := range p.Record.Measures {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(esc(m.Name, ",= ") + "=")
		switch m.Value.Type {
		case ingest.TypeDouble:
			fmt.Fprintf(&b, "%v", m.Value.Float())
		case ingest.TypeBigint:
			fmt.Fprintf(&b, "%di", m.Value.Int())
		case ingest.TypeBoolean:
			fmt.Fprintf(&b, "%v", m.Value.Bool())
		case ingest.TypeVarchar:
			b.WriteString(`"` + strings.ReplaceAll(strings.ReplaceAll(m.Value.Str, `\`, `\\`), `"`, `\"`) + `"`)
		}
	}
	fmt.Fprintf(&b, " %d\n", p.Record.Time)
	return b.String()
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`cpu,host=a,region=eu f=1.5,i=-3i,u=7u,s="hi",b=t 1700000000000000000`))
	f.Add([]byte("m\\ x,t\\=k=v\\,w f\\ k=\"a\\\"b\\\\\"\nnext v=1\n# c\n\nbad"))
	f.Add([]byte("m s=\"multi\nline\" 5\r\nm v=1e3,w=-2E-2 7"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, errs := Decode(data, Options{Now: func() time.Time { return fixedNow }})
		lines := bytes.Count(data, []byte("\n")) + 1
		prev := 0
		for _, p := range pts {
			if p.Line < 1 || p.Line > lines || p.Line < prev {
				t.Fatalf("point line %d out of order or range (%d lines)", p.Line, lines)
			}
			prev = p.Line
			if reason := ingest.ValidateRecord(&p.Record); reason != "" {
				t.Fatalf("decoded record invalid: %s", reason)
			}
			if len(p.Record.Measures) == 0 || p.Table == "" {
				t.Fatalf("point without fields or table: %+v", p)
			}
			// Round trip: the canonical encoding decodes to the same point.
			again, errs2 := Decode([]byte(encode(p)), Options{})
			if len(errs2) != 0 || len(again) != 1 {
				t.Fatalf("re-decoding %q: %v", encode(p), errs2)
			}
			again[0].Line = p.Line
			if !equalPoint(again[0], p) {
				t.Fatalf("round trip of %q:\n got %+v\nwant %+v", encode(p), again[0], p)
			}
		}
		for _, e := range errs {
			if e.Line < 1 || e.Line > lines || e.Reason == "" {
				t.Fatalf("bad line error %+v (%d lines)", e, lines)
			}
		}
		// A series cache changes nothing: not on the first body that
		// fills it, not on a second one that hits it; nor does reused
		// scratch memory (the second pass overwrites the first's).
		cache := NewSeriesCache()
		var sc Scratch
		DecodeInto([]byte("cpu,h=a v=1 1\nmem,h=b,c=d x=1i,y=\"s\" 2\n"), Options{}, &sc)
		for pass := range 2 {
			cpts, cerrs := DecodeInto(data, Options{Now: func() time.Time { return fixedNow }, Cache: cache}, &sc)
			if len(cpts) != len(pts) || !reflect.DeepEqual(cerrs, errs) {
				t.Fatalf("pass %d with a cache: %d points, errors %v; without: %d points, errors %v", pass, len(cpts), cerrs, len(pts), errs)
			}
			for i := range cpts {
				if cpts[i].Line != pts[i].Line || !equalPoint(cpts[i], pts[i]) {
					t.Fatalf("pass %d with a cache, point %d:\n got %+v\nwant %+v", pass, i, cpts[i], pts[i])
				}
			}
		}
	})
}

func equalPoint(a, b Point) bool {
	if a.Table != b.Table || a.Record.Time != b.Record.Time || a.Record.MeasureName != b.Record.MeasureName ||
		!reflect.DeepEqual(a.Record.Dimensions, b.Record.Dimensions) || len(a.Record.Measures) != len(b.Record.Measures) {
		return false
	}
	for i := range a.Record.Measures {
		x, y := a.Record.Measures[i], b.Record.Measures[i]
		if x.Name != y.Name || x.Value.Type != y.Value.Type || x.Value.Str != y.Value.Str {
			return false
		}
		if x.Value.Type == ingest.TypeDouble {
			if x.Value.Float() != y.Value.Float() {
				return false
			}
		} else if x.Value.Bits != y.Value.Bits {
			return false
		}
	}
	return true
}

// benchBody is a TSBS cpu-only-shaped body: 10 tags, 10 float fields.
func benchBody(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "cpu,hostname=host_%d,region=eu-west-1,datacenter=eu-west-1a,rack=%d,os=Ubuntu16.04LTS,arch=x64,team=SF,service=%d,service_version=1,service_environment=production "+
			"usage_user=%d.5,usage_system=2.25,usage_idle=90.125,usage_nice=0,usage_iowait=1.5,usage_irq=0.5,usage_softirq=0.25,usage_steal=0,usage_guest=0,usage_guest_nice=0 %d\n",
			i%100, i%7, i%19, i%100, 1451606400000000000+int64(i)*10e9)
	}
	return b.Bytes()
}

// tsbsBodies are the request bodies of a TSBS cpu-only stream as one
// loader client sends them: hosts lines per body, one body per interval,
// every host's tags the same in every body.
func tsbsBodies(hosts, intervals int) [][]byte {
	var out [][]byte
	for t := range intervals {
		var b bytes.Buffer
		for h := range hosts {
			fmt.Fprintf(&b, "cpu,hostname=host_%d,region=eu-west-1,datacenter=eu-west-1a,rack=%d,os=Ubuntu16.04LTS,arch=x64,team=SF,service=%d,service_version=1,service_environment=production "+
				"usage_user=%d.5,usage_system=2.25,usage_idle=90.125,usage_nice=0,usage_iowait=1.5,usage_irq=0.5,usage_softirq=0.25,usage_steal=0,usage_guest=0,usage_guest_nice=%d %d\n",
				h, h%7, h%19, t%100, h%10, 1451606400000000000+int64(t)*10e9)
		}
		out = append(out, b.Bytes())
	}
	return out
}

// BenchmarkDecodeStream decodes a TSBS stream of 100-line bodies: plain,
// with the series cache, and with the cache and the reused memory the
// HTTP handler decodes with.
func BenchmarkDecodeStream(b *testing.B) {
	bodies := tsbsBodies(100, 50)
	for _, mode := range []string{"plain", "cache", "cache+scratch"} {
		b.Run(mode, func(b *testing.B) {
			opts := Options{}
			if mode != "plain" {
				opts.Cache = NewSeriesCache()
			}
			var sc *Scratch
			if mode == "cache+scratch" {
				sc = new(Scratch)
			}
			b.ReportAllocs()
			lines := 0
			for b.Loop() {
				for _, body := range bodies {
					pts, errs := decode(body, opts, sc)
					if len(pts) != 100 || len(errs) != 0 {
						b.Fatalf("%d points, %v", len(pts), errs)
					}
					lines += len(pts)
				}
			}
			b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	body := benchBody(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		pts, errs := Decode(body, Options{})
		if len(pts) != 1000 || len(errs) != 0 {
			b.Fatalf("%d points, %v", len(pts), errs)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "lines/s")
}

// TestSeriesCacheConcurrent decodes bodies from several goroutines through
// one cache (as the handler's requests do): every result equals a plain
// Decode's. Run under -race (scripts/test.sh).
func TestSeriesCacheConcurrent(t *testing.T) {
	bodies := tsbsBodies(20, 8)
	want := make([][]Point, len(bodies))
	for i, b := range bodies {
		want[i], _ = Decode(b, Options{})
	}
	cache := NewSeriesCache()
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sc Scratch
			for k := range len(bodies) * 3 {
				i := (k + g) % len(bodies)
				got, lerrs := DecodeInto(bodies[i], Options{Cache: cache}, &sc)
				if len(lerrs) != 0 || len(got) != len(want[i]) {
					errs <- fmt.Sprintf("body %d: %d points, %v", i, len(got), lerrs)
					return
				}
				for j := range got {
					if !equalPoint(got[j], want[i][j]) {
						errs <- fmt.Sprintf("body %d point %d: %+v, want %+v", i, j, got[j], want[i][j])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestSeriesCacheFieldHints: lines of a known series with other, more,
// fewer or repeated field keys decode as without the cache.
func TestSeriesCacheFieldHints(t *testing.T) {
	body := []byte("m,t=a x=1,y=2 1\nm,t=a x=3,y=4,x=5 2\nm,t=a x=6,x=7 3\nm,t=a y=8,x=9 4\nm,t=a x=1,y=2,z=3,y=4 5\nm,t=a z=1 6\n")
	want, werrs := Decode(body, Options{})
	cache := NewSeriesCache()
	for pass := range 2 {
		got, errs := Decode(body, Options{Cache: cache})
		if len(got) != len(want) || len(errs) != 0 || len(werrs) != 0 {
			t.Fatalf("pass %d: %d points %v, want %d", pass, len(got), errs, len(want))
		}
		for i := range got {
			if !equalPoint(got[i], want[i]) {
				t.Errorf("pass %d line %d: %s, want %s", pass, i+1, encode(got[i]), encode(want[i]))
			}
		}
	}
	if m := want[1].Record.Measures; len(m) != 2 || m[0].Value.Float() != 5 {
		t.Errorf("line 2 measures %+v: want x=5 (the last), y=4", m)
	}
}
