package mqtt

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/pipeline"
)

func TestPattern(t *testing.T) {
	tests := []struct {
		pattern, topic string
		ok             bool
		dims           []ingest.Dimension
	}{
		{"factory/{site}/{line}/{device}/telemetry", "factory/berlin/l1/press7/telemetry", true,
			[]ingest.Dimension{{Name: "site", Value: "berlin"}, {Name: "line", Value: "l1"}, {Name: "device", Value: "press7"}}},
		{"factory/{site}/{line}/{device}/telemetry", "factory/berlin/l1/press7/status", false, nil},
		{"factory/{site}/{line}/{device}/telemetry", "factory/berlin/l1/telemetry", false, nil},
		{"factory/{site}/{line}/{device}/telemetry", "factory/berlin/l1/press7/telemetry/x", false, nil},
		{"factory/{site}/x", "factory//x", false, nil},
		{"a/+/{d}", "a/anything/dev", true, []ingest.Dimension{{Name: "d", Value: "dev"}}},
		{"a/{d}/#", "a/dev/b/c", true, []ingest.Dimension{{Name: "d", Value: "dev"}}},
		{"a/{d}/#", "a/dev", true, []ingest.Dimension{{Name: "d", Value: "dev"}}},
		{"a/{d}/#", "b/dev", false, nil},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		dims, ok := p.Match(tt.topic, nil)
		if ok != tt.ok || ok && !reflect.DeepEqual(dims, tt.dims) {
			t.Errorf("%s on %s = %v %v, want %v %v", tt.pattern, tt.topic, dims, ok, tt.dims, tt.ok)
		}
	}
	if p, _ := ParsePattern("factory/{site}/+/{device}/#"); p.Filter() != "factory/+/+/+/#" {
		t.Errorf("Filter = %q", p.Filter())
	}
	for _, bad := range []string{"", "a/#/b", "a/{x}/{x}", "a/b+", "a/{x"} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q): no error", bad)
		}
	}
}

var now = time.Unix(1700000000, 0)

