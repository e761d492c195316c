package tsbs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestAppendInflux(t *testing.T) {
	tests := []struct {
		name string
		p    Point
		want string
	}{
		{
			name: "plain",
			p: Point{Measurement: "cpu", Tags: []Tag{{"hostname", "host_0"}},
				Fields: []Field{{Name: "usage_user", Kind: FieldInt, Int: 58}, {Name: "x", Float: 0.5}}, Time: 1704067200000000000},
			want: "cpu,hostname=host_0 usage_user=58i,x=0.5 1704067200000000000\n",
		},
		{
			// Backslashes are written as is (ingest/lineproto's rule, and
			// InfluxDB's): "\\s" stays, and "\\ " in the tag value is a
			// literal backslash then an escaped space.
			name: "escapes",
			p: Point{Measurement: "m e,a=\\s", Tags: []Tag{{"k ,=", "v\\ ,="}},
				Fields: []Field{{Name: "f =,", Kind: FieldFloat, Float: -1.25e-7}}, Time: 5},
			want: "m\\ e\\,a=\\s,k\\ \\,\\==v\\\\ \\,\\= f\\ \\=\\,=-1.25e-07 5\n",
		},
		{
			name: "no tags, integral float, negative int",
			p:    Point{Measurement: "m", Fields: []Field{{Name: "a", Float: 100}, {Name: "b", Kind: FieldInt, Int: math.MinInt64}}, Time: 0},
			want: "m a=100,b=-9223372036854775808i 0\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(tc.p.AppendInflux([]byte("prefix|")))
			if got != "prefix|"+tc.want {
				t.Fatalf("got  %q\nwant %q", got, "prefix|"+tc.want)
			}
			var back []*Point
			if err := ReadInflux(strings.NewReader(tc.want), func(p *Point) error {
				back = append(back, p.Clone())
				return nil
			}); err != nil {
				t.Fatalf("ReadInflux: %v", err)
			}
			if len(back) != 1 || !back[0].Equal(&tc.p) {
				t.Fatalf("read back %+v, want %+v", back, tc.p)
			}
		})
	}
}

func TestReadInflux(t *testing.T) {
	in := "# comment\n\ncpu,host=a,rack=1 u=1i,s=2.5,z=7u 10\r\n   \nmem f=-3e2 20"
	var got []*Point
	err := ReadInflux(strings.NewReader(in), func(p *Point) error {
		got = append(got, p.Clone())
		return nil
	})
	if err != nil {
		t.Fatalf("ReadInflux: %v", err)
	}
	want := []*Point{
		{Measurement: "cpu", Tags: []Tag{{"host", "a"}, {"rack", "1"}},
			Fields: []Field{{Name: "u", Kind: FieldInt, Int: 1}, {Name: "s", Float: 2.5}, {Name: "z", Kind: FieldInt, Int: 7}}, Time: 10},
		{Measurement: "mem", Fields: []Field{{Name: "f", Float: -300}}, Time: 20},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d points, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadInfluxErrors(t *testing.T) {
	// The messages are ingest/lineproto's (the server's) reasons.
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"no fields", "cpu,a=b 10\n", 1, `field "10": missing field value`},
		{"no field set", "cpu,a=b\n", 1, "missing fields"},
		{"empty measurement", "ok f=1 1\n,a=b f=1 1\n", 2, "missing measurement"},
		{"tag without value", "cpu,a= f=1 1\n", 1, `tag "a": missing tag value`},
		{"tag without equals", "cpu,a f=1 1\n", 1, "missing tag value"},
		{"empty tag key", "cpu,=b f=1 1\n", 1, "missing tag key"},
		{"duplicate tag", "cpu,a=1,a=2 f=1 1\n", 1, `duplicate tag "a"`},
		{"bad int", "cpu f=1.5i 1\n", 1, `field "f": invalid integer "1.5i"`},
		{"int overflow", "cpu f=9223372036854775808i 1\n", 1, "invalid integer"},
		{"uint overflow", "cpu f=9223372036854775808u 1\n", 1, "above the BIGINT range"},
		{"string", "a f=1 1\ncpu g=1,f=\"x\" 1\n", 2, `field "f": string fields are not supported`},
		{"bool", "cpu f=true 1\n", 1, `field "f": boolean fields are not supported`},
		{"nan", "cpu f=NaN 1\n", 1, `invalid field value "NaN"`},
		{"inf", "cpu f=1e999 1\n", 1, "invalid float"},
		{"bad timestamp", "x f=1 1\ncpu f=1 12a\n", 2, `invalid timestamp "12a"`},
		{"before 1970", "# c\ncpu f=1 -5\n", 2, "timestamp -5 out of range"},
		{"after timestamp", "cpu f=1 1 2\n", 1, `unexpected '2' after the timestamp`},
		{"empty field key", "cpu =1 1\n", 1, "missing fields"},
		{"field without equals", "cpu f 1\n", 1, `field "f": missing field value`},
		{"empty field value", "cpu f=,g=1 1\n", 1, `field "f": missing field value`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ReadInflux(strings.NewReader(tc.in), func(*Point) error { return nil })
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v, want a ParseError", err)
			}
			if pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("error %q at line %d, want %q at line %d", pe.Msg, pe.Line, tc.msg, tc.line)
			}
		})
	}
}

