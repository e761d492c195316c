package plugin

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Result formats of the query model, numbered as Grafana's Timestream
// data source numbers them so its dashboards move over.
const (
	FormatTable      = 0
	FormatTimeSeries = 1
)

// Wire layouts of TIMESTAMP, DATE and TIME values.
const (
	layoutTimestamp = "2006-01-02 15:04:05.999999999"
	layoutDate      = "2006-01-02"
	layoutTime      = "15:04:05.999999999"
)

// queryResult is every page of one query, concatenated.
type queryResult struct {
	Columns   []types.ColumnInfo
	Rows      []types.Row
	QueryID   string
	NextToken string // set when paging stopped before the end
	Pages     int
	Status    *types.QueryStatus
}

// resultMeta is the custom metadata of a result's first frame.
type resultMeta struct {
	QueryID      string `json:"queryId,omitempty"`
	NextToken    string `json:"nextToken,omitempty"`
	Pages        int    `json:"pages"`
	Rows         int    `json:"rows"`
	BytesScanned int64  `json:"bytesScanned,omitempty"`
	BytesMetered int64  `json:"bytesMetered,omitempty"`
	HasSeries    bool   `json:"hasSeries,omitempty"`
}

// toFrames turns a result into data frames: one frame per series when the
// result has TIMESERIES columns, else one table frame, turned from long to
// wide when format asks for time series. The first frame carries the meta.
func toFrames(res *queryResult, format int, name, executed string) (data.Frames, error) {
	meta := resultMeta{QueryID: res.QueryID, NextToken: res.NextToken, Pages: res.Pages, Rows: len(res.Rows)}
	if res.Status != nil {
		meta.BytesScanned, meta.BytesMetered = res.Status.CumulativeBytesScanned, res.Status.CumulativeBytesMetered
	}
	var (
		frames  data.Frames
		notices []data.Notice
		err     error
	)
	if seriesColumns(res.Columns) != nil {
		meta.HasSeries = true
		frames, notices, err = seriesFrames(res)
	} else {
		var f *data.Frame
		f, notices, err = tableFrame(res, name, format == FormatTimeSeries)
		if err == nil && format == FormatTimeSeries {
			f, notices, err = toWide(f, notices)
		}
		frames = data.Frames{f}
	}
	if err != nil {
		return nil, err
	}
	if len(frames) == 0 {
		frames = data.Frames{data.NewFrame(name)}
	}
	m := frames[0].Meta
	if m == nil {
		m = &data.FrameMeta{}
	}
	m.ExecutedQueryString = executed
	m.Custom = meta
	m.Notices = append(m.Notices, notices...)
	if res.NextToken != "" {
		m.Notices = append(m.Notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: "More rows are available: turn on \"Wait for all queries\" to fetch every page."})
	}
	frames[0].SetMeta(m)
	return frames, nil
}

// seriesColumns returns the indexes of TIMESERIES columns, nil if none.
func seriesColumns(cols []types.ColumnInfo) []int {
	var idx []int
	for i, c := range cols {
		if c.Type != nil && c.Type.TimeSeriesMeasureValueColumnInfo != nil {
			idx = append(idx, i)
		}
	}
	return idx
}

// toWide turns a long frame into a wide one, as graphs and alerting want.
// A frame that is not long (no time column, or no number) stays a table,
// with a notice saying why.
func toWide(f *data.Frame, notices []data.Notice) (*data.Frame, []data.Notice, error) {
	if f.Rows() == 0 {
		return f, notices, nil
	}
	switch f.TimeSeriesSchema().Type {
	case data.TimeSeriesTypeLong:
		w, err := data.LongToWide(f, &data.FillMissing{Mode: data.FillModeNull})
		if err != nil {
			// Such as a NULL time: show the rows rather than nothing.
			return f, append(notices, data.Notice{Severity: data.NoticeSeverityWarning,
				Text: fmt.Sprintf("Cannot show as time series (%v): shown as a table.", err)}), nil
		}
		w.Meta = f.Meta
		return w, notices, nil
	case data.TimeSeriesTypeWide:
		return f, notices, nil
	}
	return f, append(notices, data.Notice{Severity: data.NoticeSeverityWarning,
		Text: "Format is Time series but the result has no time column and number column: shown as a table."}), nil
}

