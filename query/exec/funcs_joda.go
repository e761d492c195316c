package exec

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Joda-Time patterns, as format_datetime and parse_datetime take them
// (Trino follows Joda's DateTimeFormat). A pattern is a run of letters,
// each run one field whose letter count sets its width or text style;
// text in single quotes and any non-letter is literal, and '' is a quote.
// Every value is UTC, so zone fields print UTC and parsed offsets are
// applied to give a UTC timestamp.

// jodaTok is one element of a compiled pattern: a field (letter, count) or
// literal text (letter 0).
type jodaTok struct {
	letter byte
	count  int
	lit    string
}

// jodaFields are the pattern letters TidalDB knows; any other letter is an
// error, as in Joda.
const jodaFields = "GCYxwyeEDMdaKhHkmsSzZ"

var jodaCache sync.Map // pattern -> []jodaTok

func compileJoda(p string) ([]jodaTok, error) {
	if t, ok := jodaCache.Load(p); ok {
		return t.([]jodaTok), nil
	}
	var toks []jodaTok
	lit := func(s string) {
		if n := len(toks); n > 0 && toks[n-1].letter == 0 {
			toks[n-1].lit += s
			return
		}
		toks = append(toks, jodaTok{lit: s})
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				lit("'")
				i += 2
				continue
			}
			j := i + 1
			var sb strings.Builder
			for ; j < len(p); j++ {
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						sb.WriteByte('\'')
						j++
						continue
					}
					break
				}
				sb.WriteByte(p[j])
			}
			if j >= len(p) {
				return nil, errorf(ErrExecution, "Invalid format: unterminated quote in %q", p)
			}
			lit(sb.String())
			i = j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			if !strings.ContainsRune(jodaFields, rune(c)) {
				return nil, errorf(ErrExecution, "Illegal pattern component: %c", c)
			}
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			toks = append(toks, jodaTok{letter: c, count: j - i})
			i = j
		default:
			lit(string(c))
			i++
		}
	}
	jodaCache.Store(p, toks)
	return toks, nil
}

