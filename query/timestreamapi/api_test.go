package timestreamapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	tsq "github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tidaldb/tidal/query/exec"
)

// fakeEngine answers fixed SQL texts; "BLOCK" queries run until cancelled.
type fakeEngine struct {
	results map[string]*exec.Result
	errs    map[string]error
	started chan string // receives the SQL of each BLOCK query, if set

	mu       sync.Mutex
	canceled int // BLOCK queries that saw their context end
}

func (f *fakeEngine) Query(ctx context.Context, sql string, _ map[string]exec.Value) (*exec.Result, error) {
	if strings.HasPrefix(sql, "BLOCK") {
		if f.started != nil {
			f.started <- sql
		}
		<-ctx.Done()
		f.mu.Lock()
		f.canceled++
		f.mu.Unlock()
		return nil, &exec.Error{Kind: exec.ErrCanceled, Msg: "Query was cancelled."}
	}
	if err, ok := f.errs[sql]; ok {
		return nil, err
	}
	if res, ok := f.results[sql]; ok {
		return res, nil
	}
	return nil, &exec.Error{Kind: exec.ErrValidation, Msg: "Table 'x' does not exist", Line: 1, Col: 15}
}

func (f *fakeEngine) Prepare(sql string) ([]exec.Column, []exec.Param, error) {
	if res, ok := f.results[sql]; ok {
		return res.Columns, []exec.Param{{Name: "@host", Type: exec.TypeVarchar}}, nil
	}
	return nil, nil, &exec.Error{Kind: exec.ErrValidation, Msg: "mismatched input 'FORM'", Line: 1, Col: 10}
}

type testEnv struct {
	api    *API
	srv    *httptest.Server
	client *tsq.Client
	reg    *prometheus.Registry
}

func newTestEnv(t *testing.T, eng Engine, opts Options) *testEnv {
	t.Helper()
	e := &testEnv{reg: prometheus.NewRegistry()}
	opts.Registerer = e.reg
	e.api = New(eng, opts)
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(func() {
		e.srv.Close()
		if err := e.api.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	e.client = tsq.New(tsq.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:     connRetryer(),
		HTTPClient:  &http.Client{Transport: bufferedBodyTransport{}},
	}, func(o *tsq.Options) {
		o.BaseEndpoint = aws.String(e.srv.URL)
		o.EndpointDiscovery.EnableEndpointDiscovery = aws.EndpointDiscoveryDisabled
	})
	return e
}

// bufferedBodyTransport sends a private copy of each request body. The
// SDK closes its request body as soon as response headers arrive; its body
// wrapper's WriteTo then returns io.EOF, which the Go transport, still
// finishing the request write on a fast loopback server, takes as a write
// error and closes the connection under the response being read
// (aws-sdk-go-v2#2737). cmd/tidal's client does the same.
type bufferedBodyTransport struct{}

func (bufferedBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return http.DefaultTransport.RoundTrip(req)
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(data))
	r2.ContentLength = int64(len(data))
	return http.DefaultTransport.RoundTrip(r2)
}

// connRetryer retries only what the SDK's default retryer retries for a
// closed connection (aws-sdk-go-v2#2949), at once; every other error
// reaches the test on the first attempt.
func connRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
	})
}

// post sends a raw request and returns status and body.
func (e *testEnv) post(t *testing.T, op, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "Timestream_20181101."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

func wantAPIError[T smithy.APIError](t *testing.T, err error, msg string) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("err = %v (%T); want %T", err, err, target)
	}
	if !strings.Contains(target.ErrorMessage(), msg) {
		t.Fatalf("%s message = %q; want it to contain %q", target.ErrorCode(), target.ErrorMessage(), msg)
	}
	return target
}

var t0 = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

