package timestreamwrite

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/awsjson"
)

// WriteRecords limits (Timestream quotas).
const (
	MaxDimensionsPerRecord = 128
	MaxDimensionNameBytes  = 60
	MaxMeasureNameBytes    = 256
	MaxMeasureValueChars   = 2048
	MaxTimeChars           = 256
	MaxMeasuresPerRecord   = 256
	// MaxMultiValueBytes bounds the measure values of one MULTI record.
	MaxMultiValueBytes = 2048
	// MaxDimensionBytes bounds the dimension names and values of a record.
	MaxDimensionBytes = 2048
	// MaxRecordBytes bounds a record: dimension names and values, the
	// measure name, and measure names and value strings.
	MaxRecordBytes = 2048
)

// rejectedMessage is Timestream's RejectedRecordsException message.
const rejectedMessage = "One or more records have been rejected. See RejectedRecords for details."

type wireDimension struct {
	Name               *string
	Value              *string
	DimensionValueType *string
}

type wireMeasureValue struct {
	Name  *string
	Value *string
	Type  *string
}

type wireRecord struct {
	Dimensions       []wireDimension
	MeasureName      *string
	MeasureValue     *string
	MeasureValueType *string
	MeasureValues    []wireMeasureValue
	Time             *string
	TimeUnit         *string
	Version          *int64
}

type writeRecordsRequest struct {
	DatabaseName     *string
	TableName        *string
	CommonAttributes *wireRecord
	Records          []wireRecord
}

type rejectedRecord struct {
	RecordIndex     int
	Reason          string
	ExistingVersion *int64 `json:",omitempty"`
}

type recordsIngested struct {
	Total         int
	MemoryStore   int
	MagneticStore int
}

// recordError is a per-record problem; it becomes a rejection.
type recordError string

func reject(format string, args ...any) recordError {
	return recordError(fmt.Sprintf(format, args...))
}

var timeUnitFactors = map[string]int64{
	"MILLISECONDS": 1e6,
	"SECONDS":      1e9,
	"MICROSECONDS": 1e3,
	"NANOSECONDS":  1,
}

func (a *API) writeRecords(r *request) (any, error) {
	var req writeRecordsRequest
	if e := decodeWriteRecords(r.body, &req); e != nil {
		return nil, e
	}
	if req.DatabaseName == nil {
		return nil, missing("databaseName")
	}
	if req.TableName == nil {
		return nil, missing("tableName")
	}
	if req.Records == nil {
		return nil, missing("records")
	}
	if len(req.Records) == 0 {
		return nil, tooShort("records", 1)
	}
	if len(req.Records) > a.opts.MaxRecords {
		return nil, tooLong("records", a.opts.MaxRecords)
	}
	table, err := a.cat.Table(*req.DatabaseName, *req.TableName)
	if err != nil {
		return nil, err
	}
	conv, e := convertRecords(req.CommonAttributes, req.Records, &table)
	if e != nil {
		return nil, e
	}
	rejected := conv.rejected
	var res ingest.Result
	if len(conv.recs) > 0 {
		res, err = a.app.Append(r.ctx, table.Database, table.Name, conv.recs, ingest.AppendOptions{})
		if err != nil {
			return nil, fmt.Errorf("append %d records to %s.%s: %w", len(conv.recs), table.Database, table.Name, err)
		}
		for _, rj := range res.Rejected {
			if rj.Index < 0 || rj.Index >= len(conv.index) {
				return nil, fmt.Errorf("append to %s.%s: rejection index %d out of range [0, %d)", table.Database, table.Name, rj.Index, len(conv.index))
			}
			rr := rejectedRecord{RecordIndex: conv.index[rj.Index], Reason: rj.Reason}
			if rj.ExistingVersion != 0 {
				v := rj.ExistingVersion
				rr.ExistingVersion = &v
			}
			rejected = append(rejected, rr)
		}
	}
	ingested := res.Total()
	a.records.WithLabelValues("timestream", "accepted").Add(float64(ingested))
	a.records.WithLabelValues("timestream", "rejected").Add(float64(len(rejected)))
	if len(rejected) > 0 {
		slices.SortStableFunc(rejected, func(x, y rejectedRecord) int { return x.RecordIndex - y.RecordIndex })
		return nil, &awsjson.Error{Type: awsjson.TypeRejectedRecords, Message: rejectedMessage,
			Extra: map[string]any{"RejectedRecords": rejected}}
	}
	return struct{ RecordsIngested recordsIngested }{recordsIngested{
		Total: ingested, MemoryStore: res.MemoryStore, MagneticStore: res.MagneticStore,
	}}, nil
}

