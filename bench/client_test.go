package bench

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodePromAnswer(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		naming  Naming
		want    Answer
		wantErr string
	}{
		{
			name:   "sorted, prefix stripped, values parsed",
			naming: NamingPrometheus,
			body: `{"status":"success","data":{"resultType":"matrix","result":[
				{"metric":{"hostname":"host_2","__name__":"cpu_usage_user"},"values":[[1704067260,"58"],[1704067320.5,"NaN"]]},
				{"metric":{"hostname":"host_1"},"values":[[1704067260,"1e3"]]}]}}`,
			want: Answer{
				{Labels: "{__name__=usage_user,hostname=host_2}", Points: []SamplePoint{{1704067260000, 58}, {1704067320500, math.NaN()}}},
				{Labels: "{hostname=host_1}", Points: []SamplePoint{{1704067260000, 1000}}},
			},
		},
		{name: "empty", body: `{"status":"success","data":{"resultType":"matrix","result":[]}}`, want: Answer{}},
		{name: "error status", body: `{"status":"error","errorType":"bad_data","error":"parse error"}`, wantErr: "bad_data: parse error"},
		{name: "vector", body: `{"status":"success","data":{"resultType":"vector","result":[]}}`, wantErr: `result type "vector"`},
		{name: "bad value", body: `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}`, wantErr: `parse value "x"`},
		{name: "bad point", body: `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["1",2]]}]}}`, wantErr: "malformed point"},
		{name: "not json", body: `<html>`, wantErr: "decode query_range response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodePromAnswer([]byte(tc.body), tc.naming)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := compareAnswers(tc.want, got); d != "" || len(got) != len(tc.want) {
				t.Fatalf("answer differs: %s\ngot  %+v\nwant %+v", d, got, tc.want)
			}
		})
	}
}

// encodePromAnswer writes a in the query_range JSON format.
func encodePromAnswer(a Answer) []byte {
	type res struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	out := struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []res  `json:"result"`
		} `json:"data"`
	}{Status: "success"}
	out.Data.ResultType = "matrix"
	out.Data.Result = []res{}
	for _, s := range a {
		m := map[string]string{}
		inner := strings.TrimSuffix(strings.TrimPrefix(s.Labels, "{"), "}")
		if inner != "" {
			for kv := range strings.SplitSeq(inner, ",") {
				k, v, _ := strings.Cut(kv, "=")
				m[k] = v
			}
		}
		r := res{Metric: m}
		for _, p := range s.Points {
			r.Values = append(r.Values, [2]any{float64(p.T) / 1000, strconv.FormatFloat(p.V, 'g', -1, 64)})
		}
		out.Data.Result = append(out.Data.Result, r)
	}
	b, _ := json.Marshal(out)
	return b
}

func FuzzDecodePromAnswer(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"2"]]}]}}`), "host_1", int64(1704067260000), 58.5)
	f.Add([]byte(`{"status":"error"}`), "", int64(0), 0.0)
	f.Add([]byte(`[`), "x", int64(-1), math.Inf(1))
	f.Fuzz(func(t *testing.T, body []byte, host string, ts int64, v float64) {
		_, _ = decodePromAnswer(body, NamingPrometheus) // must not panic
		// Round trip: whatever we encode decodes to the same answer.
		if !utf8.ValidString(host) || strings.ContainsAny(host, ",={}") || ts < 0 || ts > 1<<50 {
			return
		}
		want := Answer{{Labels: "{hostname=" + host + "}", Points: []SamplePoint{{T: ts, V: v}}}}
		got, err := decodePromAnswer(encodePromAnswer(want), NamingTimestream)
		if err != nil {
			t.Fatalf("decode own encoding: %v", err)
		}
		if len(got) != 1 || len(got[0].Points) != 1 || got[0].Labels != want[0].Labels || got[0].Points[0].T != ts ||
			math.Float64bits(got[0].Points[0].V) != math.Float64bits(v) && !(math.IsNaN(v) && math.IsNaN(got[0].Points[0].V)) {
			t.Fatalf("round trip: got %+v, want %+v", got, want)
		}
	})
}

func TestTimestreamQueryFollowsNextToken(t *testing.T) {
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-Amz-Target"); got != "Timestream_20181101.Query" {
			t.Errorf("target %q", got)
		}
		var in struct{ QueryString, NextToken string }
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &in); err != nil || in.QueryString != "SELECT 1" {
			t.Errorf("body %s: %v", body, err)
		}
		tokens = append(tokens, in.NextToken)
		switch in.NextToken {
		case "":
			_, _ = io.WriteString(w, `{"Rows":[{"Data":[]},{"Data":[]}],"NextToken":"p2"}`)
		case "p2":
			_, _ = io.WriteString(w, `{"Rows":[{"Data":[]}]}`)
		}
	}))
	defer srv.Close()
	rows, err := timestreamQuery(context.Background(), srv.Client(), srv.URL, "SELECT 1")
	if err != nil || rows != 3 {
		t.Fatalf("rows, err = %d, %v; want 3, nil", rows, err)
	}
	if !reflect.DeepEqual(tokens, []string{"", "p2"}) {
		t.Errorf("tokens %q", tokens)
	}
}

func TestTimestreamQueryError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ValidationException","Message":"line 1:8: bad"}`)
	}))
	defer srv.Close()
	_, err := timestreamQuery(context.Background(), srv.Client(), srv.URL, "SELECT")
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), "ValidationException") {
		t.Fatalf("err = %v", err)
	}
}

