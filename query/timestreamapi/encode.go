package timestreamapi

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tidaldb/tidal/query/exec"
)

// ColumnInfo is the wire shape of one result column (Timestream
// ColumnInfo). Array element and time-series value infos carry no Name.
type ColumnInfo struct {
	Name string `json:"Name,omitempty"`
	Type Type   `json:"Type"`
}

// Type is the wire shape of a column type: exactly one member is set.
type Type struct {
	ScalarType                       string       `json:"ScalarType,omitempty"`
	ArrayColumnInfo                  *ColumnInfo  `json:"ArrayColumnInfo,omitempty"`
	TimeSeriesMeasureValueColumnInfo *ColumnInfo  `json:"TimeSeriesMeasureValueColumnInfo,omitempty"`
	RowColumnInfo                    []ColumnInfo `json:"RowColumnInfo,omitempty"`
}

// ScalarTypeName returns Timestream's ScalarType name of a scalar kind, or
// "UNKNOWN" for kinds that are not scalars.
func ScalarTypeName(k exec.Kind) string {
	switch k {
	case exec.KindBigint:
		return "BIGINT"
	case exec.KindInteger:
		return "INTEGER"
	case exec.KindDouble:
		return "DOUBLE"
	case exec.KindVarchar:
		return "VARCHAR"
	case exec.KindBoolean:
		return "BOOLEAN"
	case exec.KindTimestamp:
		return "TIMESTAMP"
	case exec.KindDate:
		return "DATE"
	case exec.KindTime:
		return "TIME"
	case exec.KindIntervalDayToSecond:
		return "INTERVAL_DAY_TO_SECOND"
	case exec.KindIntervalYearToMonth:
		return "INTERVAL_YEAR_TO_MONTH"
	default:
		return "UNKNOWN"
	}
}

// WireType converts an engine type to its wire shape. A nil or incomplete
// nested type becomes ScalarType UNKNOWN rather than failing.
func WireType(t *exec.Type) Type {
	if t == nil {
		return Type{ScalarType: "UNKNOWN"}
	}
	switch t.Kind {
	case exec.KindArray:
		elem := WireType(t.Elem)
		return Type{ArrayColumnInfo: &ColumnInfo{Type: elem}}
	case exec.KindTimeSeries:
		elem := WireType(t.Elem)
		return Type{TimeSeriesMeasureValueColumnInfo: &ColumnInfo{Type: elem}}
	case exec.KindRow:
		fields := make([]ColumnInfo, len(t.Fields))
		for i := range t.Fields {
			fields[i] = ColumnInfo{Name: t.Fields[i].Name, Type: WireType(&t.Fields[i].Type)}
		}
		return Type{RowColumnInfo: fields}
	default:
		return Type{ScalarType: ScalarTypeName(t.Kind)}
	}
}

// WireColumns converts result columns to ColumnInfo.
func WireColumns(cols []exec.Column) []ColumnInfo {
	out := make([]ColumnInfo, len(cols))
	for i := range cols {
		out[i] = ColumnInfo{Name: cols[i].Name, Type: WireType(&cols[i].Type)}
	}
	return out
}

// TimestampLayout is the text form of TIMESTAMP values, always UTC with
// nanoseconds.
const TimestampLayout = "2006-01-02 15:04:05.000000000"

// AppendRow appends one result row as {"Data":[Datum,...]}; types gives the
// column types (a row with more values than types encodes the extra values
// by their own kind).
func AppendRow(dst []byte, types []exec.Type, row []exec.Value) []byte {
	dst = append(dst, `{"Data":[`...)
	for i := range row {
		if i > 0 {
			dst = append(dst, ',')
		}
		var t *exec.Type
		if i < len(types) {
			t = &types[i]
		}
		dst = AppendDatum(dst, t, &row[i])
	}
	return append(dst, "]}"...)
}

