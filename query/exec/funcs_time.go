package exec

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tidaldb/tidal/query/parser"
)

func toTime(v Value) time.Time {
	if v.Kind == KindDate {
		return time.Unix(v.I*86400, 0).UTC()
	}
	return time.Unix(0, v.I).UTC()
}

func fromTime(t time.Time, k Kind) Value {
	if k == KindDate {
		return Value{Kind: KindDate, I: floorDiv(t.Unix(), 86400)}
	}
	return Timestamp(t.UnixNano())
}

func addMonths(v Value, m int64) Value {
	t := toTime(v)
	y, mo, d := t.Date()
	total := int64(y)*12 + int64(mo) - 1 + m
	ny, nm := int(floorDiv(total, 12)), time.Month(total-floorDiv(total, 12)*12+1)
	last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, time.UTC).Day()
	d = min(d, last)
	nt := time.Date(ny, nm, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	return fromTime(nt, v.Kind)
}

var unitDur = map[string]int64{"nanosecond": 1, "microsecond": 1e3, "millisecond": 1e6, "second": 1e9, "minute": 60e9, "hour": 3600e9, "day": 86400e9, "week": 7 * 86400e9}

func truncTime(unit string, v Value) (Value, error) {
	t := toTime(v)
	switch unit {
	case "nanosecond", "microsecond", "millisecond", "second", "minute", "hour", "day":
		if v.Kind == KindDate {
			return v, nil
		}
		d := unitDur[unit]
		return Timestamp(floorDiv(v.I, d) * d), nil
	case "week":
		wd := (int(t.Weekday()) + 6) % 7
		t = time.Date(t.Year(), t.Month(), t.Day()-wd, 0, 0, 0, 0, time.UTC)
	case "month":
		t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case "quarter":
		t = time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
	case "year":
		t = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	default:
		return Value{}, errorf(ErrExecution, "'%s' is not a valid time unit", unit)
	}
	return fromTime(t, v.Kind), nil
}

func addUnit(unit string, n int64, v Value) (Value, error) {
	switch unit {
	case "month":
		return addMonths(v, n), nil
	case "quarter":
		return addMonths(v, 3*n), nil
	case "year":
		return addMonths(v, 12*n), nil
	}
	d, ok := unitDur[unit]
	if !ok {
		return Value{}, errorf(ErrExecution, "'%s' is not a valid time unit", unit)
	}
	if v.Kind == KindDate {
		return Value{Kind: KindDate, I: v.I + n*d/86400e9}, nil
	}
	x, err := intArith(parser.OpMul, n, d)
	if err != nil {
		return x, err
	}
	x, err = intArith(parser.OpAdd, v.I, x.I)
	x.Kind = KindTimestamp
	return x, err
}

func diffUnit(unit string, a, b Value) (Value, error) {
	switch unit {
	case "month", "quarter", "year":
		ta, tb := toTime(a), toTime(b)
		m := int64(tb.Year()-ta.Year())*12 + int64(tb.Month()-ta.Month())
		// A partial month does not count.
		ra := ta.AddDate(0, int(m), 0)
		if m > 0 && ra.After(tb) {
			m--
		} else if m < 0 && ra.Before(tb) {
			m++
		}
		switch unit {
		case "quarter":
			m /= 3
		case "year":
			m /= 12
		}
		return Bigint(m), nil
	}
	d, ok := unitDur[unit]
	if !ok {
		return Value{}, errorf(ErrExecution, "'%s' is not a valid time unit", unit)
	}
	x, y := a.I, b.I
	if a.Kind == KindDate {
		x, y = a.I*86400e9, b.I*86400e9
	}
	return Bigint((y - x) / d), nil
}

func extractField(field string, v Value) (Value, bool) {
	t := toTime(v)
	var r int64
	switch field {
	case "year":
		r = int64(t.Year())
	case "quarter":
		r = int64(t.Month()-1)/3 + 1
	case "month":
		r = int64(t.Month())
	case "week", "week_of_year":
		_, w := t.ISOWeek()
		r = int64(w)
	case "year_of_week", "yow":
		y, _ := t.ISOWeek()
		r = int64(y)
	case "day", "day_of_month":
		r = int64(t.Day())
	case "day_of_week", "dow":
		r = int64((int(t.Weekday())+6)%7 + 1)
	case "day_of_year", "doy":
		r = int64(t.YearDay())
	case "hour":
		r = int64(t.Hour())
	case "minute":
		r = int64(t.Minute())
	case "second":
		r = int64(t.Second())
	case "millisecond":
		r = int64(t.Nanosecond() / 1e6)
	case "microsecond":
		r = int64(t.Nanosecond() / 1e3)
	case "nanosecond":
		r = int64(t.Nanosecond())
	default:
		return Value{}, false
	}
	return Bigint(r), true
}

