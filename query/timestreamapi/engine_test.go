package timestreamapi

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	tsq "github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// engineStart is the first timestamp of the test data.
var engineStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// devopsTable creates devops.cpu in a fresh in-memory catalog and returns
// the catalog and the records of hosts hosts at a 10 s interval for steps
// steps: multi-measure "cpu" with usage_user and usage_system (DOUBLE) and
// note (VARCHAR, set on every tenth step only).
func devopsTable(t testing.TB, hosts, steps int) (*catalog.Catalog, []ingest.Record) {
	t.Helper()
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("devops", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "devops", Name: "cpu", Columns: []catalog.Column{
		{Name: "hostname", Kind: catalog.KindDimension, Type: ingest.TypeVarchar},
		{Name: "cpu", Kind: catalog.KindMeasureName, Type: ingest.TypeMulti},
		{Name: "usage_user", Kind: catalog.KindAttribute, Type: ingest.TypeDouble},
		{Name: "usage_system", Kind: catalog.KindAttribute, Type: ingest.TypeDouble},
		{Name: "note", Kind: catalog.KindAttribute, Type: ingest.TypeVarchar},
	}}); err != nil {
		t.Fatal(err)
	}
	var recs []ingest.Record
	for s := range steps {
		for h := range hosts {
			ms := []ingest.Measure{
				{Name: "usage_user", Value: ingest.Float(float64(s) + float64(h)/100)},
				{Name: "usage_system", Value: ingest.Float(float64(h))},
			}
			if s%10 == 0 {
				ms = append(ms, ingest.Measure{Name: "note", Value: ingest.String("step " + strconv.Itoa(s))})
			}
			recs = append(recs, ingest.Record{
				Time:        engineStart.Add(time.Duration(s) * 10 * time.Second).UnixNano(),
				Dimensions:  []ingest.Dimension{{Name: "hostname", Value: fmt.Sprintf("host_%d", h)}},
				MeasureName: "cpu",
				Measures:    ms,
			})
		}
	}
	return cat, recs
}

func newEngine(t testing.TB, hosts, steps int, wrap func(scan.Source) scan.Source) *exec.Engine {
	cat, recs := devopsTable(t, hosts, steps)
	var src scan.Source = scantest.NewModel(recs)
	if wrap != nil {
		src = wrap(src)
	}
	return exec.New(cat, src, exec.Options{Now: func() time.Time { return engineStart.Add(time.Hour) }})
}

// TestEnginePaging10k pages through 10,000 rows with MaxRows 100 using the
// SDK paginator against the real engine: every row exactly once, in order.
func TestEnginePaging10k(t *testing.T) {
	const hosts, steps = 10, 1000
	e := newTestEnv(t, newEngine(t, hosts, steps, nil), Options{})
	sql := "SELECT hostname, time, usage_user FROM devops.cpu ORDER BY time, hostname"
	p := tsq.NewQueryPaginator(e.client, &tsq.QueryInput{QueryString: aws.String(sql), MaxRows: aws.Int32(100)})
	pages, n := 0, 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		if len(out.Rows) != 100 {
			t.Fatalf("page %d has %d rows", pages, len(out.Rows))
		}
		if got := fmt.Sprintf("%s %s", aws.ToString(out.ColumnInfo[1].Name), out.ColumnInfo[1].Type.ScalarType); got != "time TIMESTAMP" {
			t.Fatalf("column 1 = %s", got)
		}
		for _, r := range out.Rows {
			s, h := n/hosts, n%hosts
			want := fmt.Sprintf("host_%d|%s|%s", h,
				engineStart.Add(time.Duration(s)*10*time.Second).Format(TimestampLayout),
				AppendDouble(nil, float64(s)+float64(h)/100))
			got := aws.ToString(r.Data[0].ScalarValue) + "|" + aws.ToString(r.Data[1].ScalarValue) + "|" + aws.ToString(r.Data[2].ScalarValue)
			if got != want {
				t.Fatalf("row %d = %s, want %s", n, got, want)
			}
			n++
		}
	}
	if pages != 100 || n != hosts*steps {
		t.Errorf("%d pages, %d rows; want 100 pages, %d rows", pages, n, hosts*steps)
	}
}

