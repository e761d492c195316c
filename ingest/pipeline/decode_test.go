package pipeline

import (
	"strconv"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/tidaldb/tidal/ingest"
)

var plantMapping = Mapping{
	Database: "plant", Table: "telemetry",
	Time:       TimeField{Field: "ts", Unit: "ms"},
	Dimensions: []string{"device", "meta.site"},
	Measures:   []MeasureField{{Field: "temp", Type: ingest.TypeDouble}, {Field: "rpm", Type: ingest.TypeBigint}},
}

func mustDecoder(t testing.TB, format string, m Mapping) Decoder {
	t.Helper()
	d, err := NewDecoder(format, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// recString renders a record for comparison.
func recString(r ingest.Record) string {
	var b strings.Builder
	b.WriteString(r.MeasureName)
	for _, d := range r.Dimensions {
		b.WriteString(" " + d.Name + "=" + d.Value)
	}
	b.WriteString(" @" + fmtInt(r.Time))
	if r.IsMulti() {
		for _, m := range r.Measures {
			b.WriteString(" " + m.Name + ":" + valString(m.Value))
		}
	} else {
		b.WriteString(" " + valString(r.Value))
	}
	return b.String()
}

func fmtInt(i int64) string { return strconv.FormatInt(i, 10) }

func valString(v ingest.Value) string {
	switch v.Type {
	case ingest.TypeDouble:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64) + "d"
	case ingest.TypeBigint:
		return fmtInt(v.Int()) + "i"
	case ingest.TypeVarchar:
		return "'" + v.Str + "'"
	case ingest.TypeBoolean:
		if v.Bool() {
			return "true"
		}
		return "false"
	case ingest.TypeTimestamp:
		return fmtInt(v.Int()) + "ts"
	}
	return "?"
}

func TestJSONDecoder(t *testing.T) {
	single := plantMapping
	single.Single = true
	secs := plantMapping
	secs.Time = TimeField{Field: "ts", Unit: "s"}
	layout := plantMapping
	layout.Time = TimeField{Field: "when", Layout: "2006-01-02 15:04:05"}
	for _, tc := range []struct {
		name    string
		m       Mapping
		msg     string
		want    []string
		wantErr string
	}{
		{name: "object", m: plantMapping,
			msg:  `{"ts": 1700000000123, "device": "d1", "meta": {"site": "north"}, "temp": 21.0, "rpm": 1500, "other": [1,2]}`,
			want: []string{"telemetry device=d1 site=north @1700000000123000000 temp:21d rpm:1500i"}},
		{name: "array", m: plantMapping,
			msg:  `[{"ts": 1, "device": "a", "temp": 1}, {"ts": 2, "device": 7, "rpm": "9"}]`,
			want: []string{"telemetry device=a @1000000 temp:1d", "telemetry device=7 @2000000 rpm:9i"}},
		{name: "single", m: single,
			msg:  `{"ts": 5, "device": "d", "temp": 2, "rpm": 3}`,
			want: []string{"temp device=d @5000000 2d", "rpm device=d @5000000 3i"}},
		{name: "seconds, fractional", m: secs, msg: `{"ts": 1.5, "temp": 1}`, want: []string{"telemetry @1500000000 temp:1d"}},
		{name: "numeric string time", m: plantMapping, msg: `{"ts": "42", "temp": 1}`, want: []string{"telemetry @42000000 temp:1d"}},
		{name: "layout", m: layout, msg: `{"when": "2024-01-02 03:04:05", "temp": 1}`, want: []string{"telemetry @1704164645000000000 temp:1d"}},
		{name: "missing time", m: plantMapping, msg: `{"temp": 1}`, wantErr: `time field "ts" is missing`},
		{name: "negative time", m: plantMapping, msg: `{"ts": -1, "temp": 1}`, wantErr: "outside the supported range"},
		{name: "huge time", m: plantMapping, msg: `{"ts": 9223372036854775807, "temp": 1}`, wantErr: "outside the supported range"},
		{name: "no measures", m: plantMapping, msg: `{"ts": 1, "device": "x"}`, wantErr: "no measure field is present"},
		{name: "bad bigint", m: plantMapping, msg: `{"ts": 1, "rpm": 1.5}`, wantErr: `measure field "rpm": invalid BIGINT "1.5"`},
		{name: "bad double", m: plantMapping, msg: `{"ts": 1, "temp": true}`, wantErr: "want a number for DOUBLE"},
		{name: "object dimension", m: plantMapping, msg: `{"ts": 1, "temp": 1, "device": {}}`, wantErr: `dimension field "device"`},
		{name: "syntax", m: plantMapping, msg: `{"ts": 1,`, wantErr: "decode json object"},
		{name: "trailing", m: plantMapping, msg: `{"ts": 1, "temp": 1} x`, wantErr: "trailing data"},
		{name: "empty array", m: plantMapping, msg: `[]`, wantErr: "empty array"},
		{name: "array element error", m: plantMapping, msg: `[{"ts": 1, "temp": 1}, {"temp": 1}]`, wantErr: "element 1: time field"},
		{name: "not an object", m: plantMapping, msg: `[1]`, wantErr: "decode json array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := mustDecoder(t, FormatJSON, tc.m).Decode([]byte(tc.msg), nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, recString(r))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestMappingValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		m       Mapping
		wantErr string
	}{
		{"no database", Mapping{Table: "t"}, "mapping.database is required"},
		{"no time", Mapping{Database: "d", Table: "t", Measures: plantMapping.Measures}, "mapping.time.field is required"},
		{"bad unit", Mapping{Database: "d", Table: "t", Time: TimeField{Field: "t", Unit: "h"}, Measures: plantMapping.Measures}, `unit "h"`},
		{"no measures", Mapping{Database: "d", Table: "t", Time: TimeField{Field: "t"}}, "at least one measure"},
		{"repeated dimension", Mapping{Database: "d", Table: "t", Time: TimeField{Field: "t"}, Measures: plantMapping.Measures, Dimensions: []string{"a.x", "x"}}, "repeated"},
		{"multi type", Mapping{Database: "d", Table: "t", Time: TimeField{Field: "t"}, Measures: []MeasureField{{Field: "m", Type: ingest.TypeMulti}}}, "not a scalar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate(FormatJSON)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	if _, err := NewDecoder("avro", plantMapping, nil); err == nil || !strings.Contains(err.Error(), "known: json, prometheus_remote_write, timestream") {
		t.Fatalf("unknown format: %v", err)
	}
}

func promBody(t testing.TB, compress bool) []byte {
	req := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "up"}, {Name: "job", Value: "node"}, {Name: "empty", Value: ""}},
			Samples: []prompb.Sample{{Timestamp: 1000, Value: 1}, {Timestamp: 2000, Value: 0}}},
		{Labels: []prompb.Label{{Name: "__name__", Value: "temp"}}, Samples: []prompb.Sample{{Timestamp: 3000, Value: 20}}},
	}}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if compress {
		return snappy.Encode(nil, b)
	}
	return b
}

