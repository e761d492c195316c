package tsbs

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAppendTimestream(t *testing.T) {
	p := &Point{Measurement: "cpu", Tags: []Tag{{"hostname", "host_0"}, {"region", "eu-west-1"}},
		Fields: []Field{{Name: "usage_user", Kind: FieldInt, Int: 58}, {Name: "usage_system", Kind: FieldInt, Int: 2}},
		Time:   1704067200000000000}
	got := string(p.AppendTimestream(nil))
	// Columns absent from the point are empty.
	want := "tags,hostname=host_0,region=eu-west-1\ncpu,1704067200000000000,58,2,,,,,,,,\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	q := &Point{Measurement: "other", Fields: []Field{{Name: "a", Float: 3}, {Name: "b", Float: 0.5}}, Time: 7}
	if got, want := string(q.AppendTimestream(nil)), "tags\nother,7,3.0,0.5\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := string(q.AppendTimestreamColumns(nil, []string{"a", "x", "b"})), "tags\nother,7,3.0,,0.5\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestReadTimestreamReference(t *testing.T) {
	// The first two lines of the reference's TSBS --format=timestream file.
	in := "tags,hostname=host_0,region=eu-west-1,datacenter=eu-west-1c,rack=87,os=Ubuntu16.04LTS,arch=x64,team=NYC,service=18,service_version=1,service_environment=production\n" +
		"cpu,1704067200000000000,58,2,24,61,22,63,6,44,80,38\n"
	var got []*Point
	if err := ReadTimestream(strings.NewReader(in), func(p *Point) error {
		got = append(got, p.Clone())
		return nil
	}); err != nil {
		t.Fatalf("ReadTimestream: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d points", len(got))
	}
	p := got[0]
	if p.Measurement != "cpu" || p.Time != 1704067200000000000 || len(p.Tags) != 10 || p.Tags[9] != (Tag{"service_environment", "production"}) {
		t.Fatalf("point %+v", p)
	}
	wantVals := []int64{58, 2, 24, 61, 22, 63, 6, 44, 80, 38}
	for i, f := range p.Fields {
		if f.Name != wantDevopsFields["cpu"][i] || f.Kind != FieldInt || f.Int != wantVals[i] {
			t.Fatalf("field %d = %+v", i, f)
		}
	}
	// The same body in influx form, as the reference shows it, is equal.
	var lp *Point
	line := "cpu,hostname=host_0,region=eu-west-1,datacenter=eu-west-1c,rack=87,os=Ubuntu16.04LTS,arch=x64,team=NYC,service=18,service_version=1,service_environment=production usage_user=58i,usage_system=2i,usage_idle=24i,usage_nice=61i,usage_iowait=22i,usage_irq=63i,usage_softirq=6i,usage_steal=44i,usage_guest=80i,usage_guest_nice=38i 1704067200000000000\n"
	if err := ReadInflux(strings.NewReader(line), func(q *Point) error { lp = q.Clone(); return nil }); err != nil {
		t.Fatal(err)
	}
	if !lp.Equal(p) {
		t.Fatalf("influx %+v\n!= timestream %+v", lp, p)
	}
}

func TestReadTimestreamHeader(t *testing.T) {
	in := "tags,hostname string,region string\ncpu,a,b\nweird,x,y\n\n" +
		"tags,hostname=h\ncpu,5,1,2.5\ntags,hostname=h,region=r\nweird,6,,-3\n"
	var got []*Point
	if err := ReadTimestream(strings.NewReader(in), func(p *Point) error {
		got = append(got, p.Clone())
		return nil
	}); err != nil {
		t.Fatalf("ReadTimestream: %v", err)
	}
	want := []*Point{
		{Measurement: "cpu", Tags: []Tag{{"hostname", "h"}}, Time: 5,
			Fields: []Field{{Name: "a", Kind: FieldInt, Int: 1}, {Name: "b", Float: 2.5}}},
		{Measurement: "weird", Tags: []Tag{{"hostname", "h"}, {"region", "r"}}, Time: 6,
			Fields: []Field{{Name: "y", Kind: FieldInt, Int: -3}}},
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

func TestReadTimestreamErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"values without tags", "cpu,1,2\n", 1, "values line without a tags line"},
		{"two tags lines", "tags,a=b\ntags,a=b\n", 2, "two tags lines"},
		{"dangling tags", "tags,a=b\n", 1, "tags line without a values line"},
		{"bad tag", "tags,a\ncpu,1,2\n", 1, `invalid tag "a"`},
		{"unknown measurement", "tags,a=b\nfoo,1,2\n", 2, `unknown measurement "foo"`},
		{"bad time", "tags,a=b\ncpu,x,2\n", 2, `invalid time "x"`},
		{"too many values", "tags,a=b\nreadings,1,1,2,3,4,5,6,7,8\n", 2, "more values than the 7 columns"},
		{"bad value", "tags,a=b\ncpu,1,zz\n", 2, `column usage_user: invalid value "zz"`},
		{"all null", "tags,a=b\ndiagnostics,1,,,\n", 2, "no values for diagnostics"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ReadTimestream(strings.NewReader(tc.in), func(*Point) error { return nil })
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a ParseError", err)
			}
			if pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("error %q at line %d, want %q at line %d", pe.Msg, pe.Line, tc.msg, tc.line)
			}
		})
	}
}

