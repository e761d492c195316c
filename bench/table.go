package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Table is the canonical form of a tabular answer (Timestream SQL,
// InfluxQL), so that the two languages can be compared: each row is keyed
// by its time in milliseconds and its string columns in order ("ms|v1|v2"),
// and holds its numeric columns in order (NaN for NULL).
type Table map[string][]float64

// timestreamTimeLayout is how the Query API writes TIMESTAMP values.
const timestreamTimeLayout = "2006-01-02 15:04:05.999999999"

type tsColumn struct {
	Name string `json:"Name"`
	Type struct {
		ScalarType string `json:"ScalarType"`
	} `json:"Type"`
}

type tsDatum struct {
	ScalarValue *string `json:"ScalarValue"`
	NullValue   bool    `json:"NullValue"`
}

// tableSpec names the columns of a tabular answer that are compared,
// for query types whose SQL and InfluxQL answers do not line up column by
// column: the row key is the time (when Time) and the Keys columns (SQL
// columns; InfluxQL tags or columns), the values are the Vals columns.
// A nil spec means the positional form of Table.
type tableSpec struct {
	Time       bool
	Keys, Vals []string
}

// addTimestreamRows adds the rows of one Query API page to t, by column
// position (spec nil) or by column name.
func (t Table) addTimestreamRows(cols []tsColumn, rows []json.RawMessage, spec *tableSpec) error {
	if spec != nil {
		return t.addTimestreamNamed(cols, rows, spec)
	}
	for _, raw := range rows {
		data, err := decodeRow(raw, len(cols))
		if err != nil {
			return err
		}
		var ms int64
		var keys []string
		var vals []float64
		for i, c := range cols {
			d := data[i]
			switch c.Type.ScalarType {
			case "TIMESTAMP":
				if ms, err = tsMillis(d, c.Name); err != nil {
					return err
				}
			case "DOUBLE", "BIGINT", "INTEGER":
				v, err := tsNumber(d, c.Name)
				if err != nil {
					return err
				}
				vals = append(vals, v)
			default:
				s := ""
				if d.ScalarValue != nil {
					s = *d.ScalarValue
				}
				keys = append(keys, s)
			}
		}
		t.add(ms, keys, vals)
	}
	return nil
}

// addTimestreamNamed is addTimestreamRows by column name.
func (t Table) addTimestreamNamed(cols []tsColumn, rows []json.RawMessage, spec *tableSpec) error {
	index := map[string]int{}
	for i, c := range cols {
		index[c.Name] = i
	}
	col := func(name string) (int, error) {
		i, ok := index[name]
		if !ok {
			return 0, fmt.Errorf("answer has no column %q", name)
		}
		return i, nil
	}
	ti := -1
	if spec.Time {
		i, err := col("time")
		if err != nil {
			return err
		}
		ti = i
	}
	keyIdx := make([]int, len(spec.Keys))
	valIdx := make([]int, len(spec.Vals))
	for i, k := range spec.Keys {
		j, err := col(k)
		if err != nil {
			return err
		}
		keyIdx[i] = j
	}
	for i, v := range spec.Vals {
		j, err := col(v)
		if err != nil {
			return err
		}
		valIdx[i] = j
	}
	for _, raw := range rows {
		data, err := decodeRow(raw, len(cols))
		if err != nil {
			return err
		}
		var ms int64
		if ti >= 0 {
			if ms, err = tsMillis(data[ti], "time"); err != nil {
				return err
			}
		}
		keys := make([]string, len(keyIdx))
		for i, j := range keyIdx {
			if d := data[j]; d.ScalarValue != nil {
				keys[i] = *d.ScalarValue
			}
		}
		vals := make([]float64, len(valIdx))
		for i, j := range valIdx {
			if vals[i], err = tsNumber(data[j], cols[j].Name); err != nil {
				return err
			}
		}
		t.add(ms, keys, vals)
	}
	return nil
}

// decodeRow reads one Query API row of n columns.
func decodeRow(raw json.RawMessage, n int) ([]tsDatum, error) {
	var row struct {
		Data []tsDatum `json:"Data"`
	}
	if err := json.Unmarshal(raw, &row); err != nil {
		return nil, fmt.Errorf("decode query row: %w", err)
	}
	if len(row.Data) != n {
		return nil, fmt.Errorf("query row has %d values for %d columns", len(row.Data), n)
	}
	return row.Data, nil
}

// tsMillis reads a TIMESTAMP value of column col as Unix milliseconds.
func tsMillis(d tsDatum, col string) (int64, error) {
	if d.ScalarValue == nil {
		return 0, fmt.Errorf("column %s: NULL time", col)
	}
	ts, err := time.Parse(timestreamTimeLayout, *d.ScalarValue)
	if err != nil {
		return 0, fmt.Errorf("column %s: %w", col, err)
	}
	return ts.UnixMilli(), nil
}

// tsNumber reads a numeric value of column col (NULL is NaN).
func tsNumber(d tsDatum, col string) (float64, error) {
	if d.ScalarValue == nil {
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(*d.ScalarValue, 64)
	if err != nil {
		return 0, fmt.Errorf("column %s: %w", col, err)
	}
	return f, nil
}

func (t Table) add(ms int64, keys []string, vals []float64) {
	k := strconv.FormatInt(ms, 10)
	if len(keys) > 0 {
		k += "|" + strings.Join(keys, "|")
	}
	t[k] = vals
}

// influxTable converts an InfluxDB response made with epoch=ms: the key is
// the time and the series' tag values ordered by tag name, the values are
// the other columns (spec nil); or, with a spec, the named tags or
// columns.
func influxTable(out *influxResponse, spec *tableSpec) (Table, error) {
	if spec != nil {
		return influxNamed(out, spec)
	}
	t := Table{}
	for _, r := range out.Results {
		for _, s := range r.Series {
			tagKeys := make([]string, 0, len(s.Tags))
			for k := range s.Tags {
				tagKeys = append(tagKeys, k)
			}
			slices.Sort(tagKeys)
			tags := make([]string, len(tagKeys))
			for i, k := range tagKeys {
				tags[i] = s.Tags[k]
			}
			for _, row := range s.Values {
				if len(row) == 0 {
					continue
				}
				ms, ok := row[0].(float64)
				if !ok {
					return nil, fmt.Errorf("influx row time %v is not epoch milliseconds", row[0])
				}
				vals := make([]float64, 0, len(row)-1)
				for _, v := range row[1:] {
					f, ok := v.(float64)
					if !ok {
						f = math.NaN()
					}
					vals = append(vals, f)
				}
				t.add(int64(ms), tags, vals)
			}
		}
	}
	return t, nil
}

// compareTables returns "" when want and got have the same rows with the
// same values (within floatTolerance), otherwise the first difference in
// key order.
func compareTables(want, got Table) string {
	keys := make([]string, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		w, okw := want[k]
		g, okg := got[k]
		switch {
		case !okg:
			return fmt.Sprintf("row %s missing (%d rows vs %d)", k, len(want), len(got))
		case !okw:
			return fmt.Sprintf("extra row %s (%d rows vs %d)", k, len(want), len(got))
		case len(w) != len(g):
			return fmt.Sprintf("row %s: %d values vs %d", k, len(w), len(g))
		}
		for i := range w {
			if !sameFloat(w[i], g[i]) {
				return fmt.Sprintf("row %s value %d: %g vs %g", k, i, w[i], g[i])
			}
		}
	}
	return ""
}

// influxNamed is influxTable by column name: a key is a tag or a column,
// a value a column (null, missing or non-numeric: NaN).
func influxNamed(out *influxResponse, spec *tableSpec) (Table, error) {
	t := Table{}
	for _, r := range out.Results {
		for _, s := range r.Series {
			index := map[string]int{}
			for i, c := range s.Columns {
				index[c] = i
			}
			for _, row := range s.Values {
				var ms int64
				if spec.Time && len(row) > 0 {
					f, ok := row[0].(float64)
					if !ok {
						return nil, fmt.Errorf("influx row time %v is not epoch milliseconds", row[0])
					}
					ms = int64(f)
				}
				keys := make([]string, len(spec.Keys))
				for i, k := range spec.Keys {
					if v, ok := s.Tags[k]; ok {
						keys[i] = v
					} else if j, ok := index[k]; ok && j < len(row) {
						keys[i] = fmt.Sprint(row[j])
					} else {
						return nil, fmt.Errorf("influx answer has no tag or column %q", k)
					}
				}
				vals := make([]float64, len(spec.Vals))
				for i, v := range spec.Vals {
					j, ok := index[v]
					if !ok {
						return nil, fmt.Errorf("influx answer has no column %q", v)
					}
					vals[i] = math.NaN()
					if j < len(row) {
						if f, ok := row[j].(float64); ok {
							vals[i] = f
						}
					}
				}
				t.add(ms, keys, vals)
			}
		}
	}
	return t, nil
}
