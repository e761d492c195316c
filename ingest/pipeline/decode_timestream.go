package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tidaldb/tidal/ingest"
)

// timestreamDecoder decodes the body of a Timestream WriteRecords request
// ({"Records": [...], "CommonAttributes": {...}}), so a producer that
// already builds Timestream records can send them unchanged. DatabaseName
// and TableName in the message are ignored: the mapping names the target.
type timestreamDecoder struct{}

type tsDimension struct {
	Name               *string
	Value              *string
	DimensionValueType *string
}

type tsMeasureValue struct {
	Name  *string
	Value *string
	Type  *string
}

type tsRecord struct {
	Dimensions       []tsDimension
	MeasureName      *string
	MeasureValue     *string
	MeasureValueType *string
	MeasureValues    []tsMeasureValue
	Time             *string
	TimeUnit         *string
	Version          *int64
}

type tsRequest struct {
	DatabaseName     *string
	TableName        *string
	CommonAttributes *tsRecord
	Records          []tsRecord
}

var tsUnits = map[string]int64{"MILLISECONDS": 1e6, "SECONDS": 1e9, "MICROSECONDS": 1e3, "NANOSECONDS": 1}

func (timestreamDecoder) Decode(msg []byte, dst []ingest.Record) ([]ingest.Record, error) {
	var req tsRequest
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return dst, fmt.Errorf("decode WriteRecords json: %w", err)
	}
	if dec.More() {
		return dst, errors.New("decode WriteRecords json: trailing data after the value")
	}
	if len(req.Records) == 0 {
		return dst, errors.New("decode WriteRecords: Records is missing or empty")
	}
	c := req.CommonAttributes
	if c == nil {
		c = &tsRecord{}
	}
	for i := range req.Records {
		rec, err := tsConvert(c, &req.Records[i])
		if err != nil {
			return dst, fmt.Errorf("decode WriteRecords: record %d: %w", i, err)
		}
		dst = append(dst, rec)
	}
	return dst, nil
}

func pick[T any](r, c *T) *T {
	if r != nil {
		return r
	}
	return c
}

// tsConvert merges the common attributes into r (the record's own values
// win; dimensions are the union) and converts it.
func tsConvert(c, r *tsRecord) (ingest.Record, error) {
	var rec ingest.Record
	for _, src := range [][]tsDimension{c.Dimensions, r.Dimensions} {
		for _, d := range src {
			if d.Name == nil || d.Value == nil {
				return rec, errors.New("a dimension needs Name and Value")
			}
			if d.DimensionValueType != nil && *d.DimensionValueType != "VARCHAR" {
				return rec, fmt.Errorf("dimension %q: DimensionValueType must be VARCHAR", *d.Name)
			}
			rec.Dimensions = append(rec.Dimensions, ingest.Dimension{Name: *d.Name, Value: *d.Value})
		}
	}
	name := pick(r.MeasureName, c.MeasureName)
	if name == nil {
		return rec, errors.New("MeasureName is required")
	}
	rec.MeasureName = *name
	unit := int64(1e6)
	if u := pick(r.TimeUnit, c.TimeUnit); u != nil {
		f, ok := tsUnits[*u]
		if !ok {
			return rec, fmt.Errorf("TimeUnit %q: want MILLISECONDS, SECONDS, MICROSECONDS or NANOSECONDS", truncate(*u, 32))
		}
		unit = f
	}
	t := pick(r.Time, c.Time)
	if t == nil {
		return rec, errors.New("record has no Time (required)")
	}
	tv, err := strconv.ParseInt(*t, 10, 64)
	if err != nil {
		return rec, fmt.Errorf("record Time %q is not an integer", truncate(*t, 32))
	}
	var ok bool
	if rec.Time, ok = ingest.TimeFromUnits(tv, unit); !ok {
		return rec, errors.New(ingest.TimeRangeReason(tv, "units"))
	}
	if v := pick(r.Version, c.Version); v != nil {
		rec.Version = *v
	}
	typ := ingest.TypeDouble
	if tn := pick(r.MeasureValueType, c.MeasureValueType); tn != nil {
		if typ, err = ingest.ParseValueType(*tn); err != nil {
			return rec, fmt.Errorf("MeasureValueType: %w", err)
		}
	}
	if typ == ingest.TypeMulti {
		mvs := r.MeasureValues
		if mvs == nil {
			mvs = c.MeasureValues
		}
		if len(mvs) == 0 {
			return rec, errors.New("a MULTI record needs MeasureValues")
		}
		for _, mv := range mvs {
			if mv.Name == nil || mv.Value == nil || mv.Type == nil {
				return rec, errors.New("a measure value needs Name, Value and Type")
			}
			mt, err := ingest.ParseValueType(*mv.Type)
			if err != nil || mt == ingest.TypeMulti {
				return rec, fmt.Errorf("measure value %q: invalid Type %q", truncate(*mv.Name, 64), truncate(*mv.Type, 32))
			}
			val, err := tsValue(*mv.Value, mt)
			if err != nil {
				return rec, fmt.Errorf("measure value %q: %w", truncate(*mv.Name, 64), err)
			}
			rec.Measures = append(rec.Measures, ingest.Measure{Name: *mv.Name, Value: val})
		}
		return rec, nil
	}
	v := pick(r.MeasureValue, c.MeasureValue)
	if v == nil {
		return rec, errors.New("MeasureValue is required")
	}
	if rec.Value, err = tsValue(*v, typ); err != nil {
		return rec, err
	}
	return rec, nil
}

// tsValue parses a Timestream measure value string; TIMESTAMP values are
// milliseconds since the epoch.
func tsValue(s string, typ ingest.ValueType) (ingest.Value, error) {
	if typ == ingest.TypeTimestamp {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return ingest.Value{}, fmt.Errorf("invalid TIMESTAMP %q", truncate(s, 64))
		}
		ns, ok := ingest.TimeFromUnits(ms, 1e6)
		if !ok {
			return ingest.Value{}, fmt.Errorf("TIMESTAMP %d is out of range", ms)
		}
		return ingest.Timestamp(ns), nil
	}
	if typ == ingest.TypeVarchar {
		return ingest.String(s), nil
	}
	if typ == ingest.TypeBoolean {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return ingest.Value{}, fmt.Errorf("invalid BOOLEAN %q", truncate(s, 64))
		}
		return ingest.Bool(b), nil
	}
	var v any = json.Number(s)
	return toValue(v, typ)
}
