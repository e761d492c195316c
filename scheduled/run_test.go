package scheduled

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	tsq "github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tidaldb/tidal/ingest"
)

// rollupSQL is the rollup computed by SQL over the source, in the shape
// the target is read back in.
const rollupSQL = `SELECT hostname, bin(time, 1h) AS t, avg(usage_user), max(usage_user), count(*)
	FROM devops.cpu GROUP BY hostname, bin(time, 1h) ORDER BY hostname, t`

const targetSQL = `SELECT hostname, time, avg_user, peak_user, samples FROM devops.cpu_1h
	WHERE measure_name = 'cpu_hourly' ORDER BY hostname, time`

// TestRollup runs the hourly 1-minute-to-1-hour rollup over three hours of
// data and checks that the target rows, read back through the Query API,
// equal the same aggregate computed by SQL over the source; then re-runs an
// invocation with ExecuteScheduledQuery and checks nothing is duplicated.
func TestRollup(t *testing.T) {
	clock := &fakeClock{t: t0}
	e := newEnv(t, t.TempDir(), clock, Options{})
	e.devops(3, 3)
	ctx := context.Background()
	out, err := e.client.CreateScheduledQuery(ctx, rollupInput("rollup"))
	if err != nil {
		t.Fatal(err)
	}
	if n := e.runUntil(t0.Add(3 * time.Hour)); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}
	want := e.query(rollupSQL)
	got := e.query(targetSQL)
	if len(want) != 9 || !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("target rows\n%v\nwant (SQL over the source)\n%v", got, want)
	}
	if want[0][4] != "60" || want[0][1] != "2024-01-01 00:00:00.000000000" {
		t.Fatalf("first rollup row %v", want[0])
	}

	d, err := e.client.DescribeScheduledQuery(ctx, &tsq.DescribeScheduledQueryInput{ScheduledQueryArn: out.Arn})
	if err != nil {
		t.Fatal(err)
	}
	sq := d.ScheduledQuery
	last := sq.LastRunSummary
	if !aws.ToTime(sq.PreviousInvocationTime).Equal(t0.Add(3*time.Hour)) || !aws.ToTime(sq.NextInvocationTime).Equal(t0.Add(4*time.Hour)) ||
		last.RunStatus != types.ScheduledQueryRunStatusAutoTriggerSuccess || !aws.ToTime(last.InvocationTime).Equal(t0.Add(3*time.Hour)) ||
		last.ExecutionStats.QueryResultRows != 3 || last.ExecutionStats.RecordsIngested != 3 || last.ExecutionStats.DataWrites == 0 ||
		len(sq.RecentlyFailedRuns) != 0 {
		t.Fatalf("after three runs: %+v, last run %+v", sq, last)
	}

	// Re-run 02:00 (the 01:00-02:00 hour) by hand: the same rows, none
	// added.
	if _, err := e.client.ExecuteScheduledQuery(ctx, &tsq.ExecuteScheduledQueryInput{ScheduledQueryArn: out.Arn, InvocationTime: aws.Time(t0.Add(2 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.sched.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v; want the manual run", n, err)
	}
	if got := e.query(targetSQL); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after re-run: target rows\n%v\nwant\n%v", got, want)
	}
	if got := e.query("SELECT count(*) FROM devops.cpu_1h"); got[0][0] != "9" {
		t.Fatalf("target holds %s rows after a re-run, want 9", got[0][0])
	}
	d, err = e.client.DescribeScheduledQuery(ctx, &tsq.DescribeScheduledQueryInput{ScheduledQueryArn: out.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if last := d.ScheduledQuery.LastRunSummary; last.RunStatus != types.ScheduledQueryRunStatusManualTriggerSuccess ||
		!aws.ToTime(last.InvocationTime).Equal(t0.Add(2*time.Hour)) || last.ExecutionStats.RecordsIngested != 3 ||
		!aws.ToTime(d.ScheduledQuery.PreviousInvocationTime).Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("after manual run: %+v", last)
	}

	// Late data for 00:xx changes the aggregate; a backfill run for 01:00
	// replaces the earlier value instead of being rejected.
	e.append("cpu", []ingest.Record{{
		Time:        t0.Add(30 * time.Second).UnixNano(),
		Dimensions:  []ingest.Dimension{{Name: "hostname", Value: "host_0"}},
		MeasureName: "cpu",
		Measures:    []ingest.Measure{{Name: "usage_user", Value: ingest.Float(1000)}, {Name: "usage_system", Value: ingest.Float(0)}},
	}})
	if _, err := e.client.ExecuteScheduledQuery(ctx, &tsq.ExecuteScheduledQueryInput{ScheduledQueryArn: out.Arn, InvocationTime: aws.Time(t0.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sched.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	want = e.query(rollupSQL)
	if got := e.query(targetSQL); !slices.EqualFunc(got, want, slices.Equal) || want[0][3] != "1000.0" {
		t.Fatalf("after backfill: target rows\n%v\nwant\n%v", got, want)
	}

	if got := testutil.ToFloat64(e.sched.m.runs.WithLabelValues("rollup", "auto", "success")); got != 3 {
		t.Errorf("auto runs metric = %v, want 3", got)
	}
	if got := testutil.ToFloat64(e.sched.m.records.WithLabelValues("rollup")); got != 15 {
		t.Errorf("records metric = %v, want 15", got)
	}
}

// TestFailedRun checks that a query failing at run time leaves a failed
// run summary, an error report where the configuration says, and a failure
// notification.
func TestFailedRun(t *testing.T) {
	clock := &fakeClock{t: t0}
	hook := newWebhook(t)
	e := newEnv(t, t.TempDir(), clock, Options{})
	e.devops(2, 1)
	ctx := context.Background()
	in := rollupInput("failing")
	// The cast fails on every row, when the query runs.
	in.QueryString = aws.String(`SELECT hostname, bin(time, 1h) AS hour, avg(usage_user) AS avg_user,
		max(usage_user) AS max_user, sum(CAST(hostname AS BIGINT)) AS samples
		FROM devops.cpu WHERE time < @scheduled_runtime GROUP BY hostname, bin(time, 1h)`)
	in.NotificationConfiguration.SnsConfiguration.TopicArn = aws.String(hook.srv.URL)
	out, err := e.client.CreateScheduledQuery(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.runUntil(t0.Add(2 * time.Hour)); n != 2 {
		t.Fatalf("%d runs, want 2", n)
	}
	d, err := e.client.DescribeScheduledQuery(ctx, &tsq.DescribeScheduledQueryInput{ScheduledQueryArn: out.Arn})
	if err != nil {
		t.Fatal(err)
	}
	sq := d.ScheduledQuery
	last := sq.LastRunSummary
	if last.RunStatus != types.ScheduledQueryRunStatusAutoTriggerFailure || !strings.Contains(aws.ToString(last.FailureReason), "host_") ||
		len(sq.RecentlyFailedRuns) != 2 || !aws.ToTime(sq.RecentlyFailedRuns[0].InvocationTime).Equal(t0.Add(2*time.Hour)) ||
		!aws.ToTime(sq.NextInvocationTime).Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("failed runs: %+v, last %+v", sq, last)
	}
	loc := last.ErrorReportLocation.S3ReportLocation
	if aws.ToString(loc.BucketName) != "rollup-errors" || !strings.HasPrefix(aws.ToString(loc.ObjectKey), "reports/"+arnID(aws.ToString(out.Arn))+"/"+strconv.FormatInt(t0.Add(2*time.Hour).Unix(), 10)+"/") {
		t.Fatalf("report location %s/%s", aws.ToString(loc.BucketName), aws.ToString(loc.ObjectKey))
	}
	data, err := os.ReadFile(e.sched.ReportPath(&S3ReportLocation{BucketName: *loc.BucketName, ObjectKey: *loc.ObjectKey}))
	if err != nil {
		t.Fatal(err)
	}
	var rep errorReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.ScheduledQueryArn != aws.ToString(out.Arn) || rep.InvocationTime != t0.Add(2*time.Hour).Unix() ||
		len(rep.Errors) != 1 || rep.Errors[0].Reason != aws.ToString(last.FailureReason) {
		t.Fatalf("report %+v", rep)
	}
	if got := e.query("SELECT count(*) FROM devops.cpu_1h"); got[0][0] != "0" {
		t.Fatalf("failed runs wrote %s rows", got[0][0])
	}
	if got, want := hook.types(), []string{NotifyCreating, AutoTriggerFailure, AutoTriggerFailure}; !slices.Equal(got, want) {
		t.Fatalf("notifications %v, want %v", got, want)
	}
	hook.mu.Lock()
	n := hook.got[2]
	hook.mu.Unlock()
	if n.Arn != aws.ToString(out.Arn) || n.ScheduledQueryRunSummary.InvocationEpochSecond != t0.Add(2*time.Hour).Unix() ||
		n.ScheduledQueryRunSummary.ErrorReportLocation.S3ReportLocation.ObjectKey != aws.ToString(loc.ObjectKey) ||
		n.NextInvocationEpochSecond != t0.Add(3*time.Hour).Unix() {
		t.Fatalf("failure notification %+v", n)
	}
	if got := testutil.ToFloat64(e.sched.m.runs.WithLabelValues("failing", "auto", "failure")); got != 2 {
		t.Errorf("failure metric = %v, want 2", got)
	}
}

// tickInput writes one single-measure record per run into devops.ticks
// at the invocation time (a mixed measure mapping), so the target counts
// the runs.
func tickInput(name, schedule string) *tsq.CreateScheduledQueryInput {
	in := rollupInput(name)
	in.QueryString = aws.String(`SELECT '` + name + `' AS job, @scheduled_runtime AS t, count(*) AS n FROM devops.cpu WHERE time < @scheduled_runtime`)
	in.ScheduleConfiguration.ScheduleExpression = aws.String(schedule)
	in.TargetConfiguration.TimestreamConfiguration = &types.TimestreamConfiguration{
		DatabaseName:      aws.String("devops"),
		TableName:         aws.String("ticks"),
		TimeColumn:        aws.String("t"),
		DimensionMappings: []types.DimensionMapping{{Name: aws.String("job"), DimensionValueType: types.DimensionValueTypeVarchar}},
		MixedMeasureMappings: []types.MixedMeasureMapping{
			{SourceColumn: aws.String("n"), TargetMeasureName: aws.String("seen"), MeasureValueType: types.MeasureValueTypeBigint},
		},
	}
	return in
}

// TestSimulatedDay runs a rate and a cron schedule over a simulated day
// and checks every invocation ran once, at its time.
func TestSimulatedDay(t *testing.T) {
	clock := &fakeClock{t: t0}
	e := newEnv(t, t.TempDir(), clock, Options{})
	e.devops(1, 1)
	ctx := context.Background()
	for _, in := range []*tsq.CreateScheduledQueryInput{
		tickInput("every10m", "rate(10 minutes)"),
		tickInput("weekday9to17", "cron(30 9-17/2 ? * MON-FRI *)"), // 2024-01-01 is a Monday.
	} {
		if _, err := e.client.CreateScheduledQuery(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.runUntil(t0.Add(24 * time.Hour)); n != 144+5 {
		t.Fatalf("%d runs, want 149", n)
	}
	got := e.query(`SELECT job, count(*), min(time), max(time), max(measure_value::bigint) FROM devops.ticks GROUP BY job ORDER BY job`)
	want := [][]string{
		{"every10m", "144", "2024-01-01 00:10:00.000000000", "2024-01-02 00:00:00.000000000", "60"},
		{"weekday9to17", "5", "2024-01-01 09:30:00.000000000", "2024-01-01 17:30:00.000000000", "60"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("ticks %v, want %v", got, want)
	}
	if got := e.query(`SELECT time FROM devops.ticks WHERE job = 'weekday9to17' ORDER BY time`); got[1][0] != "2024-01-01 11:30:00.000000000" {
		t.Fatalf("weekday runs at %v", got)
	}
}

// TestRestartCatchUp stops the server after one run, keeps it down for
// four hours and checks the restarted scheduler keeps the definition and
// runs the missed invocations in order (or only the bounded last ones,
// or none but the latest, as configured).
func TestRestartCatchUp(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string // hours of the target rows
	}{
		{"catch-up", Options{}, []string{"00", "01", "02", "03", "04"}},
		{"bounded", Options{MaxCatchUp: 2}, []string{"00", "03", "04"}},
		{"skip", Options{MissedRuns: MissedSkip}, []string{"00", "04"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := &fakeClock{t: t0}
			e := newEnv(t, dir, clock, tt.opts)
			e.devops(1, 5)
			out, err := e.client.CreateScheduledQuery(context.Background(), rollupInput("rollup"))
			if err != nil {
				t.Fatal(err)
			}
			if n := e.runUntil(t0.Add(time.Hour)); n != 1 {
				t.Fatalf("%d runs before the restart, want 1", n)
			}
			e.close()

			clock.Set(t0.Add(5*time.Hour + 30*time.Minute))
			e = newEnv(t, dir, clock, tt.opts)
			q, ok := e.sched.Get(aws.ToString(out.Arn))
			if !ok || !time.Time(*q.NextInvocationTime).Equal(t0.Add(2*time.Hour)) {
				t.Fatalf("after restart: %+v, %v", q, ok)
			}
			if _, err := e.sched.RunDue(context.Background()); err != nil {
				t.Fatal(err)
			}
			var hours []string
			for _, r := range e.query(`SELECT time FROM devops.cpu_1h ORDER BY time`) {
				hours = append(hours, r[0][11:13])
			}
			if !slices.Equal(hours, tt.want) {
				t.Fatalf("target hours %v, want %v", hours, tt.want)
			}
			q, _ = e.sched.Get(aws.ToString(out.Arn))
			if !time.Time(*q.PreviousInvocationTime).Equal(t0.Add(5*time.Hour)) || !time.Time(*q.NextInvocationTime).Equal(t0.Add(6*time.Hour)) {
				t.Fatalf("after catch-up: previous %v, next %v", time.Time(*q.PreviousInvocationTime), time.Time(*q.NextInvocationTime))
			}
		})
	}
}

// TestRunLoop checks that Run runs what is due, sleeps on the injected
// timer until the next invocation, wakes for a manual run, and returns nil
// when its context ends.
func TestRunLoop(t *testing.T) {
	clock := &fakeClock{t: t0}
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	e := newEnv(t, t.TempDir(), clock, Options{After: func(d time.Duration) <-chan time.Time {
		waits <- d
		return fire
	}})
	e.devops(1, 2)
	out, err := e.client.CreateScheduledQuery(context.Background(), rollupInput("rollup"))
	if err != nil {
		t.Fatal(err)
	}
	<-e.sched.kick // Drop the wake-up of the create; Run starts with a pass anyway.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.sched.Run(ctx) }()

	if d := <-waits; d != DefaultMaxWait {
		t.Fatalf("first wait %v, want the cap %v (01:00 is an hour away)", d, DefaultMaxWait)
	}
	clock.Set(t0.Add(time.Hour))
	fire <- clock.Now()
	if d := <-waits; d != time.Minute {
		t.Fatalf("second wait %v, want the 1m cap", d)
	}
	if q, _ := e.sched.Get(aws.ToString(out.Arn)); q.LastRunSummary == nil || q.LastRunSummary.RunStatus != AutoTriggerSuccess {
		t.Fatalf("after the timer fired: %+v", q.LastRunSummary)
	}
	// A manual run wakes the loop at once.
	if _, err := e.client.ExecuteScheduledQuery(context.Background(), &tsq.ExecuteScheduledQueryInput{ScheduledQueryArn: out.Arn, InvocationTime: aws.Time(t0.Add(2 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	<-waits
	if q, _ := e.sched.Get(aws.ToString(out.Arn)); q.LastRunSummary.RunStatus != ManualTriggerSuccess {
		t.Fatalf("after the manual run: %+v", q.LastRunSummary)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// TestRejectedRecords checks that records the target table rejects (here a
// type conflict with an existing column) fail the run, keep the good
// records, and are listed in the error report.
func TestRejectedRecords(t *testing.T) {
	clock := &fakeClock{t: t0}
	e := newEnv(t, t.TempDir(), clock, Options{})
	e.devops(2, 1)
	ctx := context.Background()
	out, err := e.client.CreateScheduledQuery(ctx, rollupInput("rollup"))
	if err != nil {
		t.Fatal(err)
	}
	// The table changes under the query: samples becomes a VARCHAR
	// column, and the rollup writes it as BIGINT.
	e.append("cpu_1h", []ingest.Record{{Time: t0.Add(-time.Hour).UnixNano(), Dimensions: []ingest.Dimension{{Name: "hostname", Value: "old"}},
		MeasureName: "cpu_hourly", Measures: []ingest.Measure{{Name: "samples", Value: ingest.String("many")}}}})
	if n := e.runUntil(t0.Add(time.Hour)); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
	q, _ := e.sched.Get(aws.ToString(out.Arn))
	last := q.LastRunSummary
	if last.RunStatus != AutoTriggerFailure || last.ExecutionStats.QueryResultRows != 2 || last.ExecutionStats.RecordsIngested != 0 ||
		!strings.Contains(last.FailureReason, "2 result rows or records could not be written") {
		t.Fatalf("run %+v %+v", last, last.ExecutionStats)
	}
	data, err := os.ReadFile(e.sched.ReportPath(last.ErrorReportLocation.S3ReportLocation))
	if err != nil {
		t.Fatal(err)
	}
	var rep errorReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 2 || rep.Errors[0].Record == nil || rep.Errors[0].Record.MeasureName != "cpu_hourly" ||
		rep.Errors[0].Record.Time != "2024-01-01T00:00:00Z" || rep.Errors[0].Reason == "" {
		t.Fatalf("report %s", data)
	}
}