// TestReadInfluxServerRules pins where ReadInflux, now ingest/lineproto's
// parser, differs from the tokenizer bench/tsbs had: the server's rules
// (InfluxDB's) win.
func TestReadInfluxServerRules(t *testing.T) {
	before := time.Now().UnixNano()
	tests := []struct {
		name, in string
		want     Point // Time -1: the time ReadInflux was called
	}{
		{"backslash before other bytes is kept", `m\x,k\\y=v\\\,w f\y=1 1`,
			Point{Measurement: `m\x`, Tags: []Tag{{`k\\y`, `v\\,w`}}, Fields: []Field{{Name: `f\y`, Float: 1}}, Time: 1}},
		{"equals sign unescaped in the measurement", `m\=x f=1 1`,
			Point{Measurement: `m\=x`, Fields: []Field{{Name: "f", Float: 1}}, Time: 1}},
		{"trailing whitespace", "m f=1 1 \t\n",
			Point{Measurement: "m", Fields: []Field{{Name: "f", Float: 1}}, Time: 1}},
		{"leading whitespace and indented comment", "  # c\n\t m f=1 1\n",
			Point{Measurement: "m", Fields: []Field{{Name: "f", Float: 1}}, Time: 1}},
		{"duplicate field keeps the last value", "m f=1,g=2i,f=3 1",
			Point{Measurement: "m", Fields: []Field{{Name: "f", Float: 3}, {Name: "g", Kind: FieldInt, Int: 2}}, Time: 1}},
		{"missing timestamp", "m f=1\n",
			Point{Measurement: "m", Fields: []Field{{Name: "f", Float: 1}}, Time: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []*Point
			if err := ReadInflux(strings.NewReader(tc.in), func(p *Point) error {
				got = append(got, p.Clone())
				return nil
			}); err != nil {
				t.Fatalf("ReadInflux: %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d points, want 1", len(got))
			}
			want := tc.want
			if want.Time == -1 {
				if got[0].Time < before || got[0].Time > time.Now().UnixNano() {
					t.Fatalf("time %d of a line without one is not the time of the call", got[0].Time)
				}
				want.Time = got[0].Time
			}
			if !got[0].Equal(&want) {
				t.Fatalf("got %+v, want %+v", got[0], want)
			}
		})
	}
}

// TestReadInfluxChunks reads more than one decoder chunk: points keep their
// order across chunk boundaries, a line longer than a chunk is read whole,
// and an error far in names its absolute line.
func TestReadInfluxChunks(t *testing.T) {
	var in []byte
	n := 0
	for len(in) < 3*readChunk {
		n++
		in = fmt.Appendf(in, "m,host=h%d f=%di %d\n", n%7, n, n)
		if n == 1000 {
			in = fmt.Appendf(in, "# a comment\n\nlong f=1.%s 1\n", strings.Repeat("0", 2*readChunk))
		}
	}
	i, long := 0, 0
	check := func(p *Point) error {
		if p.Measurement == "long" {
			long++
			return nil
		}
		i++
		want := Point{Measurement: "m", Tags: []Tag{{"host", fmt.Sprintf("h%d", i%7)}},
			Fields: []Field{{Name: "f", Kind: FieldInt, Int: int64(i)}}, Time: int64(i)}
		if !p.Equal(&want) {
			return fmt.Errorf("point %d = %+v, want %+v", i, p, want)
		}
		return nil
	}
	if err := ReadInflux(bytes.NewReader(in), check); err != nil {
		t.Fatalf("ReadInflux: %v", err)
	}
	if i != n || long != 1 {
		t.Fatalf("read %d points and %d long ones, want %d and 1", i, long, n)
	}

	// Lines: n m points, plus the comment, the blank and the long line.
	in = append(in, "m f=x 1\n"...)
	i, long = 0, 0
	err := ReadInflux(iotest.HalfReader(bytes.NewReader(in)), check)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != n+4 || !strings.Contains(pe.Msg, "invalid field value") {
		t.Fatalf("error %v, want an invalid value at line %d", err, n+4)
	}
	if i != n {
		t.Fatalf("%d points before the error, want %d", i, n)
	}
}

