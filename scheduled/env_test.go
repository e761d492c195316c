package scheduled

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	tsq "github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/timestreamapi"
)

// TestMain checks that no scheduler goroutine outlives its test. The SDK's
// HTTP keep-alive connections are not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// t0 is the start of every test's simulated time.
var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeClock is a settable clock shared by the catalog, memstore, engine and
// scheduler of a test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// env is a TidalDB server in miniature: catalog and memstore on disk, the
// SQL engine, the scheduler and the Query API behind an HTTP server, and an
// AWS SDK client pointed at it.
type env struct {
	t      testing.TB
	dir    string
	clock  *fakeClock
	cat    *catalog.Catalog
	mem    *memstore.DB
	sched  *Scheduler
	api    *timestreamapi.API
	srv    *httptest.Server
	client *tsq.Client
	reg    *prometheus.Registry
}

// newEnv opens an env over dir; opts fills the scheduler's options
// (Querier, Appender, Dir, clock and registry are set here).
func newEnv(t testing.TB, dir string, clock *fakeClock, opts Options) *env {
	t.Helper()
	e := &env{t: t, dir: dir, clock: clock, reg: prometheus.NewRegistry()}
	var err error
	if e.cat, err = catalog.Open(catalog.Options{Dir: dir, Now: clock.Now}); err != nil {
		t.Fatal(err)
	}
	mopts := memstore.DefaultOptions(filepath.Join(dir, "memstore"))
	mopts.Now = clock.Now
	mopts.CheckpointInterval = 0
	if _, bench := t.(*testing.B); !bench {
		// Crash durability is not under test here (restarts are clean);
		// benchmarks keep the server's default group commit.
		mopts.WAL.Sync = wal.SyncNever
	}
	if e.mem, err = memstore.Open(e.cat, mopts); err != nil {
		t.Fatal(err)
	}
	eng := exec.New(e.cat, e.mem, exec.Options{Now: clock.Now})
	opts.Dir = filepath.Join(dir, "scheduled")
	opts.Querier = EngineQuerier{Engine: eng}
	opts.Appender = e.mem
	opts.Tables = e.cat
	opts.Now = clock.Now
	opts.Registerer = e.reg
	if e.sched, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	e.api = timestreamapi.New(eng, timestreamapi.Options{Now: clock.Now})
	for _, op := range append(e.sched.Operations(), TagOperations...) {
		e.api.Handle(op, e.sched.Serve)
	}
	e.srv = httptest.NewServer(e.api)
	e.client = tsq.New(tsq.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:  &http.Client{Transport: bufferedBodyTransport{}},
	}, func(o *tsq.Options) {
		o.BaseEndpoint = aws.String(e.srv.URL)
		o.EndpointDiscovery.EnableEndpointDiscovery = aws.EndpointDiscoveryDisabled
	})
	t.Cleanup(e.close)
	return e
}

// close stops the env; it may be called more than once.
func (e *env) close() {
	if e.srv == nil {
		return
	}
	e.srv.Close()
	if err := e.api.Close(); err != nil {
		e.t.Errorf("close api: %v", err)
	}
	if err := e.mem.Close(); err != nil {
		e.t.Errorf("close memstore: %v", err)
	}
	e.srv = nil
}

// bufferedBodyTransport sends a private copy of each request body, working
// around aws-sdk-go-v2#2737 on fast loopback servers (as
// query/timestreamapi's tests do).
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

// devops creates devops.cpu (the source) and devops.cpu_1h (the rollup
// target), both with a week of memory retention, and writes one
// multi-measure record per host per minute for the given hours from t0:
// usage_user = minute of the day + host/10, usage_system = host.
func (e *env) devops(hosts, hours int) {
	e.t.Helper()
	if _, err := e.cat.CreateDatabase("devops", "", nil); err != nil {
		e.t.Fatal(err)
	}
	for _, name := range []string{"cpu", "cpu_1h", "ticks"} {
		if _, err := e.cat.CreateTable(catalog.Table{Database: "devops", Name: name,
			Retention: catalog.Retention{MemoryHours: 24 * 7, MagneticDays: 365}}); err != nil {
			e.t.Fatal(err)
		}
	}
	var recs []ingest.Record
	for m := range hours * 60 {
		for h := range hosts {
			recs = append(recs, ingest.Record{
				Time:        t0.Add(time.Duration(m) * time.Minute).UnixNano(),
				Dimensions:  []ingest.Dimension{{Name: "hostname", Value: fmt.Sprintf("host_%d", h)}},
				MeasureName: "cpu",
				Measures: []ingest.Measure{
					{Name: "usage_user", Value: ingest.Float(float64(m) + float64(h)/10)},
					{Name: "usage_system", Value: ingest.Float(float64(h))},
				},
			})
		}
	}
	// Write as if at the end of the data, so that no record is in the
	// future; the test's clock then goes back to where it was.
	now := e.clock.Now()
	e.clock.Set(t0.Add(time.Duration(hours) * time.Hour))
	e.append("cpu", recs)
	e.clock.Set(now)
}

