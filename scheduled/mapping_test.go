package scheduled

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/exec"
)

// TestMappingRecords checks how result rows become records under each
// kind of mapping.
func TestMappingRecords(t *testing.T) {
	cols := []exec.Column{
		{Name: "t", Type: exec.TypeTimestamp},
		{Name: "host", Type: exec.TypeVarchar},
		{Name: "m", Type: exec.TypeVarchar},
		{Name: "d", Type: exec.TypeDouble},
		{Name: "n", Type: exec.TypeBigint},
		{Name: "ok", Type: exec.TypeBoolean},
	}
	row := func(host, m string, d float64, n int64, ok bool) []exec.Value {
		return []exec.Value{exec.Timestamp(100), exec.Varchar(host), exec.Varchar(m), exec.Double(d), exec.Bigint(n), exec.Boolean(ok)}
	}
	hostDim := []DimensionMapping{{Name: "host", DimensionValueType: "VARCHAR"}}
	h1 := []ingest.Dimension{{Name: "host", Value: "h1"}}
	tests := []struct {
		name string
		tc   TimestreamConfiguration
		row  []exec.Value
		want []ingest.Record
	}{
		{"multi", TimestreamConfiguration{TimeColumn: "t", DimensionMappings: hostDim,
			MultiMeasureMappings: &MultiMeasureMappings{TargetMultiMeasureName: "agg", MultiMeasureAttributeMappings: []MultiMeasureAttributeMapping{
				{SourceColumn: "d", MeasureValueType: "DOUBLE"},
				{SourceColumn: "n", TargetMultiMeasureAttributeName: "count", MeasureValueType: "BIGINT"},
				{SourceColumn: "n", TargetMultiMeasureAttributeName: "count_d", MeasureValueType: "DOUBLE"},
				{SourceColumn: "ok", MeasureValueType: "BOOLEAN"},
				{SourceColumn: "t", TargetMultiMeasureAttributeName: "at", MeasureValueType: "TIMESTAMP"},
			}}},
			row("h1", "x", 1.5, 7, true),
			[]ingest.Record{{Time: 100, Dimensions: h1, MeasureName: "agg", Measures: []ingest.Measure{
				{Name: "d", Value: ingest.Float(1.5)}, {Name: "count", Value: ingest.Int(7)}, {Name: "count_d", Value: ingest.Float(7)},
				{Name: "ok", Value: ingest.Bool(true)}, {Name: "at", Value: ingest.Timestamp(100)}}}}},
		{"multi named by column, NULL left out", TimestreamConfiguration{TimeColumn: "t", DimensionMappings: hostDim, MeasureNameColumn: "m",
			MultiMeasureMappings: &MultiMeasureMappings{MultiMeasureAttributeMappings: []MultiMeasureAttributeMapping{
				{SourceColumn: "d", MeasureValueType: "DOUBLE"}, {SourceColumn: "n", MeasureValueType: "BIGINT"}}}},
			[]exec.Value{exec.Timestamp(100), exec.Varchar("h1"), exec.Varchar("mem"), exec.Null(exec.KindDouble), exec.Bigint(3), exec.Boolean(true)},
			[]ingest.Record{{Time: 100, Dimensions: h1, MeasureName: "mem", Measures: []ingest.Measure{{Name: "n", Value: ingest.Int(3)}}}}},
		{"all NULL measures: no record", TimestreamConfiguration{TimeColumn: "t", DimensionMappings: hostDim,
			MultiMeasureMappings: &MultiMeasureMappings{TargetMultiMeasureName: "agg", MultiMeasureAttributeMappings: []MultiMeasureAttributeMapping{
				{SourceColumn: "d", MeasureValueType: "DOUBLE"}}}},
			[]exec.Value{exec.Timestamp(100), exec.Varchar("h1"), exec.Varchar("x"), exec.Null(exec.KindDouble), exec.Bigint(3), exec.Boolean(true)},
			nil},
		{"mixed single measures, NULL dimension left out", TimestreamConfiguration{TimeColumn: "t", DimensionMappings: hostDim,
			MixedMeasureMappings: []MixedMeasureMapping{
				{SourceColumn: "d", MeasureValueType: "DOUBLE"},
				{SourceColumn: "n", TargetMeasureName: "total", MeasureValueType: "BIGINT"}}},
			[]exec.Value{exec.Timestamp(100), exec.Null(exec.KindVarchar), exec.Varchar("x"), exec.Double(2), exec.Bigint(3), exec.Boolean(true)},
			[]ingest.Record{{Time: 100, MeasureName: "d", Value: ingest.Float(2)}, {Time: 100, MeasureName: "total", Value: ingest.Int(3)}}},
		{"mixed selected by measure name column", TimestreamConfiguration{TimeColumn: "t", DimensionMappings: hostDim, MeasureNameColumn: "m",
			MixedMeasureMappings: []MixedMeasureMapping{
				{MeasureName: "cpu", SourceColumn: "d", MeasureValueType: "DOUBLE"},
				{MeasureName: "mem", MeasureValueType: "MULTI", MultiMeasureAttributeMappings: []MultiMeasureAttributeMapping{
					{SourceColumn: "n", TargetMultiMeasureAttributeName: "used", MeasureValueType: "BIGINT"},
					{SourceColumn: "ok", MeasureValueType: "BOOLEAN"}}}}},
			row("h1", "mem", 1, 9, false),
			[]ingest.Record{{Time: 100, Dimensions: h1, MeasureName: "mem", Measures: []ingest.Measure{
				{Name: "used", Value: ingest.Int(9)}, {Name: "ok", Value: ingest.Bool(false)}}}}},
	}
	for _, tt := range tests {
		m, err := compileMapping(&tt.tc, cols)
		if err != nil {
			t.Errorf("%s: compile: %v", tt.name, err)
			continue
		}
		got, err := m.records(nil, tt.row)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// TestMappingErrors checks results that cannot be written as mapped.
func TestMappingErrors(t *testing.T) {
	cols := []exec.Column{{Name: "t", Type: exec.TypeTimestamp}, {Name: "d", Type: exec.TypeDouble}, {Name: "s", Type: exec.TypeVarchar}}
	multi := func(typ string) *MultiMeasureMappings {
		return &MultiMeasureMappings{TargetMultiMeasureName: "x", MultiMeasureAttributeMappings: []MultiMeasureAttributeMapping{{SourceColumn: "d", MeasureValueType: typ}}}
	}
	for _, tc := range []TimestreamConfiguration{
		{TimeColumn: "d", MultiMeasureMappings: multi("DOUBLE")},                                                                                     // time column not a timestamp
		{TimeColumn: "t", MultiMeasureMappings: multi("BIGINT")},                                                                                     // DOUBLE into BIGINT
		{TimeColumn: "t", MultiMeasureMappings: multi("MULTI")},                                                                                      // not a scalar type
		{TimeColumn: "t", DimensionMappings: []DimensionMapping{{Name: "d"}}, MultiMeasureMappings: multi("DOUBLE")},                                 // dimension not VARCHAR
		{TimeColumn: "t", MultiMeasureMappings: &MultiMeasureMappings{MultiMeasureAttributeMappings: multi("DOUBLE").MultiMeasureAttributeMappings}}, // no name
	} {
		if _, err := compileMapping(&tc, cols); err == nil {
			t.Errorf("compileMapping(%+v) succeeded", tc)
		}
	}
	m, err := compileMapping(&TimestreamConfiguration{TimeColumn: "t", MultiMeasureMappings: multi("DOUBLE")}, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]exec.Value{
		{exec.Null(exec.KindTimestamp), exec.Double(1), exec.Varchar("")},
		{exec.Timestamp(1), exec.Double(nan()), exec.Varchar("")},
	} {
		if _, err := m.records(nil, row); err == nil {
			t.Errorf("records(%v) succeeded", row)
		}
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func ExampleParseSchedule() {
	s, err := ParseSchedule("cron(0 9 ? * MON-FRI *)", t0)
	if err != nil {
		fmt.Println(err)
		return
	}
	at := t0
	for range 3 {
		at = s.Next(at)
		fmt.Println(at.Format("Mon 2006-01-02 15:04"))
	}
	// Output:
	// Mon 2024-01-01 09:00
	// Tue 2024-01-02 09:00
	// Wed 2024-01-03 09:00
}