// converted is the outcome of convertRecords.
type converted struct {
	recs []ingest.Record
	// index maps a position in recs to the record's index in the request.
	index    []int
	rejected []rejectedRecord
}

// convertRecords merges common into each record, validates it and converts
// it to an ingest.Record. Per-record problems become rejections; problems
// with common, or dimension names that overlap common's, fail the request.
func convertRecords(common *wireRecord, records []wireRecord, table *catalog.Table) (converted, *awsjson.Error) {
	var base wireRecord
	if common != nil {
		base = *common
		if e := checkCommon(&base); e != nil {
			return converted{}, e
		}
	}
	// Overlapping dimension names fail the whole request, so check before
	// converting anything.
	if len(base.Dimensions) > 0 {
		for i := range records {
			for _, d := range records[i].Dimensions {
				if d.Name == nil {
					continue
				}
				for _, cd := range base.Dimensions {
					if *cd.Name == *d.Name {
						return converted{}, awsjson.Validation("Records[%d] has dimension %q, which is also in CommonAttributes; dimension names must be unique within a record.", i, *d.Name)
					}
				}
			}
		}
	}
	out := converted{recs: make([]ingest.Record, 0, len(records)), index: make([]int, 0, len(records))}
	// One backing array for every record's dimensions (and one for
	// measures) keeps the allocation count independent of the batch size.
	nDims, nMeasures := 0, 0
	for i := range records {
		nDims += len(base.Dimensions) + len(records[i].Dimensions)
		nMeasures += max(len(records[i].MeasureValues), len(base.MeasureValues))
	}
	dims := make([]ingest.Dimension, 0, nDims)
	measures := make([]ingest.Measure, 0, nMeasures)
	var memo dimsMemo
	for i := range records {
		rec, reason := convertRecord(&base, &records[i], table, &dims, &measures, &memo)
		if reason == "" {
			// The rules every ingestor shares (most are checked on the
			// wire form already, with Timestream's wording).
			reason = recordError(ingest.ValidateRecord(&rec))
		}
		if reason != "" {
			out.rejected = append(out.rejected, rejectedRecord{RecordIndex: i, Reason: string(reason)})
			continue
		}
		out.recs = append(out.recs, rec)
		out.index = append(out.index, i)
	}
	return out, nil
}

// convertDims checks the dimensions of base and w and appends them to dims,
// setting rec.Dimensions and adding their bytes to *size.
func convertDims(base, w *wireRecord, table *catalog.Table, dims *[]ingest.Dimension, rec *ingest.Record, size *int) recordError {
	start := len(*dims)
	for _, list := range [2][]wireDimension{base.Dimensions, w.Dimensions} {
		for i := range list {
			d := &list[i]
			if d.Name == nil {
				return "Every dimension needs a Name."
			}
			if reason := checkDimension(d); reason != "" {
				return reason
			}
			for _, prev := range (*dims)[start:] {
				if prev.Name == *d.Name {
					return reject("Dimension %q appears more than once in the record.", *d.Name)
				}
			}
			*size += len(*d.Name) + len(*d.Value)
			*dims = append(*dims, ingest.Dimension{Name: *d.Name, Value: *d.Value})
		}
	}
	rec.Dimensions = (*dims)[start:len(*dims):len(*dims)]
	if *size > MaxDimensionBytes {
		return reject("The dimension names and values of the record total %d bytes; at most %d are allowed.", *size, MaxDimensionBytes)
	}
	for _, pk := range table.PartitionKeys {
		if pk.Type == catalog.PartitionKeyDimension && pk.Enforcement == catalog.EnforcementRequired && !hasDimension(rec.Dimensions, pk.Name) {
			return reject("The record does not have the dimension %q, which the table's partition key requires (EnforcementInRecord REQUIRED).", pk.Name)
		}
	}
	return ""
}