func (e *env) append(table string, recs []ingest.Record) {
	e.t.Helper()
	res, err := e.mem.Append(context.Background(), "devops", table, recs, ingest.AppendOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		e.t.Fatalf("append rejected %d records, first: %+v", len(res.Rejected), res.Rejected[0])
	}
}

// query runs sql through the SDK and returns the rows as strings ("NULL"
// for NULL), all pages.
func (e *env) query(sql string) [][]string {
	e.t.Helper()
	var out [][]string
	p := tsq.NewQueryPaginator(e.client, &tsq.QueryInput{QueryString: aws.String(sql)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatalf("query %q: %v", sql, err)
		}
		for _, r := range page.Rows {
			row := make([]string, len(r.Data))
			for i, d := range r.Data {
				switch {
				case d.NullValue != nil && *d.NullValue:
					row[i] = "NULL"
				case d.ScalarValue != nil:
					row[i] = *d.ScalarValue
				}
			}
			out = append(out, row)
		}
	}
	return out
}

// runUntil advances the clock invocation by invocation up to end, running
// what is due at each step, and returns the number of runs.
func (e *env) runUntil(end time.Time) int {
	e.t.Helper()
	total := 0
	for {
		next := e.sched.NextWake()
		if next.IsZero() || next.After(end) {
			break
		}
		if next.After(e.clock.Now()) {
			e.clock.Set(next)
		}
		n, err := e.sched.RunDue(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			e.t.Fatalf("nothing ran at %v though NextWake said so", next)
		}
		total += n
	}
	e.clock.Set(end)
	n, err := e.sched.RunDue(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return total + n
}

// rollupInput is the 1-minute-to-1-hour rollup of devops.cpu into
// devops.cpu_1h, run hourly.
func rollupInput(name string) *tsq.CreateScheduledQueryInput {
	return &tsq.CreateScheduledQueryInput{
		Name: aws.String(name),
		QueryString: aws.String(`SELECT hostname, bin(time, 1h) AS hour, avg(usage_user) AS avg_user,
			max(usage_user) AS max_user, count(*) AS samples
			FROM devops.cpu
			WHERE time >= @scheduled_runtime - 1h AND time < @scheduled_runtime
			GROUP BY hostname, bin(time, 1h)`),
		ScheduleConfiguration: &types.ScheduleConfiguration{ScheduleExpression: aws.String("cron(0 * * * ? *)")},
		NotificationConfiguration: &types.NotificationConfiguration{
			SnsConfiguration: &types.SnsConfiguration{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:rollups")},
		},
		TargetConfiguration: &types.TargetConfiguration{TimestreamConfiguration: &types.TimestreamConfiguration{
			DatabaseName:      aws.String("devops"),
			TableName:         aws.String("cpu_1h"),
			TimeColumn:        aws.String("hour"),
			DimensionMappings: []types.DimensionMapping{{Name: aws.String("hostname"), DimensionValueType: types.DimensionValueTypeVarchar}},
			MultiMeasureMappings: &types.MultiMeasureMappings{
				TargetMultiMeasureName: aws.String("cpu_hourly"),
				MultiMeasureAttributeMappings: []types.MultiMeasureAttributeMapping{
					{SourceColumn: aws.String("avg_user"), MeasureValueType: types.ScalarMeasureValueTypeDouble},
					{SourceColumn: aws.String("max_user"), TargetMultiMeasureAttributeName: aws.String("peak_user"), MeasureValueType: types.ScalarMeasureValueTypeDouble},
					{SourceColumn: aws.String("samples"), MeasureValueType: types.ScalarMeasureValueTypeBigint},
				},
			},
		}},
		ScheduledQueryExecutionRoleArn: aws.String("arn:aws:iam::000000000000:role/tidal"),
		ErrorReportConfiguration: &types.ErrorReportConfiguration{S3Configuration: &types.S3Configuration{
			BucketName: aws.String("rollup-errors"), ObjectKeyPrefix: aws.String("reports"),
		}},
	}
}

// webhook collects notification bodies.
type webhook struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []Notification
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var n Notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.got = append(w.got, n)
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhook) types() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, n := range w.got {
		out = append(out, n.Type)
	}
	return out
}
