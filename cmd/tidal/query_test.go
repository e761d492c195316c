package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	wtypes "github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"

	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/timestreamapi"
)

// cliEngine answers fixed SQL texts for the CLI tests (compared without
// comment lines and extra whitespace); anything else is a validation error
// at 1:15.
type cliEngine map[string]*exec.Result

func (e cliEngine) Query(_ context.Context, sql string, _ map[string]exec.Value) (*exec.Result, error) {
	// Match on the statement without comment lines and with single spaces.
	var words []string
	for _, line := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			words = append(words, strings.Fields(line)...)
		}
	}
	if res, ok := e[strings.Join(words, " ")]; ok {
		return res, nil
	}
	return nil, &exec.Error{Kind: exec.ErrValidation, Msg: "Table 'nope' does not exist", Line: 1, Col: 15}
}

func (e cliEngine) Prepare(string) ([]exec.Column, []exec.Param, error) { return nil, nil, nil }

func cliResults() cliEngine {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	rowT := exec.Type{Kind: exec.KindRow, Fields: []exec.Field{{Name: "a", Type: exec.TypeBigint}, {Name: "b", Type: exec.TypeVarchar}}}
	mixed := &exec.Result{
		Columns: []exec.Column{
			{Name: "host", Type: exec.TypeVarchar},
			{Name: "time", Type: exec.TypeTimestamp},
			{Name: "cpu", Type: exec.TypeDouble},
			{Name: "n", Type: exec.TypeBigint},
			{Name: "up", Type: exec.TypeBoolean},
			{Name: "arr", Type: exec.ArrayOf(exec.TypeBigint)},
			{Name: "r", Type: rowT},
			{Name: "ts", Type: exec.TimeSeriesOf(exec.TypeDouble)},
		},
		Rows: [][]exec.Value{
			{
				{Kind: exec.KindVarchar, S: "host_0"}, {Kind: exec.KindTimestamp, I: t0}, {Kind: exec.KindDouble, F: 35.25},
				{Kind: exec.KindBigint, I: 12}, {Kind: exec.KindBoolean, B: true},
				{Kind: exec.KindArray, Elems: []exec.Value{{Kind: exec.KindBigint, I: 1}, {Kind: exec.KindBigint, Null: true}}},
				{Kind: exec.KindRow, Elems: []exec.Value{{Kind: exec.KindBigint, I: 7}, {Kind: exec.KindVarchar, S: "x,y"}}},
				{Kind: exec.KindTimeSeries, Points: []exec.Point{{Time: t0, Value: exec.Value{Kind: exec.KindDouble, F: 1.5}}}},
			},
			{
				{Kind: exec.KindVarchar, S: "host_10"}, {Kind: exec.KindTimestamp, Null: true}, {Kind: exec.KindDouble, F: 1e-5},
				{Kind: exec.KindBigint, Null: true}, {Kind: exec.KindBoolean, B: false}, {Kind: exec.KindArray, Elems: []exec.Value{}},
				{Kind: exec.KindRow, Null: true}, {Kind: exec.KindTimeSeries, Null: true},
			},
		},
	}
	long := &exec.Result{
		Columns: []exec.Column{{Name: "id", Type: exec.TypeBigint}, {Name: "msg", Type: exec.TypeVarchar}},
		Rows: [][]exec.Value{
			{{Kind: exec.KindBigint, I: 1}, {Kind: exec.KindVarchar, S: "short"}},
			{{Kind: exec.KindBigint, I: 22}, {Kind: exec.KindVarchar, S: "a rather long message that does not fit"}},
		},
	}
	many := &exec.Result{Columns: []exec.Column{{Name: "i", Type: exec.TypeBigint}}}
	for i := range 2500 {
		many.Rows = append(many.Rows, []exec.Value{{Kind: exec.KindBigint, I: int64(i)}})
	}
	one := &exec.Result{Columns: []exec.Column{{Name: "x", Type: exec.TypeBigint}}, Rows: [][]exec.Value{{{Kind: exec.KindBigint, I: 1}}}}
	two := &exec.Result{Columns: []exec.Column{{Name: "y", Type: exec.TypeVarchar}}, Rows: [][]exec.Value{{{Kind: exec.KindVarchar, S: "it's"}}}}
	return cliEngine{"SELECT mixed": mixed, "SELECT long": long, "SELECT many": many, "SELECT 1": one, "SELECT 'it''s'": two}
}

