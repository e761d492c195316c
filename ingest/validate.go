package ingest

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Record limits every ingestor enforces, Timestream's WriteRecords quotas.
// Each is checked before any work that grows with the record (sorting,
// schema lookups), so that an oversized record costs O(its size) to refuse.
const (
	// MaxDimensions bounds the dimensions of a record.
	MaxDimensions = 128
	// MaxDimensionNameBytes bounds one dimension name.
	MaxDimensionNameBytes = 60
	// MaxDimensionBytes bounds the dimension names and values of a record.
	MaxDimensionBytes = 2048
	// MaxMeasureNameBytes bounds the measure name and each multi-measure
	// attribute name.
	MaxMeasureNameBytes = 256
	// MaxMeasures bounds the attributes of a multi-measure record.
	MaxMeasures = 256
	// MaxVarcharChars bounds a VARCHAR value, in characters.
	MaxVarcharChars = 2048
	// MaxRecordBytes bounds the strings of a record: dimension names and
	// values, the measure name, attribute names and VARCHAR values.
	MaxRecordBytes = 2048
)

// The time range a record may have: nanoseconds since the Unix epoch from
// 1970-01-01 to the largest int64 (2262-04-11). Every ingestor converts its
// wire time with TimeFromUnits, which refuses what would overflow.
const (
	MinTime int64 = 0
	MaxTime int64 = math.MaxInt64
)

// TimeFromUnits converts v units of unit nanoseconds each (1e6 for
// milliseconds) to nanoseconds since the epoch. It reports false when the
// result is outside [MinTime, MaxTime] instead of overflowing.
func TimeFromUnits(v, unit int64) (int64, bool) {
	if unit <= 0 || v < MinTime/unit || v > MaxTime/unit {
		return 0, false
	}
	return v * unit, true
}

// TimeRangeReason is the rejection reason for a wire time that
// TimeFromUnits refused; unit names the wire unit ("milliseconds").
func TimeRangeReason(v int64, unit string) string {
	return fmt.Sprintf("The record time %d %s since the epoch is outside the supported range [1970-01-01T00:00:00Z, 2262-04-11T23:47:16Z].", v, unit)
}

// ValidateRecord checks r against the limits every ingestor shares: its
// time range, its dimension count and sizes, its names, and its values
// (valid UTF-8 everywhere, VARCHAR lengths). It returns "" for a good record
// and otherwise a user-facing reason. It does not sort or modify r and costs
// O(size of r), refusing an oversized record before looking at its parts.
//
// Rules that need table state (schema, retention window, versions) belong
// to the write path; ValidateRecord is what can be decided from the record
// alone.
func ValidateRecord(r *Record) string {
	if reason := ValidateSeries(r.MeasureName, r.Dimensions); reason != "" {
		return reason
	}
	return ValidateSample(r)
}

// ValidateSample is ValidateRecord without the series part (measure name
// and dimensions): for a record whose series passed ValidateSeries, such
// as the later samples of a remote-write series sharing one dimension
// slice.
func ValidateSample(r *Record) string {
	if r.Time < MinTime || r.Time > MaxTime {
		return fmt.Sprintf("The record time %d ns is before 1970-01-01T00:00:00Z; times before the Unix epoch are not supported.", r.Time)
	}
	if !r.IsMulti() {
		if r.Value.Type == TypeVarchar {
			if reason := checkVarchar(r.Value.Str, "The measure value"); reason != "" {
				return reason
			}
			if n := seriesBytes(r.MeasureName, r.Dimensions) + len(r.Value.Str); n > MaxRecordBytes {
				return recordSize(n)
			}
		}
		return ""
	}
	if len(r.Measures) > MaxMeasures {
		return fmt.Sprintf("A multi-measure record can have at most %d measure values; this record has %d.", MaxMeasures, len(r.Measures))
	}
	size := seriesBytes(r.MeasureName, r.Dimensions)
	for i := range r.Measures {
		m := &r.Measures[i]
		if reason := checkName(m.Name, "Multi-measure attribute name", MaxMeasureNameBytes); reason != "" {
			return reason
		}
		size += len(m.Name)
		if m.Value.Type == TypeVarchar {
			if reason := checkVarchar(m.Value.Str, "The value of multi-measure attribute "+quote(m.Name)); reason != "" {
				return reason
			}
			size += len(m.Value.Str)
		}
	}
	if size > MaxRecordBytes {
		return recordSize(size)
	}
	return ""
}

// ValidateSeries checks the series part of a record: the measure name and
// the dimensions (count first, then each name and value, then their total
// size). Duplicate dimension names and reserved names are the write
// path's to check, once the dimensions are sorted.
func ValidateSeries(measureName string, dims []Dimension) string {
	if len(dims) > MaxDimensions {
		return fmt.Sprintf("A record can have at most %d dimensions; this record has %d.", MaxDimensions, len(dims))
	}
	if reason := checkName(measureName, "Measure name", MaxMeasureNameBytes); reason != "" {
		return reason
	}
	size := 0
	for i := range dims {
		d := &dims[i]
		if reason := checkName(d.Name, "Dimension name", MaxDimensionNameBytes); reason != "" {
			return reason
		}
		if d.Value == "" {
			return fmt.Sprintf("Dimension %s has an empty value; dimension values must not be empty.", quote(d.Name))
		}
		size += len(d.Name) + len(d.Value)
		if size > MaxDimensionBytes {
			// Stop before checking (or summing) the rest: a 5 MiB value
			// is refused without reading it.
			return fmt.Sprintf("The dimension names and values of the record total more than %d bytes.", MaxDimensionBytes)
		}
		if !utf8.ValidString(d.Value) {
			return fmt.Sprintf("The value of dimension %s is not valid UTF-8.", quote(d.Name))
		}
	}
	if size+len(measureName) > MaxRecordBytes {
		return recordSize(size + len(measureName))
	}
	return ""
}

func checkName(s, what string, maxBytes int) string {
	switch {
	case s == "":
		return what + " must not be empty."
	case len(s) > maxBytes:
		return fmt.Sprintf("%s %s is %d bytes; at most %d are allowed.", what, quote(s), len(s), maxBytes)
	case !utf8.ValidString(s):
		return fmt.Sprintf("%s %s is not valid UTF-8.", what, quote(s))
	}
	return ""
}

func checkVarchar(s, what string) string {
	// A string of more than 4 bytes a character cannot be in range; one of
	// at most MaxVarcharChars bytes always is: count runes only between.
	if len(s) > 4*MaxVarcharChars || len(s) > MaxVarcharChars && utf8.RuneCountInString(s) > MaxVarcharChars {
		return fmt.Sprintf("%s is longer than %d characters.", what, MaxVarcharChars)
	}
	if !utf8.ValidString(s) {
		return what + " is not valid UTF-8."
	}
	return ""
}

func seriesBytes(measureName string, dims []Dimension) int {
	n := len(measureName)
	for i := range dims {
		n += len(dims[i].Name) + len(dims[i].Value)
	}
	return n
}

func recordSize(n int) string {
	return fmt.Sprintf("The record is %d bytes; the maximum record size is %d bytes.", n, MaxRecordBytes)
}

// quote quotes s for a message, shortened to 64 bytes: a reason must stay
// small whatever the record carried.
func quote(s string) string {
	if len(s) > 64 {
		n := 64
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return strconv.Quote(s[:n]) + "..."
	}
	return strconv.Quote(s)
}
