package scheduled

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	tsq "github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
	"github.com/aws/smithy-go"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/awsjson"
)

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestAPILifecycle drives create, list, describe, update, tag, execute and
// delete through the AWS SDK against the real server.
func TestAPILifecycle(t *testing.T) {
	clock := &fakeClock{t: t0.Add(90 * time.Second)}
	e := newEnv(t, t.TempDir(), clock, Options{})
	e.devops(1, 1)
	ctx := context.Background()

	in := rollupInput("hourly")
	in.ClientToken = aws.String(strings.Repeat("a", 32))
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("sre")}}
	out, err := e.client.CreateScheduledQuery(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Arn)
	if !strings.HasPrefix(arn, "arn:aws:timestream:us-east-1:000000000000:scheduled-query/hourly-") || len(arn) != len("arn:aws:timestream:us-east-1:000000000000:scheduled-query/hourly-")+16 {
		t.Fatalf("ARN %q", arn)
	}

	// The same ClientToken and request: the same ARN, nothing new.
	again, err := e.client.CreateScheduledQuery(ctx, in)
	if err != nil || aws.ToString(again.Arn) != arn {
		t.Fatalf("retried create = %v, %v; want %s", aws.ToString(again.Arn), err, arn)
	}
	// The same token with other parameters is a conflict; a new token
	// with the same name is too.
	changed := rollupInput("hourly-2")
	changed.ClientToken = in.ClientToken
	if _, err := e.client.CreateScheduledQuery(ctx, changed); apiErrorCode(err) != "ConflictException" {
		t.Fatalf("token reuse: %v", err)
	}
	if _, err := e.client.CreateScheduledQuery(ctx, rollupInput("hourly")); apiErrorCode(err) != "ConflictException" {
		t.Fatalf("duplicate name: %v", err)
	}
	for i := range 3 {
		if _, err := e.client.CreateScheduledQuery(ctx, rollupInput(fmt.Sprintf("extra-%d", i))); err != nil {
			t.Fatal(err)
		}
	}

	// List pages of two until every query was seen once.
	var names []string
	p := tsq.NewListScheduledQueriesPaginator(e.client, &tsq.ListScheduledQueriesInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range page.ScheduledQueries {
			names = append(names, aws.ToString(s.Name))
			if aws.ToString(s.Name) == "hourly" {
				if s.State != types.ScheduledQueryStateEnabled || aws.ToString(s.TargetDestination.TimestreamDestination.TableName) != "cpu_1h" ||
					!aws.ToTime(s.NextInvocationTime).Equal(t0.Add(time.Hour)) {
					t.Errorf("summary %+v", s)
				}
			}
		}
	}
	slices.Sort(names)
	if want := []string{"extra-0", "extra-1", "extra-2", "hourly"}; !slices.Equal(names, want) || pages != 2 {
		t.Fatalf("listed %v in %d pages, want %v in 2", names, pages, want)
	}

	d, err := e.client.DescribeScheduledQuery(ctx, &tsq.DescribeScheduledQueryInput{ScheduledQueryArn: out.Arn})
	if err != nil {
		t.Fatal(err)
	}
	sq := d.ScheduledQuery
	tc := sq.TargetConfiguration.TimestreamConfiguration
	if aws.ToString(sq.Name) != "hourly" || sq.State != types.ScheduledQueryStateEnabled ||
		aws.ToString(sq.ScheduleConfiguration.ScheduleExpression) != "cron(0 * * * ? *)" ||
		!aws.ToTime(sq.CreationTime).Equal(clock.Now()) || !aws.ToTime(sq.NextInvocationTime).Equal(t0.Add(time.Hour)) ||
		sq.PreviousInvocationTime != nil || sq.LastRunSummary != nil ||
		aws.ToString(tc.TimeColumn) != "hour" || len(tc.MultiMeasureMappings.MultiMeasureAttributeMappings) != 3 ||
		aws.ToString(tc.MultiMeasureMappings.MultiMeasureAttributeMappings[1].TargetMultiMeasureAttributeName) != "peak_user" ||
		aws.ToString(sq.ErrorReportConfiguration.S3Configuration.BucketName) != "rollup-errors" {
		t.Fatalf("described %+v", sq)
	}

	// Disable, then enable: the next invocation is recomputed from now.
	if _, err := e.client.UpdateScheduledQuery(ctx, &tsq.UpdateScheduledQueryInput{ScheduledQueryArn: out.Arn, State: types.ScheduledQueryStateDisabled}); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(150 * time.Minute))
	if n := e.runUntil(clock.Now()); n != 6 {
		t.Fatalf("%d runs, want 6 (the three enabled queries at 01:00 and 02:00)", n)
	}
	if q, _ := e.sched.Get(arn); q.LastRunSummary != nil || q.PreviousInvocationTime != nil {
		t.Fatalf("the disabled query ran: %+v", q.LastRunSummary)
	}
	if _, err := e.client.UpdateScheduledQuery(ctx, &tsq.UpdateScheduledQueryInput{ScheduledQueryArn: out.Arn, State: types.ScheduledQueryStateEnabled}); err != nil {
		t.Fatal(err)
	}
	d, err = e.client.DescribeScheduledQuery(ctx, &tsq.DescribeScheduledQueryInput{ScheduledQueryArn: out.Arn})
	if err != nil || d.ScheduledQuery.State != types.ScheduledQueryStateEnabled || !aws.ToTime(d.ScheduledQuery.NextInvocationTime).Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("after enable: %+v, %v", d.ScheduledQuery, err)
	}

	// Tags: created with one, add one, remove the first.
	if _, err := e.client.TagResource(ctx, &tsq.TagResourceInput{ResourceARN: out.Arn, Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("gold")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UntagResource(ctx, &tsq.UntagResourceInput{ResourceARN: out.Arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.client.ListTagsForResource(ctx, &tsq.ListTagsForResourceInput{ResourceARN: out.Arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "tier" || aws.ToString(tags.Tags[0].Value) != "gold" {
		t.Fatalf("tags %+v, %v", tags, err)
	}

	// Delete; then every operation on the ARN is ResourceNotFound.
	if _, err := e.client.DeleteScheduledQuery(ctx, &tsq.DeleteScheduledQueryInput{ScheduledQueryArn: out.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.DescribeScheduledQuery(ctx, &tsq.DescribeScheduledQueryInput{ScheduledQueryArn: out.Arn})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.ScheduledQueryArn) != arn {
		t.Fatalf("describe after delete: %v", err)
	}
	_, err = e.client.ExecuteScheduledQuery(ctx, &tsq.ExecuteScheduledQueryInput{ScheduledQueryArn: out.Arn, InvocationTime: aws.Time(t0)})
	if apiErrorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("execute after delete: %v", err)
	}
	if _, err := e.client.DeleteScheduledQuery(ctx, &tsq.DeleteScheduledQueryInput{ScheduledQueryArn: out.Arn}); apiErrorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("second delete: %v", err)
	}
}

// TestCreateValidation checks that bad definitions are rejected with a
// ValidationException before anything is stored.
func TestCreateValidation(t *testing.T) {
	e := newEnv(t, t.TempDir(), &fakeClock{t: t0}, Options{})
	e.devops(1, 1)
	tests := []struct {
		name   string
		modify func(*tsq.CreateScheduledQueryInput)
		want   string // substring of the message
	}{
		{"bad schedule", func(in *tsq.CreateScheduledQueryInput) {
			in.ScheduleConfiguration.ScheduleExpression = aws.String("cron(0 * * * * *)")
		}, "day-of-month and day-of-week"},
		{"rate unit", func(in *tsq.CreateScheduledQueryInput) {
			in.ScheduleConfiguration.ScheduleExpression = aws.String("rate(5 weeks)")
		}, "rate unit"},
		{"missing table", func(in *tsq.CreateScheduledQueryInput) {
			in.TargetConfiguration.TimestreamConfiguration.TableName = aws.String("nope")
		}, "does not exist"},
		{"time column type", func(in *tsq.CreateScheduledQueryInput) {
			in.TargetConfiguration.TimestreamConfiguration.TimeColumn = aws.String("hostname")
		}, "expected timestamp"},
		{"unknown source column", func(in *tsq.CreateScheduledQueryInput) {
			in.TargetConfiguration.TimestreamConfiguration.MultiMeasureMappings.MultiMeasureAttributeMappings[0].SourceColumn = aws.String("nope")
		}, "'nope' is not a column"},
		{"both mappings", func(in *tsq.CreateScheduledQueryInput) {
			in.TargetConfiguration.TimestreamConfiguration.MixedMeasureMappings = []types.MixedMeasureMapping{
				{SourceColumn: aws.String("avg_user"), MeasureValueType: types.MeasureValueTypeDouble}}
		}, "Exactly one of"},
		{"syntax error", func(in *tsq.CreateScheduledQueryInput) {
			in.QueryString = aws.String("SELEC 1")
		}, "Invalid query"},
		{"bucket", func(in *tsq.CreateScheduledQueryInput) {
			in.ErrorReportConfiguration.S3Configuration.BucketName = aws.String("../etc")
		}, "bucket name"},
		{"key prefix", func(in *tsq.CreateScheduledQueryInput) {
			in.ErrorReportConfiguration.S3Configuration.ObjectKeyPrefix = aws.String("a/../../b")
		}, "ObjectKeyPrefix"},
	}
	for _, tt := range tests {
		in := rollupInput("q1")
		tt.modify(in)
		_, err := e.client.CreateScheduledQuery(context.Background(), in)
		var ve *types.ValidationException
		if !errors.As(err, &ve) || !strings.Contains(aws.ToString(ve.Message), tt.want) {
			t.Errorf("%s: %v, want ValidationException containing %q", tt.name, err, tt.want)
		}
	}
	if got := e.sched.List(); len(got) != 0 {
		t.Fatalf("%d queries stored after failed creates", len(got))
	}
}

// TestTagHandler checks that the tagging operations serve scheduled-query
// ARNs and pass every other resource on to the next handler (the Write
// API's tagging of databases and tables).
func TestTagHandler(t *testing.T) {
	e := newEnv(t, t.TempDir(), &fakeClock{t: t0}, Options{})
	e.devops(1, 1)
	out, err := e.client.CreateScheduledQuery(context.Background(), rollupInput("tagged"))
	if err != nil {
		t.Fatal(err)
	}
	var passed []string
	h := e.sched.TagHandler(func(w http.ResponseWriter, _ *http.Request, op string, body []byte) {
		passed = append(passed, op+" "+string(body))
		w.WriteHeader(http.StatusTeapot)
	})
	call := func(op, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(http.MethodPost, "/", nil), op, []byte(body))
		return rec
	}
	arn := aws.ToString(out.Arn)
	if rec := call("TagResource", `{"ResourceARN":"`+arn+`","Tags":[{"Key":"k","Value":"v"}]}`); rec.Code != http.StatusOK {
		t.Fatalf("tag: %d %s", rec.Code, rec.Body)
	}
	rec := call("ListTagsForResource", `{"ResourceARN":"`+arn+`"}`)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"Tags":[{"Key":"k","Value":"v"}]}` {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	dbARN := `{"ResourceARN":"arn:aws:timestream:us-east-1:000000000000:database/devops"}`
	if rec := call("ListTagsForResource", dbARN); rec.Code != http.StatusTeapot || len(passed) != 1 || passed[0] != "ListTagsForResource "+dbARN {
		t.Fatalf("database ARN: %d, passed %v", rec.Code, passed)
	}
	rec = call("UntagResource", `{"ResourceARN":"`+arn+`x","TagKeys":["k"]}`)
	if rec.Code != http.StatusBadRequest || rec.Header().Get("X-Amzn-ErrorType") != "ResourceNotFoundException" {
		t.Fatalf("unknown scheduled query: %d %s", rec.Code, rec.Body)
	}
}

// FuzzServe sends arbitrary bodies to every operation: each answers with
// a response or an AWS error, never a panic or an error of another kind.
func FuzzServe(f *testing.F) {
	e := newEnv(f, f.TempDir(), &fakeClock{t: t0}, Options{})
	e.devops(1, 1)
	valid, err := json.Marshal(map[string]any{
		"Name": "fz", "QueryString": "SELECT hostname, bin(time, 1h) AS hour, avg(usage_user) AS a FROM devops.cpu GROUP BY 1, 2",
		"ScheduleConfiguration":     map[string]string{"ScheduleExpression": "rate(1 hour)"},
		"NotificationConfiguration": map[string]any{"SnsConfiguration": map[string]string{"TopicArn": "arn:x"}},
		"TargetConfiguration": map[string]any{"TimestreamConfiguration": map[string]any{"DatabaseName": "devops", "TableName": "cpu_1h",
			"TimeColumn": "hour", "DimensionMappings": []map[string]string{{"Name": "hostname", "DimensionValueType": "VARCHAR"}},
			"MixedMeasureMappings": []map[string]string{{"SourceColumn": "a", "MeasureValueType": "DOUBLE"}}}},
		"ScheduledQueryExecutionRoleArn": "arn:r",
		"ErrorReportConfiguration":       map[string]any{"S3Configuration": map[string]string{"BucketName": "bkt"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	ops := append(e.sched.Operations(), TagOperations...)
	for i := range ops {
		f.Add(uint8(i), []byte(`{}`))
	}
	f.Add(uint8(0), valid)
	f.Add(uint8(3), []byte(`{"ScheduledQueryArn":"arn:aws:timestream:us-east-1:000000000000:scheduled-query/fz-0","InvocationTime":1.5e9}`))
	f.Add(uint8(4), []byte(`{"MaxResults":1,"NextToken":"!!"}`))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		_, err := e.sched.Serve(context.Background(), ops[int(op)%len(ops)], body)
		var ae *awsjson.Error
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("%s: error %v is not an AWS error", ops[int(op)%len(ops)], err)
		}
	})
}

// FuzzOpenState opens a scheduler over an arbitrary state file: it loads
// or fails with an error, never panics.
func FuzzOpenState(f *testing.F) {
	f.Add([]byte(`{"Version":1,"Queries":{"a":{"Arn":"a","Name":"n","ScheduleConfiguration":{"ScheduleExpression":"rate(1 day)"},"State":"ENABLED","NextInvocationTime":1}}}`))
	f.Add([]byte(`{"Version":1,"Queries":null}`))
	f.Add([]byte(`{"Version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, stateFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(Options{Dir: dir, Querier: EngineQuerier{}, Appender: noAppender{}})
		if err != nil {
			return
		}
		s.List()
		s.Admin()
		s.NextWake()
	})
}

// noAppender is an Appender for tests that never write.
type noAppender struct{}

func (noAppender) Append(context.Context, string, string, []ingest.Record, ingest.AppendOptions) (ingest.Result, error) {
	return ingest.Result{}, errors.New("no appender")
}