// checkCommon validates CommonAttributes on their own: a problem there would
// reject every record, so it fails the request instead.
func checkCommon(c *wireRecord) *awsjson.Error {
	seen := make(map[string]bool, len(c.Dimensions))
	for _, d := range c.Dimensions {
		if d.Name == nil {
			return awsjson.Validation("CommonAttributes: every dimension needs a Name.")
		}
		if reason := checkDimension(&d); reason != "" {
			return awsjson.Validation("CommonAttributes: %s", reason)
		}
		if seen[*d.Name] {
			return awsjson.Validation("CommonAttributes: dimension %q appears more than once.", *d.Name)
		}
		seen[*d.Name] = true
	}
	if c.TimeUnit != nil {
		if _, ok := timeUnitFactors[*c.TimeUnit]; !ok {
			return notInEnum("commonAttributes.timeUnit", *c.TimeUnit, "MILLISECONDS", "SECONDS", "MICROSECONDS", "NANOSECONDS")
		}
	}
	if c.MeasureValueType != nil {
		if _, err := ingest.ParseValueType(*c.MeasureValueType); err != nil || *c.MeasureValueType == "" {
			return notInEnum("commonAttributes.measureValueType", *c.MeasureValueType, "DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP", "MULTI")
		}
	}
	if c.Version != nil && *c.Version < 1 {
		return awsjson.Validation("CommonAttributes: Version must be 1 or greater, got %d.", *c.Version)
	}
	return nil
}

func checkDimension(d *wireDimension) recordError {
	name := *d.Name
	switch {
	case name == "":
		return reject("Dimension name must not be empty.")
	case len(name) > MaxDimensionNameBytes:
		return reject("Dimension name %q is longer than %d bytes.", name, MaxDimensionNameBytes)
	case reservedName(name):
		return reject("Dimension name %q is reserved: time, measure_value, ts_non_existent_col and names starting with ts_ or measure_name cannot be used.", name)
	case d.Value == nil || *d.Value == "":
		return reject("Dimension %q has an empty value; dimension values must not be empty.", name)
	case d.DimensionValueType != nil && *d.DimensionValueType != "VARCHAR":
		return reject("Invalid dimension value type %q for dimension %q: only VARCHAR is supported.", *d.DimensionValueType, name)
	}
	return ""
}

func reservedName(name string) bool {
	switch name {
	case "time", "measure_value", "ts_non_existent_col":
		return true
	}
	return strings.HasPrefix(name, "ts_") || strings.HasPrefix(name, "measure_name")
}

func pick[T any](rec, common *T) *T {
	if rec != nil {
		return rec
	}
	return common
}

// dimsMemo remembers the last record's dimensions that passed every check.
// The decoder gives consecutive records with the same Dimensions text one
// slice; such a record takes the converted dimensions as they are (base is
// the same for every record of a request).
type dimsMemo struct {
	wire []wireDimension
	dims []ingest.Dimension
	size int
}

func (m *dimsMemo) match(w []wireDimension) bool {
	return len(w) > 0 && len(w) == len(m.wire) && &w[0] == &m.wire[0]
}

