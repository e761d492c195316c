package exec

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidaldb/tidal/query/parser"
)

// convertType maps a parsed SQL type to a Type.
func convertType(t *parser.Type) (Type, error) {
	switch t.Name {
	case "BIGINT":
		return TypeBigint, nil
	case "INT", "INTEGER", "SMALLINT", "TINYINT":
		return Type{Kind: KindInteger}, nil
	case "DOUBLE", "REAL", "FLOAT", "DECIMAL":
		return TypeDouble, nil
	case "VARCHAR", "CHAR", "VARBINARY", "JSON":
		return TypeVarchar, nil
	case "BOOLEAN":
		return TypeBoolean, nil
	case "TIMESTAMP":
		return TypeTimestamp, nil
	case "DATE":
		return TypeDate, nil
	case "TIME":
		return TypeTime, nil
	case "INTERVAL DAY TO SECOND":
		return TypeIntervalDS, nil
	case "INTERVAL YEAR TO MONTH":
		return TypeIntervalYM, nil
	case "ARRAY", "TIMESERIES":
		if t.Elem == nil {
			return Type{}, validationf(t.Line, t.Col, "%s needs an element type", t.Name)
		}
		e, err := convertType(t.Elem)
		if err != nil {
			return Type{}, err
		}
		if t.Name == "ARRAY" {
			return ArrayOf(e), nil
		}
		return TimeSeriesOf(e), nil
	case "ROW":
		var fs []Field
		for i, f := range t.Fields {
			ft, err := convertType(f.Type)
			if err != nil {
				return Type{}, err
			}
			name := "field" + strconv.Itoa(i)
			if f.Name != nil {
				name = f.Name.Value
			}
			fs = append(fs, Field{Name: name, Type: ft})
		}
		return Type{Kind: KindRow, Fields: fs}, nil
	}
	return Type{}, validationf(t.Line, t.Col, "Unknown type: %s", strings.ToLower(t.Name))
}

func castError(v Value, t Type) error {
	return errorf(ErrExecution, "Cannot cast '%s' to %s", v.String(), t)
}

// castValue is CAST(v AS t).
func castValue(v Value, t Type) (Value, error) {
	if v.Null {
		return Null(t.Kind), nil
	}
	if v.Kind == t.Kind && t.Kind != KindArray && t.Kind != KindRow {
		return v, nil
	}
	switch t.Kind {
	case KindBigint, KindInteger:
		var i int64
		switch v.Kind {
		case KindBigint, KindInteger:
			i = v.I
		case KindDouble:
			if math.IsNaN(v.F) || v.F >= 9.223372036854775807e18 || v.F < -9.223372036854775808e18 {
				return Value{}, castError(v, t)
			}
			i = int64(math.RoundToEven(v.F))
			if math.Abs(v.F-math.Trunc(v.F)) == 0.5 {
				i = int64(math.Round(v.F)) // half away from zero, as Trino
			}
		case KindBoolean:
			if v.B {
				i = 1
			}
		case KindVarchar:
			x, err := strconv.ParseInt(strings.TrimSpace(v.S), 10, 64)
			if err != nil {
				return Value{}, castError(v, t)
			}
			i = x
		default:
			return Value{}, castError(v, t)
		}
		if t.Kind == KindInteger && (i > math.MaxInt32 || i < math.MinInt32) {
			return Value{}, castError(v, t)
		}
		return Value{Kind: t.Kind, I: i}, nil
	case KindDouble:
		switch v.Kind {
		case KindBigint, KindInteger:
			return Double(float64(v.I)), nil
		case KindBoolean:
			if v.B {
				return Double(1), nil
			}
			return Double(0), nil
		case KindVarchar:
			s := strings.TrimSpace(v.S)
			switch strings.ToLower(s) {
			case "nan":
				return Double(math.NaN()), nil
			case "infinity", "+infinity":
				return Double(math.Inf(1)), nil
			case "-infinity":
				return Double(math.Inf(-1)), nil
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return Value{}, castError(v, t)
			}
			return Double(f), nil
		}
	case KindVarchar:
		return Varchar(v.String()), nil
	case KindBoolean:
		switch v.Kind {
		case KindBigint, KindInteger:
			return Boolean(v.I != 0), nil
		case KindDouble:
			return Boolean(v.F != 0), nil
		case KindVarchar:
			switch strings.ToLower(strings.TrimSpace(v.S)) {
			case "true", "t", "1":
				return Boolean(true), nil
			case "false", "f", "0":
				return Boolean(false), nil
			}
		}
	case KindTimestamp:
		switch v.Kind {
		case KindVarchar:
			if ns, ok := parseTimestamp(v.S); ok {
				return Timestamp(ns), nil
			}
		case KindDate:
			return Timestamp(v.I * 86400e9), nil
		}
	case KindDate:
		switch v.Kind {
		case KindVarchar:
			if d, ok := parseDate(v.S); ok {
				return Value{Kind: KindDate, I: d}, nil
			}
		case KindTimestamp:
			return Value{Kind: KindDate, I: floorDiv(v.I, 86400e9)}, nil
		}
	case KindTime:
		switch v.Kind {
		case KindVarchar:
			if ns, ok := parseTimeOfDay(v.S); ok {
				return Value{Kind: KindTime, I: ns}, nil
			}
		case KindTimestamp:
			return Value{Kind: KindTime, I: v.I - floorDiv(v.I, 86400e9)*86400e9}, nil
		}
	case KindArray:
		if v.Kind == KindArray && t.Elem != nil {
			out := make([]Value, len(v.Elems))
			for i, e := range v.Elems {
				c, err := castValue(e, *t.Elem)
				if err != nil {
					return Value{}, err
				}
				out[i] = c
			}
			return Value{Kind: KindArray, Elems: out}, nil
		}
	case KindRow:
		if v.Kind == KindRow && len(v.Elems) == len(t.Fields) {
			out := make([]Value, len(v.Elems))
			for i, e := range v.Elems {
				c, err := castValue(e, t.Fields[i].Type)
				if err != nil {
					return Value{}, err
				}
				out[i] = c
			}
			return Value{Kind: KindRow, Elems: out}, nil
		}
	case KindTimeSeries:
		if v.Kind == KindTimeSeries && t.Elem != nil {
			out := make([]Point, len(v.Points))
			for i, p := range v.Points {
				c, err := castValue(p.Value, *t.Elem)
				if err != nil {
					return Value{}, err
				}
				out[i] = Point{Time: p.Time, Value: c}
			}
			return Value{Kind: KindTimeSeries, Points: out}, nil
		}
	}
	return Value{}, castError(v, t)
}

