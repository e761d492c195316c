package scheduled

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule yields the invocation times of a scheduled query, in UTC at
// minute precision.
type Schedule interface {
	// Next returns the first invocation time strictly after t, or the zero
	// time when there is none (a cron expression whose years have passed).
	Next(t time.Time) time.Time
}

// ErrSchedule is wrapped by every schedule expression parse error.
var ErrSchedule = errors.New("scheduled: invalid schedule expression")

// ParseSchedule parses a ScheduleExpression: "cron(min hour dom month dow
// year)" in the six-field EventBridge form, or "rate(N unit)" with unit
// minute(s), hour(s) or day(s). A rate schedule counts from anchor (the
// creation time of the scheduled query), truncated to the minute.
func ParseSchedule(expr string, anchor time.Time) (Schedule, error) {
	s := strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(s, "cron(") && strings.HasSuffix(s, ")"):
		return parseCron(s[len("cron(") : len(s)-1])
	case strings.HasPrefix(s, "rate(") && strings.HasSuffix(s, ")"):
		return parseRate(s[len("rate("):len(s)-1], anchor)
	}
	return nil, fmt.Errorf("%w: %q is neither cron(...) nor rate(...)", ErrSchedule, expr)
}

// rate fires every every, starting one interval after anchor.
type rate struct {
	anchor time.Time
	every  time.Duration
}

func parseRate(body string, anchor time.Time) (Schedule, error) {
	f := strings.Fields(body)
	if len(f) != 2 {
		return nil, fmt.Errorf("%w: rate needs a value and a unit, got %q", ErrSchedule, body)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 || f[0][0] == '+' {
		return nil, fmt.Errorf("%w: rate value %q is not a positive integer", ErrSchedule, f[0])
	}
	var unit time.Duration
	switch f[1] {
	case "minute", "minutes":
		unit = time.Minute
	case "hour", "hours":
		unit = time.Hour
	case "day", "days":
		unit = 24 * time.Hour
	default:
		return nil, fmt.Errorf("%w: rate unit %q is not minute(s), hour(s) or day(s)", ErrSchedule, f[1])
	}
	// Bound the interval so that the duration cannot overflow (about 290
	// years; the longest useful rate is far shorter).
	if int64(n) > int64(100*365*24*time.Hour/unit) {
		return nil, fmt.Errorf("%w: rate %d %s is too long", ErrSchedule, n, f[1])
	}
	return rate{anchor: anchor.UTC().Truncate(time.Minute), every: time.Duration(n) * unit}, nil
}

func (r rate) Next(t time.Time) time.Time {
	if t.Before(r.anchor) {
		return r.anchor.Add(r.every)
	}
	k := t.Sub(r.anchor)/r.every + 1
	return r.anchor.Add(k * r.every)
}

// Cron field bounds. The year range is EventBridge's.
const (
	minYear = 1970
	maxYear = 2199
)

// cron is a parsed six-field expression. Bit i of a field set means the
// value i is allowed.
type cron struct {
	minutes uint64
	hours   uint64
	months  uint64
	years   [maxYear - minYear + 1]bool

	// Day of month: dom bits, or last day (L, with lastOffset days before
	// it), or the weekday nearest to a day (nW) or the last weekday (LW).
	domAny     bool // "?" : day of week decides
	dom        uint64
	domLast    bool
	lastOffset int
	domNearest int // 1-31 for nW; 0 unset
	domLastW   bool

	// Day of week (1 = Sunday ... 7 = Saturday): dow bits, or the last
	// such weekday of the month (nL), or the k-th one (n#k).
	dowAny  bool
	dow     uint64
	dowLast int // weekday for nL; 0 unset
	dowNth  int // weekday for n#k; 0 unset
	nth     int // k of n#k
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
	"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}

var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

func parseCron(body string) (Schedule, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("%w: cron needs 6 fields (minutes hours day-of-month month day-of-week year), got %d", ErrSchedule, len(f))
	}
	c := &cron{}
	var err error
	if c.minutes, err = parseSet(f[0], 0, 59, nil); err != nil {
		return nil, fieldError("minutes", err)
	}
	if c.hours, err = parseSet(f[1], 0, 23, nil); err != nil {
		return nil, fieldError("hours", err)
	}
	if c.months, err = parseSet(f[3], 1, 12, monthNames); err != nil {
		return nil, fieldError("month", err)
	}
	if err := c.parseYears(f[5]); err != nil {
		return nil, fieldError("year", err)
	}
	if err := c.parseDOM(f[2]); err != nil {
		return nil, fieldError("day-of-month", err)
	}
	if err := c.parseDOW(f[4]); err != nil {
		return nil, fieldError("day-of-week", err)
	}
	if c.domAny == c.dowAny {
		return nil, fmt.Errorf("%w: exactly one of day-of-month and day-of-week must be '?'", ErrSchedule)
	}
	return c, nil
}

func fieldError(field string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrSchedule, field, err)
}

