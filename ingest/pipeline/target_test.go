package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

func TestParseTemplate(t *testing.T) {
	for _, tc := range []struct {
		in, err string
		fields  []string
	}{
		{in: "telemetry"},
		{in: "{{.device_type}}", fields: []string{"device_type"}},
		{in: "t_{{ .meta.kind }}_{{.site}}", fields: []string{"meta.kind", "site"}},
		{in: "{{device_type}}", err: "want {{.field}}"},
		{in: "{{.a..b}}", err: "want {{.field}}"},
		{in: "{{.a", err: "without '}}'"},
		{in: "a}}", err: "without '{{'"},
		{in: "{{.}}", err: "want {{.field}}"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			tm, err := parseTemplate(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, p := range tm.parts {
				if p.field != "" {
					fields = append(fields, p.field)
				}
			}
			if !slices.Equal(fields, tc.fields) || tm.templated() != (len(tc.fields) > 0) {
				t.Fatalf("fields %v, want %v", fields, tc.fields)
			}
		})
	}
}

// TestTemplatedTable routes each message to the table its device_type
// names, up to max_tables; missing fields, invalid names and targets past
// the bound are dead letters with the reason.
func TestTemplatedTable(t *testing.T) {
	mem := openMemstore(t)
	sp := &spy{Appender: mem}
	m := Mapping{
		Database: "plant", Table: "{{.device_type}}", MaxTargets: 3,
		Time:       TimeField{Field: "ts", Unit: "ms"},
		Dimensions: []string{"device"},
		Measures:   []MeasureField{{Field: "temp", Type: ingest.TypeDouble}},
	}
	p, err := New(sp, Options{Name: "plant", Source: "kafka", Format: FormatJSON, Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Now().Add(-time.Minute).UnixMilli()
	msg := func(i int, kind string) Message {
		v := fmt.Sprintf(`{"ts": %d, "device": "d%d", "temp": %d, "device_type": %s}`, ms+int64(i), i, i, kind)
		return Message{Partition: "t/0", Offset: fmt.Sprint(i), Time: time.UnixMilli(ms), Value: []byte(v)}
	}
	msgs := []Message{
		msg(0, `"pump"`), msg(1, `"valve"`), msg(2, `"pump"`),
		msg(3, `null`),            // missing
		msg(4, `"no space"`),      // invalid name
		msg(5, `"x"`),             // too short
		msg(6, `"motor"`),         // third table: within the bound
		msg(7, `"fan"`),           // fourth: over the bound
		msg(8, `42`),              // numbers render as text: "42" is too short
		msg(9, `"motor"`),         // known table
		msg(10, `"pump.v2-east"`), // a valid name, past the bound
	}
	out, err := p.Process(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if out.Records != 5 || out.DeadLetters != 6 {
		t.Fatalf("outcome %+v, want 5 records and 6 dead letters", out)
	}
	for table, want := range map[string]int{"plant.pump": 2, "plant.valve": 1, "plant.motor": 2, "plant.fan": 0, "plant.pump.v2-east": 0} {
		if got := len(sp.batches[table]); got != want {
			t.Errorf("%s: %d records, want %d", table, got, want)
		}
	}
	// The template field is not a dimension; the measure is named after
	// the resolved table.
	r := sp.batches["plant.pump"][0]
	if len(r.Dimensions) != 1 || r.Dimensions[0].Name != "device" || r.MeasureName != "pump" {
		t.Fatalf("record %+v", r)
	}
	reasons := map[string]string{}
	for _, d := range sp.batches["plant._dead_letters"] {
		for _, dm := range d.Dimensions {
			if dm.Name == "offset" {
				reasons[dm.Value] = d.Measures[0].Value.Str
			}
		}
	}
	for off, want := range map[string]string{
		"3":  `table template: field "device_type" is missing`,
		"4":  `"no space" is not a valid name`,
		"5":  `"x" is not a valid name`,
		"7":  "target plant.fan refused: the pipeline already writes to 3 tables",
		"8":  `"42" is not a valid name`,
		"10": "target plant.pump.v2-east refused",
	} {
		if !strings.Contains(reasons[off], want) {
			t.Errorf("dead letter of message %s: %q, want %q", off, reasons[off], want)
		}
	}
}

// TestTemplatedDatabase: the database comes from a field that is also a
// dimension (kept on the record); dead letters go to dead_letter_database.
func TestTemplatedDatabase(t *testing.T) {
	sp := &spy{Appender: openMemstore(t)}
	m := Mapping{
		Database: "site_{{.site}}", Table: "readings", DeadLetterDatabase: "ops",
		Time:       TimeField{Field: "ts", Unit: "ms"},
		Dimensions: []string{"site"},
		Measures:   []MeasureField{{Field: "v", Type: ingest.TypeBigint}},
	}
	if _, err := New(sp, Options{Name: "x", Format: FormatJSON, Mapping: Mapping{Database: "{{.site}}", Table: "t", Time: m.Time, Measures: m.Measures}}); err == nil ||
		!strings.Contains(err.Error(), "dead_letter_database") {
		t.Fatalf("templated database without a dead-letter database: %v", err)
	}
	if _, err := New(sp, Options{Name: "x", Format: FormatTimestream, Mapping: Mapping{Database: "db1", Table: "{{.t}}"}}); err == nil {
		t.Fatal("templated table accepted for a format without fields")
	}
	p, err := New(sp, Options{Name: "x", Format: FormatJSON, Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Now().Add(-time.Minute).UnixMilli()
	out, err := p.Process(context.Background(), []Message{
		{Value: fmt.Appendf(nil, `[{"ts": %d, "site": "north", "v": 1}, {"ts": %d, "site": "south", "v": 2}]`, ms, ms)},
		{Value: []byte(`{"ts": 1, "v": 3}`)},
		{Value: []byte(`garbage`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Records != 2 || out.DeadLetters != 2 {
		t.Fatalf("outcome %+v", out)
	}
	for _, k := range []string{"site_north.readings", "site_south.readings"} {
		if b := sp.batches[k]; len(b) != 1 || b[0].Dimensions[0].Name != "site" {
			t.Fatalf("%s: %+v", k, b)
		}
	}
	if n := len(sp.batches["ops._dead_letters"]); n != 2 {
		t.Fatalf("ops._dead_letters: %d rows, want 2", n)
	}
}