// tableFrame builds one frame with a typed, nullable field per column.
// With sortByTime the rows are ordered by the first time column, which
// the long-to-wide conversion needs.
func tableFrame(res *queryResult, name string, sortByTime bool) (*data.Frame, []data.Notice, error) {
	f := data.NewFrame(name)
	var notices []data.Notice
	badCells := 0
	rows := res.Rows
	timeCol := -1
	for i, c := range res.Columns {
		if scalarType(c) == types.ScalarTypeTimestamp {
			timeCol = i
			break
		}
	}
	if sortByTime && timeCol >= 0 {
		rows = append([]types.Row(nil), rows...)
		keys := make([]time.Time, len(rows))
		for i, r := range rows {
			if timeCol < len(r.Data) {
				if v, _ := parseScalar(types.ScalarTypeTimestamp, r.Data[timeCol]); v.(*time.Time) != nil {
					keys[i] = *v.(*time.Time)
				}
			}
		}
		idx := make([]int, len(rows))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]].Before(keys[idx[b]]) })
		sorted := make([]types.Row, len(rows))
		for i, j := range idx {
			sorted[i] = rows[j]
		}
		rows = sorted
	}
	for ci, c := range res.Columns {
		st := scalarType(c)
		field := newField(aws.ToString(c.Name), st)
		if st == "" {
			field.Config = &data.FieldConfig{Custom: map[string]any{"displayMode": "json-view"}}
		}
		for _, r := range rows {
			var d types.Datum
			if ci < len(r.Data) {
				d = r.Data[ci]
			}
			if st == "" {
				field.Append(jsonString(d))
				continue
			}
			v, ok := parseScalar(st, d)
			if !ok {
				badCells++
			}
			field.Append(v)
		}
		f.Fields = append(f.Fields, field)
	}
	if badCells > 0 {
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("%d values could not be parsed and are shown as empty.", badCells)})
	}
	return f, notices, nil
}

// seriesFrames makes one [time, value] frame per row and TIMESERIES
// column, labelled with the row's other non-null scalar columns.
func seriesFrames(res *queryResult) (data.Frames, []data.Notice, error) {
	var (
		frames  data.Frames
		notices []data.Notice
	)
	ts := seriesColumns(res.Columns)
	for _, r := range res.Rows {
		labels := data.Labels{}
		for i, c := range res.Columns {
			st := scalarType(c)
			if st == "" || i >= len(r.Data) || r.Data[i].ScalarValue == nil {
				continue
			}
			labels[aws.ToString(c.Name)] = aws.ToString(r.Data[i].ScalarValue)
		}
		for _, i := range ts {
			c := res.Columns[i]
			vt := types.ScalarTypeDouble
			if inner := c.Type.TimeSeriesMeasureValueColumnInfo; inner != nil {
				if s := scalarType(*inner); s != "" {
					vt = s
				}
			}
			tf := data.NewField("time", nil, []*time.Time{})
			vf := newField(aws.ToString(c.Name), vt)
			vf.Labels = labels.Copy()
			var points []types.TimeSeriesDataPoint
			if i < len(r.Data) {
				points = r.Data[i].TimeSeriesValue
			}
			bad := 0
			for _, p := range points {
				t, err := time.Parse(layoutTimestamp, aws.ToString(p.Time))
				if err != nil {
					bad++
					continue
				}
				var d types.Datum
				if p.Value != nil {
					d = *p.Value
				}
				v, ok := parseScalar(vt, d)
				if !ok {
					bad++
				}
				tf.Append(&t)
				vf.Append(v)
			}
			if bad > 0 {
				notices = append(notices, data.Notice{Severity: data.NoticeSeverityWarning,
					Text: fmt.Sprintf("%d points of series %s could not be parsed.", bad, labels)})
			}
			frames = append(frames, data.NewFrame(aws.ToString(c.Name), tf, vf))
		}
	}
	return frames, notices, nil
}

// scalarType is a column's scalar type, "" for arrays, rows and series.
func scalarType(c types.ColumnInfo) types.ScalarType {
	if c.Type == nil || c.Type.ArrayColumnInfo != nil || c.Type.RowColumnInfo != nil || c.Type.TimeSeriesMeasureValueColumnInfo != nil {
		return ""
	}
	return c.Type.ScalarType
}