func TestDecodeJSON(t *testing.T) {
	r, err := compile(Topic{Pattern: "f/{dev}/telemetry", Database: "iot", Dimensions: []string{"unit"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Table != "telemetry" || r.unit != 1e6 {
		t.Fatalf("table %q unit %d", r.Table, r.unit)
	}
	topic := []ingest.Dimension{{Name: "dev", Value: "d1"}}
	tests := []struct {
		payload string
		recs    []ingest.Record
		errs    string
	}{
		{`{"time": 1700000000123, "temp": 21.5, "unit": "C", "ok": false, "s": {"mode": "auto", "n": 2}, "skip": null}`, []ingest.Record{{
			Time: 1700000000123e6, MeasureName: "telemetry",
			Dimensions: []ingest.Dimension{{Name: "unit", Value: "C"}, {Name: "dev", Value: "d1"}},
			Measures: []ingest.Measure{{Name: "ok", Value: ingest.Bool(false)}, {Name: "s_mode", Value: ingest.String("auto")},
				{Name: "s_n", Value: ingest.Float(2)}, {Name: "temp", Value: ingest.Float(21.5)}},
		}}, ""},
		{`[{"v": 1}, {"time": "2023-11-14T22:13:20.5Z", "v": 2}]`, []ingest.Record{
			{Time: now.UnixNano(), MeasureName: "telemetry", Dimensions: topic, Measures: []ingest.Measure{{Name: "v", Value: ingest.Float(1)}}},
			{Time: 1700000000500e6, MeasureName: "telemetry", Dimensions: topic, Measures: []ingest.Measure{{Name: "v", Value: ingest.Float(2)}}},
		}, ""},
		// A bad object refuses the message, as in a stream pipeline.
		{`[{"v": 1}, {"v": [1]}]`, nil, "object 1: field \"v\": arrays are not supported"},
		{`{"dev": "x", "v": 1}`, nil, "object 0: field \"dev\""},
		{`{"unit": "C"}`, nil, "no measure fields"},
		{`{"time": -5, "v": 1}`, nil, "out of range"},
		{`{"time": "yesterday", "v": 1}`, nil, "RFC 3339"},
		{`{"dev": 1`, nil, "decode JSON payload"},
		{`{"v": 1} {"v": 2}`, nil, "data after the first value"},
		{`5`, nil, "want an object"},
	}
	for _, tt := range tests {
		out, errs := r.decode("t", []byte(tt.payload), topic, now)
		var recs []ingest.Record
		for _, b := range out {
			if b.table != "telemetry" {
				t.Errorf("%s: table %q", tt.payload, b.table)
			}
			recs = append(recs, b.recs...)
		}
		if !reflect.DeepEqual(recs, tt.recs) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.payload, recs, tt.recs)
		}
		if tt.errs == "" && len(errs) > 0 || tt.errs != "" && (len(errs) != 1 || !strings.Contains(errs[0], tt.errs)) {
			t.Errorf("%s: errors %q, want %q", tt.payload, errs, tt.errs)
		}
	}
}

// TestDecodeJSONMapping: a topic with a measure list decodes with the
// stream pipelines' JSON mapping (typed measures, a required time field,
// dimension paths named after their last element).
func TestDecodeJSONMapping(t *testing.T) {
	r, err := compile(Topic{Pattern: "f/{dev}/telemetry", Database: "iot", TimeField: "ts", TimeUnit: "s", Dimensions: []string{"meta.site"},
		Measures: []pipeline.MeasureField{{Field: "temp", Type: ingest.TypeDouble}, {Field: "state.rpm", Type: ingest.TypeBigint}}})
	if err != nil {
		t.Fatal(err)
	}
	topic := []ingest.Dimension{{Name: "dev", Value: "d1"}}
	tests := []struct {
		payload string
		recs    []ingest.Record
		errs    string
	}{
		{`{"ts": 1700000000, "temp": 21.5, "meta": {"site": "berlin"}, "state": {"rpm": 1200}, "ignored": "x"}`, []ingest.Record{{
			Time: 1700000000e9, MeasureName: "telemetry",
			Dimensions: []ingest.Dimension{{Name: "site", Value: "berlin"}, {Name: "dev", Value: "d1"}},
			Measures:   []ingest.Measure{{Name: "temp", Value: ingest.Float(21.5)}, {Name: "rpm", Value: ingest.Int(1200)}},
		}}, ""},
		{`{"temp": 21.5}`, nil, "ts"},
		{`{"ts": 1700000000, "temp": "hot"}`, nil, "temp"},
	}
	for _, tt := range tests {
		out, errs := r.decode("t", []byte(tt.payload), topic, now)
		var recs []ingest.Record
		for _, b := range out {
			recs = append(recs, b.recs...)
		}
		if !reflect.DeepEqual(recs, tt.recs) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.payload, recs, tt.recs)
		}
		if tt.errs == "" && len(errs) > 0 || tt.errs != "" && (len(errs) != 1 || !strings.Contains(errs[0], tt.errs)) {
			t.Errorf("%s: errors %q, want %q", tt.payload, errs, tt.errs)
		}
	}
	if _, err := compile(Topic{Pattern: "a/b", Database: "iot", Measures: []pipeline.MeasureField{{Field: "v", Type: ingest.TypeMulti}}}); err == nil {
		t.Error("compile accepted a MULTI measure type")
	}
}