func TestTimestreamRoundTrip(t *testing.T) {
	for _, uc := range []string{"devops", "iot"} {
		t.Run(uc, func(t *testing.T) {
			pts := generate(t, testConfig(uc, 5, 10*time.Minute, 11))
			var buf []byte
			for _, p := range pts {
				buf = p.AppendTimestream(buf)
			}
			i := 0
			err := ReadTimestream(bytes.NewReader(buf), func(p *Point) error {
				if i >= len(pts) || !p.Equal(pts[i]) {
					t.Fatalf("point %d read back as %+v, want %+v", i, p, pts[i])
				}
				i++
				return nil
			})
			if err != nil {
				t.Fatalf("ReadTimestream: %v", err)
			}
			if i != len(pts) {
				t.Fatalf("read %d points, want %d", i, len(pts))
			}
		})
	}
}

// FuzzReadTimestream checks that any input is rejected or parsed into points
// that survive AppendTimestreamColumns and a second parse bit for bit.
func FuzzReadTimestream(f *testing.F) {
	seeds := []string{
		"tags,hostname=host_0,region=eu-west-1\ncpu,1704067200000000000,58,2,24,61,22,63,6,44,80,38\n",
		"tags,name=truck_0\nreadings,1,-87.77153,,2530.48,12.53,40.61,47.8,42.81\n",
		"tags,hostname string\nm,a,b\n\ntags,h=1\nm,5,1.0,-2\r\n",
		"tags\ndiagnostics,1,2.5,0.5,3\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var first []*Point
		if err := ReadTimestream(bytes.NewReader(in), func(p *Point) error {
			first = append(first, p.Clone())
			return nil
		}); err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("non-syntax error %v", err)
			}
			return
		}
		header, cols := timestreamHeader(in)
		out := append([]byte(nil), header...)
		for _, p := range first {
			if len(p.Fields) == 0 {
				t.Fatalf("accepted point without fields %+v", p)
			}
			names, ok := cols[p.Measurement]
			if !ok {
				names = Columns("devops", p.Measurement)
			}
			if names == nil {
				names = Columns("iot", p.Measurement)
			}
			out = p.AppendTimestreamColumns(out, names)
		}
		i := 0
		if err := ReadTimestream(bytes.NewReader(out), func(p *Point) error {
			if i >= len(first) || !p.Equal(first[i]) {
				t.Fatalf("point %d: reparsed %+v, want %+v", i, p, first[i])
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

// timestreamHeader returns the header lines of in (blank line included) and
// the columns they declare, the way ReadTimestream reads them.
func timestreamHeader(in []byte) ([]byte, map[string][]string) {
	cols := map[string][]string{}
	lines := bytes.SplitAfter(in, []byte("\n"))
	clean := func(l []byte) []byte {
		return bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r"))
	}
	if len(lines) == 0 {
		return nil, cols
	}
	first := clean(lines[0])
	if !bytes.HasPrefix(first, []byte("tags,")) || bytes.IndexByte(first, ' ') < 0 || bytes.IndexByte(first, '=') >= 0 {
		return nil, cols
	}
	n := len(lines[0])
	for _, l := range lines[1:] {
		n += len(l)
		c := clean(l)
		if blank(c) {
			break
		}
		parts := strings.Split(string(c), ",")
		cols[parts[0]] = parts[1:]
	}
	return in[:n], cols
}