// AppendDatum appends v as a Timestream Datum. t is the declared type; when
// nil the value's own kind decides.
func AppendDatum(dst []byte, t *exec.Type, v *exec.Value) []byte {
	if v.Null {
		return append(dst, `{"NullValue":true}`...)
	}
	kind := v.Kind
	if t != nil {
		kind = t.Kind
	}
	switch kind {
	case exec.KindArray:
		var et *exec.Type
		if t != nil {
			et = t.Elem
		}
		dst = append(dst, `{"ArrayValue":[`...)
		for i := range v.Elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendDatum(dst, et, &v.Elems[i])
		}
		return append(dst, "]}"...)
	case exec.KindRow:
		dst = append(dst, `{"RowValue":{"Data":[`...)
		for i := range v.Elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ft *exec.Type
			if t != nil && i < len(t.Fields) {
				ft = &t.Fields[i].Type
			}
			dst = AppendDatum(dst, ft, &v.Elems[i])
		}
		return append(dst, "]}}"...)
	case exec.KindTimeSeries:
		var et *exec.Type
		if t != nil {
			et = t.Elem
		}
		dst = append(dst, `{"TimeSeriesValue":[`...)
		for i := range v.Points {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"Time":"`...)
			dst = AppendTimestamp(dst, v.Points[i].Time)
			dst = append(dst, `","Value":`...)
			dst = AppendDatum(dst, et, &v.Points[i].Value)
			dst = append(dst, '}')
		}
		return append(dst, "]}"...)
	}
	dst = append(dst, `{"ScalarValue":`...)
	if kind == exec.KindVarchar {
		dst = appendJSONString(dst, v.S)
	} else {
		// Every other scalar's text is plain ASCII without quotes or
		// backslashes.
		dst = append(dst, '"')
		dst = AppendScalar(dst, kind, v)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// AppendScalar appends the Timestream text of a non-NULL scalar of kind k:
// BIGINT in decimal, DOUBLE as Java's Double.toString (Trino's rendering),
// BOOLEAN as true/false, TIMESTAMP as TimestampLayout (v.I in ns), DATE as
// 2006-01-02 (v.I in days), TIME as 15:04:05.000000000 (v.I in ns since
// midnight), INTERVAL DAY TO SECOND as "D hh:mm:ss.nnnnnnnnn" (v.I in ns)
// and INTERVAL YEAR TO MONTH as "Y-M" (v.I in months). VARCHAR is appended
// raw (not JSON-escaped).
func AppendScalar(dst []byte, k exec.Kind, v *exec.Value) []byte {
	switch k {
	case exec.KindBigint, exec.KindInteger:
		return strconv.AppendInt(dst, v.I, 10)
	case exec.KindDouble:
		return AppendDouble(dst, v.F)
	case exec.KindBoolean:
		return strconv.AppendBool(dst, v.B)
	case exec.KindTimestamp:
		return AppendTimestamp(dst, v.I)
	case exec.KindDate:
		return time.Unix(v.I*86400, 0).UTC().AppendFormat(dst, "2006-01-02")
	case exec.KindTime:
		ns := v.I % (24 * int64(time.Hour))
		if ns < 0 {
			ns += 24 * int64(time.Hour)
		}
		return time.Unix(0, ns).UTC().AppendFormat(dst, "15:04:05.000000000")
	case exec.KindIntervalDayToSecond:
		return appendDayToSecond(dst, v.I)
	case exec.KindIntervalYearToMonth:
		m := v.I
		if m < 0 {
			dst = append(dst, '-')
			m = -m // MinInt64 months stays negative; its digits still print.
		}
		dst = strconv.AppendInt(dst, m/12, 10)
		dst = append(dst, '-')
		return strconv.AppendInt(dst, m%12, 10)
	default:
		return append(dst, v.S...)
	}
}

// AppendTimestamp appends ns since the epoch as TimestampLayout in UTC.
// It is time.Time.AppendFormat's answer without its layout interpreter:
// a page of TSBS rows spends an eighth of its encoding time on timestamps.
func AppendTimestamp(dst []byte, ns int64) []byte {
	secs, frac := ns/int64(time.Second), ns%int64(time.Second)
	if frac < 0 {
		secs, frac = secs-1, frac+int64(time.Second)
	}
	days, sod := secs/86400, secs%86400
	if sod < 0 {
		days, sod = days-1, sod+86400
	}
	y, m, d := civilDate(days)
	// int64 nanoseconds span the years 1677 to 2262: always four digits.
	dst = append2(dst, uint64(y/100))
	dst = append2(dst, uint64(y%100))
	dst = append(dst, '-')
	dst = append2(dst, uint64(m))
	dst = append(dst, '-')
	dst = append2(dst, uint64(d))
	dst = append(dst, ' ')
	dst = append2(dst, uint64(sod/3600))
	dst = append(dst, ':')
	dst = append2(dst, uint64(sod/60%60))
	dst = append(dst, ':')
	dst = append2(dst, uint64(sod%60))
	dst = append(dst, '.')
	var buf [9]byte
	f := uint64(frac)
	for i := 8; i >= 0; i-- {
		buf[i] = byte('0' + f%10)
		f /= 10
	}
	return append(dst, buf[:]...)
}

// civilDate returns the proleptic Gregorian date of days since 1970-01-01
// (the days-from-civil inverse over 400-year eras of 146097 days).
func civilDate(days int64) (year, month, day int64) {
	z := days + 719468 // days since 0000-03-01
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365], from March 1
	mp := (5*doy + 2) / 153                                // [0, 11], March is 0
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

func appendDayToSecond(dst []byte, ns int64) []byte {
	u := uint64(ns)
	if ns < 0 {
		dst = append(dst, '-')
		u = uint64(-(ns + 1)) + 1
	}
	const day = uint64(24 * time.Hour)
	dst = strconv.AppendUint(dst, u/day, 10)
	dst = append(dst, ' ')
	rem := u % day
	dst = append2(dst, rem/uint64(time.Hour))
	dst = append(dst, ':')
	dst = append2(dst, rem/uint64(time.Minute)%60)
	dst = append(dst, ':')
	dst = append2(dst, rem/uint64(time.Second)%60)
	dst = append(dst, '.')
	frac := rem % uint64(time.Second)
	var buf [9]byte
	for i := 8; i >= 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(dst, buf[:]...)
}

func append2(dst []byte, n uint64) []byte {
	return append(dst, byte('0'+n/10%10), byte('0'+n%10))
}

// AppendDouble appends f as Java's Double.toString renders it, which is what
// Trino, and so Timestream, return: the shortest digits that round-trip,
// plain notation with at least one fractional digit for 1e-3 <= |f| < 1e7
// ("35.2", "1.0"), otherwise "d.dddE±n" ("1.0E7", "1.5E-4"), and "NaN",
// "Infinity", "-Infinity".
func AppendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		for _, c := range dst[start:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, ".0"...)
	}
	// Scientific: Go gives "1.5e-04" or "1e+07"; Java wants "1.5E-4" and
	// "1.0E7".
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	i := 0
	for i < len(s) && s[i] != 'e' {
		i++
	}
	mant, exp := s[:i], s[i+1:]
	dst = append(dst, mant...)
	hasDot := false
	for _, c := range mant {
		if c == '.' {
			hasDot = true
		}
	}
	if !hasDot {
		dst = append(dst, ".0"...)
	}
	dst = append(dst, 'E')
	if exp[0] == '-' {
		dst = append(dst, '-')
	}
	exp = exp[1:]
	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	return append(dst, exp...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD
// as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// valueSize estimates the memory a kept value holds, for the cursor bound.
func valueSize(v *exec.Value) int64 {
	n := int64(96) + int64(len(v.S))
	if v.Elems == nil && v.Points == nil {
		return n
	}
	for i := range v.Elems {
		n += valueSize(&v.Elems[i])
	}
	for i := range v.Points {
		n += 8 + valueSize(&v.Points[i].Value)
	}
	return n
}

// resultSize estimates the memory a kept result holds.
func resultSize(res *exec.Result) int64 {
	var n int64
	for _, row := range res.Rows {
		n += 24
		for i := range row {
			n += valueSize(&row[i])
		}
	}
	return n
}

// rowEncoder is AppendRow for the rows of one result, remembering the
// last VARCHAR datum of each column and the last TIMESTAMP datum of any:
// consecutive rows mostly repeat their dimensions (hostname, region), and
// a join's row repeats its time, and a repeat is copied instead of
// escaped or formatted again.
type rowEncoder struct {
	types []exec.Type
	last  []datumCache
	ts    datumCache
}

// datumCache is the encoded datum of one column's last value.
type datumCache struct {
	set bool
	s   string // VARCHAR value
	i   int64  // TIMESTAMP value
	enc []byte
}

func newRowEncoder(types []exec.Type) *rowEncoder {
	return &rowEncoder{types: types, last: make([]datumCache, len(types))}
}

// appendRow appends row as AppendRow does.
func (e *rowEncoder) appendRow(dst []byte, row []exec.Value) []byte {
	dst = append(dst, `{"Data":[`...)
	for i := range row {
		if i > 0 {
			dst = append(dst, ',')
		}
		v := &row[i]
		if i >= len(e.types) || v.Null {
			var t *exec.Type
			if i < len(e.types) {
				t = &e.types[i]
			}
			dst = AppendDatum(dst, t, v)
			continue
		}
		t := &e.types[i]
		c := &e.last[i]
		if t.Kind == exec.KindTimestamp {
			c = &e.ts
		}
		switch t.Kind {
		case exec.KindVarchar:
			if c.set && c.s == v.S {
				dst = append(dst, c.enc...)
				continue
			}
			c.s = v.S
		case exec.KindTimestamp:
			if c.set && c.i == v.I {
				dst = append(dst, c.enc...)
				continue
			}
			c.i = v.I
		default:
			dst = AppendDatum(dst, t, v)
			continue
		}
		start := len(dst)
		dst = AppendDatum(dst, t, v)
		c.enc = append(c.enc[:0], dst[start:]...)
		c.set = true
	}
	return append(dst, "]}"...)
}