// parseSet parses a comma list of *, n, a-b and x/step items over
// [lo, hi] (hi < 64). names maps upper-case names to values.
func parseSet(s string, lo, hi int, names map[string]int) (uint64, error) {
	var set uint64
	for item := range strings.SplitSeq(s, ",") {
		bits, err := parseItem(item, lo, hi, names)
		if err != nil {
			return 0, err
		}
		set |= bits
	}
	return set, nil
}

func parseItem(item string, lo, hi int, names map[string]int) (uint64, error) {
	rng, stepStr, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := atoiBounded(stepStr, 1, hi-lo+1)
		if err != nil {
			return 0, fmt.Errorf("step %q: %w", stepStr, err)
		}
		step = n
	}
	from, to := lo, hi
	switch {
	case rng == "*":
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		var err error
		if from, err = value(a, lo, hi, names); err != nil {
			return 0, err
		}
		if to, err = value(b, lo, hi, names); err != nil {
			return 0, err
		}
	default:
		v, err := value(rng, lo, hi, names)
		if err != nil {
			return 0, err
		}
		from = v
		if !hasStep {
			to = v
		}
	}
	var set uint64
	if from <= to {
		for v := from; v <= to; v += step {
			set |= 1 << uint(v)
		}
		return set, nil
	}
	// A wrapping range such as FRI-MON or 22-2.
	n := hi - lo + 1
	for i := 0; i <= (to-from+n)%n; i += step {
		set |= 1 << uint(lo+(from-lo+i)%n)
	}
	return set, nil
}

func value(s string, lo, hi int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	return atoiBounded(s, lo, hi)
}

func atoiBounded(s string, lo, hi int) (int, error) {
	if s == "" || len(s) > 4 {
		return 0, fmt.Errorf("bad value %q", s)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("bad value %q", s)
		}
	}
	v, _ := strconv.Atoi(s)
	if v < lo || v > hi {
		return 0, fmt.Errorf("value %d out of range %d-%d", v, lo, hi)
	}
	return v, nil
}

func (c *cron) parseYears(s string) error {
	for item := range strings.SplitSeq(s, ",") {
		rng, stepStr, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := atoiBounded(stepStr, 1, maxYear-minYear+1)
			if err != nil {
				return fmt.Errorf("step %q: %w", stepStr, err)
			}
			step = n
		}
		from, to := minYear, maxYear
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = atoiBounded(a, minYear, maxYear); err != nil {
				return err
			}
			if to, err = atoiBounded(b, minYear, maxYear); err != nil {
				return err
			}
			if from > to {
				return fmt.Errorf("range %q runs backwards", rng)
			}
		default:
			v, err := atoiBounded(rng, minYear, maxYear)
			if err != nil {
				return err
			}
			from = v
			if !hasStep {
				to = v
			}
		}
		for y := from; y <= to; y += step {
			c.years[y-minYear] = true
		}
	}
	return nil
}

