package plugin

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/gtime"
)

// defaultMaxDataPoints is the resolution assumed when Grafana sends none,
// as for alert rules and recorded queries.
const defaultMaxDataPoints = 1024

// macroContext is what the macros of one query expand from.
type macroContext struct {
	From, To                 time.Time
	Interval                 time.Duration
	Now                      time.Time
	Database, Table, Measure string
	DefaultDB, DefaultTable  string
	DefaultMeasure           string
	MaxDataPoints            int64
}

// effectiveInterval is the query's interval, or when Grafana sent none
// (alerting, recorded queries) the range split into MaxDataPoints buckets
// and rounded as Grafana rounds, at least one millisecond.
func (m *macroContext) effectiveInterval() time.Duration {
	if m.Interval > 0 {
		return m.Interval
	}
	points := m.MaxDataPoints
	if points <= 0 {
		points = defaultMaxDataPoints
	}
	iv := gtime.RoundInterval(m.To.Sub(m.From) / time.Duration(points))
	return max(iv, time.Millisecond)
}

// pick is the query's value unless it is empty or an unexpanded template
// variable, then the data source's default.
func pick(v, def string) string {
	if v == "" || strings.HasPrefix(v, "$") {
		return def
	}
	return v
}

// quoteIdent quotes a name as a SQL identifier unless it is already quoted.
func quoteIdent(s string) string {
	if s == "" || strings.HasPrefix(s, `"`) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// macros returns the macro table for m. Keys carry the leading "$__".
func (m *macroContext) macros() map[string]string {
	fromMs, toMs := m.From.UnixMilli(), m.To.UnixMilli()
	ivMs := m.effectiveInterval().Milliseconds()
	db := pick(m.Database, m.DefaultDB)
	return map[string]string{
		"$__timeFilter":      fmt.Sprintf("time BETWEEN from_milliseconds(%d) AND from_milliseconds(%d)", fromMs, toMs),
		"$__timeFrom":        strconv.FormatInt(fromMs, 10),
		"$__timeTo":          strconv.FormatInt(toMs, 10),
		"$__interval_raw_ms": strconv.FormatInt(ivMs, 10),
		"$__interval_ms":     strconv.FormatInt(ivMs, 10) + "ms",
		"$__interval":        strconv.FormatInt(ivMs, 10) + "ms",
		"$__now_ms":          strconv.FormatInt(m.Now.UnixMilli(), 10),
		"$__database":        quoteIdent(db),
		"$__table":           quoteIdent(pick(m.Table, m.DefaultTable)),
		"$__measure":         pick(m.Measure, m.DefaultMeasure),
	}
}

// expandMacros replaces every macro in sql, longest name first so that
// $__interval does not clobber $__interval_ms. $__database, $__table and
// $__measure expand to nothing useful when neither the query nor the data
// source names one; that is an error only if the SQL uses them.
func expandMacros(sql string, m *macroContext) (string, error) {
	table := m.macros()
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		if !strings.Contains(sql, k) {
			continue
		}
		if table[k] == "" {
			return "", fmt.Errorf("expand macro %s: no %s chosen in the query or the data source", k, strings.TrimPrefix(k, "$__"))
		}
		sql = strings.ReplaceAll(sql, k, table[k])
	}
	return sql, nil
}
