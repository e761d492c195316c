package plugin

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"
)

var update = flag.Bool("update", false, "rewrite the golden frame files")

// wirePage is a Query response as the server sends it.
type wirePage struct {
	QueryId    string
	ColumnInfo []types.ColumnInfo
	Rows       []types.Row
}

// TestGoldenFrames turns recorded Query API responses (testdata/*.json,
// the wire JSON of TidalDB) into frames and compares them with the golden
// files (testdata/*.jsonc; rewrite with -update).
func TestGoldenFrames(t *testing.T) {
	for _, c := range []struct {
		name   string
		format int
	}{
		{"types_table", FormatTable},
		{"long_to_wide", FormatTimeSeries},
		{"long_as_table", FormatTable},
		{"create_time_series", FormatTable},
		{"not_a_series", FormatTimeSeries},
		{"empty", FormatTimeSeries},
		{"null_time", FormatTimeSeries},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := c.name
			if c.name == "long_as_table" {
				src = "long_to_wide"
			}
			b, err := os.ReadFile(filepath.Join("testdata", src+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var p wirePage
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			res := &queryResult{Columns: p.ColumnInfo, Rows: p.Rows, QueryID: p.QueryId, Pages: 1}
			frames, err := toFrames(res, c.format, "A", "SELECT ...")
			if err != nil {
				t.Fatal(err)
			}
			dr := backend.DataResponse{Frames: frames}
			experimental.CheckGoldenJSONResponse(t, "testdata", c.name, &dr, *update)
		})
	}
}

// FuzzParseScalar checks the value decoder never panics and that a value
// it accepts has the Go type the column's field holds.
func FuzzParseScalar(f *testing.F) {
	for _, s := range []string{"1", "-2.5e3", "NaN", "true", "2026-01-02 03:04:05.123456789", "2026-01-02", "10:11:12.5", "", "x"} {
		f.Add(s, false)
	}
	all := []types.ScalarType{types.ScalarTypeBigint, types.ScalarTypeInteger, types.ScalarTypeDouble, types.ScalarTypeBoolean,
		types.ScalarTypeTimestamp, types.ScalarTypeDate, types.ScalarTypeTime, types.ScalarTypeVarchar, types.ScalarTypeUnknown}
	f.Fuzz(func(t *testing.T, s string, null bool) {
		d := types.Datum{ScalarValue: aws.String(s)}
		if null {
			d = types.Datum{NullValue: aws.Bool(true)}
		}
		for _, st := range all {
			field := newField("x", st)
			v, parsed := parseScalar(st, d)
			field.Append(v) // panics if v is not the field's type
			if _, ok := field.ConcreteAt(0); ok != (parsed && !null) {
				t.Fatalf("%s %q null=%v parsed=%v: concrete=%v", st, s, null, parsed, ok)
			}
		}
		_ = jsonString(types.Datum{ArrayValue: []types.Datum{d, {RowValue: &types.Row{Data: []types.Datum{d}}}}})
	})
}

// FuzzToFrames feeds Query API pages (the testdata responses and their
// mutations) through the frame conversion in both formats: whatever the
// server sends, the plugin answers with frames or an error, never a panic.
func FuzzToFrames(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p wirePage
		if json.Unmarshal(b, &p) != nil {
			return
		}
		for _, format := range []int{FormatTable, FormatTimeSeries} {
			res := &queryResult{Columns: p.ColumnInfo, Rows: p.Rows}
			if frames, err := toFrames(res, format, "A", ""); err == nil && len(frames) == 0 {
				t.Fatal("no frames and no error")
			}
		}
	})
}
