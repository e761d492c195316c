package exec

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Value constructors.

// Bigint returns a BIGINT value.
func Bigint(i int64) Value { return Value{Kind: KindBigint, I: i} }

// Double returns a DOUBLE value.
func Double(f float64) Value { return Value{Kind: KindDouble, F: f} }

// Varchar returns a VARCHAR value.
func Varchar(s string) Value { return Value{Kind: KindVarchar, S: s} }

// Boolean returns a BOOLEAN value.
func Boolean(b bool) Value { return Value{Kind: KindBoolean, B: b} }

// Timestamp returns a TIMESTAMP value of ns nanoseconds since the epoch.
func Timestamp(ns int64) Value { return Value{Kind: KindTimestamp, I: ns} }

// Null returns a NULL of kind k.
func Null(k Kind) Value { return Value{Kind: k, Null: true} }

func intervalDS(ns int64) Value { return Value{Kind: KindIntervalDayToSecond, I: ns} }

// isIntLike reports whether values of k are held in I and compare as
// integers.
func isIntLike(k Kind) bool {
	switch k {
	case KindBigint, KindInteger, KindTimestamp, KindDate, KindTime, KindIntervalDayToSecond, KindIntervalYearToMonth:
		return true
	}
	return false
}

func isNumeric(k Kind) bool { return k == KindBigint || k == KindInteger || k == KindDouble }

func (v Value) asFloat() float64 {
	if v.Kind == KindDouble {
		return v.F
	}
	return float64(v.I)
}

// compareValues orders two non-NULL values: -1, 0 or 1. Numbers of
// different kinds compare numerically; NaN sorts after every other double.
func compareValues(a, b Value) int {
	if a.Kind == KindDouble || b.Kind == KindDouble {
		if isNumeric(a.Kind) && isNumeric(b.Kind) {
			return compareFloat(a.asFloat(), b.asFloat())
		}
	}
	switch {
	case isIntLike(a.Kind) && isIntLike(b.Kind):
		return cmpInt(a.I, b.I)
	case a.Kind == KindVarchar:
		return strings.Compare(a.S, b.S)
	case a.Kind == KindBoolean:
		switch {
		case a.B == b.B:
			return 0
		case !a.B:
			return -1
		}
		return 1
	case a.Kind == KindArray || a.Kind == KindRow:
		for i := 0; i < len(a.Elems) && i < len(b.Elems); i++ {
			x, y := a.Elems[i], b.Elems[i]
			switch {
			case x.Null && y.Null:
				continue
			case x.Null:
				return 1
			case y.Null:
				return -1
			}
			if c := compareValues(x, y); c != 0 {
				return c
			}
		}
		return cmpInt(int64(len(a.Elems)), int64(len(b.Elems)))
	case a.Kind == KindTimeSeries:
		return cmpInt(int64(len(a.Points)), int64(len(b.Points)))
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	}
	return -1
}

// appendKey appends an encoding of v to dst such that two values encode
// equally exactly when they are equal for GROUP BY, DISTINCT and joins
// (NULLs equal each other; 1 and 1.0 are equal).
func appendKey(dst []byte, v Value) []byte {
	if v.Null {
		return append(dst, 0)
	}
	switch v.Kind {
	case KindDouble:
		f := v.F
		if f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			dst = append(dst, 1)
			return binary.LittleEndian.AppendUint64(dst, uint64(int64(f)))
		}
		if math.IsNaN(f) {
			f = math.NaN()
		}
		dst = append(dst, 2)
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	case KindBigint, KindInteger:
		dst = append(dst, 1)
		return binary.LittleEndian.AppendUint64(dst, uint64(v.I))
	case KindVarchar:
		dst = append(dst, 3)
		dst = binary.AppendUvarint(dst, uint64(len(v.S)))
		return append(dst, v.S...)
	case KindBoolean:
		if v.B {
			return append(dst, 4, 1)
		}
		return append(dst, 4, 0)
	case KindArray, KindRow:
		dst = append(dst, 5)
		dst = binary.AppendUvarint(dst, uint64(len(v.Elems)))
		for _, e := range v.Elems {
			dst = appendKey(dst, e)
		}
		return dst
	case KindTimeSeries:
		dst = append(dst, 6)
		dst = binary.AppendUvarint(dst, uint64(len(v.Points)))
		for _, p := range v.Points {
			dst = binary.LittleEndian.AppendUint64(dst, uint64(p.Time))
			dst = appendKey(dst, p.Value)
		}
		return dst
	}
	dst = append(dst, 7, byte(v.Kind))
	return binary.LittleEndian.AppendUint64(dst, uint64(v.I))
}

