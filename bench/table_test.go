package bench

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// queryPage is one Query API response page.
type queryPage struct {
	ColumnInfo []tsColumn
	Rows       []json.RawMessage
}

// sqlTable decodes a Query API page and reads it into a Table with spec.
func sqlTable(t *testing.T, page string, spec *tableSpec) (Table, queryPage) {
	t.Helper()
	var out queryPage
	if err := json.Unmarshal([]byte(page), &out); err != nil {
		t.Fatal(err)
	}
	tb := Table{}
	if err := tb.addTimestreamRows(out.ColumnInfo, out.Rows, spec); err != nil {
		t.Fatal(err)
	}
	return tb, out
}

func TestTablesFromBothLanguagesCompare(t *testing.T) {
	// A double-groupby answer as the Timestream Query API writes it...
	page := `{"ColumnInfo":[{"Name":"hour","Type":{"ScalarType":"TIMESTAMP"}},{"Name":"hostname","Type":{"ScalarType":"VARCHAR"}},
		{"Name":"mean_usage_user","Type":{"ScalarType":"DOUBLE"}},{"Name":"mean_usage_system","Type":{"ScalarType":"DOUBLE"}}],
		"Rows":[{"Data":[{"ScalarValue":"2024-01-01 01:00:00.000000000"},{"ScalarValue":"host_1"},{"ScalarValue":"48.5"},{"NullValue":true}]},
		        {"Data":[{"ScalarValue":"2024-01-01 00:00:00.000000000"},{"ScalarValue":"host_0"},{"ScalarValue":"1e1"},{"ScalarValue":"2"}]}]}`
	sql, _ := sqlTable(t, page, nil)
	if len(sql) != 2 || sql["1704067200000|host_0"][0] != 10 || sql["1704067200000|host_0"][1] != 2 ||
		sql["1704070800000|host_1"][0] != 48.5 || !math.IsNaN(sql["1704070800000|host_1"][1]) {
		t.Fatalf("SQL table %v", sql)
	}
	// ...and as InfluxDB writes it with epoch=ms (one series per host).
	var resp influxResponse
	body := `{"results":[{"series":[
		{"name":"cpu","tags":{"hostname":"host_0"},"columns":["time","mean","mean_1"],"values":[[1704067200000,10,2]]},
		{"name":"cpu","tags":{"hostname":"host_1"},"columns":["time","mean","mean_1"],"values":[[1704070800000,48.5,null]]}]}]}`
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	influx, err := influxTable(&resp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := compareTables(sql, influx); d != "" {
		t.Fatalf("same answers differ: %s\n%v\n%v", d, sql, influx)
	}
	influx["1704067200000|host_0"][0] = 10.5
	if d := compareTables(sql, influx); d != "row 1704067200000|host_0 value 0: 10 vs 10.5" {
		t.Errorf("changed value: %q", d)
	}
	delete(influx, "1704067200000|host_0")
	if d := compareTables(sql, influx); !strings.HasPrefix(d, "row 1704067200000|host_0 missing") {
		t.Errorf("missing row: %q", d)
	}
	influx["1704074400000|host_2"] = []float64{1, 2}
	influx["1704067200000|host_0"] = []float64{10, 2}
	if d := compareTables(sql, influx); !strings.HasPrefix(d, "extra row 1704074400000|host_2") {
		t.Errorf("extra row: %q", d)
	}
}

func TestAddTimestreamRowsErrors(t *testing.T) {
	cols := []tsColumn{{Name: "t"}, {Name: "v"}}
	cols[0].Type.ScalarType = "TIMESTAMP"
	cols[1].Type.ScalarType = "DOUBLE"
	tests := []struct{ row, want string }{
		{`{"Data":[{"ScalarValue":"2024-01-01 00:00:00"}]}`, "1 values for 2 columns"},
		{`{"Data":[{"NullValue":true},{"ScalarValue":"1"}]}`, "NULL time"},
		{`{"Data":[{"ScalarValue":"yesterday"},{"ScalarValue":"1"}]}`, "column t"},
		{`{"Data":[{"ScalarValue":"2024-01-01 00:00:00"},{"ScalarValue":"x"}]}`, "column v"},
		{`[`, "decode query row"},
	}
	for _, tc := range tests {
		err := Table{}.addTimestreamRows(cols, []json.RawMessage{json.RawMessage(tc.row)}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("row %s: err = %v, want %q", tc.row, err, tc.want)
		}
	}
}

func TestNamedTablesCompareAcrossColumnOrders(t *testing.T) {
	// A last-loc answer: SQL has the columns in its own order plus one the
	// spec ignores; InfluxDB has name and driver as tags, the values as
	// columns after time.
	spec := &tableSpec{Time: true, Keys: []string{"name", "driver"}, Vals: []string{"latitude", "longitude"}}
	page := `{"ColumnInfo":[{"Name":"driver","Type":{"ScalarType":"VARCHAR"}},{"Name":"name","Type":{"ScalarType":"VARCHAR"}},
		{"Name":"time","Type":{"ScalarType":"TIMESTAMP"}},{"Name":"longitude","Type":{"ScalarType":"DOUBLE"}},
		{"Name":"latitude","Type":{"ScalarType":"DOUBLE"}},{"Name":"extra","Type":{"ScalarType":"BIGINT"}}],
		"Rows":[{"Data":[{"ScalarValue":"Seth"},{"ScalarValue":"truck_1"},{"ScalarValue":"2024-01-01 00:09:50.000000000"},{"NullValue":true},{"ScalarValue":"12.5"},{"ScalarValue":"7"}]}]}`
	sql, out := sqlTable(t, page, spec)
	row := sql["1704067790000|truck_1|Seth"]
	if len(sql) != 1 || len(row) != 2 || row[0] != 12.5 || !math.IsNaN(row[1]) {
		t.Fatalf("SQL table %v", sql)
	}
	var resp influxResponse
	body := `{"results":[{"series":[{"name":"readings","tags":{"driver":"Seth","name":"truck_1"},"columns":["time","latitude","longitude"],
		"values":[[1704067790000,12.5,null]]}]}]}`
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	influx, err := influxTable(&resp, spec)
	if err != nil {
		t.Fatal(err)
	}
	if d := compareTables(sql, influx); d != "" {
		t.Fatalf("same answers differ: %s\n%v\n%v", d, sql, influx)
	}
	// A key may be a column too (InfluxDB subqueries return some tags so).
	colSpec := &tableSpec{Keys: []string{"name"}, Vals: []string{"latitude"}}
	if err := json.Unmarshal([]byte(`{"results":[{"series":[{"name":"readings","columns":["time","name","latitude"],"values":[[1,"truck_1",3]]}]}]}`), &resp); err != nil {
		t.Fatal(err)
	}
	if tb, err := influxTable(&resp, colSpec); err != nil || len(tb) != 1 || tb["0|truck_1"][0] != 3 {
		t.Errorf("key from a column: %v, %v", tb, err)
	}
	// A column the spec names and the answer lacks is an error, not a
	// silent NaN.
	missing := &tableSpec{Keys: []string{"fleet"}, Vals: []string{"latitude"}}
	if err := (Table{}).addTimestreamRows(out.ColumnInfo, out.Rows, missing); err == nil || !strings.Contains(err.Error(), `no column "fleet"`) {
		t.Errorf("SQL answer without the key column: %v", err)
	}
	if _, err := influxTable(&resp, &tableSpec{Vals: []string{"mean_load"}}); err == nil || !strings.Contains(err.Error(), `no column "mean_load"`) {
		t.Errorf("influx answer without the value column: %v", err)
	}
}

// FuzzAnswerTables feeds arbitrary bodies to the Query API page and
// InfluxDB answer readers, positional and by name: a malformed answer is
// an error, never a panic.
func FuzzAnswerTables(f *testing.F) {
	f.Add([]byte(`{"ColumnInfo":[{"Name":"time","Type":{"ScalarType":"TIMESTAMP"}},{"Name":"name","Type":{"ScalarType":"VARCHAR"}},{"Name":"v","Type":{"ScalarType":"DOUBLE"}}],"Rows":[{"Data":[{"ScalarValue":"2024-01-01 00:00:00.000000000"},{"ScalarValue":"a"},{"NullValue":true}]}]}`))
	f.Add([]byte(`{"results":[{"series":[{"name":"r","tags":{"name":"a"},"columns":["time","v"],"values":[[1,2],[3,null],["x",1]]}]}]}`))
	f.Add([]byte(`{"Rows":[{"Data":[]}],"results":[{"series":[{"values":[[]]}]}]}`))
	specs := []*tableSpec{nil, {Time: true, Keys: []string{"name"}, Vals: []string{"v"}}, {Vals: []string{"v"}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var page queryPage
		var resp influxResponse
		for _, spec := range specs {
			if json.Unmarshal(body, &page) == nil {
				_ = Table{}.addTimestreamRows(page.ColumnInfo, page.Rows, spec)
			}
			if json.Unmarshal(body, &resp) == nil {
				_, _ = influxTable(&resp, spec)
			}
		}
	})
}