// typesResult has one row of every kind and one row of NULLs.
func typesResult() *exec.Result {
	rowT := exec.Type{Kind: exec.KindRow, Fields: []exec.Field{{Name: "a", Type: exec.TypeBigint}, {Name: "b", Type: exec.TypeVarchar}}}
	return &exec.Result{
		Columns: []exec.Column{
			{Name: "host", Type: exec.TypeVarchar},
			{Name: "time", Type: exec.TypeTimestamp},
			{Name: "v", Type: exec.TypeDouble},
			{Name: "ok", Type: exec.TypeBoolean},
			{Name: "ts", Type: exec.TimeSeriesOf(exec.TypeDouble)},
			{Name: "arr", Type: exec.ArrayOf(exec.TypeBigint)},
			{Name: "r", Type: rowT},
		},
		Rows: [][]exec.Value{
			{
				{Kind: exec.KindVarchar, S: "h1"},
				{Kind: exec.KindTimestamp, I: t0.UnixNano()},
				{Kind: exec.KindDouble, F: 35.2},
				{Kind: exec.KindBoolean, B: true},
				{Kind: exec.KindTimeSeries, Points: []exec.Point{{Time: t0.UnixNano(), Value: exec.Value{Kind: exec.KindDouble, F: 1.5}}}},
				{Kind: exec.KindArray, Elems: []exec.Value{{Kind: exec.KindBigint, I: 1}, {Kind: exec.KindBigint, Null: true}}},
				{Kind: exec.KindRow, Elems: []exec.Value{{Kind: exec.KindBigint, I: 7}, {Kind: exec.KindVarchar, S: "x"}}},
			},
			{
				{Kind: exec.KindVarchar, Null: true}, {Kind: exec.KindTimestamp, Null: true}, {Kind: exec.KindDouble, Null: true},
				{Kind: exec.KindBoolean, Null: true}, {Kind: exec.KindTimeSeries, Null: true}, {Kind: exec.KindArray, Null: true},
				{Kind: exec.KindRow, Null: true},
			},
		},
		Stats: exec.Stats{RowsScanned: 2, BytesScanned: 1234},
	}
}

var queryIDRE = regexp.MustCompile(`"QueryId":"([a-zA-Z0-9]{1,64})"`)

func TestQueryWireJSON(t *testing.T) {
	e := newTestEnv(t, &fakeEngine{results: map[string]*exec.Result{"SELECT types": typesResult()}}, Options{})
	status, body := e.post(t, "Query", `{"QueryString":"SELECT types"}`)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	if !queryIDRE.MatchString(body) {
		t.Fatalf("no valid QueryId in %s", body)
	}
	got := queryIDRE.ReplaceAllString(body, `"QueryId":"ID"`)
	want := `{"QueryId":"ID","ColumnInfo":[` +
		`{"Name":"host","Type":{"ScalarType":"VARCHAR"}},{"Name":"time","Type":{"ScalarType":"TIMESTAMP"}},` +
		`{"Name":"v","Type":{"ScalarType":"DOUBLE"}},{"Name":"ok","Type":{"ScalarType":"BOOLEAN"}},` +
		`{"Name":"ts","Type":{"TimeSeriesMeasureValueColumnInfo":{"Type":{"ScalarType":"DOUBLE"}}}},` +
		`{"Name":"arr","Type":{"ArrayColumnInfo":{"Type":{"ScalarType":"BIGINT"}}}},` +
		`{"Name":"r","Type":{"RowColumnInfo":[{"Name":"a","Type":{"ScalarType":"BIGINT"}},{"Name":"b","Type":{"ScalarType":"VARCHAR"}}]}}],` +
		`"Rows":[{"Data":[{"ScalarValue":"h1"},{"ScalarValue":"2023-11-14 22:13:20.000000000"},{"ScalarValue":"35.2"},{"ScalarValue":"true"},` +
		`{"TimeSeriesValue":[{"Time":"2023-11-14 22:13:20.000000000","Value":{"ScalarValue":"1.5"}}]},` +
		`{"ArrayValue":[{"ScalarValue":"1"},{"NullValue":true}]},{"RowValue":{"Data":[{"ScalarValue":"7"},{"ScalarValue":"x"}]}}]},` +
		`{"Data":[{"NullValue":true},{"NullValue":true},{"NullValue":true},{"NullValue":true},{"NullValue":true},{"NullValue":true},{"NullValue":true}]}],` +
		`"QueryStatus":{"ProgressPercentage":100.0,"CumulativeBytesScanned":1234,"CumulativeBytesMetered":10000000}}`
	if got != want {
		t.Errorf("body =\n%s\nwant\n%s", got, want)
	}
}