func unitArg(v Value) string { return strings.ToLower(strings.TrimSpace(v.S)) }

var mysqlFormat = map[byte]string{'Y': "2006", 'y': "06", 'm': "01", 'c': "1", 'd': "02", 'e': "2", 'H': "15", 'h': "03", 'I': "03",
	'i': "04", 's': "05", 'S': "05", 'p': "PM", 'M': "January", 'b': "Jan", 'W': "Monday", 'a': "Mon", 'T': "15:04:05", 'r': "03:04:05 PM", 'f': "000000"}

func goLayout(f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] == '%' && i+1 < len(f) {
			i++
			if l, ok := mysqlFormat[f[i]]; ok {
				b.WriteString(l)
			} else {
				b.WriteByte(f[i])
			}
			continue
		}
		b.WriteByte(f[i])
	}
	return b.String()
}

func registerTimeFuncs() {
	nowFn := funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) != 0 {
			return nil, argErr("now", args, pos)
		}
		return constExpr(Timestamp(b.q.now), TypeTimestamp), nil
	}}
	for _, n := range []string{"now", "current_timestamp", "localtimestamp"} {
		funcs[n] = nowFn
	}
	funcs["current_date"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		return constExpr(Value{Kind: KindDate, I: floorDiv(b.q.now, 86400e9)}, TypeDate), nil
	}}
	timeNow := funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		return constExpr(Value{Kind: KindTime, I: b.q.now - floorDiv(b.q.now, 86400e9)*86400e9}, TypeTime), nil
	}}
	funcs["current_time"], funcs["localtime"] = timeNow, timeNow
	funcs["current_timezone"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		return constExpr(Varchar("UTC"), TypeVarchar), nil
	}}
	funcs["ago"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) != 1 || (args[0].typ.Kind != KindIntervalDayToSecond && args[0].typ.Kind != KindUnknown) {
			return nil, argErr("ago", args, pos)
		}
		now := b.q.now
		return strict(TypeTimestamp, args, func(a []Value) (Value, error) { return Timestamp(now - a[0].I), nil })
	}}
	funcs["bin"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) != 2 || args[1].typ.Kind != KindIntervalDayToSecond {
			return nil, argErr("bin", args, pos)
		}
		t := args[0]
		if t.typ.Kind == KindVarchar && t.konst {
			var err error
			if t, err = coerce(t, TypeTimestamp); err != nil {
				return nil, err
			}
		}
		if t.typ.Kind != KindTimestamp && t.typ.Kind != KindUnknown {
			return nil, argErr("bin", args, pos)
		}
		if w := args[1]; w.konst && !w.val.Null {
			d := w.val.I
			if d <= 0 {
				return nil, validationf(pos.Line, pos.Col, "bin interval must be positive")
			}
			if t.col >= 0 {
				c := t.col
				e, err := derived(TypeTimestamp, []*expr{t, w}, func(row []Value) (Value, error) {
					v := row[c]
					if v.Null {
						return Null(KindTimestamp), nil
					}
					return Timestamp(floorDiv(v.I, d) * d), nil
				})
				if err == nil {
					e.bin = &binInfo{col: c, width: d}
				}
				return e, err
			}
		}
		return strict(TypeTimestamp, []*expr{t, args[1]}, func(a []Value) (Value, error) {
			if a[1].I <= 0 {
				return Value{}, errorf(ErrExecution, "bin interval must be positive")
			}
			return Timestamp(floorDiv(a[0].I, a[1].I) * a[1].I), nil
		})
	}}
	funcs["date_trunc"] = overloads("date_trunc",
		sig{[]Kind{KindVarchar, KindTimestamp}, TypeTimestamp, func(a []Value) (Value, error) { return truncTime(unitArg(a[0]), a[1]) }},
		sig{[]Kind{KindVarchar, KindDate}, TypeDate, func(a []Value) (Value, error) { return truncTime(unitArg(a[0]), a[1]) }})
	funcs["date_add"] = overloads("date_add",
		sig{[]Kind{KindVarchar, KindBigint, KindTimestamp}, TypeTimestamp, func(a []Value) (Value, error) { return addUnit(unitArg(a[0]), a[1].I, a[2]) }},
		sig{[]Kind{KindVarchar, KindBigint, KindDate}, TypeDate, func(a []Value) (Value, error) { return addUnit(unitArg(a[0]), a[1].I, a[2]) }})
	funcs["date_diff"] = overloads("date_diff",
		sig{[]Kind{KindVarchar, KindTimestamp, KindTimestamp}, TypeBigint, func(a []Value) (Value, error) { return diffUnit(unitArg(a[0]), a[1], a[2]) }},
		sig{[]Kind{KindVarchar, KindDate, KindDate}, TypeBigint, func(a []Value) (Value, error) { return diffUnit(unitArg(a[0]), a[1], a[2]) }})
	funcs["from_milliseconds"] = overloads("from_milliseconds", sig{[]Kind{KindBigint}, TypeTimestamp, func(a []Value) (Value, error) {
		if a[0].I > math.MaxInt64/1000000 || a[0].I < math.MinInt64/1000000 {
			return Value{}, overflow("multiplication")
		}
		return Timestamp(a[0].I * 1e6), nil
	}})
	funcs["from_nanoseconds"] = overloads("from_nanoseconds", sig{[]Kind{KindBigint}, TypeTimestamp, func(a []Value) (Value, error) { return Timestamp(a[0].I), nil }})
	funcs["to_milliseconds"] = overloads("to_milliseconds",
		sig{[]Kind{KindTimestamp}, TypeBigint, func(a []Value) (Value, error) { return Bigint(floorDiv(a[0].I, 1e6)), nil }},
		sig{[]Kind{KindIntervalDayToSecond}, TypeBigint, func(a []Value) (Value, error) { return Bigint(a[0].I / 1e6), nil }})
	funcs["to_nanoseconds"] = overloads("to_nanoseconds",
		sig{[]Kind{KindTimestamp}, TypeBigint, func(a []Value) (Value, error) { return Bigint(a[0].I), nil }},
		sig{[]Kind{KindIntervalDayToSecond}, TypeBigint, func(a []Value) (Value, error) { return Bigint(a[0].I), nil }})
	funcs["from_unixtime"] = overloads("from_unixtime", sig{[]Kind{KindDouble}, TypeTimestamp, func(a []Value) (Value, error) {
		return Timestamp(int64(math.Round(a[0].F * 1e9))), nil
	}})
	funcs["to_unixtime"] = overloads("to_unixtime", sig{[]Kind{KindTimestamp}, TypeDouble, func(a []Value) (Value, error) {
		return Double(float64(a[0].I) / 1e9), nil
	}})
	funcs["from_iso8601_timestamp"] = overloads("from_iso8601_timestamp", sig{[]Kind{KindVarchar}, TypeTimestamp, func(a []Value) (Value, error) {
		for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(l, a[0].S); err == nil {
				return Timestamp(t.UnixNano()), nil
			}
		}
		return Value{}, errorf(ErrExecution, "Invalid format: \"%s\"", a[0].S)
	}})
	funcs["from_iso8601_date"] = overloads("from_iso8601_date", sig{[]Kind{KindVarchar}, TypeDate, func(a []Value) (Value, error) {
		if d, ok := parseDate(a[0].S); ok {
			return Value{Kind: KindDate, I: d}, nil
		}
		return Value{}, errorf(ErrExecution, "Invalid format: \"%s\"", a[0].S)
	}})
	funcs["to_iso8601"] = overloads("to_iso8601",
		sig{[]Kind{KindTimestamp}, TypeVarchar, func(a []Value) (Value, error) {
			return Varchar(toTime(a[0]).Format("2006-01-02T15:04:05.000000000Z")), nil
		}},
		sig{[]Kind{KindDate}, TypeVarchar, func(a []Value) (Value, error) { return Varchar(a[0].String()), nil }})
	funcs["date"] = overloads("date",
		sig{[]Kind{KindTimestamp}, TypeDate, func(a []Value) (Value, error) { return castValue(a[0], TypeDate) }},
		sig{[]Kind{KindVarchar}, TypeDate, func(a []Value) (Value, error) { return castValue(a[0], TypeDate) }},
		sig{[]Kind{KindDate}, TypeDate, func(a []Value) (Value, error) { return a[0], nil }})
	funcs["last_day_of_month"] = overloads("last_day_of_month",
		sig{[]Kind{KindTimestamp}, TypeDate, lastDay}, sig{[]Kind{KindDate}, TypeDate, lastDay})
	for _, f := range []string{"year", "quarter", "month", "week", "week_of_year", "year_of_week", "yow", "day", "day_of_month",
		"day_of_week", "dow", "day_of_year", "doy", "hour", "minute", "second", "millisecond", "microsecond", "nanosecond"} {
		field := f
		fn := func(a []Value) (Value, error) {
			v, _ := extractField(field, a[0])
			return v, nil
		}
		funcs[f] = overloads(f, sig{[]Kind{KindTimestamp}, TypeBigint, fn}, sig{[]Kind{KindDate}, TypeBigint, fn})
	}
	funcs["date_format"] = overloads("date_format", sig{[]Kind{KindTimestamp, KindVarchar}, TypeVarchar, func(a []Value) (Value, error) {
		return Varchar(toTime(a[0]).Format(goLayout(a[1].S))), nil
	}})
	funcs["date_parse"] = overloads("date_parse", sig{[]Kind{KindVarchar, KindVarchar}, TypeTimestamp, func(a []Value) (Value, error) {
		t, err := time.Parse(goLayout(a[1].S), a[0].S)
		if err != nil {
			return Value{}, errorf(ErrExecution, "Invalid format: \"%s\"", a[0].S)
		}
		return Timestamp(t.UnixNano()), nil
	}})
	formatDT := func(a []Value) (Value, error) {
		toks, err := compileJoda(a[1].S)
		if err != nil {
			return Value{}, err
		}
		return Varchar(formatJoda(toTime(a[0]), toks)), nil
	}
	funcs["format_datetime"] = overloads("format_datetime",
		sig{[]Kind{KindTimestamp, KindVarchar}, TypeVarchar, formatDT}, sig{[]Kind{KindDate, KindVarchar}, TypeVarchar, formatDT})
	funcs["parse_datetime"] = overloads("parse_datetime", sig{[]Kind{KindVarchar, KindVarchar}, TypeTimestamp, func(a []Value) (Value, error) {
		toks, err := compileJoda(a[1].S)
		if err != nil {
			return Value{}, err
		}
		ns, err := parseJoda(a[0].S, toks)
		if err != nil {
			return Value{}, err
		}
		return Timestamp(ns), nil
	}})
	funcs["parse_duration"] = overloads("parse_duration", sig{[]Kind{KindVarchar}, TypeIntervalDS, func(a []Value) (Value, error) {
		s := strings.TrimSpace(a[0].S)
		i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return Value{}, errorf(ErrExecution, "duration is not a valid data duration string: %s", s)
		}
		f, err := strconv.ParseFloat(s[:i], 64)
		mult := map[string]float64{"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9, "d": 86400e9}[strings.TrimSpace(s[i:])]
		if err != nil || mult == 0 {
			return Value{}, errorf(ErrExecution, "duration is not a valid data duration string: %s", s)
		}
		return intervalDS(int64(f * mult)), nil
	}})
	funcs["human_readable_seconds"] = overloads("human_readable_seconds", sig{[]Kind{KindDouble}, TypeVarchar, func(a []Value) (Value, error) {
		secs := int64(math.Round(a[0].F))
		var parts []string
		for _, u := range []struct {
			n string
			s int64
		}{{"week", 604800}, {"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}} {
			if q := secs / u.s; q > 0 || (u.s == 1 && len(parts) == 0) {
				name := u.n
				if q != 1 {
					name += "s"
				}
				parts = append(parts, strconv.FormatInt(q, 10)+" "+name)
				secs -= q * u.s
			}
		}
		return Varchar(strings.Join(parts, ", ")), nil
	}})
}

func lastDay(a []Value) (Value, error) {
	t := toTime(a[0])
	l := time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC)
	return Value{Kind: KindDate, I: floorDiv(l.Unix(), 86400)}, nil
}