func TestPromDecoder(t *testing.T) {
	want := "up job=node @1000000000 1d\nup job=node @2000000000 0d\ntemp @3000000000 20d"
	for _, compress := range []bool{false, true} {
		recs, err := mustDecoder(t, FormatPromRW, Mapping{}).Decode(promBody(t, compress), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, recString(r))
		}
		if strings.Join(got, "\n") != want {
			t.Fatalf("snappy=%v: got\n%s\nwant\n%s", compress, strings.Join(got, "\n"), want)
		}
	}
	noName, _ := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "a", Value: "b"}}, Samples: []prompb.Sample{{Value: 1}}}}}).Marshal()
	for _, tc := range []struct {
		name, wantErr string
		msg           []byte
	}{
		{"garbage", "decode remote-write protobuf", []byte{0xff, 0xff, 0xff}},
		{"empty", "no time series", nil},
		{"no name", "no __name__", noName},
	} {
		if _, err := mustDecoder(t, FormatPromRW, Mapping{}).Decode(tc.msg, nil); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestTimestreamDecoder(t *testing.T) {
	for _, tc := range []struct {
		name, msg, wantErr string
		want               []string
	}{
		{name: "common attributes",
			msg: `{"DatabaseName":"x","TableName":"y","CommonAttributes":{"Dimensions":[{"Name":"host","Value":"h1"}],"MeasureValueType":"DOUBLE","TimeUnit":"SECONDS"},
			  "Records":[{"MeasureName":"cpu","MeasureValue":"5","Time":"10"},{"MeasureName":"up","MeasureValue":"true","MeasureValueType":"BOOLEAN","Time":"11","Dimensions":[{"Name":"az","Value":"a"}]}]}`,
			want: []string{"cpu host=h1 @10000000000 5d", "up host=h1 az=a @11000000000 true"}},
		{name: "multi",
			msg:  `{"Records":[{"MeasureName":"m","MeasureValueType":"MULTI","Time":"7","MeasureValues":[{"Name":"a","Value":"1","Type":"BIGINT"},{"Name":"s","Value":"x","Type":"VARCHAR"}]}]}`,
			want: []string{"m @7000000 a:1i s:'x'"}},
		{name: "no records", msg: `{"Records":[]}`, wantErr: "Records is missing or empty"},
		{name: "unknown field", msg: `{"Records":[{"Bogus":1}]}`, wantErr: "unknown field"},
		{name: "no time", msg: `{"Records":[{"MeasureName":"m","MeasureValue":"1"}]}`, wantErr: "record 0: record has no Time (required)"},
		{name: "bad unit", msg: `{"Records":[{"MeasureName":"m","MeasureValue":"1","Time":"1","TimeUnit":"DAYS"}]}`, wantErr: "TimeUnit"},
		{name: "bad value", msg: `{"Records":[{"MeasureName":"m","MeasureValue":"x","Time":"1"}]}`, wantErr: "invalid DOUBLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := mustDecoder(t, FormatTimestream, Mapping{}).Decode([]byte(tc.msg), nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, recString(r))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestAutoJSONMappingValidate(t *testing.T) {
	base := Mapping{Database: "plant", Table: "telemetry", AllFields: true}
	if _, err := NewDecoder(FormatJSON, base, nil); err != nil {
		t.Fatalf("all fields without a time field: %v", err)
	}
	for name, m := range map[string]Mapping{
		"with measures": {Database: "plant", Table: "t", AllFields: true, Measures: []MeasureField{{Field: "v", Type: ingest.TypeDouble}}},
		"single":        {Database: "plant", Table: "t", AllFields: true, Single: true},
		"bad unit":      {Database: "plant", Table: "t", AllFields: true, Time: TimeField{Unit: "days"}},
	} {
		if _, err := NewDecoder(FormatJSON, m, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