// valueSize estimates the bytes a retained value costs, for memory
// accounting.
func valueSize(v *Value) int64 {
	n := int64(unsafe.Sizeof(Value{})) + int64(len(v.S))
	for i := range v.Elems {
		n += valueSize(&v.Elems[i])
	}
	n += int64(len(v.Points)) * int64(unsafe.Sizeof(Point{}))
	return n
}

func rowSize(r []Value) int64 {
	n := int64(24)
	for i := range r {
		n += valueSize(&r[i])
	}
	return n
}

// TimestampLayout is the text form of TIMESTAMP values in results.
const TimestampLayout = "2006-01-02 15:04:05.000000000"

// FormatTimestamp renders ns as Timestream does: "2023-11-14 22:13:20.000000000".
func FormatTimestamp(ns int64) string {
	return time.Unix(0, ns).UTC().Format(TimestampLayout)
}

// String renders v as the Query API's ScalarValue text (NULL as "NULL").
func (v Value) String() string {
	if v.Null {
		return "NULL"
	}
	switch v.Kind {
	case KindBigint, KindInteger:
		return strconv.FormatInt(v.I, 10)
	case KindDouble:
		return formatDouble(v.F)
	case KindVarchar:
		return v.S
	case KindBoolean:
		return strconv.FormatBool(v.B)
	case KindTimestamp:
		return FormatTimestamp(v.I)
	case KindDate:
		return time.Unix(v.I*86400, 0).UTC().Format("2006-01-02")
	case KindTime:
		return time.Unix(0, v.I).UTC().Format("15:04:05.000000000")
	case KindIntervalDayToSecond:
		return formatIntervalDS(v.I)
	case KindIntervalYearToMonth:
		m := v.I
		sign := ""
		if m < 0 {
			sign, m = "-", -m
		}
		return sign + strconv.FormatInt(m/12, 10) + "-" + strconv.FormatInt(m%12, 10)
	case KindArray, KindRow:
		var b strings.Builder
		if v.Kind == KindArray {
			b.WriteByte('[')
		} else {
			b.WriteByte('{')
		}
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.String())
		}
		if v.Kind == KindArray {
			b.WriteByte(']')
		} else {
			b.WriteByte('}')
		}
		return b.String()
	case KindTimeSeries:
		var b strings.Builder
		b.WriteByte('[')
		for i, p := range v.Points {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("{time=" + FormatTimestamp(p.Time) + ", value=" + p.Value.String() + "}")
		}
		b.WriteByte(']')
		return b.String()
	}
	return "NULL"
}

func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func formatIntervalDS(ns int64) string {
	sign := ""
	if ns < 0 {
		sign = "-"
		ns = -ns
	}
	d := ns / (86400e9)
	ns -= d * 86400e9
	h := ns / 3600e9
	ns -= h * 3600e9
	m := ns / 60e9
	ns -= m * 60e9
	s := ns / 1e9
	ns -= s * 1e9
	return sign + strconv.FormatInt(d, 10) + " " + pad2(h) + ":" + pad2(m) + ":" + pad2(s) + "." + pad(ns, 9)
}

func pad2(i int64) string { return pad(i, 2) }

func pad(i int64, n int) string {
	s := strconv.FormatInt(i, 10)
	for len(s) < n {
		s = "0" + s
	}
	return s
}

var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05.999999999 -07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04 -0700",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTimestamp parses the timestamp texts Timestream accepts (UTC unless
// an offset is given) into ns since the epoch.
func parseTimestamp(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, " UTC")
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1677 || t.Year() > 2262 {
				return 0, false
			}
			return t.UnixNano(), true
		}
	}
	return 0, false
}

func parseDate(s string) (int64, bool) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return floorDiv(t.Unix(), 86400), true
}

func parseTimeOfDay(s string) (int64, bool) {
	for _, l := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return int64(t.Hour())*3600e9 + int64(t.Minute())*60e9 + int64(t.Second())*1e9 + int64(t.Nanosecond()), true
		}
	}
	return 0, false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