func TestQuerySDKDecodesTypes(t *testing.T) {
	e := newTestEnv(t, &fakeEngine{results: map[string]*exec.Result{"SELECT types": typesResult()}}, Options{})
	out, err := e.client.Query(context.Background(), &tsq.QueryInput{QueryString: aws.String("SELECT types")})
	if err != nil {
		t.Fatal(err)
	}
	if out.NextToken != nil {
		t.Errorf("NextToken = %q on a one-page result", *out.NextToken)
	}
	if got := out.ColumnInfo[4].Type.TimeSeriesMeasureValueColumnInfo.Type.ScalarType; got != types.ScalarTypeDouble {
		t.Errorf("ts value type = %q", got)
	}
	if got := aws.ToString(out.ColumnInfo[6].Type.RowColumnInfo[1].Name); got != "b" {
		t.Errorf("row field name = %q", got)
	}
	r0 := out.Rows[0].Data
	if got := aws.ToString(r0[4].TimeSeriesValue[0].Time); got != "2023-11-14 22:13:20.000000000" {
		t.Errorf("ts time = %q", got)
	}
	if got := aws.ToString(r0[4].TimeSeriesValue[0].Value.ScalarValue); got != "1.5" {
		t.Errorf("ts value = %q", got)
	}
	if got := aws.ToBool(r0[5].ArrayValue[1].NullValue); !got {
		t.Errorf("array NULL element not NullValue")
	}
	if got := aws.ToString(r0[6].RowValue.Data[1].ScalarValue); got != "x" {
		t.Errorf("row field = %q", got)
	}
	for i, d := range out.Rows[1].Data {
		if !aws.ToBool(d.NullValue) {
			t.Errorf("column %d of NULL row = %+v", i, d)
		}
	}
	if out.QueryStatus.CumulativeBytesScanned != 1234 || out.QueryStatus.ProgressPercentage != 100 {
		t.Errorf("QueryStatus = %+v", *out.QueryStatus)
	}
}

// bigintResult has n rows of one BIGINT column i = 0..n-1.
func bigintResult(n int) *exec.Result {
	res := &exec.Result{Columns: []exec.Column{{Name: "i", Type: exec.TypeBigint}}}
	for i := range n {
		res.Rows = append(res.Rows, []exec.Value{{Kind: exec.KindBigint, I: int64(i)}})
	}
	return res
}

func TestPagingFollowsMaxRowsAndBytes(t *testing.T) {
	tests := []struct {
		name      string
		rows      int
		maxRows   int32
		pageBytes int
		wantPages []int
	}{
		{"max rows", 10, 4, 0, []int{4, 4, 2}},
		{"exact multiple", 8, 4, 0, []int{4, 4}},
		{"no max rows", 10, 0, 0, []int{10}},
		// Each row is {"Data":[{"ScalarValue":"d"}]}, 30 bytes, plus commas.
		{"page bytes", 10, 0, 61, []int{2, 2, 2, 2, 2}},
		{"page bytes and rows", 10, 3, 100, []int{3, 3, 3, 1}},
		{"empty", 0, 5, 0, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, &fakeEngine{results: map[string]*exec.Result{"q": bigintResult(tt.rows)}}, Options{MaxPageBytes: tt.pageBytes})
			in := &tsq.QueryInput{QueryString: aws.String("q")}
			if tt.maxRows > 0 {
				in.MaxRows = aws.Int32(tt.maxRows)
			}
			p := tsq.NewQueryPaginator(e.client, in)
			var pages []int
			next := 0
			var queryID string
			for p.HasMorePages() {
				out, err := p.NextPage(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if queryID == "" {
					queryID = aws.ToString(out.QueryId)
				} else if aws.ToString(out.QueryId) != queryID {
					t.Fatalf("QueryId changed from %s to %s", queryID, aws.ToString(out.QueryId))
				}
				pages = append(pages, len(out.Rows))
				for _, r := range out.Rows {
					if got := aws.ToString(r.Data[0].ScalarValue); got != fmt.Sprint(next) {
						t.Fatalf("row %d = %s", next, got)
					}
					next++
				}
			}
			if fmt.Sprint(pages) != fmt.Sprint(tt.wantPages) {
				t.Errorf("pages = %v, want %v", pages, tt.wantPages)
			}
		})
	}
}

func TestRowLargerThanPage(t *testing.T) {
	res := &exec.Result{Columns: []exec.Column{{Name: "s", Type: exec.TypeVarchar}},
		Rows: [][]exec.Value{{{Kind: exec.KindVarchar, S: strings.Repeat("x", 100)}}}}
	e := newTestEnv(t, &fakeEngine{results: map[string]*exec.Result{"q": res}}, Options{MaxPageBytes: 50})
	_, err := e.client.Query(context.Background(), &tsq.QueryInput{QueryString: aws.String("q")})
	wantAPIError[*types.QueryExecutionException](t, err, "max page response size has been exceeded")
}