func (c *cron) parseDOM(s string) error {
	switch {
	case s == "?":
		c.domAny = true
		return nil
	case s == "L":
		c.domLast = true
		return nil
	case strings.HasPrefix(s, "L-"):
		n, err := atoiBounded(s[2:], 1, 30)
		if err != nil {
			return err
		}
		c.domLast, c.lastOffset = true, n
		return nil
	case s == "LW":
		c.domLastW = true
		return nil
	case strings.HasSuffix(s, "W"):
		n, err := atoiBounded(s[:len(s)-1], 1, 31)
		if err != nil {
			return err
		}
		c.domNearest = n
		return nil
	}
	var err error
	c.dom, err = parseSet(s, 1, 31, nil)
	return err
}

func (c *cron) parseDOW(s string) error {
	switch {
	case s == "?":
		c.dowAny = true
		return nil
	case s == "L":
		c.dow = 1 << 7 // Saturday, the last day of the week.
		return nil
	case strings.HasSuffix(s, "L"):
		n, err := value(s[:len(s)-1], 1, 7, dayNames)
		if err != nil {
			return err
		}
		c.dowLast = n
		return nil
	case strings.Contains(s, "#"):
		a, b, _ := strings.Cut(s, "#")
		n, err := value(a, 1, 7, dayNames)
		if err != nil {
			return err
		}
		k, err := atoiBounded(b, 1, 5)
		if err != nil {
			return err
		}
		c.dowNth, c.nth = n, k
		return nil
	}
	var err error
	c.dow, err = parseSet(s, 1, 7, dayNames)
	return err
}

// dayMatches reports whether the date y-m-d matches the day-of-month and
// day-of-week fields.
func (c *cron) dayMatches(y int, m time.Month, d int) bool {
	last := daysIn(y, m)
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()) + 1 // 1 = Sunday
	if !c.domAny {
		switch {
		case c.domLast:
			return d == last-c.lastOffset
		case c.domLastW:
			return d == nearestWeekday(y, m, last)
		case c.domNearest > 0:
			return c.domNearest <= last && d == nearestWeekday(y, m, c.domNearest)
		}
		return c.dom&(1<<uint(d)) != 0
	}
	switch {
	case c.dowLast > 0:
		return wd == c.dowLast && d+7 > last
	case c.dowNth > 0:
		return wd == c.dowNth && (d-1)/7+1 == c.nth
	}
	return c.dow&(1<<uint(wd)) != 0
}

// nearestWeekday returns the weekday (Monday to Friday) nearest to day d
// of the month, not leaving the month.
func nearestWeekday(y int, m time.Month, d int) int {
	switch time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if d == 1 {
			return 3
		}
		return d - 1
	case time.Sunday:
		if d == daysIn(y, m) {
			return d - 2
		}
		return d + 1
	}
	return d
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Next walks years, months and days, skipping whole units that cannot
// match, so that a sparse expression costs at most a few thousand steps.
func (c *cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	y, m, d := t.Date()
	hh, mm := t.Hour(), t.Minute()
	if y < minYear {
		y, m, d, hh, mm = minYear, 1, 1, 0, 0
	}
	for ; y <= maxYear; y, m, d, hh, mm = y+1, 1, 1, 0, 0 {
		if !c.years[y-minYear] {
			continue
		}
		for ; m <= 12; m, d, hh, mm = m+1, 1, 0, 0 {
			if c.months&(1<<uint(m)) == 0 {
				continue
			}
			for last := daysIn(y, m); d <= last; d, hh, mm = d+1, 0, 0 {
				if !c.dayMatches(y, m, d) {
					continue
				}
				if h, mi, ok := c.timeOfDay(hh, mm); ok {
					return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
				}
			}
		}
	}
	return time.Time{}
}

// timeOfDay returns the first allowed hour:minute at or after hh:mm.
func (c *cron) timeOfDay(hh, mm int) (int, int, bool) {
	for h := hh; h < 24; h++ {
		if c.hours&(1<<uint(h)) == 0 {
			continue
		}
		from := 0
		if h == hh {
			from = mm
		}
		for mi := from; mi < 60; mi++ {
			if c.minutes&(1<<uint(mi)) != 0 {
				return h, mi, true
			}
		}
	}
	return 0, 0, false
}
