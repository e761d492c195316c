package timestreamapi

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/tidaldb/tidal/query/exec"
)

func TestAppendDouble(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{-1, "-1.0"},
		{35.2, "35.2"},
		{0.001, "0.001"},
		{0.0001, "1.0E-4"},
		{0.00015, "1.5E-4"},
		{1234567.5, "1234567.5"},
		{9999999, "9999999.0"},
		{1e7, "1.0E7"},
		{12345678.9, "1.23456789E7"},
		{-2.5e-10, "-2.5E-10"},
		{1e300, "1.0E300"},
		{math.MaxFloat64, "1.7976931348623157E308"},
		// Java prints 4.9E-324; Go's shortest digits are 5, which parse
		// back to the same value.
		{5e-324, "5.0E-324"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		got := string(AppendDouble(nil, tt.f))
		if got != tt.want {
			t.Errorf("AppendDouble(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestAppendScalar(t *testing.T) {
	ts := time.Date(2023, 11, 14, 22, 13, 20, 123456789, time.UTC).UnixNano()
	tests := []struct {
		name string
		kind exec.Kind
		v    exec.Value
		want string
	}{
		{"bigint", exec.KindBigint, exec.Value{I: -42}, "-42"},
		{"integer", exec.KindInteger, exec.Value{I: 7}, "7"},
		{"double", exec.KindDouble, exec.Value{F: 35.2}, "35.2"},
		{"boolean true", exec.KindBoolean, exec.Value{B: true}, "true"},
		{"boolean false", exec.KindBoolean, exec.Value{}, "false"},
		{"timestamp", exec.KindTimestamp, exec.Value{I: ts}, "2023-11-14 22:13:20.123456789"},
		{"timestamp epoch", exec.KindTimestamp, exec.Value{}, "1970-01-01 00:00:00.000000000"},
		{"timestamp before epoch", exec.KindTimestamp, exec.Value{I: -1}, "1969-12-31 23:59:59.999999999"},
		{"date", exec.KindDate, exec.Value{I: 19675}, "2023-11-14"},
		{"date before epoch", exec.KindDate, exec.Value{I: -1}, "1969-12-31"},
		{"time", exec.KindTime, exec.Value{I: int64(13*time.Hour + 5*time.Minute + 7*time.Second + 5)}, "13:05:07.000000005"},
		{"interval ds", exec.KindIntervalDayToSecond, exec.Value{I: int64(49*time.Hour + 30*time.Minute + 1500*time.Millisecond)}, "2 01:30:01.500000000"},
		{"interval ds negative", exec.KindIntervalDayToSecond, exec.Value{I: -int64(90 * time.Second)}, "-0 00:01:30.000000000"},
		{"interval ds min", exec.KindIntervalDayToSecond, exec.Value{I: math.MinInt64}, "-106751 23:47:16.854775808"},
		{"interval ym", exec.KindIntervalYearToMonth, exec.Value{I: 14}, "1-2"},
		{"interval ym negative", exec.KindIntervalYearToMonth, exec.Value{I: -3}, "-0-3"},
		{"varchar raw", exec.KindVarchar, exec.Value{S: `a"b`}, `a"b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendScalar(nil, tt.kind, &tt.v)); got != tt.want {
				t.Errorf("AppendScalar = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendDatum(t *testing.T) {
	ts := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC).UnixNano()
	dbl, big, vc := exec.TypeDouble, exec.TypeBigint, exec.TypeVarchar
	rowType := exec.Type{Kind: exec.KindRow, Fields: []exec.Field{{Name: "a", Type: big}, {Name: "b", Type: vc}}}
	tests := []struct {
		name string
		typ  *exec.Type
		v    exec.Value
		want string
	}{
		{"null", &dbl, exec.Value{Kind: exec.KindDouble, Null: true}, `{"NullValue":true}`},
		{"varchar escaped", &vc, exec.Value{Kind: exec.KindVarchar, S: "h\"1\n\u00e9\x01"}, `{"ScalarValue":"h\"1\né\u0001"}`},
		{"double", &dbl, exec.Value{Kind: exec.KindDouble, F: 35.2}, `{"ScalarValue":"35.2"}`},
		{"kind from value", nil, exec.Value{Kind: exec.KindBigint, I: 3}, `{"ScalarValue":"3"}`},
		{"array", ptr(exec.ArrayOf(big)), exec.Value{Kind: exec.KindArray, Elems: []exec.Value{{Kind: exec.KindBigint, I: 1}, {Kind: exec.KindBigint, Null: true}}},
			`{"ArrayValue":[{"ScalarValue":"1"},{"NullValue":true}]}`},
		{"empty array", ptr(exec.ArrayOf(big)), exec.Value{Kind: exec.KindArray}, `{"ArrayValue":[]}`},
		{"row", &rowType, exec.Value{Kind: exec.KindRow, Elems: []exec.Value{{Kind: exec.KindBigint, I: 7}, {Kind: exec.KindVarchar, S: "x"}}},
			`{"RowValue":{"Data":[{"ScalarValue":"7"},{"ScalarValue":"x"}]}}`},
		{"timeseries", ptr(exec.TimeSeriesOf(dbl)), exec.Value{Kind: exec.KindTimeSeries, Points: []exec.Point{{Time: ts, Value: exec.Value{Kind: exec.KindDouble, F: 35.2}}}},
			`{"TimeSeriesValue":[{"Time":"2023-11-14 22:13:20.000000000","Value":{"ScalarValue":"35.2"}}]}`},
		{"array of rows", ptr(exec.ArrayOf(rowType)), exec.Value{Kind: exec.KindArray, Elems: []exec.Value{{Kind: exec.KindRow, Elems: []exec.Value{{I: 1}, {S: "y"}}}}},
			`{"ArrayValue":[{"RowValue":{"Data":[{"ScalarValue":"1"},{"ScalarValue":"y"}]}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendDatum(nil, tt.typ, &tt.v))
			if got != tt.want {
				t.Errorf("AppendDatum =\n %s\nwant\n %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("AppendDatum produced invalid JSON %s", got)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestWireColumns(t *testing.T) {
	cols := []exec.Column{
		{Name: "host", Type: exec.TypeVarchar},
		{Name: "time", Type: exec.TypeTimestamp},
		{Name: "ts", Type: exec.TimeSeriesOf(exec.TypeDouble)},
		{Name: "arr", Type: exec.ArrayOf(exec.TypeBigint)},
		{Name: "r", Type: exec.Type{Kind: exec.KindRow, Fields: []exec.Field{{Name: "a", Type: exec.TypeBigint}}}},
		{Name: "n", Type: exec.TypeUnknown},
		{Name: "bad", Type: exec.Type{Kind: exec.KindArray}},
	}
	got := string(appendColumnInfo(nil, cols))
	want := `[{"Name":"host","Type":{"ScalarType":"VARCHAR"}},` +
		`{"Name":"time","Type":{"ScalarType":"TIMESTAMP"}},` +
		`{"Name":"ts","Type":{"TimeSeriesMeasureValueColumnInfo":{"Type":{"ScalarType":"DOUBLE"}}}},` +
		`{"Name":"arr","Type":{"ArrayColumnInfo":{"Type":{"ScalarType":"BIGINT"}}}},` +
		`{"Name":"r","Type":{"RowColumnInfo":[{"Name":"a","Type":{"ScalarType":"BIGINT"}}]}},` +
		`{"Name":"n","Type":{"ScalarType":"UNKNOWN"}},` +
		`{"Name":"bad","Type":{"ArrayColumnInfo":{"Type":{"ScalarType":"UNKNOWN"}}}}]`
	if got != want {
		t.Errorf("ColumnInfo =\n %s\nwant\n %s", got, want)
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "tab\tnl\ncr\r", "\x00\x1f", "é✓😀", "bad\xffutf8", "\u2028\u2029", "<&>"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: invalid JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("appendJSONString(%q) decodes to %q, encoding/json gives %q", s, back, wantBack)
		}
	}
}