func TestNextTokenRules(t *testing.T) {
	now := t0
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	e := newTestEnv(t, &fakeEngine{results: map[string]*exec.Result{"q": bigintResult(10), "other": bigintResult(1)}}, Options{Now: clock})
	ctx := context.Background()
	query := func(sql string, tok *string) (*tsq.QueryOutput, error) {
		return e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql), NextToken: tok, MaxRows: aws.Int32(3)})
	}
	first, err := query("q", nil)
	if err != nil {
		t.Fatal(err)
	}
	tokA := first.NextToken
	// Reusing a token returns the same page and the same next token.
	p1, err := query("q", tokA)
	if err != nil {
		t.Fatal(err)
	}
	p1again, err := query("q", tokA)
	if err != nil {
		t.Fatal(err)
	}
	if got, again := aws.ToString(p1.Rows[0].Data[0].ScalarValue), aws.ToString(p1again.Rows[0].Data[0].ScalarValue); got != "3" || again != "3" {
		t.Fatalf("page 2 starts at %s and %s, want 3", got, again)
	}
	if aws.ToString(p1.NextToken) != aws.ToString(p1again.NextToken) {
		t.Fatalf("reused token gave next tokens %q and %q", aws.ToString(p1.NextToken), aws.ToString(p1again.NextToken))
	}
	// Another query string cannot use the token.
	_, err = query("other", p1.NextToken)
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token")
	// Using the newer token invalidates the older one.
	if _, err := query("q", p1.NextToken); err != nil {
		t.Fatal(err)
	}
	_, err = query("q", tokA)
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token")
	// A token serves five calls.
	tokC := p1.NextToken
	for i := 2; i <= 5; i++ {
		if _, err := query("q", tokC); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
	}
	_, err = query("q", tokC)
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token")
	// Garbage is rejected.
	_, err = query("q", aws.String("garbage"))
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token")
	// Tokens expire an hour after the query started.
	fresh, err := query("q", nil)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(DefaultCursorTTL + time.Second)
	mu.Unlock()
	_, err = query("q", fresh.NextToken)
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token")
}

func TestCancelRunningQuery(t *testing.T) {
	eng := &fakeEngine{started: make(chan string, 1)}
	e := newTestEnv(t, eng, Options{WaitTime: time.Millisecond})
	ctx := context.Background()
	out, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("BLOCK 1")})
	if err != nil {
		t.Fatal(err)
	}
	<-eng.started
	if out.NextToken == nil || len(out.Rows) != 0 || out.QueryStatus.ProgressPercentage != 0 {
		t.Fatalf("running query answered NextToken=%v rows=%d status=%+v", out.NextToken, len(out.Rows), out.QueryStatus)
	}
	// Polling a running query returns the same token without using it up.
	for range DefaultMaxTokenUses + 1 {
		again, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("BLOCK 1"), NextToken: out.NextToken})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(again.NextToken) != aws.ToString(out.NextToken) {
			t.Fatalf("poll token %q, want %q", aws.ToString(again.NextToken), aws.ToString(out.NextToken))
		}
	}
	c, err := e.client.CancelQuery(ctx, &tsq.CancelQueryInput{QueryId: out.QueryId})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(c.CancellationMessage); got != cancelledByRequest {
		t.Errorf("CancellationMessage = %q", got)
	}
	_, err = e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("BLOCK 1"), NextToken: out.NextToken})
	wantAPIError[*types.ConflictException](t, err, msgCancelled)
	if err := e.api.Close(); err != nil {
		t.Fatal(err)
	}
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if eng.canceled != 1 {
		t.Errorf("engine saw %d cancellations, want 1", eng.canceled)
	}
}

