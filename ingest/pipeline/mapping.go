package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

// Mapping says where a pipeline's records go and, for JSON, how a
// message's fields become a record.
type Mapping struct {
	// Database and Table are the target; they are created on first write
	// with the retention defaults. For JSON either may be a template
	// taking a field's value, "{{.device_type}}" or "t_{{.meta.kind}}";
	// a record whose name is missing or invalid, or that would create a
	// target beyond MaxTargets, is dead-lettered.
	Database, Table string
	// MaxTargets bounds the distinct database.table targets a templated
	// mapping writes to (0: DefaultMaxTargets).
	MaxTargets int
	// DeadLetterTable receives rejected messages, in Database; empty means
	// "_dead_letters".
	DeadLetterTable string
	// DeadLetterDatabase holds the dead letters (default: the database of
	// the message's records, or Database); required when Database is
	// templated.
	DeadLetterDatabase string

	// The rest is for JSON.

	// Time locates the record time.
	Time TimeField
	// Dimensions are field paths ("device" or "meta.site"); the dimension
	// is named after the path's last element. A missing or null field is
	// left out of the record.
	Dimensions []string
	// Measures are the measure fields with their types.
	Measures []MeasureField
	// AllFields, instead of Measures, makes every field that is neither
	// the time nor a dimension a measure, typed by its JSON type (see
	// autoJSONDecoder); the time field (default "time") may then be
	// missing, the record being stamped with Now.
	AllFields bool
	// Now is AllFields's clock; nil means time.Now.
	Now func() time.Time
	// Single makes one single-measure record per measure field (measure
	// name = field name) instead of one multi-measure record.
	Single bool
	// MeasureName names the multi-measure record; empty means Table.
	MeasureName string
}

// TimeField locates and converts a record's time.
type TimeField struct {
	// Field is the path of the time field.
	Field string
	// Unit of a numeric time: "s", "ms", "us" or "ns" (default "ms").
	Unit string
	// Layout parses a string time: a Go time layout, or "rfc3339" (the
	// default for strings).
	Layout string
}

// MeasureField is one measure: the field path and its Timestream type.
type MeasureField struct {
	Field string
	Type  ingest.ValueType
}

// unitNanos maps a time unit name to nanoseconds.
var unitNanos = map[string]int64{"": 1e6, "ms": 1e6, "s": 1e9, "us": 1e3, "ns": 1}

// Validate checks m for a format.
func (m *Mapping) Validate(format string) error {
	var errs []error
	if m.Database == "" {
		errs = append(errs, errors.New("mapping.database is required"))
	}
	if m.Table == "" {
		errs = append(errs, errors.New("mapping.table is required"))
	}
	if format != FormatJSON {
		return errors.Join(errs...)
	}
	if m.Time.Field == "" {
		errs = append(errs, errors.New("mapping.time.field is required for json"))
	}
	if _, ok := unitNanos[m.Time.Unit]; !ok {
		errs = append(errs, fmt.Errorf("mapping.time.unit %q: want s, ms, us or ns", m.Time.Unit))
	}
	if len(m.Measures) == 0 && !m.AllFields {
		errs = append(errs, errors.New("mapping.measures: at least one measure is required for json"))
	}
	if len(m.Measures) > 0 && m.AllFields {
		errs = append(errs, errors.New("mapping.measures: a measure list and all fields exclude each other"))
	}
	if m.AllFields && m.Single {
		errs = append(errs, errors.New("mapping: all fields make multi-measure records only"))
	}
	seen := map[string]bool{}
	for _, d := range m.Dimensions {
		n := lastElem(d)
		if d == "" || seen[n] {
			errs = append(errs, fmt.Errorf("mapping.dimensions: %q is empty or repeated", d))
		}
		seen[n] = true
	}
	for _, ms := range m.Measures {
		if ms.Field == "" {
			errs = append(errs, errors.New("mapping.measures: empty field name"))
		}
		switch ms.Type {
		case ingest.TypeDouble, ingest.TypeBigint, ingest.TypeVarchar, ingest.TypeBoolean, ingest.TypeTimestamp:
		default:
			errs = append(errs, fmt.Errorf("mapping.measures.%s: type %s is not a scalar measure type", ms.Field, ms.Type))
		}
	}
	return errors.Join(errs...)
}

func lastElem(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// parseLayout returns the Go layout for a configured one.
func parseLayout(l string) string {
	switch strings.ToLower(l) {
	case "", "rfc3339", "rfc3339nano":
		return time.RFC3339Nano
	}
	return l
}