func TestReadInfluxLongLine(t *testing.T) {
	in := "a f=1 1\n" + "m f=" + strings.Repeat("1", MaxLineBytes) + " 1\n"
	err := ReadInflux(strings.NewReader(in), func(*Point) error { return nil })
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || !strings.Contains(pe.Msg, "longer than") {
		t.Fatalf("error %v, want line 2 too long", err)
	}
}

func TestReadInfluxCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ReadInflux(strings.NewReader("a f=1 1\nb f=2 2\nc f=3 3\n"), func(p *Point) error {
		n++
		if p.Measurement == "b" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err %v after %d calls, want stop at line 2", err, n)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadInfluxIOError(t *testing.T) {
	boom := errors.New("boom")
	err := ReadInflux(errReader{boom}, func(*Point) error { return nil })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "read line 1") {
		t.Fatalf("err = %v, want wrapped boom", err)
	}
	// The whole lines read before the error are handed out first.
	n := 0
	r := io.MultiReader(strings.NewReader("a f=1 1\nb f=2 2\nc f="), errReader{boom})
	err = ReadInflux(r, func(*Point) error { n++; return nil })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "read line 3") || n != 2 {
		t.Fatalf("err = %v after %d points, want wrapped boom at line 3 after 2", err, n)
	}
}

func TestInfluxRoundTrip(t *testing.T) {
	for _, uc := range []string{"cpu-only", "devops", "iot"} {
		t.Run(uc, func(t *testing.T) {
			cfg := testConfig(uc, 7, 15*time.Minute, 99)
			pts := generate(t, cfg)
			var buf []byte
			for _, p := range pts {
				buf = p.AppendInflux(buf)
			}
			i := 0
			err := ReadInflux(bytes.NewReader(buf), func(p *Point) error {
				if i >= len(pts) || !p.Equal(pts[i]) {
					t.Fatalf("point %d read back as %+v", i, p)
				}
				i++
				return nil
			})
			if err != nil {
				t.Fatalf("ReadInflux: %v", err)
			}
			if i != len(pts) {
				t.Fatalf("read %d points, want %d", i, len(pts))
			}
		})
	}
}

// FuzzReadInflux checks that any input is either rejected or parsed into
// points that survive AppendInflux and a second parse bit for bit.
func FuzzReadInflux(f *testing.F) {
	seeds := []string{
		"cpu,hostname=host_0,region=eu-west-1 usage_user=58i,usage_system=2i 1704067200000000000\n",
		"readings,name=truck_1 latitude=63.3894,longitude=-101.42093 1704067210000000000\n",
		"m\\ e\\,a=s\\\\,k\\ \\,\\==v\\ \\,\\=\\\\ f\\ \\=\\,=-1.25e-07 -5\n",
		"# c\n\nm a=1,b=2u,c=-0,d=+5 1\r\nx,t=\\ y=1e3 2",
		"cpu f=\"x\" 1\n", "cpu f=t 1\n", "\\", "m,a=\\",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var first []*Point
		if err := ReadInflux(bytes.NewReader(in), func(p *Point) error {
			first = append(first, p.Clone())
			return nil
		}); err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("non-syntax error %v", err)
			}
			return
		}
		var out []byte
		for _, p := range first {
			if p.Measurement == "" || len(p.Fields) == 0 {
				t.Fatalf("accepted empty point %+v", p)
			}
			out = p.AppendInflux(out)
		}
		i := 0
		if err := ReadInflux(bytes.NewReader(out), func(p *Point) error {
			if i >= len(first) || !p.Equal(first[i]) {
				t.Fatalf("point %d: reparsed %+v, want %+v\nline protocol %q", i, p, first[i], out)
			}
			i++
			return nil
		}); err != nil {
			t.Fatalf("reparse %q: %v", out, err)
		}
		if i != len(first) {
			t.Fatalf("reparsed %d points, want %d", i, len(first))
		}
	})
}