// convertRecord converts one record merged with base. dims and measures are
// shared backing arrays; the record's slices are carved from them, or taken
// from memo.
func convertRecord(base, w *wireRecord, table *catalog.Table, dims *[]ingest.Dimension, measures *[]ingest.Measure, memo *dimsMemo) (ingest.Record, recordError) {
	var rec ingest.Record
	size := 0

	// Dimensions: CommonAttributes' first, then the record's.
	nd := len(base.Dimensions) + len(w.Dimensions)
	if nd == 0 {
		return rec, "At least one dimension is required for a record."
	}
	if nd > MaxDimensionsPerRecord {
		return rec, reject("A record can have at most %d dimensions; this record has %d.", MaxDimensionsPerRecord, nd)
	}
	if memo.match(w.Dimensions) {
		rec.Dimensions, size = memo.dims, memo.size
	} else {
		reason := convertDims(base, w, table, dims, &rec, &size)
		if reason != "" {
			return rec, reason
		}
		*memo = dimsMemo{wire: w.Dimensions, dims: rec.Dimensions, size: size}
	}

	// Measure name.
	mn := pick(w.MeasureName, base.MeasureName)
	if mn == nil || *mn == "" {
		return rec, "Measure name is required for a record."
	}
	if len(*mn) > MaxMeasureNameBytes {
		return rec, reject("Measure name %q is longer than %d bytes.", *mn, MaxMeasureNameBytes)
	}
	if hasDimension(rec.Dimensions, *mn) {
		return rec, reject("Measure name %q is also a dimension name of the record; dimension and measure names must be distinct.", *mn)
	}
	rec.MeasureName = *mn
	size += len(*mn)

	// Time and version.
	unit := "MILLISECONDS"
	if u := pick(w.TimeUnit, base.TimeUnit); u != nil {
		unit = *u
	}
	factor, ok := timeUnitFactors[unit]
	if !ok {
		return rec, reject("Invalid time unit %q: must be MILLISECONDS, SECONDS, MICROSECONDS or NANOSECONDS.", unit)
	}
	ts := pick(w.Time, base.Time)
	if ts == nil {
		return rec, "Invalid time for record: Time is required."
	}
	ns, ok := parseTime(*ts, factor)
	if !ok {
		return rec, reject("Invalid time for record: %q is not a non-negative integer number of %s since the epoch within the supported range.", truncate(*ts, 64), strings.ToLower(unit))
	}
	rec.Time = ns
	rec.Version = 1
	if v := pick(w.Version, base.Version); v != nil {
		if *v < 1 {
			return rec, reject("Invalid version %d: Version must be 1 or greater.", *v)
		}
		rec.Version = *v
	}

	// Value(s).
	typName := "DOUBLE"
	if t := pick(w.MeasureValueType, base.MeasureValueType); t != nil {
		typName = *t
	}
	typ, err := ingest.ParseValueType(typName)
	if err != nil || typName == "" {
		return rec, reject("Invalid measure value type %q: must be DOUBLE, BIGINT, VARCHAR, BOOLEAN, TIMESTAMP or MULTI.", typName)
	}
	mv := pick(w.MeasureValue, base.MeasureValue)
	mvs := w.MeasureValues
	if len(mvs) == 0 {
		mvs = base.MeasureValues
	}
	switch typ {
	case ingest.TypeMulti:
		if mv != nil {
			return rec, "MeasureValue must not be set for a MULTI record; use MeasureValues."
		}
		if len(mvs) == 0 {
			return rec, "A MULTI record must have at least one entry in MeasureValues."
		}
		if len(mvs) > MaxMeasuresPerRecord {
			return rec, reject("A MULTI record can have at most %d measure values; this record has %d.", MaxMeasuresPerRecord, len(mvs))
		}
		mstart := len(*measures)
		valueBytes := 0
		for i := range mvs {
			m := &mvs[i]
			if m.Name == nil || *m.Name == "" {
				return rec, "Every measure value of a MULTI record needs a non-empty Name."
			}
			name := *m.Name
			if len(name) > MaxMeasureNameBytes {
				return rec, reject("Measure value name %q is longer than %d bytes.", name, MaxMeasureNameBytes)
			}
			if reservedName(name) {
				return rec, reject("Measure value name %q is reserved: time, measure_value, ts_non_existent_col and names starting with ts_ or measure_name cannot be used.", name)
			}
			if hasDimension(rec.Dimensions, name) {
				return rec, reject("Measure value name %q is also a dimension name of the record; dimension and measure names must be distinct.", name)
			}
			for _, prev := range (*measures)[mstart:] {
				if prev.Name == name {
					return rec, reject("Measure value %q appears more than once in the record.", name)
				}
			}
			if m.Type == nil {
				return rec, reject("Measure value %q has no Type.", name)
			}
			mt, err := ingest.ParseValueType(*m.Type)
			if err != nil || *m.Type == "" || mt == ingest.TypeMulti {
				return rec, reject("Invalid type %q for measure value %q: must be DOUBLE, BIGINT, VARCHAR, BOOLEAN or TIMESTAMP.", *m.Type, name)
			}
			if m.Value == nil {
				return rec, reject("Measure value %q has no Value.", name)
			}
			v, reason := parseValue(*m.Value, mt, factor)
			if reason != "" {
				return rec, reject("Measure value %q: %s", name, reason)
			}
			valueBytes += len(*m.Value)
			size += len(name) + len(*m.Value)
			*measures = append(*measures, ingest.Measure{Name: name, Value: v})
		}
		if valueBytes > MaxMultiValueBytes {
			return rec, reject("The measure values of the MULTI record total %d bytes; at most %d are allowed.", valueBytes, MaxMultiValueBytes)
		}
		rec.Measures = (*measures)[mstart:len(*measures):len(*measures)]
	case ingest.TypeTimestamp:
		return rec, "TIMESTAMP is an invalid measure value type for a single-measure record; use it inside a MULTI record."
	default:
		if len(mvs) > 0 {
			return rec, reject("MeasureValues can only be used with MeasureValueType MULTI, not %s.", typName)
		}
		if mv == nil {
			return rec, reject("MeasureValue is required for measure value type %s.", typName)
		}
		v, reason := parseValue(*mv, typ, factor)
		if reason != "" {
			return rec, reason
		}
		rec.Value = v
		size += len(*mv)
	}
	if size > MaxRecordBytes {
		return rec, reject("The record is %d bytes; the maximum record size is %d bytes.", size, MaxRecordBytes)
	}
	return rec, ""
}