// likeMatcher matches a LIKE pattern.
type likeMatcher struct {
	prefix string // pattern is prefix% with no other wildcards
	exact  bool   // pattern has no wildcards
	re     *regexp.Regexp
}

func compileLike(p string, esc Value) (*likeMatcher, error) {
	escape := rune(-1)
	if !esc.Null {
		r := []rune(esc.S)
		if len(r) != 1 {
			return nil, errorf(ErrExecution, "Escape string must be a single character")
		}
		escape = r[0]
	}
	var b strings.Builder
	b.WriteString("(?s)^")
	lit := strings.Builder{}
	wild := false
	prefixOnly := true
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == escape:
			if i+1 >= len(rs) || (rs[i+1] != '%' && rs[i+1] != '_' && rs[i+1] != escape) {
				return nil, errorf(ErrExecution, "Escape character must be followed by '%%', '_' or the escape character")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
			if wild {
				prefixOnly = false
			}
			lit.WriteRune(rs[i])
		case c == '%':
			b.WriteString(".*")
			if wild || i != len(rs)-1 {
				prefixOnly = false
			}
			wild = true
		case c == '_':
			b.WriteString(".")
			wild = true
			prefixOnly = false
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
			if wild {
				prefixOnly = false
			}
			lit.WriteRune(c)
		}
	}
	b.WriteString("$")
	m := &likeMatcher{}
	switch {
	case !wild:
		m.exact, m.prefix = true, lit.String()
	case prefixOnly:
		m.prefix = lit.String()
	default:
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, errorf(ErrExecution, "Invalid LIKE pattern: %s", p)
		}
		m.re = re
	}
	return m, nil
}

// likePrefix returns the literal prefix when the pattern is exactly
// "prefix%".
func (m *likeMatcher) likePrefix() (string, bool) {
	return m.prefix, m.re == nil && !m.exact
}

func (m *likeMatcher) match(s string) bool {
	switch {
	case m.exact:
		return s == m.prefix
	case m.re == nil:
		return strings.HasPrefix(s, m.prefix)
	}
	return m.re.MatchString(s)
}