func TestInfluxQueryCountsRows(t *testing.T) {
	tests := []struct {
		body    string
		want    int
		wantErr string
	}{
		{`{"results":[{"series":[{"values":[[1,2],[3,4]]},{"values":[[5,6]]}]}]}`, 3, ""},
		{`{"results":[{}]}`, 0, ""},
		{`{"results":[{"error":"database not found"}]}`, 0, "influxql: database not found"},
	}
	for _, tc := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			if r.Form.Get("db") != Database || r.Form.Get("q") != "SELECT 1" {
				t.Errorf("form %v", r.Form)
			}
			_, _ = io.WriteString(w, tc.body)
		}))
		rows, err := influxQuery(context.Background(), srv.Client(), srv.URL, "SELECT 1")
		srv.Close()
		if rows != tc.want || (tc.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: rows, err = %d, %v; want %d, %q", tc.body, rows, err, tc.want, tc.wantErr)
		}
	}
}

func TestCompareAnswers(t *testing.T) {
	base := Answer{{Labels: "{a=1}", Points: []SamplePoint{{1000, 1.5}, {2000, math.NaN()}}}}
	tests := []struct {
		name string
		got  Answer
		want string
	}{
		{"same", Answer{{Labels: "{a=1}", Points: []SamplePoint{{1000, 1.5}, {2000, math.NaN()}}}}, ""},
		{"within tolerance", Answer{{Labels: "{a=1}", Points: []SamplePoint{{1000, 1.5 * (1 + 1e-12)}, {2000, math.NaN()}}}}, ""},
		{"value", Answer{{Labels: "{a=1}", Points: []SamplePoint{{1000, 1.6}, {2000, math.NaN()}}}}, "{a=1} point 0: (1000, 1.5) vs (1000, 1.6)"},
		{"NaN vs number", Answer{{Labels: "{a=1}", Points: []SamplePoint{{1000, 1.5}, {2000, 0}}}}, "{a=1} point 1: (2000, NaN) vs (2000, 0)"},
		{"time", Answer{{Labels: "{a=1}", Points: []SamplePoint{{1000, 1.5}, {3000, math.NaN()}}}}, "{a=1} point 1: (2000, NaN) vs (3000, NaN)"},
		{"labels", Answer{{Labels: "{a=2}", Points: nil}}, "series 0: {a=1} vs {a=2}"},
		{"points", Answer{{Labels: "{a=1}", Points: []SamplePoint{{1000, 1.5}}}}, "{a=1}: 2 points vs 1 (first only in TidalDB: t=2000)"},
		{"peer has more", Answer{{Labels: "{a=1}", Points: []SamplePoint{{500, 1}, {1000, 1.5}, {2000, math.NaN()}}}}, "{a=1}: 2 points vs 3 (first only in peer: t=500)"},
		{"series", Answer{}, "1 series vs 0"},
	}
	for _, tc := range tests {
		if got := compareAnswers(base, tc.got); got != tc.want {
			t.Errorf("%s: compareAnswers = %q, want %q", tc.name, got, tc.want)
		}
	}
}