func TestEngineTypesAndNulls(t *testing.T) {
	e := newTestEnv(t, newEngine(t, 2, 3, nil), Options{})
	ctx := context.Background()
	tests := []struct {
		name     string
		sql      string
		wantCols string
		wantRows []string
	}{
		{"nested scalars", "SELECT ARRAY[1, 2] AS a, ROW(1, 'x') AS r, CAST(NULL AS BIGINT) AS n, DATE '2024-01-02' AS d, INTERVAL '1' DAY AS i",
			`[{"Name":"a","Type":{"ArrayColumnInfo":{"Type":{"ScalarType":"BIGINT"}}}},` +
				`{"Name":"r","Type":{"RowColumnInfo":[{"Name":"field0","Type":{"ScalarType":"BIGINT"}},{"Name":"field1","Type":{"ScalarType":"VARCHAR"}}]}},` +
				`{"Name":"n","Type":{"ScalarType":"BIGINT"}},{"Name":"d","Type":{"ScalarType":"DATE"}},{"Name":"i","Type":{"ScalarType":"INTERVAL_DAY_TO_SECOND"}}]`,
			[]string{`[1, 2] | {1, x} | NULL | 2024-01-02 | 1 00:00:00.000000000`}},
		{"multi-measure nulls", "SELECT hostname, note FROM devops.cpu WHERE hostname = 'host_1' ORDER BY time",
			`[{"Name":"hostname","Type":{"ScalarType":"VARCHAR"}},{"Name":"note","Type":{"ScalarType":"VARCHAR"}}]`,
			[]string{"host_1 | step 0", "host_1 | NULL", "host_1 | NULL"}},
		{"time series", "SELECT hostname, CREATE_TIME_SERIES(time, usage_user) AS ts FROM devops.cpu GROUP BY hostname ORDER BY hostname",
			`[{"Name":"hostname","Type":{"ScalarType":"VARCHAR"}},{"Name":"ts","Type":{"TimeSeriesMeasureValueColumnInfo":{"Type":{"ScalarType":"DOUBLE"}}}}]`,
			[]string{
				"host_0 | [2024-01-01 00:00:00.000000000=0.0, 2024-01-01 00:00:10.000000000=1.0, 2024-01-01 00:00:20.000000000=2.0]",
				"host_1 | [2024-01-01 00:00:00.000000000=0.01, 2024-01-01 00:00:10.000000000=1.01, 2024-01-01 00:00:20.000000000=2.01]",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(tt.sql)})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(appendSDKColumns(out.ColumnInfo)); got != tt.wantCols {
				t.Errorf("ColumnInfo =\n%s\nwant\n%s", got, tt.wantCols)
			}
			var rows []string
			for _, r := range out.Rows {
				var cells []string
				for i := range r.Data {
					cells = append(cells, sdkDatum(&r.Data[i]))
				}
				rows = append(rows, strings.Join(cells, " | "))
			}
			if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", tt.wantRows) {
				t.Errorf("rows =\n%q\nwant\n%q", rows, tt.wantRows)
			}
		})
	}
}

// appendSDKColumns re-encodes SDK ColumnInfo in the wire form, to compare
// what the SDK decoded with what Timestream sends.
func appendSDKColumns(cols []types.ColumnInfo) []byte {
	var b []byte
	b = append(b, '[')
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSDKColumn(b, c)
	}
	return append(b, ']')
}

func appendSDKColumn(b []byte, c types.ColumnInfo) []byte {
	b = append(b, '{')
	if c.Name != nil {
		b = append(b, `"Name":`...)
		b = appendJSONString(b, *c.Name)
		b = append(b, ',')
	}
	b = append(b, `"Type":{`...)
	t := c.Type
	switch {
	case t.ArrayColumnInfo != nil:
		b = append(b, `"ArrayColumnInfo":`...)
		b = appendSDKColumn(b, *t.ArrayColumnInfo)
	case t.TimeSeriesMeasureValueColumnInfo != nil:
		b = append(b, `"TimeSeriesMeasureValueColumnInfo":`...)
		b = appendSDKColumn(b, *t.TimeSeriesMeasureValueColumnInfo)
	case t.RowColumnInfo != nil:
		b = append(b, `"RowColumnInfo":`...)
		b = append(b, appendSDKColumns(t.RowColumnInfo)...)
	default:
		b = append(b, `"ScalarType":`...)
		b = appendJSONString(b, string(t.ScalarType))
	}
	return append(b, "}}"...)
}