// newField is an empty nullable field for values of type st.
func newField(name string, st types.ScalarType) *data.Field {
	switch st {
	case types.ScalarTypeBigint:
		return data.NewField(name, nil, []*int64{})
	case types.ScalarTypeInteger:
		return data.NewField(name, nil, []*int32{})
	case types.ScalarTypeDouble:
		return data.NewField(name, nil, []*float64{})
	case types.ScalarTypeBoolean:
		return data.NewField(name, nil, []*bool{})
	case types.ScalarTypeTimestamp, types.ScalarTypeDate, types.ScalarTypeTime:
		return data.NewField(name, nil, []*time.Time{})
	}
	return data.NewField(name, nil, []*string{})
}

// parseScalar converts d to the pointer type newField(st) holds; nil for
// NULL. ok is false when the text does not parse (the value is then nil).
func parseScalar(st types.ScalarType, d types.Datum) (v any, ok bool) {
	s := d.ScalarValue
	null := s == nil || aws.ToBool(d.NullValue)
	switch st {
	case types.ScalarTypeBigint:
		if null {
			return (*int64)(nil), true
		}
		n, err := strconv.ParseInt(*s, 10, 64)
		if err != nil {
			return (*int64)(nil), false
		}
		return &n, true
	case types.ScalarTypeInteger:
		if null {
			return (*int32)(nil), true
		}
		n, err := strconv.ParseInt(*s, 10, 32)
		if err != nil {
			return (*int32)(nil), false
		}
		n32 := int32(n)
		return &n32, true
	case types.ScalarTypeDouble:
		if null {
			return (*float64)(nil), true
		}
		f, err := strconv.ParseFloat(*s, 64)
		if err != nil {
			return (*float64)(nil), false
		}
		return &f, true
	case types.ScalarTypeBoolean:
		if null {
			return (*bool)(nil), true
		}
		b, err := strconv.ParseBool(*s)
		if err != nil {
			return (*bool)(nil), false
		}
		return &b, true
	case types.ScalarTypeTimestamp, types.ScalarTypeDate, types.ScalarTypeTime:
		if null {
			return (*time.Time)(nil), true
		}
		layout := layoutTimestamp
		switch st {
		case types.ScalarTypeDate:
			layout = layoutDate
		case types.ScalarTypeTime:
			layout = layoutTime
		}
		t, err := time.Parse(layout, *s)
		if err != nil {
			return (*time.Time)(nil), false
		}
		if st == types.ScalarTypeTime {
			t = t.AddDate(1970, 0, 0) // a time of day, anchored on 1970-01-01
		}
		return &t, true
	}
	if null {
		return (*string)(nil), true
	}
	str := *s
	return &str, true
}

// jsonString renders an array, row or series value as JSON text; nil for
// NULL.
func jsonString(d types.Datum) *string {
	if aws.ToBool(d.NullValue) {
		return nil
	}
	b, err := json.Marshal(datumValue(d))
	if err != nil {
		s := err.Error()
		return &s
	}
	s := string(b)
	return &s
}

// datumValue is d as plain JSON-able values.
func datumValue(d types.Datum) any {
	switch {
	case aws.ToBool(d.NullValue):
		return nil
	case d.ScalarValue != nil:
		return *d.ScalarValue
	case d.RowValue != nil:
		out := make([]any, len(d.RowValue.Data))
		for i, e := range d.RowValue.Data {
			out[i] = datumValue(e)
		}
		return out
	case d.TimeSeriesValue != nil:
		out := make([]any, len(d.TimeSeriesValue))
		for i, p := range d.TimeSeriesValue {
			var v any
			if p.Value != nil {
				v = datumValue(*p.Value)
			}
			out[i] = map[string]any{"time": aws.ToString(p.Time), "value": v}
		}
		return out
	}
	out := make([]any, len(d.ArrayValue))
	for i, e := range d.ArrayValue {
		out[i] = datumValue(e)
	}
	return out
}

// firstColumnStrings is the first column of res as text, for pickers and
// variable queries.
func firstColumnStrings(res *queryResult) []string {
	out := make([]string, 0, len(res.Rows))
	for _, r := range res.Rows {
		if len(r.Data) > 0 && r.Data[0].ScalarValue != nil {
			out = append(out, strings.TrimSpace(*r.Data[0].ScalarValue))
		}
	}
	return out
}
