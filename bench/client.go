package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxAnswerBytes bounds one query response body.
const maxAnswerBytes = 256 << 20

// Series is one series of a PromQL answer: its labels in canonical form
// (sorted "name=value" pairs, __name__ without the layout prefix) and its
// points.
type Series struct {
	Labels string
	Points []SamplePoint
}

// SamplePoint is one (time, value) of a PromQL answer; T is milliseconds.
type SamplePoint struct {
	T int64
	V float64
}

// Answer is the canonical form of a PromQL answer: series sorted by
// labels.
type Answer []Series

// Samples counts the points of a.
func (a Answer) Samples() int {
	n := 0
	for _, s := range a {
		n += len(s.Points)
	}
	return n
}

type promResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

// promQueryRange runs r against the Prometheus HTTP API at base and returns
// the canonical answer; __name__ values are turned into field names by n.
func promQueryRange(ctx context.Context, hc *http.Client, base string, r PromRange, n Naming) (Answer, error) {
	v := url.Values{}
	v.Set("query", r.Expr)
	v.Set("start", strconv.FormatInt(r.Start.Unix(), 10))
	v.Set("end", strconv.FormatInt(r.End.Unix(), 10))
	v.Set("step", strconv.FormatInt(int64(r.Step.Seconds()), 10))
	body, err := doPost(ctx, hc, base+"/api/v1/query_range", "application/x-www-form-urlencoded", []byte(v.Encode()), nil)
	if err != nil {
		return nil, err
	}
	return decodePromAnswer(body, n)
}

// decodePromAnswer parses a query_range response body into an Answer,
// with metric names stripped to field names by n.
func decodePromAnswer(body []byte, n Naming) (Answer, error) {
	var resp promResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("decode query_range response: %w", err)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("query_range: %s: %s", resp.ErrorType, resp.Error)
	}
	if resp.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("query_range: result type %q, want matrix", resp.Data.ResultType)
	}
	out := make(Answer, 0, len(resp.Data.Result))
	for _, r := range resp.Data.Result {
		pairs := make([]string, 0, len(r.Metric))
		for k, v := range r.Metric {
			if k == "__name__" {
				v = n.strip(v)
			}
			pairs = append(pairs, k+"="+v)
		}
		slices.Sort(pairs)
		s := Series{Labels: "{" + strings.Join(pairs, ",") + "}", Points: make([]SamplePoint, 0, len(r.Values))}
		for _, pv := range r.Values {
			ts, ok1 := pv[0].(float64)
			vs, ok2 := pv[1].(string)
			if !ok1 || !ok2 {
				return nil, errors.New("query_range: malformed point")
			}
			f, err := strconv.ParseFloat(vs, 64)
			if err != nil {
				return nil, fmt.Errorf("query_range: parse value %q: %w", vs, err)
			}
			s.Points = append(s.Points, SamplePoint{T: int64(ts*1000 + 0.5), V: f})
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Series) int { return strings.Compare(a.Labels, b.Labels) })
	return out, nil
}

// timestreamQuery runs sql through the Timestream Query API at base (POST /
// with X-Amz-Target Timestream_20181101.Query), following NextToken, and
// returns the number of rows.
func timestreamQuery(ctx context.Context, hc *http.Client, base, sql string) (int, error) {
	return timestreamQueryTable(ctx, hc, base, sql, nil, nil)
}

// timestreamQueryTable is timestreamQuery that also adds the rows to t
// when t is not nil (see Table.addTimestreamRows for spec).
func timestreamQueryTable(ctx context.Context, hc *http.Client, base, sql string, t Table, spec *tableSpec) (int, error) {
	rows := 0
	token := ""
	h := http.Header{}
	h.Set("X-Amz-Target", "Timestream_20181101.Query")
	for page := 0; ; page++ {
		in := map[string]string{"QueryString": sql}
		if token != "" {
			in["NextToken"] = token
		}
		raw, _ := json.Marshal(in)
		body, err := doPost(ctx, hc, base+"/", "application/x-amz-json-1.0", raw, h)
		if err != nil {
			return rows, err
		}
		var out struct {
			ColumnInfo []tsColumn        `json:"ColumnInfo"`
			Rows       []json.RawMessage `json:"Rows"`
			NextToken  string            `json:"NextToken"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return rows, fmt.Errorf("decode query response: %w", err)
		}
		rows += len(out.Rows)
		if t != nil {
			if err := t.addTimestreamRows(out.ColumnInfo, out.Rows, spec); err != nil {
				return rows, err
			}
		}
		if out.NextToken == "" || page > 100000 {
			return rows, nil
		}
		token = out.NextToken
	}
}

type influxResponse struct {
	Results []struct {
		Error  string `json:"error"`
		Series []struct {
			Tags    map[string]string `json:"tags"`
			Columns []string          `json:"columns"`
			Values  [][]any           `json:"values"`
		} `json:"series"`
	} `json:"results"`
}

// influxRun runs q against InfluxDB 1.x at base and returns its results,
// with times as epoch milliseconds.
func influxRun(ctx context.Context, hc *http.Client, base, q string) (*influxResponse, error) {
	v := url.Values{}
	v.Set("db", Database)
	v.Set("q", q)
	v.Set("epoch", "ms")
	body, err := doPost(ctx, hc, base+"/query", "application/x-www-form-urlencoded", []byte(v.Encode()), nil)
	if err != nil {
		return nil, err
	}
	var out influxResponse
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("decode influx response: %w", err)
	}
	for _, r := range out.Results {
		if r.Error != "" {
			return nil, fmt.Errorf("influxql: %s", r.Error)
		}
	}
	return &out, nil
}

// influxQuery runs q and returns the number of result rows.
func influxQuery(ctx context.Context, hc *http.Client, base, q string) (int, error) {
	out, err := influxRun(ctx, hc, base, q)
	if err != nil {
		return 0, err
	}
	rows := 0
	for _, r := range out.Results {
		for _, s := range r.Series {
			rows += len(s.Values)
		}
	}
	return rows, nil
}

// influxQueryTable runs q and returns its row count and canonical table
// (see influxTable for spec).
func influxQueryTable(ctx context.Context, hc *http.Client, base, q string, spec *tableSpec) (int, Table, error) {
	out, err := influxRun(ctx, hc, base, q)
	if err != nil {
		return 0, nil, err
	}
	t, err := influxTable(out, spec)
	if err != nil {
		return 0, nil, err
	}
	return len(t), t, nil
}

// influxSum runs q and returns the sum of the numbers in its result rows
// (the time column is a string and is skipped).
func influxSum(ctx context.Context, hc *http.Client, base, q string) (float64, error) {
	out, err := influxRun(ctx, hc, base, q)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, r := range out.Results {
		for _, s := range r.Series {
			for _, row := range s.Values {
				for _, v := range row {
					if f, ok := v.(float64); ok {
						sum += f
					}
				}
			}
		}
	}
	return sum, nil
}

// doPost sends one POST and returns the body of a 2xx answer; any other
// status is an error carrying the start of the body.
func doPost(ctx context.Context, hc *http.Client, u, ctype string, body []byte, h http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", u, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s: %w", u, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := string(bytes.TrimSpace(out))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return nil, fmt.Errorf("post %s: %s: %s", u, resp.Status, msg)
	}
	return out, nil
}