func padInt(b []byte, v int64, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// formatJoda renders t (UTC) with a compiled pattern.
func formatJoda(t time.Time, toks []jodaTok) string {
	var b []byte
	for _, k := range toks {
		n := k.count
		switch k.letter {
		case 0:
			b = append(b, k.lit...)
		case 'G':
			if t.Year() > 0 {
				b = append(b, "AD"...)
			} else {
				b = append(b, "BC"...)
			}
		case 'C':
			b = padInt(b, int64(t.Year()/100), n)
		case 'Y', 'y', 'x':
			y := t.Year()
			if k.letter == 'x' {
				y, _ = t.ISOWeek()
			}
			if n == 2 {
				b = padInt(b, int64((y%100+100)%100), 2)
			} else {
				b = padInt(b, int64(y), n)
			}
		case 'w':
			_, w := t.ISOWeek()
			b = padInt(b, int64(w), n)
		case 'e':
			b = padInt(b, int64((int(t.Weekday())+6)%7+1), n)
		case 'E':
			if n >= 4 {
				b = append(b, t.Weekday().String()...)
			} else {
				b = append(b, t.Weekday().String()[:3]...)
			}
		case 'D':
			b = padInt(b, int64(t.YearDay()), n)
		case 'M':
			switch {
			case n >= 4:
				b = append(b, t.Month().String()...)
			case n == 3:
				b = append(b, t.Month().String()[:3]...)
			default:
				b = padInt(b, int64(t.Month()), n)
			}
		case 'd':
			b = padInt(b, int64(t.Day()), n)
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'K':
			b = padInt(b, int64(t.Hour()%12), n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b = padInt(b, int64(h), n)
		case 'H':
			b = padInt(b, int64(t.Hour()), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b = padInt(b, int64(h), n)
		case 'm':
			b = padInt(b, int64(t.Minute()), n)
		case 's':
			b = padInt(b, int64(t.Second()), n)
		case 'S':
			// The first n digits of the fraction, truncated.
			frac := strconv.Itoa(t.Nanosecond() + 1e9)[1:]
			for len(frac) < n {
				frac += "0"
			}
			b = append(b, frac[:n]...)
		case 'z':
			if n >= 4 {
				b = append(b, "Coordinated Universal Time"...)
			} else {
				b = append(b, "UTC"...)
			}
		case 'Z':
			switch n {
			case 1:
				b = append(b, "+0000"...)
			case 2:
				b = append(b, "+00:00"...)
			default:
				b = append(b, "UTC"...)
			}
		}
	}
	return string(b)
}

var (
	monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	dayNames   = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)

// matchName matches the longest of names, full or three-letter, at the
// start of s, case-insensitively; it returns the 1-based index and length.
func matchName(s string, names []string) (int, int) {
	ls := strings.ToLower(s)
	for i, full := range names {
		if strings.HasPrefix(ls, full) {
			return i + 1, len(full)
		}
	}
	for i, full := range names {
		if strings.HasPrefix(ls, full[:3]) {
			return i + 1, 3
		}
	}
	return 0, 0
}

func isJodaNumeric(k jodaTok) bool {
	switch k.letter {
	case 'C', 'Y', 'x', 'w', 'y', 'e', 'D', 'd', 'K', 'h', 'H', 'k', 'm', 's', 'S':
		return true
	case 'M':
		return k.count < 3
	}
	return false
}

// parseJoda parses s with a compiled pattern into UTC nanoseconds. Fields
// the pattern leaves out default to 1970-01-01 00:00:00 UTC, as in Joda.
// A numeric field directly followed by another numeric field takes exactly
// its width in digits; otherwise it takes all the digits there are. A
// two-digit yy is read as 2000-2099 (Joda pivots on the current year).
func parseJoda(s string, toks []jodaTok) (int64, error) {
	bad := func() (int64, error) {
		return 0, errorf(ErrExecution, "Invalid format: \"%s\"", s)
	}
	year, month, day := 1970, 1, 1
	hour, minute, sec, nsec := 0, 0, 0, 0
	pm, halfday := false, false
	var yday, weekyear, week, wday int
	century := -1
	offset := 0
	pos := 0
	for ti, k := range toks {
		if k.letter == 0 {
			if !strings.HasPrefix(s[pos:], k.lit) {
				return bad()
			}
			pos += len(k.lit)
			continue
		}
		if isJodaNumeric(k) {
			end := pos
			if end < len(s) && (s[end] == '-' || s[end] == '+') && strings.ContainsRune("Yyx", rune(k.letter)) {
				end++
			}
			limit := len(s)
			if ti+1 < len(toks) && isJodaNumeric(toks[ti+1]) {
				limit = min(len(s), end+k.count)
			}
			for end < limit && s[end] >= '0' && s[end] <= '9' {
				end++
			}
			digits := s[pos:end]
			if digits == "" || digits == "-" || digits == "+" {
				return bad()
			}
			v, err := strconv.Atoi(digits)
			if err != nil {
				return bad()
			}
			pos = end
			switch k.letter {
			case 'C':
				century = v
			case 'Y', 'y':
				if k.count == 2 && len(digits) == 2 {
					v += 2000
				}
				year = v
			case 'x':
				weekyear = v
			case 'w':
				week = v
			case 'e':
				wday = v
			case 'D':
				yday = v
			case 'M':
				month = v
			case 'd':
				day = v
			case 'K', 'h':
				hour, halfday = v%12, true
			case 'H', 'k':
				hour = v % 24
			case 'm':
				minute = v
			case 's':
				sec = v
			case 'S':
				// Digits of a fraction: scale to nanoseconds.
				d := digits
				if len(d) > 9 {
					d = d[:9]
				}
				nsec, _ = strconv.Atoi(d + strings.Repeat("0", 9-len(d)))
			}
			continue
		}
		rest := s[pos:]
		switch k.letter {
		case 'G':
			switch {
			case strings.HasPrefix(strings.ToUpper(rest), "AD"), strings.HasPrefix(strings.ToUpper(rest), "CE"):
				pos += 2
			default:
				return bad()
			}
		case 'M':
			m, n := matchName(rest, monthNames)
			if n == 0 {
				return bad()
			}
			month, pos = m, pos+n
		case 'E':
			d, n := matchName(rest, dayNames)
			if n == 0 {
				return bad()
			}
			wday, pos = d, pos+n
		case 'a':
			switch u := strings.ToUpper(rest); {
			case strings.HasPrefix(u, "AM"):
			case strings.HasPrefix(u, "PM"):
				pm = true
			default:
				return bad()
			}
			pos += 2
		case 'z', 'Z':
			off, n, ok := parseZone(rest)
			if !ok {
				return bad()
			}
			offset, pos = off, pos+n
		}
	}
	if pos != len(s) {
		return bad()
	}
	if halfday && pm {
		hour += 12
	}
	if century >= 0 && year == 1970 {
		year = century * 100
	}
	var t time.Time
	switch {
	case weekyear != 0 || week != 0:
		if weekyear == 0 {
			weekyear = year
		}
		if week == 0 {
			week = 1
		}
		if wday == 0 {
			wday = 1
		}
		// ISO week 1 holds January 4th.
		jan4 := time.Date(weekyear, 1, 4, 0, 0, 0, 0, time.UTC)
		monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
		d := monday.AddDate(0, 0, (week-1)*7+wday-1)
		t = time.Date(d.Year(), d.Month(), d.Day(), hour, minute, sec, nsec, time.UTC)
	case yday != 0:
		t = time.Date(year, 1, yday, hour, minute, sec, nsec, time.UTC)
		if t.Year() != year {
			return bad()
		}
	default:
		if month < 1 || month > 12 || day < 1 || day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
			return bad()
		}
		t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	}
	if minute > 59 || sec > 59 {
		return bad()
	}
	return t.UnixNano() - int64(offset)*1e9, nil
}

// parseZone reads a zone at the start of s: Z, UTC, GMT, or an offset
// +hh, +hhmm or +hh:mm. It returns the offset in seconds and the length.
func parseZone(s string) (int, int, bool) {
	for _, name := range []string{"UTC", "GMT", "Z"} {
		if strings.HasPrefix(s, name) {
			n := len(name)
			if name != "Z" && len(s) > n && (s[n] == '+' || s[n] == '-') {
				off, m, ok := parseZone(s[n:])
				return off, n + m, ok
			}
			return 0, n, true
		}
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, 0, false
	}
	num := func(t string) (int, bool) {
		if len(t) != 2 || t[0] < '0' || t[0] > '9' || t[1] < '0' || t[1] > '9' {
			return 0, false
		}
		return int(t[0]-'0')*10 + int(t[1]-'0'), true
	}
	h, ok := num(s[1:3])
	if !ok {
		return 0, 0, false
	}
	n, m := 3, 0
	switch {
	case len(s) >= 6 && s[3] == ':':
		if m, ok = num(s[4:6]); !ok {
			return 0, 0, false
		}
		n = 6
	case len(s) >= 5:
		if v, ok := num(s[3:5]); ok {
			m, n = v, 5
		}
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, n, true
}
