// Package ingest defines the write boundary of TidalDB: the Record every
// ingestor produces and the Appender they all hand records to.
//
// Ingestors (Timestream WriteRecords, Prometheus remote-write, line protocol,
// Kafka, Kinesis, MQTT, Firehose, scheduled queries) live in sub-packages and
// know nothing of storage tiers: they convert their wire format to []Record and
// call Appender.Append once per batch.
//
// Types here are plain values; nothing in this package starts goroutines or
// holds locks.
package ingest

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
)

// ValueType is the Timestream type of a measure value.
type ValueType uint8

// Measure value types, as Timestream names them.
const (
	TypeUnknown ValueType = iota
	TypeDouble
	TypeBigint
	TypeVarchar
	TypeBoolean
	TypeTimestamp
	TypeMulti
)

var typeNames = [...]string{"UNKNOWN", "DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP", "MULTI"}

// String returns the Timestream spelling of t ("DOUBLE", "BIGINT", ...).
func (t ValueType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "ValueType(" + strconv.Itoa(int(t)) + ")"
}

// ParseValueType parses a Timestream type name. The empty string is DOUBLE,
// Timestream's default.
func ParseValueType(s string) (ValueType, error) {
	if s == "" {
		return TypeDouble, nil
	}
	for i, n := range typeNames[1:] {
		if n == s {
			return ValueType(i + 1), nil
		}
	}
	return TypeUnknown, fmt.Errorf("ingest: unknown measure value type %q", s)
}

// Value is one typed scalar. The zero Value has TypeUnknown and means "no
// value" (a NULL in a multi-measure column).
//
// Bits holds the payload of fixed-width types: math.Float64bits for DOUBLE,
// the int64 for BIGINT, nanoseconds since the epoch for TIMESTAMP, 0 or 1 for
// BOOLEAN. Str holds VARCHAR.
type Value struct {
	Type ValueType
	Bits uint64
	Str  string
}

// Float returns a DOUBLE value.
func Float(f float64) Value { return Value{Type: TypeDouble, Bits: math.Float64bits(f)} }

// Int returns a BIGINT value.
func Int(i int64) Value { return Value{Type: TypeBigint, Bits: uint64(i)} }

// String returns a VARCHAR value.
func String(s string) Value { return Value{Type: TypeVarchar, Str: s} }

// Bool returns a BOOLEAN value.
func Bool(b bool) Value {
	if b {
		return Value{Type: TypeBoolean, Bits: 1}
	}
	return Value{Type: TypeBoolean}
}

// Timestamp returns a TIMESTAMP value from nanoseconds since the epoch.
func Timestamp(ns int64) Value { return Value{Type: TypeTimestamp, Bits: uint64(ns)} }

// Float returns the DOUBLE payload.
func (v Value) Float() float64 { return math.Float64frombits(v.Bits) }

// Int returns the BIGINT or TIMESTAMP payload.
func (v Value) Int() int64 { return int64(v.Bits) }

// Bool returns the BOOLEAN payload.
func (v Value) Bool() bool { return v.Bits != 0 }

// IsNull reports whether v carries no value.
func (v Value) IsNull() bool { return v.Type == TypeUnknown }

// Equal reports whether v and o are the same type and bit-identical value.
func (v Value) Equal(o Value) bool {
	return v.Type == o.Type && v.Bits == o.Bits && v.Str == o.Str
}

// Dimension is one name/value pair identifying a series. Timestream
// dimensions are always VARCHAR.
type Dimension struct {
	Name  string
	Value string
}

// Measure is one named value of a multi-measure record.
type Measure struct {
	Name  string
	Value Value
}

// Record is one data point in Timestream's model. A series is identified by
// (table, Dimensions, MeasureName).
//
// A single-measure record sets Value; a multi-measure record leaves Value
// zero and sets Measures (the record's type is then MULTI).
type Record struct {
	// Time in nanoseconds since the Unix epoch.
	Time int64
	// Dimensions in any order; names must be unique within a record.
	Dimensions  []Dimension
	MeasureName string
	Value       Value
	Measures    []Measure
	// Version orders upserts of the same (series, time); 0 means 1.
	Version int64
	// Hint, when set, is the series' slot for the write path's handle of
	// it (see SeriesHint); nil for ingestors that do not keep one.
	Hint *SeriesHint
}

// SeriesHint lets the write path find the series of a record without
// building and hashing its key, for ingestors that see the same series in
// batch after batch (remote-write). The ingestor keeps one hint per decoded
// label set, next to a dimension slice it neither modifies nor reuses for
// another series, and points the Hint of every record of that series at it.
// The write path stores its handle in the hint and uses it only for a
// record with the same dimension slice and measure name it was stored
// for, so a stale or misplaced hint costs a lookup, never a wrong series.
// Records of one hint may be in concurrent Append calls; Append sorts a
// record's dimensions by name in place, so a slice shared by concurrent
// calls must come sorted (stably, by name), which leaves Append nothing to
// write.
type SeriesHint struct {
	v atomic.Value // the write path's handle; always one concrete type
}

// Load returns the handle the write path stored, or nil.
func (h *SeriesHint) Load() any { return h.v.Load() }

// Store replaces the handle; every Store of a hint must use one concrete type.
func (h *SeriesHint) Store(handle any) { h.v.Store(handle) }

// IsMulti reports whether r is a multi-measure record.
func (r *Record) IsMulti() bool { return len(r.Measures) > 0 }

// Rejection explains why one record of a batch was not stored.
type Rejection struct {
	// Index of the record in the slice given to Append.
	Index int
	// Reason is a user-facing sentence, in Timestream's wording where
	// Timestream has one.
	Reason string
	// ExistingVersion is set (non-zero) for version conflicts.
	ExistingVersion int64
}

// Result reports the outcome of one Append.
type Result struct {
	// MemoryStore and MagneticStore count records stored in each tier.
	MemoryStore   int
	MagneticStore int
	// Rejected lists the records that were not stored, in index order.
	Rejected []Rejection
}

// Total is the number of records ingested.
func (r Result) Total() int { return r.MemoryStore + r.MagneticStore }

// AppendOptions tunes one Append call.
type AppendOptions struct {
	// CreateTable creates the database and table with default properties if
	// they do not exist (Prometheus, line protocol and stream ingestors do
	// this; the Timestream API does not).
	CreateTable bool
	// IdempotentRewrite accepts a record with the same identity and a
	// different value at the same version, replacing the stored value. Stream
	// redeliveries and Prometheus use it; Timestream semantics reject it.
	IdempotentRewrite bool
}

// Appender is the one write path every ingestor uses.
//
// Append stores recs in db.table. When it returns a nil error, every record
// not listed in Result.Rejected is durable (in the write-ahead log, fsynced
// according to the configured policy) and visible to later scans. Rejected
// records are listed with their index and reason; the good records of the
// same batch are kept. A non-nil error means nothing of the batch may be
// assumed stored (the caller may retry the whole batch: records are
// idempotent by (series, time, version)).
//
// recs is not retained after the call; Append may reorder nothing in it but
// may sort each record's Dimensions in place.
type Appender interface {
	Append(ctx context.Context, db, table string, recs []Record, opts AppendOptions) (Result, error)
}
