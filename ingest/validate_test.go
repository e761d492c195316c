package ingest

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func dims(n int) []Dimension {
	out := make([]Dimension, n)
	for i := range out {
		out[i] = Dimension{Name: "l" + strconv.Itoa(i), Value: "v"}
	}
	return out
}

func TestValidateRecord(t *testing.T) {
	good := func() Record {
		return Record{Time: 1_700_000_000_000_000_000, MeasureName: "cpu", Dimensions: []Dimension{{Name: "host", Value: "a"}}, Value: Float(1)}
	}
	cases := []struct {
		name string
		mod  func(r *Record)
		want string // substring of the reason; "" for a good record
	}{
		{"good", func(*Record) {}, ""},
		{"epoch", func(r *Record) { r.Time = 0 }, ""},
		{"max time", func(r *Record) { r.Time = math.MaxInt64 }, ""},
		{"before epoch", func(r *Record) { r.Time = -1 }, "before 1970"},
		{"no dimensions", func(r *Record) { r.Dimensions = nil }, ""},
		{"128 dimensions", func(r *Record) { r.Dimensions = dims(128) }, ""},
		{"129 dimensions", func(r *Record) { r.Dimensions = dims(129) }, "at most 128 dimensions; this record has 129"},
		{"500k dimensions", func(r *Record) { r.Dimensions = dims(500_000) }, "this record has 500000"},
		{"empty measure name", func(r *Record) { r.MeasureName = "" }, "Measure name must not be empty"},
		{"long measure name", func(r *Record) { r.MeasureName = strings.Repeat("m", 257) }, "at most 256"},
		{"bad utf8 measure name", func(r *Record) { r.MeasureName = "cpu\xff" }, "Measure name \"cpu\\xff\" is not valid UTF-8"},
		{"empty dimension name", func(r *Record) { r.Dimensions[0].Name = "" }, "Dimension name must not be empty"},
		{"long dimension name", func(r *Record) { r.Dimensions[0].Name = strings.Repeat("d", 61) }, "at most 60"},
		{"bad utf8 dimension name", func(r *Record) { r.Dimensions[0].Name = "h\xc3" }, "not valid UTF-8"},
		{"empty dimension value", func(r *Record) { r.Dimensions[0].Value = "" }, "empty value"},
		{"bad utf8 dimension value", func(r *Record) { r.Dimensions[0].Value = "\xed\xa0\x80" }, `value of dimension "host" is not valid UTF-8`},
		{"5 MiB dimension value", func(r *Record) { r.Dimensions[0].Value = strings.Repeat("x", 5<<20) }, "more than 2048 bytes"},
		{"dimension bytes at limit", func(r *Record) {
			r.MeasureName = "m"
			r.Dimensions[0].Value = strings.Repeat("x", MaxRecordBytes-len("host")-1)
		}, ""},
		{"record bytes over limit", func(r *Record) {
			r.MeasureName = "mm"
			r.Dimensions[0].Value = strings.Repeat("x", MaxRecordBytes-len("host")-1)
		}, "record is 2049 bytes"},
		{"varchar", func(r *Record) { r.Value = String(strings.Repeat("é", 1000)) }, ""},
		{"varchar 2049 chars", func(r *Record) { r.Value = String(strings.Repeat("x", 2049)) }, "longer than 2048 characters"},
		{"varchar huge", func(r *Record) { r.Value = String(strings.Repeat("x", 5<<20)) }, "longer than 2048 characters"},
		{"varchar bad utf8", func(r *Record) { r.Value = String("ok\x80") }, "measure value is not valid UTF-8"},
		{"multi", func(r *Record) {
			r.Value = Value{}
			r.Measures = []Measure{{Name: "a", Value: Float(1)}, {Name: "b", Value: String("s")}}
		}, ""},
		{"multi too many", func(r *Record) {
			r.Value = Value{}
			for i := range 257 {
				r.Measures = append(r.Measures, Measure{Name: "a" + strconv.Itoa(i), Value: Float(1)})
			}
		}, "at most 256 measure values"},
		{"multi bad name", func(r *Record) {
			r.Value = Value{}
			r.Measures = []Measure{{Name: "\xff", Value: Float(1)}}
		}, "attribute name \"\\xff\" is not valid UTF-8"},
		{"multi bad varchar", func(r *Record) {
			r.Value = Value{}
			r.Measures = []Measure{{Name: "a", Value: String("\xff")}}
		}, `attribute "a" is not valid UTF-8`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := good()
			c.mod(&r)
			got := ValidateRecord(&r)
			if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
				t.Fatalf("ValidateRecord = %q, want %q", got, c.want)
			}
			if len(got) > 300 {
				t.Fatalf("reason of %d bytes: a reason must stay small", len(got))
			}
		})
	}
}

func TestTimeFromUnits(t *testing.T) {
	cases := []struct {
		v, unit int64
		want    int64
		ok      bool
	}{
		{1_700_000_000_000, 1e6, 1_700_000_000_000_000_000, true},
		{0, 1e6, 0, true},
		{math.MaxInt64 / 1_000_000, 1e6, math.MaxInt64 / 1_000_000 * 1_000_000, true},
		{math.MaxInt64/1_000_000 + 1, 1e6, 0, false},
		// now + 2^58 ms: ms*1e6 wraps to a time in range without the check.
		{1_700_000_000_000 + 1<<58, 1e6, 0, false},
		{-1, 1e6, 0, false},
		{math.MinInt64, 1, 0, false},
		{math.MaxInt64, 1, math.MaxInt64, true},
		{math.MaxInt64/1_000_000_000 + 1, 1e9, 0, false},
		{5, 0, 0, false},
	}
	for _, c := range cases {
		got, ok := TimeFromUnits(c.v, c.unit)
		if got != c.want || ok != c.ok {
			t.Errorf("TimeFromUnits(%d, %d) = %d, %v; want %d, %v", c.v, c.unit, got, ok, c.want, c.ok)
		}
	}
}

func BenchmarkValidateRecord(b *testing.B) {
	recs := map[string]Record{
		"prometheus": {Time: 1_700_000_000_000_000_000, MeasureName: "http_requests_total", Value: Float(1), Dimensions: []Dimension{
			{Name: "code", Value: "200"}, {Name: "handler", Value: "/api/v1/query"}, {Name: "instance", Value: "10.0.0.1:9090"},
			{Name: "job", Value: "prometheus"}, {Name: "method", Value: "get"}}},
		"multi": {Time: 1_700_000_000_000_000_000, MeasureName: "metrics", Dimensions: dims(10), Measures: []Measure{
			{Name: "cpu", Value: Float(1)}, {Name: "mem", Value: Int(2)}, {Name: "state", Value: String("running")}}},
		"129 dims":  {Time: 1, MeasureName: "x", Dimensions: dims(129), Value: Float(1)},
		"500k dims": {Time: 1, MeasureName: "x", Dimensions: dims(500_000), Value: Float(1)},
	}
	for name, r := range recs {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = ValidateRecord(&r)
			}
		})
	}
}