func TestDecodeLineProtocol(t *testing.T) {
	r, err := compile(Topic{Pattern: "agents/{agent}/influx", Database: "iot", Format: FormatLineProto, TimeUnit: "s"})
	if err != nil {
		t.Fatal(err)
	}
	out, errs := r.decode("t", []byte("cpu,core=0 u=1 1700000000\nbad\nmem,agent=x v=1i 1\ncpu u=2"), []ingest.Dimension{{Name: "agent", Value: "a1"}}, now)
	if len(errs) != 2 || !strings.HasPrefix(errs[0], "line 2:") || !strings.Contains(errs[1], `line 3: dimension "agent"`) {
		t.Fatalf("errors %q", errs)
	}
	if len(out) != 1 || out[0].table != "cpu" || len(out[0].recs) != 2 || out[0].recs[0].Time != 1700000000e9 || out[0].recs[1].Time != now.UnixNano() ||
		!reflect.DeepEqual(out[0].recs[1].Dimensions, []ingest.Dimension{{Name: "agent", Value: "a1"}}) {
		t.Fatalf("batches %+v", out)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tp := range []Topic{
		{Pattern: "a/b", Database: "iot", Format: "xml"},
		{Pattern: "a/b"},
		{Pattern: "{a}/{b}", Database: "iot"},
		{Pattern: "a/b", Database: "iot", TimeUnit: "days"},
	} {
		if _, err := compile(tp); err == nil {
			t.Errorf("compile(%+v): no error", tp)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	f.Add([]byte(`{"time": 1700000000123, "temp": 21.5, "unit": "C", "s": {"mode": "auto"}}`), false)
	f.Add([]byte(`[{"v": 1}, {"time": "2023-11-14T22:13:20.5Z", "v": true}]`), false)
	f.Add([]byte("cpu,core=0 u=1 1700000000\nbad\nmem v=\"x\""), true)
	js, _ := compile(Topic{Pattern: "f/{dev}/t", Database: "iot", Dimensions: []string{"unit"}})
	lp, _ := compile(Topic{Pattern: "f/{dev}/t", Database: "iot", Format: FormatLineProto})
	topic := []ingest.Dimension{{Name: "dev", Value: "d1"}}
	f.Fuzz(func(t *testing.T, payload []byte, lineProto bool) {
		r := js
		if lineProto {
			r = lp
		}
		out, _ := r.decode("t", payload, topic, now)
		for _, b := range out {
			for i := range b.recs {
				if reason := ingest.ValidateRecord(&b.recs[i]); reason != "" {
					t.Fatalf("invalid record %+v: %s", b.recs[i], reason)
				}
				d := b.recs[i].Dimensions
				if len(d) == 0 || d[len(d)-1] != topic[0] {
					t.Fatalf("topic dimension missing: %+v", d)
				}
			}
		}
	})
}

func BenchmarkDecodeJSON(b *testing.B) {
	r, _ := compile(Topic{Pattern: "f/{dev}/t", Database: "iot", Dimensions: []string{"unit"}})
	payload := []byte(`{"time": 1700000000123, "temp": 21.5, "humidity": 40.25, "unit": "C", "ok": true, "state": {"mode": "auto", "rpm": 1200}}`)
	topic := []ingest.Dimension{{Name: "dev", Value: "d1"}}
	b.ReportAllocs()
	for b.Loop() {
		out, errs := r.decode("t", payload, topic, now)
		if len(out) != 1 || len(errs) != 0 {
			b.Fatal(fmt.Sprint(errs))
		}
	}
}

func TestDeadLetterRecord(t *testing.T) {
	long := strings.Repeat("é", 3000)
	for _, tc := range []struct {
		topic, reason string
		payload       []byte
		wantPayload   string
	}{
		{"a/b", "bad", []byte("not json"), "not json"},
		{long, long, []byte(long), ""},
		{"a/b", "bad", []byte{0xff, 0x00, 0x01}, "base64:/wAB"},
		{"a/b", "bad", make([]byte, 5000), ""},
	} {
		rec := deadLetterRecord(tc.topic, []string{tc.reason, "second"}, tc.payload, now)
		if reason := ingest.ValidateRecord(&rec); reason != "" {
			t.Errorf("%.20q: invalid dead-letter record: %s", tc.topic, reason)
		}
		if rec.Measures[1].Value.Int() != 2 || tc.wantPayload != "" && rec.Measures[2].Value.Str != tc.wantPayload {
			t.Errorf("%.20q: measures %+v", tc.topic, rec.Measures)
		}
	}
}