func hasDimension(dims []ingest.Dimension, name string) bool {
	for _, d := range dims {
		if d.Name == name {
			return true
		}
	}
	return false
}

// parseTime parses a non-negative integer time in units of factor
// nanoseconds.
func parseTime(s string, factor int64) (int64, bool) {
	if len(s) == 0 || len(s) > MaxTimeChars || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return ingest.TimeFromUnits(v, factor)
}

// parseValue parses a measure value string of type typ. TIMESTAMP values are
// in the record's time unit (factor nanoseconds).
func parseValue(s string, typ ingest.ValueType, factor int64) (ingest.Value, recordError) {
	if s == "" {
		return ingest.Value{}, reject("Invalid measure value: an empty string is not a valid %s.", typ)
	}
	if utf8.RuneCountInString(s) > MaxMeasureValueChars {
		return ingest.Value{}, reject("Invalid measure value: longer than %d characters.", MaxMeasureValueChars)
	}
	switch typ {
	case ingest.TypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			if err == nil || strings.Contains(err.Error(), "range") {
				return ingest.Value{}, reject("Invalid measure value %q for type DOUBLE: NaN, Infinity and out-of-range values are not supported.", truncate(s, 64))
			}
			return ingest.Value{}, reject("Invalid measure value %q for type DOUBLE.", truncate(s, 64))
		}
		return ingest.Float(f), ""
	case ingest.TypeBigint:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return ingest.Value{}, reject("Invalid measure value %q for type BIGINT: must be a 64-bit integer.", truncate(s, 64))
		}
		return ingest.Int(i), ""
	case ingest.TypeBoolean:
		switch {
		case strings.EqualFold(s, "true"):
			return ingest.Bool(true), ""
		case strings.EqualFold(s, "false"):
			return ingest.Bool(false), ""
		}
		return ingest.Value{}, reject("Invalid measure value %q for type BOOLEAN: must be true or false.", truncate(s, 64))
	case ingest.TypeVarchar:
		return ingest.String(s), ""
	case ingest.TypeTimestamp:
		ns, ok := parseTime(s, factor)
		if !ok {
			return ingest.Value{}, reject("Invalid measure value %q for type TIMESTAMP: must be a non-negative integer in the record's time unit.", truncate(s, 64))
		}
		return ingest.Timestamp(ns), ""
	default:
		return ingest.Value{}, reject("Invalid measure value type %s.", typ)
	}
}

// truncate shortens s for inclusion in a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