// cliServer serves the Query API over cliResults and returns its URL.
func cliServer(t *testing.T) string {
	t.Helper()
	api := timestreamapi.New(cliResults(), timestreamapi.Options{})
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		srv.Close()
		_ = api.Close()
	})
	return srv.URL
}

func runQueryCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = queryCmd(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestQueryCommandFormats(t *testing.T) {
	url := cliServer(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"table", []string{"--width=-1", "SELECT mixed"}, "" +
			" host    | time                          | cpu    | n    | up    | arr       | r            | ts\n" +
			"---------+-------------------------------+--------+------+-------+-----------+--------------+---------------------------------------------------\n" +
			" host_0  | 2024-01-01 00:00:00.000000000 |  35.25 |   12 | true  | [1, NULL] | {a=7, b=x,y} | [{time=2024-01-01 00:00:00.000000000, value=1.5}]\n" +
			" host_10 | NULL                          | 1.0E-5 | NULL | false | []        | NULL         | NULL\n"},
		{"table fits width", []string{"--width=24", "SELECT long"}, "" +
			" id | msg\n" +
			"----+-------------------\n" +
			"  1 | short\n" +
			" 22 | a rather long me…\n"},
		{"csv", []string{"--format=csv", "SELECT mixed"}, "" +
			"host,time,cpu,n,up,arr,r,ts\n" +
			"host_0,2024-01-01 00:00:00.000000000,35.25,12,true,\"[1, NULL]\",\"{a=7, b=x,y}\",\"[{time=2024-01-01 00:00:00.000000000, value=1.5}]\"\n" +
			"host_10,,1.0E-5,,false,[],,\n"},
		{"json", []string{"--format=json", "SELECT mixed;"}, "" +
			`{"host":"host_0","time":"2024-01-01 00:00:00.000000000","cpu":35.25,"n":12,"up":true,"arr":[1,null],"r":{"a":7,"b":"x,y"},"ts":[{"time":"2024-01-01 00:00:00.000000000","value":1.5}]}` + "\n" +
			`{"host":"host_10","time":null,"cpu":1e-05,"n":null,"up":false,"arr":[],"r":null,"ts":null}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--endpoint", url, "--history="}, tt.args...)
			code, out, errOut := runQueryCmd(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			if out != tt.want {
				t.Errorf("stdout =\n%s\nwant\n%s", out, tt.want)
			}
			if !strings.HasPrefix(errOut, "(2 rows in ") || !strings.Contains(errOut, "0 B scanned, query ") {
				t.Errorf("timing line = %q", errOut)
			}
		})
	}
}

func TestQueryCommandFollowsNextToken(t *testing.T) {
	url := cliServer(t)
	code, out, errOut := runQueryCmd(t, "", "--endpoint", url, "--history=", "--format=csv", "--max-rows=300", "SELECT many")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2501 || lines[0] != "i" {
		t.Fatalf("got %d lines starting %q", len(lines), lines[0])
	}
	for i, l := range lines[1:] {
		if l != fmt.Sprint(i) {
			t.Fatalf("line %d = %q", i+1, l)
		}
	}
	if !strings.HasPrefix(errOut, "(2500 rows in ") {
		t.Errorf("timing line = %q", errOut)
	}
}

func TestQueryCommandErrors(t *testing.T) {
	url := cliServer(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"validation", []string{"--endpoint", url, "SELECT * FROM nope"}, 1, "tidal query: ValidationException: line 1:15: Table 'nope' does not exist\n"},
		{"bad format", []string{"--format=xml", "SELECT 1"}, 2, "tidal query: unknown --format \"xml\" (want table, csv or json)\n"},
		{"bad max rows", []string{"--max-rows=0", "SELECT 1"}, 2, "tidal query: --max-rows 0 out of range 1-1000\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runQueryCmd(t, "", append([]string{"--history="}, tt.args...)...)
			if code != tt.wantCode || errOut != tt.wantErr || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stderr %q", code, out, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestQueryShell(t *testing.T) {
	url := cliServer(t)
	hist := filepath.Join(t.TempDir(), "history")
	input := "SELECT 1;\n" +
		"\n" +
		"SELECT\n  'it''s'; SELECT * FROM nope;\n" +
		"-- a comment; with a semicolon\n" +
		"SELECT 1\n" +
		";\n" +
		"\\q\n" +
		"SELECT 'never';\n"
	code, out, errOut := runQueryCmd(t, input, "--endpoint", url, "--history", hist, "--format=csv")
	if code != 1 {
		t.Errorf("exit %d, want 1 (a statement failed and input is not a terminal)", code)
	}
	if want := "x\n1\ny\nit's\nx\n1\n"; out != want {
		t.Errorf("stdout =\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(errOut, "error: ValidationException: line 1:15: Table 'nope' does not exist\n") {
		t.Errorf("stderr = %q", errOut)
	}
	if n := strings.Count(errOut, "(1 row in "); n != 3 {
		t.Errorf("stderr has %d timing lines, want 3: %q", n, errOut)
	}
	data, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	wantHist := "SELECT 1\nSELECT 'it''s'\nSELECT * FROM nope\n-- a comment; with a semicolon SELECT 1\n"
	if string(data) != wantHist {
		t.Errorf("history =\n%q\nwant\n%q", data, wantHist)
	}
}

func TestQueryShellRunsLastStatementAtEOF(t *testing.T) {
	url := cliServer(t)
	code, out, errOut := runQueryCmd(t, "SELECT 1", "--endpoint", url, "--history=", "--format=json")
	if code != 0 || out != "{\"x\":1}\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		in       string
		want     []string
		wantRest string
	}{
		{"SELECT 1;", []string{"SELECT 1"}, ""},
		{"SELECT 1; SELECT 2;\n", []string{"SELECT 1", "SELECT 2"}, ""},
		{"SELECT ';'", nil, "SELECT ';'"},
		{"SELECT 'a;", nil, "SELECT 'a;"},
		{`SELECT "x;y" FROM t; SEL`, []string{`SELECT "x;y" FROM t`}, " SEL"},
		{"SELECT 1 -- c;\n;", []string{"SELECT 1 -- c;"}, ""},
		{"SELECT /* ; */ 1;", []string{"SELECT /* ; */ 1"}, ""},
		{";;", nil, ""},
		{"SELECT 'it''s;';", []string{"SELECT 'it''s;'"}, ""},
	}
	for _, tt := range tests {
		got, rest := splitStatements(tt.in)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) || rest != tt.wantRest {
			t.Errorf("splitStatements(%q) = %q, %q; want %q, %q", tt.in, got, rest, tt.want, tt.wantRest)
		}
	}
}

func TestFitWidths(t *testing.T) {
	tests := []struct {
		widths []int
		total  int
		want   []int
	}{
		{[]int{5, 10}, 0, []int{5, 10}},
		{[]int{5, 10}, 20, []int{5, 10}},
		{[]int{5, 40}, 20, []int{5, 10}},
		{[]int{30, 40}, 20, []int{7, 8}},
		{[]int{30, 40}, 5, []int{4, 4}},
	}
	for _, tt := range tests {
		w := append([]int(nil), tt.widths...)
		fitWidths(w, tt.total)
		if fmt.Sprint(w) != fmt.Sprint(tt.want) {
			t.Errorf("fitWidths(%v, %d) = %v, want %v", tt.widths, tt.total, w, tt.want)
		}
	}
}

// TestQueryCommandAgainstServer runs tidal query against the real server
// binary: records written through the Write API come back through the
// command, one-shot and from a piped shell.
func TestQueryCommandAgainstServer(t *testing.T) {
	srv := startServer(t, t.TempDir())
	ctx := ctxT(t)
	w := srv.writeClient()
	if _, err := w.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("clidb")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("clidb"), TableName: aws.String("cpu")}); err != nil {
		t.Fatal(err)
	}
	at := strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)
	var recs []wtypes.Record
	for h, v := range []string{"1.5", "2", "3.25"} {
		recs = append(recs, wtypes.Record{
			Dimensions:  []wtypes.Dimension{{Name: aws.String("host"), Value: aws.String(fmt.Sprintf("h%d", h))}},
			MeasureName: aws.String("usage"), MeasureValue: aws.String(v), Time: aws.String(at),
		})
	}
	if _, err := w.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("clidb"), TableName: aws.String("cpu"), Records: recs}); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runQueryCmd(t, "", "--endpoint", srv.url(), "--history=", "--format=csv",
		`SELECT host, measure_value::double AS v FROM "clidb"."cpu" ORDER BY host`)
	if code != 0 || out != "host,v\nh0,1.5\nh1,2.0\nh2,3.25\n" {
		t.Errorf("one-shot: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	shell := "SELECT count(*) AS n\n  FROM \"clidb\".\"cpu\";\nSELECT nope FROM \"clidb\".\"cpu\";\n"
	code, out, errOut = runQueryCmd(t, shell, "--endpoint", srv.url(), "--history=", "--width=80")
	if code != 1 || out != " n\n---\n 3\n" {
		t.Errorf("shell: exit %d, stdout %q", code, out)
	}
	if !strings.HasPrefix(errOut, "(1 row in ") || !strings.Contains(errOut, "error: ValidationException: line 1:8: ") {
		t.Errorf("shell stderr = %q", errOut)
	}
}

// blockingEngine runs every query until its context ends.
type blockingEngine struct {
	started  chan struct{}
	canceled chan struct{}
}

func (e blockingEngine) Query(ctx context.Context, _ string, _ map[string]exec.Value) (*exec.Result, error) {
	e.started <- struct{}{}
	<-ctx.Done()
	close(e.canceled)
	return nil, &exec.Error{Kind: exec.ErrCanceled, Msg: "Query was cancelled."}
}

func (blockingEngine) Prepare(string) ([]exec.Column, []exec.Param, error) { return nil, nil, nil }

// TestQueryCommandCancelsOnInterrupt checks that ending the statement's
// context (what Ctrl-C does) cancels the query on the server.
func TestQueryCommandCancelsOnInterrupt(t *testing.T) {
	eng := blockingEngine{started: make(chan struct{}, 1), canceled: make(chan struct{})}
	api := timestreamapi.New(eng, timestreamapi.Options{WaitTime: time.Millisecond})
	srv := httptest.NewServer(api)
	defer func() {
		srv.Close()
		_ = api.Close()
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-eng.started
		cancel()
	}()
	var out, errb bytes.Buffer
	o := queryOptions{format: "csv", maxRows: 10}
	err := runStatement(ctx, newQueryClient(srv.URL, "us-east-1"), "SELECT slow", o, &out, &errb)
	if err == nil || !strings.HasSuffix(err.Error(), " cancelled") {
		t.Fatalf("runStatement = %v, want a cancellation", err)
	}
	<-eng.canceled // the server cancelled the engine's query
	if out.Len() != 0 {
		t.Errorf("stdout = %q", out.String())
	}
}

func TestLoadHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hist")
	if err := os.WriteFile(path, []byte("SELECT 1\nSELECT 2\n\nSELECT 2\nSELECT 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := loadHistory(path, 2)
	if h.Len() != 2 || h.At(0) != "SELECT 3" || h.At(1) != "SELECT 2" {
		t.Errorf("history = %q, want the last two distinct lines", h.lines)
	}
	h.Add("SELECT 3") // repeated line: kept once
	h.Add("SELECT 4")
	if h.Len() != 2 || h.At(0) != "SELECT 4" || h.At(1) != "SELECT 3" {
		t.Errorf("after Add: %q", h.lines)
	}
	if empty := loadHistory(filepath.Join(t.TempDir(), "missing"), 5); empty.Len() != 0 {
		t.Errorf("missing file gave %d lines", empty.Len())
	}
}