func TestCancelFinishedQueryReleasesResult(t *testing.T) {
	e := newTestEnv(t, &fakeEngine{results: map[string]*exec.Result{"q": bigintResult(10)}}, Options{})
	ctx := context.Background()
	out, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("q"), MaxRows: aws.Int32(5)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.client.CancelQuery(ctx, &tsq.CancelQueryInput{QueryId: out.QueryId})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(c.CancellationMessage); !strings.Contains(got, "had already finished") {
		t.Errorf("CancellationMessage = %q", got)
	}
	if e.api.cursors.bytes != 0 {
		t.Errorf("kept bytes after cancel = %d", e.api.cursors.bytes)
	}
	_, err = e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("q"), NextToken: out.NextToken})
	wantAPIError[*types.ConflictException](t, err, msgCancelled)
	// Unknown ids are fine (idempotent); malformed ones are not.
	c, err = e.client.CancelQuery(ctx, &tsq.CancelQueryInput{QueryId: aws.String("NOSUCHQUERY")})
	if err != nil || !strings.Contains(aws.ToString(c.CancellationMessage), "already finished") {
		t.Errorf("cancel unknown = %v, %v", c, err)
	}
	_, err = e.client.CancelQuery(ctx, &tsq.CancelQueryInput{QueryId: aws.String("bad-id!")})
	wantAPIError[*types.ValidationException](t, err, "queryId")
}

func TestThrottlesConcurrentQueries(t *testing.T) {
	eng := &fakeEngine{started: make(chan string, 1), results: map[string]*exec.Result{"q": bigintResult(1)}}
	e := newTestEnv(t, eng, Options{WaitTime: time.Millisecond, MaxConcurrentQueries: 1})
	ctx := context.Background()
	out, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("BLOCK")})
	if err != nil {
		t.Fatal(err)
	}
	<-eng.started
	_, err = e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("q")})
	wantAPIError[*types.ThrottlingException](t, err, "Too many concurrent queries")
	if _, err := e.client.CancelQuery(ctx, &tsq.CancelQueryInput{QueryId: out.QueryId}); err != nil {
		t.Fatal(err)
	}
}

func TestQueryErrors(t *testing.T) {
	eng := &fakeEngine{errs: map[string]error{
		"syntax":  &exec.Error{Kind: exec.ErrValidation, Msg: "mismatched input 'FORM'. Expecting: ',', 'FROM'", Line: 1, Col: 10},
		"divide":  &exec.Error{Kind: exec.ErrExecution, Msg: "Division by zero"},
		"memory":  &exec.Error{Kind: exec.ErrMemory, Msg: "Query exceeded the memory limit of 1 GiB"},
		"timeout": &exec.Error{Kind: exec.ErrTimeout},
		"broken":  errors.New("disk on fire"),
	}}
	e := newTestEnv(t, eng, Options{})
	ctx := context.Background()
	q := func(sql string, maxRows *int32) error {
		_, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql), MaxRows: maxRows})
		return err
	}
	wantAPIError[*types.ValidationException](t, q("syntax", nil), "line 1:10: mismatched input 'FORM'")
	wantAPIError[*types.QueryExecutionException](t, q("divide", nil), "Division by zero")
	wantAPIError[*types.QueryExecutionException](t, q("memory", nil), "memory limit")
	wantAPIError[*types.QueryExecutionException](t, q("timeout", nil), msgQueryTimeout)
	wantAPIError[*types.InternalServerException](t, q("broken", nil), "internal server error")
	wantAPIError[*types.ValidationException](t, q("x", aws.Int32(1001)), "maxRows")
	wantAPIError[*types.ValidationException](t, q(strings.Repeat("x", DefaultMaxQueryBytes+1), nil), "queryString")

	status, body := e.post(t, "Query", `{"MaxRows":5}`)
	if status != http.StatusBadRequest || !strings.Contains(body, `"__type":"ValidationException"`) || !strings.Contains(body, "queryString") {
		t.Errorf("missing QueryString: %d %s", status, body)
	}
	status, body = e.post(t, "Query", `{"QueryString":"q","MaxRows":"ten"}`)
	if status != http.StatusBadRequest || !strings.Contains(body, `"__type":"ValidationException"`) {
		t.Errorf("bad MaxRows type: %d %s", status, body)
	}
	status, body = e.post(t, "Frobnicate", `{}`)
	if status != http.StatusNotFound || !strings.Contains(body, "UnknownOperationException") {
		t.Errorf("unknown op: %d %s", status, body)
	}
	if got := testutil.ToFloat64(e.api.requests.WithLabelValues("Query", "ValidationException")); got != 5 {
		t.Errorf("tidal_query_requests_total{op=Query,result=ValidationException} = %v, want 5", got)
	}
	if got := testutil.ToFloat64(e.api.requests.WithLabelValues("Query", "QueryExecutionException")); got != 3 {
		t.Errorf("tidal_query_requests_total{op=Query,result=QueryExecutionException} = %v, want 3", got)
	}
	// Five queries ran on the engine, with three distinct results.
	if n := testutil.CollectAndCount(e.api.duration, "tidal_query_duration_seconds"); n != 3 {
		t.Errorf("tidal_query_duration_seconds has %d series, want 3 (one per result)", n)
	}
	if err := e.api.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("divide")})
	wantAPIError[*smithy.GenericAPIError](t, err, msgServerClosed)
}

