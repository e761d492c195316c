package timestreamwrite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	tsw "github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
)

func dim(name, value string) types.Dimension {
	return types.Dimension{Name: aws.String(name), Value: aws.String(value)}
}

func TestWriteRecordsCommonAttributes(t *testing.T) {
	e := newEnv(t)
	e.mustTable(t, "devops", "cpu")
	out, err := e.client.WriteRecords(context.Background(), &tsw.WriteRecordsInput{
		DatabaseName: aws.String("devops"), TableName: aws.String("cpu"),
		CommonAttributes: &types.Record{
			Dimensions:       []types.Dimension{dim("host", "h1"), dim("region", "eu")},
			MeasureValueType: types.MeasureValueTypeDouble,
			Time:             aws.String("1700000000"),
			TimeUnit:         types.TimeUnitSeconds,
			Version:          aws.Int64(3),
		},
		Records: []types.Record{
			{MeasureName: aws.String("usage_user"), MeasureValue: aws.String("35.5")},
			{MeasureName: aws.String("usage_system"), MeasureValue: aws.String("-0.25"), Dimensions: []types.Dimension{dim("cpu", "cpu0")},
				Time: aws.String("1700000001500"), TimeUnit: types.TimeUnitMilliseconds, Version: aws.Int64(7)},
			{MeasureName: aws.String("procs"), MeasureValueType: types.MeasureValueTypeBigint, MeasureValue: aws.String("-9223372036854775808")},
			{MeasureName: aws.String("up"), MeasureValueType: types.MeasureValueTypeBoolean, MeasureValue: aws.String("TRUE")},
			{MeasureName: aws.String("state"), MeasureValueType: types.MeasureValueTypeVarchar, MeasureValue: aws.String("running ✓")},
			{MeasureName: aws.String("metrics"), MeasureValueType: types.MeasureValueTypeMulti, MeasureValues: []types.MeasureValue{
				{Name: aws.String("mem"), Value: aws.String("61"), Type: types.MeasureValueTypeBigint},
				{Name: aws.String("ok"), Value: aws.String("false"), Type: types.MeasureValueTypeBoolean},
				{Name: aws.String("load"), Value: aws.String("1e-3"), Type: types.MeasureValueTypeDouble},
				{Name: aws.String("note"), Value: aws.String("x"), Type: types.MeasureValueTypeVarchar},
				{Name: aws.String("boot"), Value: aws.String("1699999000"), Type: types.MeasureValueTypeTimestamp},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.RecordsIngested; got.Total != 6 || got.MemoryStore != 6 || got.MagneticStore != 0 {
		t.Fatalf("RecordsIngested = %+v", got)
	}
	common := []ingest.Dimension{{Name: "host", Value: "h1"}, {Name: "region", Value: "eu"}}
	sec := int64(1700000000_000000000)
	want := []ingest.Record{
		{Time: sec, Dimensions: common, MeasureName: "usage_user", Value: ingest.Float(35.5), Version: 3},
		{Time: 1700000001_500000000, Dimensions: append(append([]ingest.Dimension{}, common...), ingest.Dimension{Name: "cpu", Value: "cpu0"}),
			MeasureName: "usage_system", Value: ingest.Float(-0.25), Version: 7},
		{Time: sec, Dimensions: common, MeasureName: "procs", Value: ingest.Int(math.MinInt64), Version: 3},
		{Time: sec, Dimensions: common, MeasureName: "up", Value: ingest.Bool(true), Version: 3},
		{Time: sec, Dimensions: common, MeasureName: "state", Value: ingest.String("running ✓"), Version: 3},
		{Time: sec, Dimensions: common, MeasureName: "metrics", Version: 3, Measures: []ingest.Measure{
			{Name: "mem", Value: ingest.Int(61)}, {Name: "ok", Value: ingest.Bool(false)}, {Name: "load", Value: ingest.Float(0.001)},
			{Name: "note", Value: ingest.String("x")}, {Name: "boot", Value: ingest.Timestamp(1699999000_000000000)},
		}},
	}
	if len(e.app.calls) != 1 {
		t.Fatalf("Append called %d times; want once per request", len(e.app.calls))
	}
	call := e.app.calls[0]
	if call.db != "devops" || call.table != "cpu" || call.opts != (ingest.AppendOptions{}) {
		t.Fatalf("Append(%q, %q, %+v)", call.db, call.table, call.opts)
	}
	if !reflect.DeepEqual(call.recs, want) {
		t.Fatalf("appended records:\n%+v\nwant\n%+v", call.recs, want)
	}
	if got := testutil.ToFloat64(e.api.records.WithLabelValues("timestream", "accepted")); got != 6 {
		t.Errorf("accepted counter = %v", got)
	}
	if got := testutil.ToFloat64(e.api.requests.WithLabelValues("WriteRecords", "ok")); got != 1 {
		t.Errorf("requests counter = %v", got)
	}
	if n, err := testutil.GatherAndCount(e.reg, "tidal_ingest_records_total"); err != nil || n != 2 {
		t.Errorf("registered series = %d, %v", n, err)
	}
}

func TestWriteRecordsTimeUnits(t *testing.T) {
	e := newEnv(t)
	e.mustTable(t, "units", "tbl")
	tests := []struct {
		unit types.TimeUnit
		time string
		want int64
	}{
		{"", "1700000000123", 1700000000123_000000},
		{types.TimeUnitMilliseconds, "1700000000123", 1700000000123_000000},
		{types.TimeUnitSeconds, "1700000000", 1700000000_000000000},
		{types.TimeUnitMicroseconds, "1700000000123456", 1700000000123456_000},
		{types.TimeUnitNanoseconds, "1700000000123456789", 1700000000123456789},
		{types.TimeUnitSeconds, "0", 0},
	}
	for _, tc := range tests {
		t.Run(string(tc.unit)+tc.time, func(t *testing.T) {
			e.app.calls = nil
			_, err := e.client.WriteRecords(context.Background(), &tsw.WriteRecordsInput{
				DatabaseName: aws.String("units"), TableName: aws.String("tbl"),
				Records: []types.Record{{
					Dimensions: []types.Dimension{dim("d", "v")}, MeasureName: aws.String("m"), MeasureValueType: types.MeasureValueTypeMulti,
					MeasureValues: []types.MeasureValue{{Name: aws.String("ts"), Value: aws.String(tc.time), Type: types.MeasureValueTypeTimestamp}},
					Time:          aws.String(tc.time), TimeUnit: tc.unit,
				}},
			})
			if err != nil {
				t.Fatal(err)
			}
			got := e.app.stored()
			if len(got) != 1 || got[0].Time != tc.want || got[0].Measures[0].Value != ingest.Timestamp(tc.want) {
				t.Fatalf("stored %+v; want time %d", got, tc.want)
			}
		})
	}
}

func TestWriteRecordsRejections(t *testing.T) {
	e := newEnv(t)
	e.mustTable(t, "devops", "cpu")
	// The appender rejects version conflicts on measure "dup" and window
	// violations on measure "old"; its indexes refer to its own slice.
	e.app.reject = func(r ingest.Record) (ingest.Rejection, bool) {
		switch r.MeasureName {
		case "dup":
			return ingest.Rejection{Reason: "The record version 1 is lower than the existing version 200. A higher version is required to update the measure value.", ExistingVersion: 200}, true
		case "old":
			return ingest.Rejection{Reason: "The record timestamp is outside the time range of the memory store."}, true
		}
		return ingest.Rejection{}, false
	}
	good := func(m string) types.Record {
		return types.Record{Dimensions: []types.Dimension{dim("host", "h1")}, MeasureName: aws.String(m), MeasureValue: aws.String("1"), Time: aws.String("1700000000000")}
	}
	bad := good("nan")
	bad.MeasureValue = aws.String("NaN")
	noDims := good("nodims")
	noDims.Dimensions = nil
	records := []types.Record{good("a0"), good("dup"), bad, good("a3"), noDims, good("old"), good("a6")}
	_, err := e.client.WriteRecords(context.Background(), &tsw.WriteRecordsInput{DatabaseName: aws.String("devops"), TableName: aws.String("cpu"), Records: records})
	rre := wantAPIError[*types.RejectedRecordsException](t, err, "One or more records have been rejected. See RejectedRecords for details.")
	type rej struct {
		idx    int32
		reason string
		ev     *int64
	}
	var got []rej
	for _, r := range rre.RejectedRecords {
		got = append(got, rej{r.RecordIndex, aws.ToString(r.Reason), r.ExistingVersion})
	}
	want := []rej{
		{1, "The record version 1 is lower than the existing version 200. A higher version is required to update the measure value.", aws.Int64(200)},
		{2, `Invalid measure value "NaN" for type DOUBLE: NaN, Infinity and out-of-range values are not supported.`, nil},
		{4, "At least one dimension is required for a record.", nil},
		{5, "The record timestamp is outside the time range of the memory store.", nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RejectedRecords = %+v\nwant %+v", got, want)
	}
	// The good records are stored.
	var names []string
	for _, r := range e.app.stored() {
		names = append(names, r.MeasureName)
	}
	if strings.Join(names, ",") != "a0,a3,a6" {
		t.Fatalf("stored %v; want a0,a3,a6", names)
	}
	// The raw response is HTTP 419.
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 419 {
		t.Fatalf("HTTP status = %v", err)
	}
	if got := testutil.ToFloat64(e.api.records.WithLabelValues("timestream", "rejected")); got != 4 {
		t.Errorf("rejected counter = %v", got)
	}
}

func TestWriteRecordsRequestErrors(t *testing.T) {
	e := newEnv(t)
	e.mustTable(t, "devops", "cpu")
	rec := types.Record{Dimensions: []types.Dimension{dim("host", "h1")}, MeasureName: aws.String("m"), MeasureValue: aws.String("1"), Time: aws.String("1")}
	many := make([]types.Record, 101)
	for i := range many {
		many[i] = rec
	}
	ctx := context.Background()
	in := func(db, table string, recs []types.Record, common *types.Record) *tsw.WriteRecordsInput {
		return &tsw.WriteRecordsInput{DatabaseName: aws.String(db), TableName: aws.String(table), Records: recs, CommonAttributes: common}
	}

	_, err := e.client.WriteRecords(ctx, in("devops", "nope", []types.Record{rec}, nil))
	wantAPIError[*types.ResourceNotFoundException](t, err, "The table nope does not exist in database devops.")
	_, err = e.client.WriteRecords(ctx, in("nodb", "cpu", []types.Record{rec}, nil))
	wantAPIError[*types.ResourceNotFoundException](t, err, "The database nodb does not exist.")
	_, err = e.client.WriteRecords(ctx, in("devops", "cpu", many, nil))
	wantAPIError[*types.ValidationException](t, err, "Member must have length less than or equal to 100")
	_, err = e.client.WriteRecords(ctx, in("devops", "cpu", []types.Record{}, nil))
	wantAPIError[*types.ValidationException](t, err, "Member must have length greater than or equal to 1")
	_, err = e.client.WriteRecords(ctx, in("devops", "cpu", []types.Record{rec}, &types.Record{Dimensions: []types.Dimension{dim("host", "h2")}}))
	wantAPIError[*types.ValidationException](t, err, `Records[0] has dimension "host", which is also in CommonAttributes`)
	_, err = e.client.WriteRecords(ctx, in("devops", "cpu", []types.Record{rec}, &types.Record{TimeUnit: "HOURS"}))
	wantAPIError[*types.ValidationException](t, err, "Member must satisfy enum value set")
	_, err = e.client.WriteRecords(ctx, in("devops", "cpu", []types.Record{rec}, &types.Record{Version: aws.Int64(0)}))
	wantAPIError[*types.ValidationException](t, err, "Version must be 1 or greater")
	_, err = e.client.WriteRecords(ctx, in("devops", "cpu", []types.Record{rec}, &types.Record{Dimensions: []types.Dimension{dim("time", "x")}}))
	wantAPIError[*types.ValidationException](t, err, "reserved")
	if len(e.app.calls) != 0 {
		t.Fatalf("request-level errors reached the appender: %+v", e.app.calls)
	}

	e.app.err = errors.New("wal: disk full")
	_, err = e.client.WriteRecords(ctx, in("devops", "cpu", []types.Record{rec}, nil))
	wantAPIError[*types.InternalServerException](t, err, "internal server error")
	// Catalog errors from the appender keep their meaning.
	e.app.err = fmt.Errorf("append: %w", &catalog.Error{Kind: catalog.ErrNotFound, Message: "The table cpu does not exist in database devops."})
	_, err = e.client.WriteRecords(ctx, in("devops", "cpu", []types.Record{rec}, nil))
	wantAPIError[*types.ResourceNotFoundException](t, err, "The table cpu does not exist")
}

func TestWriteRecordsPartitionKeyEnforcement(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.client.CreateDatabase(ctx, &tsw.CreateDatabaseInput{DatabaseName: aws.String("iot")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateTable(ctx, &tsw.CreateTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("sensors"),
		Schema: &types.Schema{CompositePartitionKey: []types.PartitionKey{{Type: types.PartitionKeyTypeDimension, Name: aws.String("device"),
			EnforcementInRecord: types.PartitionKeyEnforcementLevelRequired}}}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.WriteRecords(ctx, &tsw.WriteRecordsInput{DatabaseName: aws.String("iot"), TableName: aws.String("sensors"), Records: []types.Record{
		{Dimensions: []types.Dimension{dim("device", "d1")}, MeasureName: aws.String("t"), MeasureValue: aws.String("1"), Time: aws.String("1")},
		{Dimensions: []types.Dimension{dim("site", "s1")}, MeasureName: aws.String("t"), MeasureValue: aws.String("1"), Time: aws.String("1")},
	}})
	rre := wantAPIError[*types.RejectedRecordsException](t, err, "rejected")
	if len(rre.RejectedRecords) != 1 || rre.RejectedRecords[0].RecordIndex != 1 || !strings.Contains(aws.ToString(rre.RejectedRecords[0].Reason), `dimension "device"`) {
		t.Fatalf("RejectedRecords = %+v", rre.RejectedRecords)
	}
	if got := e.app.stored(); len(got) != 1 || got[0].Dimensions[0].Value != "d1" {
		t.Fatalf("stored %+v", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestConvertRecordReasons covers each per-record validation and its
// reason, without HTTP.
func TestConvertRecordReasons(t *testing.T) {
	table := &catalog.Table{Name: "tb1", PartitionKeys: []catalog.PartitionKey{{Type: catalog.PartitionKeyMeasure}}}
	d := func(n, v string) wireDimension { return wireDimension{Name: ptr(n), Value: ptr(v)} }
	base := func() wireRecord {
		return wireRecord{Dimensions: []wireDimension{d("host", "h1")}, MeasureName: ptr("m"), MeasureValue: ptr("1.5"), Time: ptr("1000")}
	}
	mv := func(n, v, ty string) wireMeasureValue {
		return wireMeasureValue{Name: ptr(n), Value: ptr(v), Type: ptr(ty)}
	}
	multi := func(vals ...wireMeasureValue) wireRecord {
		r := base()
		r.MeasureValue = nil
		r.MeasureValueType = ptr("MULTI")
		r.MeasureValues = vals
		return r
	}
	manyDims := base()
	for i := range 128 {
		manyDims.Dimensions = append(manyDims.Dimensions, d(fmt.Sprintf("d%d", i), "v"))
	}
	bigDims := base()
	bigDims.Dimensions = []wireDimension{d("a", strings.Repeat("x", 1500)), d("b", strings.Repeat("y", 600))}
	var manyMeasures []wireMeasureValue
	for i := range 257 {
		manyMeasures = append(manyMeasures, mv(fmt.Sprintf("m%d", i), "1", "BIGINT"))
	}
	bigMulti := multi(mv("a", strings.Repeat("x", 1200), "VARCHAR"), mv("b", strings.Repeat("x", 900), "VARCHAR"))
	bigRecord := base()
	bigRecord.Dimensions = []wireDimension{d("a", strings.Repeat("x", 1900))}
	bigRecord.MeasureValueType = ptr("VARCHAR")
	bigRecord.MeasureValue = ptr(strings.Repeat("v", 200))

	with := func(f func(r *wireRecord)) wireRecord {
		r := base()
		f(&r)
		return r
	}
	tests := []struct {
		name   string
		rec    wireRecord
		reason string
	}{
		{"no dimensions", with(func(r *wireRecord) { r.Dimensions = nil }), "At least one dimension is required for a record."},
		{"too many dimensions", manyDims, "at most 128 dimensions; this record has 129"},
		{"dimension without name", with(func(r *wireRecord) { r.Dimensions[0].Name = nil }), "Every dimension needs a Name."},
		{"empty dimension name", with(func(r *wireRecord) { r.Dimensions[0].Name = ptr("") }), "Dimension name must not be empty."},
		{"long dimension name", with(func(r *wireRecord) { r.Dimensions[0].Name = ptr(strings.Repeat("n", 61)) }), "longer than 60 bytes"},
		{"reserved dimension", with(func(r *wireRecord) { r.Dimensions[0].Name = ptr("measure_value") }), "is reserved"},
		{"empty dimension value", with(func(r *wireRecord) { r.Dimensions[0].Value = ptr("") }), `Dimension "host" has an empty value`},
		{"missing dimension value", with(func(r *wireRecord) { r.Dimensions[0].Value = nil }), `Dimension "host" has an empty value`},
		{"dimension type", with(func(r *wireRecord) { r.Dimensions[0].DimensionValueType = ptr("BIGINT") }), "only VARCHAR is supported"},
		{"duplicate dimension", with(func(r *wireRecord) { r.Dimensions = append(r.Dimensions, d("host", "h2")) }), `Dimension "host" appears more than once`},
		{"dimension bytes", bigDims, "total 2102 bytes; at most 2048"},
		{"no measure name", with(func(r *wireRecord) { r.MeasureName = nil }), "Measure name is required for a record."},
		{"long measure name", with(func(r *wireRecord) { r.MeasureName = ptr(strings.Repeat("m", 257)) }), "longer than 256 bytes"},
		{"measure name is dimension", with(func(r *wireRecord) { r.MeasureName = ptr("host") }), "also a dimension name"},
		{"time unit", with(func(r *wireRecord) { r.TimeUnit = ptr("HOURS") }), `Invalid time unit "HOURS"`},
		{"no time", with(func(r *wireRecord) { r.Time = nil }), "Invalid time for record: Time is required."},
		{"time not integer", with(func(r *wireRecord) { r.Time = ptr("12.5") }), `Invalid time for record: "12.5" is not a non-negative integer number of milliseconds`},
		{"negative time", with(func(r *wireRecord) { r.Time = ptr("-5") }), "Invalid time for record"},
		{"time overflow", with(func(r *wireRecord) { r.Time = ptr("9223372036854776") }), "Invalid time for record"},
		{"version 0", with(func(r *wireRecord) { r.Version = ptr(int64(0)) }), "Invalid version 0: Version must be 1 or greater."},
		{"bad type", with(func(r *wireRecord) { r.MeasureValueType = ptr("FLOAT") }), `Invalid measure value type "FLOAT"`},
		{"timestamp single", with(func(r *wireRecord) { r.MeasureValueType = ptr("TIMESTAMP") }), "TIMESTAMP is an invalid measure value type"},
		{"no value", with(func(r *wireRecord) { r.MeasureValue = nil }), "MeasureValue is required for measure value type DOUBLE."},
		{"empty value", with(func(r *wireRecord) { r.MeasureValue = ptr("") }), "an empty string is not a valid DOUBLE"},
		{"values on single", with(func(r *wireRecord) { r.MeasureValues = []wireMeasureValue{mv("a", "1", "DOUBLE")} }), "MeasureValues can only be used with MeasureValueType MULTI"},
		{"double syntax", with(func(r *wireRecord) { r.MeasureValue = ptr("1,5") }), `Invalid measure value "1,5" for type DOUBLE.`},
		{"double inf", with(func(r *wireRecord) { r.MeasureValue = ptr("-Infinity") }), "NaN, Infinity and out-of-range"},
		{"double overflow", with(func(r *wireRecord) { r.MeasureValue = ptr("1e400") }), "out-of-range"},
		{"bigint", with(func(r *wireRecord) { r.MeasureValueType = ptr("BIGINT"); r.MeasureValue = ptr("1.0") }), "must be a 64-bit integer"},
		{"bigint overflow", with(func(r *wireRecord) { r.MeasureValueType = ptr("BIGINT"); r.MeasureValue = ptr("9223372036854775808") }), "must be a 64-bit integer"},
		{"boolean", with(func(r *wireRecord) { r.MeasureValueType = ptr("BOOLEAN"); r.MeasureValue = ptr("yes") }), "must be true or false"},
		{"long value", with(func(r *wireRecord) {
			r.MeasureValueType = ptr("VARCHAR")
			r.MeasureValue = ptr(strings.Repeat("é", 2049))
		}), "longer than 2048 characters"},
		{"record size", bigRecord, "the maximum record size is 2048 bytes"},
		{"multi with value", with(func(r *wireRecord) { r.MeasureValueType = ptr("MULTI") }), "MeasureValue must not be set for a MULTI record"},
		{"multi empty", multi(), "at least one entry in MeasureValues"},
		{"multi too many", multi(manyMeasures...), "at most 256 measure values; this record has 257"},
		{"multi no name", multi(wireMeasureValue{Value: ptr("1"), Type: ptr("DOUBLE")}), "needs a non-empty Name"},
		{"multi long name", multi(mv(strings.Repeat("n", 257), "1", "DOUBLE")), "longer than 256 bytes"},
		{"multi reserved", multi(mv("time", "1", "DOUBLE")), `Measure value name "time" is reserved`},
		{"multi dimension clash", multi(mv("host", "1", "DOUBLE")), "also a dimension name"},
		{"multi duplicate", multi(mv("a", "1", "DOUBLE"), mv("a", "2", "DOUBLE")), `Measure value "a" appears more than once`},
		{"multi no type", multi(wireMeasureValue{Name: ptr("a"), Value: ptr("1")}), `Measure value "a" has no Type.`},
		{"multi nested multi", multi(mv("a", "1", "MULTI")), `Invalid type "MULTI" for measure value "a"`},
		{"multi no value", multi(wireMeasureValue{Name: ptr("a"), Type: ptr("DOUBLE")}), `Measure value "a" has no Value.`},
		{"multi bad value", multi(mv("a", "x", "BIGINT")), `Measure value "a": Invalid measure value "x" for type BIGINT`},
		{"multi bad timestamp", multi(mv("a", "-1", "TIMESTAMP")), "for type TIMESTAMP"},
		{"multi bytes", bigMulti, "total 2100 bytes; at most 2048"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conv, e := convertRecords(nil, []wireRecord{tc.rec}, table)
			if e != nil {
				t.Fatalf("request error %v", e)
			}
			if len(conv.recs) != 0 || len(conv.rejected) != 1 {
				t.Fatalf("converted %+v; want one rejection", conv)
			}
			if r := conv.rejected[0]; r.RecordIndex != 0 || !strings.Contains(r.Reason, tc.reason) {
				t.Fatalf("reason = %q; want it to contain %q", r.Reason, tc.reason)
			}
		})
	}
	// The base record itself is fine.
	conv, e := convertRecords(nil, []wireRecord{base()}, table)
	if e != nil || len(conv.recs) != 1 || conv.recs[0].Value != ingest.Float(1.5) || conv.recs[0].Time != 1000_000000 || conv.recs[0].Version != 1 {
		t.Fatalf("base record = %+v, %v", conv, e)
	}
}

// TestConvertRecordsSharedDimensions checks that records sharing one
// Dimensions slice (as the decoder gives repeated dimensions) convert and
// are rejected exactly as the same records with a slice each.
func TestConvertRecordsSharedDimensions(t *testing.T) {
	d := func(n, v string) wireDimension { return wireDimension{Name: ptr(n), Value: ptr(v)} }
	good := []wireDimension{d("host", "h1"), d("region", "r1")}
	dup := []wireDimension{d("host", "h1"), d("host", "h2")}
	named := []wireDimension{d("host", "h1"), d("m", "x")}
	big := []wireDimension{d("a", strings.Repeat("x", 2100))}
	partitioned := &catalog.Table{PartitionKeys: []catalog.PartitionKey{{Type: catalog.PartitionKeyDimension, Name: "region", Enforcement: catalog.EnforcementRequired}}}
	plain := &catalog.Table{PartitionKeys: []catalog.PartitionKey{{Type: catalog.PartitionKeyMeasure}}}
	rec := func(dims []wireDimension, measure, value string) wireRecord {
		return wireRecord{Dimensions: dims, MeasureName: ptr(measure), MeasureValue: ptr(value), Time: ptr("1000")}
	}
	for _, tc := range []struct {
		name     string
		table    *catalog.Table
		common   *wireRecord
		records  []wireRecord
		rejected []int
	}{
		{"good dimensions, bad values", plain, nil, []wireRecord{
			rec(good, "a", "1"), rec(good, "b", "x"), rec(good, "c", "3"), rec(good, "host", "4"), rec(good, "d", "5"),
		}, []int{1, 3}},
		{"bad dimensions repeated", plain, nil, []wireRecord{
			rec(dup, "a", "1"), rec(dup, "b", "2"), rec(big, "c", "3"), rec(big, "d", "4"), rec(good, "e", "5"),
		}, []int{0, 1, 2, 3}},
		{"measure named like a dimension", plain, nil, []wireRecord{
			rec(named, "a", "1"), rec(named, "m", "2"), rec(named, "b", "3"),
		}, []int{1}},
		{"partition key", partitioned, nil, []wireRecord{
			rec(dup[:1], "a", "1"), rec(dup[:1], "b", "2"), rec(good, "c", "3"), rec(good, "d", "4"),
		}, []int{0, 1}},
		{"with common dimensions", plain, &wireRecord{Dimensions: []wireDimension{d("dc", "x")}}, []wireRecord{
			rec(good, "a", "1"), rec(good, "b", "2"),
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copied := make([]wireRecord, len(tc.records))
			for i, r := range tc.records {
				r.Dimensions = append([]wireDimension(nil), r.Dimensions...)
				copied[i] = r
			}
			got, e := convertRecords(tc.common, tc.records, tc.table)
			if e != nil {
				t.Fatal(e)
			}
			want, e := convertRecords(tc.common, copied, tc.table)
			if e != nil {
				t.Fatal(e)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("shared dimensions convert to\n%+v\ncopies to\n%+v", got, want)
			}
			var idx []int
			for _, rj := range got.rejected {
				idx = append(idx, rj.RecordIndex)
			}
			if !reflect.DeepEqual(idx, tc.rejected) {
				t.Fatalf("rejected %v (%+v), want %v", idx, got.rejected, tc.rejected)
			}
		})
	}
}