// sdkDatum renders a decoded datum compactly for comparisons.
func sdkDatum(d *types.Datum) string {
	switch {
	case aws.ToBool(d.NullValue):
		return "NULL"
	case d.ScalarValue != nil:
		return *d.ScalarValue
	case d.ArrayValue != nil:
		var parts []string
		for i := range d.ArrayValue {
			parts = append(parts, sdkDatum(&d.ArrayValue[i]))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case d.RowValue != nil:
		var parts []string
		for i := range d.RowValue.Data {
			parts = append(parts, sdkDatum(&d.RowValue.Data[i]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case d.TimeSeriesValue != nil:
		var parts []string
		for _, p := range d.TimeSeriesValue {
			parts = append(parts, aws.ToString(p.Time)+"="+sdkDatum(p.Value))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "?"
}

func TestEngineErrors(t *testing.T) {
	e := newTestEnv(t, newEngine(t, 2, 3, nil), Options{})
	ctx := context.Background()
	q := func(sql string) error {
		_, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql)})
		return err
	}
	wantAPIError[*types.ValidationException](t, q("SELECT FROM"), "line 1:8: mismatched input 'FROM'")
	wantAPIError[*types.ValidationException](t, q("SELECT * FROM devops.nope"), "line 1:15: Table devops.nope does not exist")
	wantAPIError[*types.QueryExecutionException](t, q("SELECT 1/0"), "Division by zero")
}

func TestEnginePrepareQuery(t *testing.T) {
	e := newTestEnv(t, newEngine(t, 2, 3, nil), Options{})
	out, err := e.client.PrepareQuery(context.Background(), &tsq.PrepareQueryInput{
		QueryString:  aws.String("SELECT hostname, usage_user FROM devops.cpu WHERE hostname = @host"),
		ValidateOnly: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range out.Columns {
		cols = append(cols, aws.ToString(c.Name)+" "+string(c.Type.ScalarType))
	}
	if got := strings.Join(cols, ", "); got != "hostname VARCHAR, usage_user DOUBLE" {
		t.Errorf("Columns = %s", got)
	}
	// The parameter's type is the engine's to infer; the API reports one
	// entry per parameter name.
	if len(out.Parameters) != 1 || aws.ToString(out.Parameters[0].Name) != "host" {
		t.Errorf("Parameters = %+v, want the one parameter host", out.Parameters)
	}
	_, err = e.client.PrepareQuery(context.Background(), &tsq.PrepareQueryInput{QueryString: aws.String("SELECT FROM"), ValidateOnly: aws.Bool(true)})
	wantAPIError[*types.ValidationException](t, err, "line 1:8:")
}

// blockingSource is a scan.Source whose scans wait until their context ends.
type blockingSource struct{ started chan struct{} }

func (s blockingSource) Scan(ctx context.Context, _ *scan.Request) (scan.Batches, error) {
	s.started <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestEngineCancelQuery(t *testing.T) {
	started := make(chan struct{}, 1)
	eng := newEngine(t, 2, 3, func(scan.Source) scan.Source { return blockingSource{started: started} })
	e := newTestEnv(t, eng, Options{WaitTime: time.Millisecond})
	ctx := context.Background()
	sql := "SELECT count(*) FROM devops.cpu"
	out, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql)})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if out.NextToken == nil || len(out.Rows) != 0 {
		t.Fatalf("running query answered rows=%d NextToken=%v", len(out.Rows), out.NextToken)
	}
	c, err := e.client.CancelQuery(ctx, &tsq.CancelQueryInput{QueryId: out.QueryId})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(c.CancellationMessage) != cancelledByRequest {
		t.Errorf("CancellationMessage = %q", aws.ToString(c.CancellationMessage))
	}
	_, err = e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql), NextToken: out.NextToken})
	wantAPIError[*types.ConflictException](t, err, msgCancelled)
	// Close waits for the cancelled query's goroutine.
	if err := e.api.Close(); err != nil {
		t.Fatal(err)
	}
	e.api.cursors.mu.Lock()
	defer e.api.cursors.mu.Unlock()
	if e.api.cursors.running != 0 {
		t.Errorf("%d queries still running after Close", e.api.cursors.running)
	}
}