func TestPrepareQuery(t *testing.T) {
	e := newTestEnv(t, &fakeEngine{results: map[string]*exec.Result{"SELECT types": typesResult()}}, Options{})
	ctx := context.Background()
	out, err := e.client.PrepareQuery(ctx, &tsq.PrepareQueryInput{QueryString: aws.String("SELECT types"), ValidateOnly: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.QueryString) != "SELECT types" || len(out.Columns) != 7 {
		t.Fatalf("PrepareQuery = %+v", out)
	}
	if aws.ToString(out.Columns[5].Name) != "arr" || out.Columns[5].Type.ArrayColumnInfo.Type.ScalarType != types.ScalarTypeBigint {
		t.Errorf("column 5 = %+v", out.Columns[5])
	}
	if len(out.Parameters) != 1 || aws.ToString(out.Parameters[0].Name) != "@host" || out.Parameters[0].Type.ScalarType != types.ScalarTypeVarchar {
		t.Errorf("Parameters = %+v", out.Parameters)
	}
	_, err = e.client.PrepareQuery(ctx, &tsq.PrepareQueryInput{QueryString: aws.String("SELECT 1 FORM t"), ValidateOnly: aws.Bool(true)})
	wantAPIError[*types.ValidationException](t, err, "line 1:10: mismatched input 'FORM'")
	_, err = e.client.PrepareQuery(ctx, &tsq.PrepareQueryInput{QueryString: aws.String("SELECT types"), ValidateOnly: aws.Bool(false)})
	wantAPIError[*types.ValidationException](t, err, "ValidateOnly")
}

func TestDescribeEndpointsAndOperations(t *testing.T) {
	e := newTestEnv(t, &fakeEngine{}, Options{})
	out, err := e.client.DescribeEndpoints(context.Background(), &tsq.DescribeEndpointsInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimPrefix(e.srv.URL, "http://")
	if len(out.Endpoints) != 1 || aws.ToString(out.Endpoints[0].Address) != want || out.Endpoints[0].CachePeriodInMinutes != CachePeriodInMinutes {
		t.Errorf("Endpoints = %+v, want address %s", out.Endpoints, want)
	}
	if got := fmt.Sprint(e.api.Operations()); got != "[CancelQuery DescribeEndpoints PrepareQuery Query]" {
		t.Errorf("Operations = %s", got)
	}
}

func TestOneFullPageKeepsNoCursor(t *testing.T) {
	e := newTestEnv(t, &fakeEngine{results: map[string]*exec.Result{"q": bigintResult(3)}}, Options{})
	if _, err := e.client.Query(context.Background(), &tsq.QueryInput{QueryString: aws.String("q")}); err != nil {
		t.Fatal(err)
	}
	e.api.cursors.mu.Lock()
	defer e.api.cursors.mu.Unlock()
	if n := len(e.api.cursors.byID); n != 0 || e.api.cursors.bytes != 0 {
		t.Errorf("kept %d cursors, %d bytes after a one-page result", n, e.api.cursors.bytes)
	}
}

func TestCursorBytesBound(t *testing.T) {
	res := bigintResult(100)
	size := resultSize(res)
	e := newTestEnv(t, &fakeEngine{results: map[string]*exec.Result{"q": res, "big": bigintResult(1000)}}, Options{MaxCursorBytes: 2*size + size/2})
	ctx := context.Background()
	var toks []*string
	for range 3 {
		out, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("q"), MaxRows: aws.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, out.NextToken)
	}
	// The third result pushed out the least recently used, the first.
	_, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("q"), NextToken: toks[0]})
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token")
	for _, tok := range toks[1:] {
		if _, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("q"), NextToken: tok}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.api.cursors.bytes; got != 2*size {
		t.Errorf("kept bytes = %d, want %d", got, 2*size)
	}
	_, err = e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("big"), MaxRows: aws.Int32(10)})
	wantAPIError[*types.QueryExecutionException](t, err, "add a LIMIT")
}