// TestIssue14ThroughSDK runs issue 14's cases through the Query API with
// the AWS SDK: SHOW MEASURES lists each measure's own dimensions (what
// Grafana's query editor builds its pickers from), and the gap-filling
// join on bin(c.time, 1m) = t.bt answers per minute.
func TestIssue14ThroughSDK(t *testing.T) {
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("prom", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "prom", Name: "metrics", Columns: []catalog.Column{
		{Name: "job", Kind: catalog.KindDimension, Type: ingest.TypeVarchar},
		{Name: "le", Kind: catalog.KindDimension, Type: ingest.TypeVarchar},
		{Name: "up", Kind: catalog.KindMeasureName, Type: ingest.TypeDouble},
		{Name: "req_bucket", Kind: catalog.KindMeasureName, Type: ingest.TypeDouble},
	}}); err != nil {
		t.Fatal(err)
	}
	at := func(s int) int64 { return engineStart.Add(time.Duration(s) * time.Second).UnixNano() }
	recs := []ingest.Record{
		{Time: at(0), MeasureName: "up", Dimensions: []ingest.Dimension{{Name: "job", Value: "api"}}, Value: ingest.Float(1)},
		{Time: at(30), MeasureName: "up", Dimensions: []ingest.Dimension{{Name: "job", Value: "api"}}, Value: ingest.Float(1)},
		{Time: at(130), MeasureName: "up", Dimensions: []ingest.Dimension{{Name: "job", Value: "api"}}, Value: ingest.Float(0)},
		{Time: at(0), MeasureName: "req_bucket", Dimensions: []ingest.Dimension{{Name: "job", Value: "api"}, {Name: "le", Value: "0.5"}}, Value: ingest.Float(3)},
	}
	eng := exec.New(cat, scantest.NewModel(recs), exec.Options{Now: func() time.Time { return engineStart.Add(time.Hour) }})
	e := newTestEnv(t, eng, Options{})
	query := func(sql string) []string {
		out, err := e.client.Query(context.Background(), &tsq.QueryInput{QueryString: aws.String(sql)})
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		var rows []string
		for _, r := range out.Rows {
			var cells []string
			for _, d := range r.Data {
				if d.ArrayValue != nil {
					var dims []string
					for _, el := range d.ArrayValue {
						dims = append(dims, aws.ToString(el.RowValue.Data[0].ScalarValue))
					}
					cells = append(cells, "["+strings.Join(dims, " ")+"]")
					continue
				}
				cells = append(cells, aws.ToString(d.ScalarValue))
			}
			rows = append(rows, strings.Join(cells, " "))
		}
		return rows
	}
	if got, want := strings.Join(query("SHOW MEASURES FROM prom.metrics"), "\n"), "req_bucket double [job le]\nup double [job]"; got != want {
		t.Errorf("SHOW MEASURES:\n%s\nwant:\n%s", got, want)
	}
	gap := `SELECT t.bt, count(c.time) FROM UNNEST(SEQUENCE(TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-01 00:03:00', 1m)) AS t(bt)
		LEFT JOIN prom.metrics c ON bin(c.time, 1m) = t.bt AND c.measure_name = 'up' GROUP BY t.bt ORDER BY 1`
	want := "2024-01-01 00:00:00.000000000 2\n2024-01-01 00:01:00.000000000 0\n2024-01-01 00:02:00.000000000 1\n2024-01-01 00:03:00.000000000 0"
	if got := strings.Join(query(gap), "\n"); got != want {
		t.Errorf("gap filling:\n%s\nwant:\n%s", got, want)
	}
}
