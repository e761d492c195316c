package timestreamwrite

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	tsw "github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
)

// recordingAppender stores what it is given and rejects the records its
// reject function picks, like the memstore would.
type recordingAppender struct {
	mu     sync.Mutex
	calls  []appendCall
	reject func(r ingest.Record) (ingest.Rejection, bool)
	err    error
}

type appendCall struct {
	db, table string
	recs      []ingest.Record
	opts      ingest.AppendOptions
}

func (a *recordingAppender) Append(_ context.Context, db, table string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return ingest.Result{}, a.err
	}
	var res ingest.Result
	var kept []ingest.Record
	for i, r := range recs {
		if a.reject != nil {
			if rj, ok := a.reject(r); ok {
				rj.Index = i
				res.Rejected = append(res.Rejected, rj)
				continue
			}
		}
		// recs is not retained after the call: copy.
		r.Dimensions = append([]ingest.Dimension(nil), r.Dimensions...)
		r.Measures = append([]ingest.Measure(nil), r.Measures...)
		kept = append(kept, r)
	}
	res.MemoryStore = len(kept)
	a.calls = append(a.calls, appendCall{db: db, table: table, recs: kept, opts: opts})
	return res, nil
}

func (a *recordingAppender) stored() []ingest.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []ingest.Record
	for _, c := range a.calls {
		out = append(out, c.recs...)
	}
	return out
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

type env struct {
	cat    *catalog.Catalog
	app    *recordingAppender
	api    *API
	srv    *httptest.Server
	client *tsw.Client
	reg    *prometheus.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	tick := t0
	var mu sync.Mutex
	cat, err := catalog.Open(catalog.Options{Dir: t.TempDir(), Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		tick = tick.Add(time.Second)
		return tick
	}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{cat: cat, app: &recordingAppender{}, reg: prometheus.NewRegistry()}
	e.api = New(cat, e.app, Options{Registerer: e.reg})
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	e.client = tsw.New(tsw.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:     aws.NopRetryer{},
	}, func(o *tsw.Options) {
		o.BaseEndpoint = aws.String(e.srv.URL)
		o.EndpointDiscovery.EnableEndpointDiscovery = aws.EndpointDiscoveryDisabled
	})
	return e
}

func (e *env) mustTable(t *testing.T, db, table string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.client.CreateDatabase(ctx, &tsw.CreateDatabaseInput{DatabaseName: aws.String(db)}); err != nil {
		var ce *types.ConflictException
		if !errors.As(err, &ce) {
			t.Fatal(err)
		}
	}
	if _, err := e.client.CreateTable(ctx, &tsw.CreateTableInput{DatabaseName: aws.String(db), TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
}

// wantAPIError checks that err is the SDK's typed error T with a message
// containing msg.
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

func TestDatabaseOperations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	out, err := e.client.CreateDatabase(ctx, &tsw.CreateDatabaseInput{
		DatabaseName: aws.String("devops"), KmsKeyId: aws.String("alias/mine"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Database
	if aws.ToString(d.Arn) != "arn:aws:timestream:us-east-1:000000000000:database/devops" || aws.ToString(d.DatabaseName) != "devops" ||
		aws.ToString(d.KmsKeyId) != "alias/mine" || d.TableCount != 0 || !d.CreationTime.Equal(t0.Add(time.Second)) || !d.LastUpdatedTime.Equal(t0.Add(time.Second)) {
		t.Fatalf("CreateDatabase = %+v", d)
	}

	_, err = e.client.CreateDatabase(ctx, &tsw.CreateDatabaseInput{DatabaseName: aws.String("devops")})
	wantAPIError[*types.ConflictException](t, err, "The database devops already exists.")
	_, err = e.client.CreateDatabase(ctx, &tsw.CreateDatabaseInput{DatabaseName: aws.String("x")})
	wantAPIError[*types.ValidationException](t, err, `Invalid database name "x"`)

	e.mustTable(t, "devops", "cpu")
	desc, err := e.client.DescribeDatabase(ctx, &tsw.DescribeDatabaseInput{DatabaseName: aws.String("devops")})
	if err != nil {
		t.Fatal(err)
	}
	if desc.Database.TableCount != 1 || aws.ToString(desc.Database.KmsKeyId) != "alias/mine" {
		t.Fatalf("DescribeDatabase = %+v", desc.Database)
	}
	_, err = e.client.DescribeDatabase(ctx, &tsw.DescribeDatabaseInput{DatabaseName: aws.String("nope")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "The database nope does not exist.")

	upd, err := e.client.UpdateDatabase(ctx, &tsw.UpdateDatabaseInput{DatabaseName: aws.String("devops"), KmsKeyId: aws.String("alias/other")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(upd.Database.KmsKeyId) != "alias/other" || !upd.Database.LastUpdatedTime.After(*upd.Database.CreationTime) {
		t.Fatalf("UpdateDatabase = %+v", upd.Database)
	}
	_, err = e.client.UpdateDatabase(ctx, &tsw.UpdateDatabaseInput{DatabaseName: aws.String("nope"), KmsKeyId: aws.String("k")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "nope")

	_, err = e.client.DeleteDatabase(ctx, &tsw.DeleteDatabaseInput{DatabaseName: aws.String("devops")})
	wantAPIError[*types.ValidationException](t, err, "delete all tables first")
	if _, err := e.client.DeleteTable(ctx, &tsw.DeleteTableInput{DatabaseName: aws.String("devops"), TableName: aws.String("cpu")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DeleteDatabase(ctx, &tsw.DeleteDatabaseInput{DatabaseName: aws.String("devops")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.DeleteDatabase(ctx, &tsw.DeleteDatabaseInput{DatabaseName: aws.String("devops")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "devops")
}

func TestListDatabasesPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var want []string
	for i := range 25 {
		name := fmt.Sprintf("db%02d", i)
		want = append(want, name)
		if _, err := e.client.CreateDatabase(ctx, &tsw.CreateDatabaseInput{DatabaseName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	// Default page size is 20.
	first, err := e.client.ListDatabases(ctx, &tsw.ListDatabasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Databases) != 20 || first.NextToken == nil {
		t.Fatalf("first page: %d databases, token %v", len(first.Databases), first.NextToken)
	}
	// The paginator walks pages of 10 and sees every database once, in order.
	var got []string
	pages := 0
	p := tsw.NewListDatabasesPaginator(e.client, &tsw.ListDatabasesInput{MaxResults: aws.Int32(10)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range out.Databases {
			got = append(got, aws.ToString(d.DatabaseName))
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paginated %d pages: %v", pages, got)
	}
	_, err = e.client.ListDatabases(ctx, &tsw.ListDatabasesInput{MaxResults: aws.Int32(21)})
	wantAPIError[*types.ValidationException](t, err, "Member must have value less than or equal to 20")
	_, err = e.client.ListDatabases(ctx, &tsw.ListDatabasesInput{MaxResults: aws.Int32(0)})
	wantAPIError[*types.ValidationException](t, err, "greater than or equal to 1")
	_, err = e.client.ListDatabases(ctx, &tsw.ListDatabasesInput{NextToken: aws.String("garbage!")})
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token.")
	// A table token is not a database token.
	tok := "dGI6eA" // base64url("tb:x")
	_, err = e.client.ListDatabases(ctx, &tsw.ListDatabasesInput{NextToken: &tok})
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token.")
}

func TestTableOperations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.client.CreateDatabase(ctx, &tsw.CreateDatabaseInput{DatabaseName: aws.String("iot")}); err != nil {
		t.Fatal(err)
	}
	out, err := e.client.CreateTable(ctx, &tsw.CreateTableInput{
		DatabaseName: aws.String("iot"), TableName: aws.String("sensors"),
		RetentionProperties: &types.RetentionProperties{MemoryStoreRetentionPeriodInHours: aws.Int64(24), MagneticStoreRetentionPeriodInDays: aws.Int64(365)},
		MagneticStoreWriteProperties: &types.MagneticStoreWriteProperties{
			EnableMagneticStoreWrites: aws.Bool(true),
			MagneticStoreRejectedDataLocation: &types.MagneticStoreRejectedDataLocation{S3Configuration: &types.S3Configuration{
				BucketName: aws.String("rejects"), ObjectKeyPrefix: aws.String("iot/"), EncryptionOption: types.S3EncryptionOptionSseS3,
			}},
		},
		Schema: &types.Schema{CompositePartitionKey: []types.PartitionKey{{
			Type: types.PartitionKeyTypeDimension, Name: aws.String("device"), EnforcementInRecord: types.PartitionKeyEnforcementLevelRequired,
		}}},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tb := out.Table
	if aws.ToString(tb.Arn) != "arn:aws:timestream:us-east-1:000000000000:database/iot/table/sensors" || tb.TableStatus != types.TableStatusActive ||
		aws.ToInt64(tb.RetentionProperties.MemoryStoreRetentionPeriodInHours) != 24 || aws.ToInt64(tb.RetentionProperties.MagneticStoreRetentionPeriodInDays) != 365 ||
		!aws.ToBool(tb.MagneticStoreWriteProperties.EnableMagneticStoreWrites) ||
		aws.ToString(tb.MagneticStoreWriteProperties.MagneticStoreRejectedDataLocation.S3Configuration.BucketName) != "rejects" ||
		tb.MagneticStoreWriteProperties.MagneticStoreRejectedDataLocation.S3Configuration.EncryptionOption != types.S3EncryptionOptionSseS3 ||
		len(tb.Schema.CompositePartitionKey) != 1 || aws.ToString(tb.Schema.CompositePartitionKey[0].Name) != "device" ||
		tb.Schema.CompositePartitionKey[0].EnforcementInRecord != types.PartitionKeyEnforcementLevelRequired ||
		!tb.CreationTime.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("CreateTable = %+v", tb)
	}

	// Defaults.
	def, err := e.client.CreateTable(ctx, &tsw.CreateTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(def.Table.RetentionProperties.MemoryStoreRetentionPeriodInHours) != 6 || aws.ToInt64(def.Table.RetentionProperties.MagneticStoreRetentionPeriodInDays) != 73000 ||
		aws.ToBool(def.Table.MagneticStoreWriteProperties.EnableMagneticStoreWrites) || def.Table.MagneticStoreWriteProperties.MagneticStoreRejectedDataLocation != nil ||
		len(def.Table.Schema.CompositePartitionKey) != 1 || def.Table.Schema.CompositePartitionKey[0].Type != types.PartitionKeyTypeMeasure {
		t.Fatalf("default table = %+v", def.Table)
	}

	errCases := []struct {
		name string
		in   *tsw.CreateTableInput
		msg  string
	}{
		{"retention range", &tsw.CreateTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("bad"),
			RetentionProperties: &types.RetentionProperties{MemoryStoreRetentionPeriodInHours: aws.Int64(9000), MagneticStoreRetentionPeriodInDays: aws.Int64(1)}},
			"Memory store retention must be between 1 and 8766 hours, got 9000."},
		{"partition key enum", &tsw.CreateTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("bad"),
			Schema: &types.Schema{CompositePartitionKey: []types.PartitionKey{{Type: "TIME"}}}},
			"Member must satisfy enum value set: [DIMENSION, MEASURE]"},
		{"bad table name", &tsw.CreateTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("a b")}, `Invalid table name "a b"`},
	}
	for _, tc := range errCases {
		_, err := e.client.CreateTable(ctx, tc.in)
		wantAPIError[*types.ValidationException](t, err, tc.msg)
	}
	_, err = e.client.CreateTable(ctx, &tsw.CreateTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("sensors")})
	wantAPIError[*types.ConflictException](t, err, "The table sensors already exists in database iot.")
	_, err = e.client.CreateTable(ctx, &tsw.CreateTableInput{DatabaseName: aws.String("nodb"), TableName: aws.String("sensors")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "The database nodb does not exist.")

	desc, err := e.client.DescribeTable(ctx, &tsw.DescribeTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("sensors")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(desc.Table.TableName) != "sensors" || aws.ToString(desc.Table.DatabaseName) != "iot" || !desc.Table.LastUpdatedTime.Equal(*tb.LastUpdatedTime) {
		t.Fatalf("DescribeTable = %+v", desc.Table)
	}
	_, err = e.client.DescribeTable(ctx, &tsw.DescribeTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("nope")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "The table nope does not exist in database iot.")

	// UpdateTable: retention, magnetic writes off, enforcement relaxed.
	upd, err := e.client.UpdateTable(ctx, &tsw.UpdateTableInput{
		DatabaseName: aws.String("iot"), TableName: aws.String("sensors"),
		RetentionProperties:          &types.RetentionProperties{MemoryStoreRetentionPeriodInHours: aws.Int64(2), MagneticStoreRetentionPeriodInDays: aws.Int64(10)},
		MagneticStoreWriteProperties: &types.MagneticStoreWriteProperties{EnableMagneticStoreWrites: aws.Bool(false)},
		Schema: &types.Schema{CompositePartitionKey: []types.PartitionKey{{
			Type: types.PartitionKeyTypeDimension, Name: aws.String("device"), EnforcementInRecord: types.PartitionKeyEnforcementLevelOptional,
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(upd.Table.RetentionProperties.MemoryStoreRetentionPeriodInHours) != 2 || aws.ToBool(upd.Table.MagneticStoreWriteProperties.EnableMagneticStoreWrites) ||
		upd.Table.MagneticStoreWriteProperties.MagneticStoreRejectedDataLocation != nil ||
		upd.Table.Schema.CompositePartitionKey[0].EnforcementInRecord != types.PartitionKeyEnforcementLevelOptional || !upd.Table.LastUpdatedTime.After(*upd.Table.CreationTime) {
		t.Fatalf("UpdateTable = %+v", upd.Table)
	}
	if got, _ := e.cat.Table("iot", "sensors"); got.Retention != (catalog.Retention{MemoryHours: 2, MagneticDays: 10}) {
		t.Fatalf("catalog retention = %+v", got.Retention)
	}
	_, err = e.client.UpdateTable(ctx, &tsw.UpdateTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("sensors"),
		Schema: &types.Schema{CompositePartitionKey: []types.PartitionKey{{Type: types.PartitionKeyTypeMeasure}}}})
	wantAPIError[*types.ValidationException](t, err, "only the enforcement level")
	_, err = e.client.UpdateTable(ctx, &tsw.UpdateTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("nope")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "nope")

	// ListTables across databases, paginated by 1.
	if _, err := e.client.CreateDatabase(ctx, &tsw.CreateDatabaseInput{DatabaseName: aws.String("iot-b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateTable(ctx, &tsw.CreateTableInput{DatabaseName: aws.String("iot-b"), TableName: aws.String("aaa")}); err != nil {
		t.Fatal(err)
	}
	var names []string
	p := tsw.NewListTablesPaginator(e.client, &tsw.ListTablesInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Tables) > 1 {
			t.Fatalf("page of %d tables with MaxResults 1", len(page.Tables))
		}
		for _, tb := range page.Tables {
			names = append(names, aws.ToString(tb.DatabaseName)+"."+aws.ToString(tb.TableName))
		}
	}
	if got := strings.Join(names, " "); got != "iot.plain iot.sensors iot-b.aaa" {
		t.Fatalf("ListTables = %s", got)
	}
	one, err := e.client.ListTables(ctx, &tsw.ListTablesInput{DatabaseName: aws.String("iot-b")})
	if err != nil || len(one.Tables) != 1 || one.NextToken != nil {
		t.Fatalf("ListTables(iot-b) = %+v, %v", one, err)
	}
	_, err = e.client.ListTables(ctx, &tsw.ListTablesInput{DatabaseName: aws.String("nodb")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "nodb")

	if _, err := e.client.DeleteTable(ctx, &tsw.DeleteTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("sensors")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.DeleteTable(ctx, &tsw.DeleteTableInput{DatabaseName: aws.String("iot"), TableName: aws.String("sensors")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "sensors")
}

func TestTagOperations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mustTable(t, "tagdb", "tagged")
	dbARN, tbARN := e.cat.DatabaseARN("tagdb"), e.cat.TableARN("tagdb", "tagged")

	if _, err := e.client.TagResource(ctx, &tsw.TagResourceInput{ResourceARN: &tbARN, Tags: []types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.TagResource(ctx, &tsw.TagResourceInput{ResourceARN: &dbARN, Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("me")}}}); err != nil {
		t.Fatal(err)
	}
	list, err := e.client.ListTagsForResource(ctx, &tsw.ListTagsForResourceInput{ResourceARN: &tbARN})
	if err != nil {
		t.Fatal(err)
	}
	if got := tagString(list.Tags); got != "a=1 b=" {
		t.Fatalf("table tags = %s", got)
	}
	if _, err := e.client.UntagResource(ctx, &tsw.UntagResourceInput{ResourceARN: &tbARN, TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	list, _ = e.client.ListTagsForResource(ctx, &tsw.ListTagsForResourceInput{ResourceARN: &tbARN})
	if got := tagString(list.Tags); got != "b=" {
		t.Fatalf("table tags after untag = %s", got)
	}
	list, _ = e.client.ListTagsForResource(ctx, &tsw.ListTagsForResourceInput{ResourceARN: &dbARN})
	if got := tagString(list.Tags); got != "owner=me" {
		t.Fatalf("database tags = %s", got)
	}

	_, err = e.client.ListTagsForResource(ctx, &tsw.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:s3:::bucket")})
	wantAPIError[*types.ValidationException](t, err, "Invalid resource ARN")
	_, err = e.client.TagResource(ctx, &tsw.TagResourceInput{ResourceARN: aws.String(e.cat.TableARN("tagdb", "nope")), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantAPIError[*types.ResourceNotFoundException](t, err, "does not exist")
	_, err = e.client.UntagResource(ctx, &tsw.UntagResourceInput{ResourceARN: aws.String(e.cat.DatabaseARN("nodb")), TagKeys: []string{"k"}})
	wantAPIError[*types.ResourceNotFoundException](t, err, "does not exist")
	_, err = e.client.TagResource(ctx, &tsw.TagResourceInput{ResourceARN: &dbARN, Tags: []types.Tag{{Key: aws.String(""), Value: aws.String("v")}}})
	wantAPIError[*types.ValidationException](t, err, "Tag key")
}

func tagString(tags []types.Tag) string {
	var s []string
	for _, t := range tags {
		s = append(s, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return strings.Join(s, " ")
}

func TestDescribeEndpoints(t *testing.T) {
	e := newEnv(t)
	out, err := e.client.DescribeEndpoints(context.Background(), &tsw.DescribeEndpointsInput{})
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(e.srv.URL, "http://")
	if len(out.Endpoints) != 1 || aws.ToString(out.Endpoints[0].Address) != host || out.Endpoints[0].CachePeriodInMinutes != 1440 {
		t.Fatalf("DescribeEndpoints = %+v; want %s", out.Endpoints, host)
	}
	fixed := New(e.cat, e.app, Options{EndpointAddress: "tidal.example:8086"})
	rec := httptest.NewRecorder()
	fixed.Serve(rec, httptest.NewRequest("POST", "/", nil), "DescribeEndpoints", []byte(`{}`))
	if got := rec.Body.String(); got != `{"Endpoints":[{"Address":"tidal.example:8086","CachePeriodInMinutes":1440}]}` {
		t.Fatalf("DescribeEndpoints body = %s", got)
	}
}

func TestOperations(t *testing.T) {
	e := newEnv(t)
	want := "CreateDatabase CreateTable DeleteDatabase DeleteTable DescribeDatabase DescribeEndpoints DescribeTable ListDatabases ListTables ListTagsForResource TagResource UntagResource UpdateDatabase UpdateTable WriteRecords"
	if got := strings.Join(e.api.Operations(), " "); got != want {
		t.Fatalf("Operations = %s", got)
	}
}

func TestProtocolErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, method, target, body string
		status                     int
		errType, msg               string
	}{
		{"unknown op", "POST", "Timestream_20181101.CreateBatchLoadTask", `{}`, 404, "UnknownOperationException", `Unknown operation \"CreateBatchLoadTask\".`},
		{"foreign prefix", "POST", "Kinesis_20131202.PutRecord", `{}`, 404, "UnknownOperationException", "Unknown operation target"},
		{"no target", "POST", "", `{}`, 404, "UnknownOperationException", "Unknown operation target"},
		{"get", "GET", "Timestream_20181101.ListDatabases", ``, 404, "UnknownOperationException", "Only POST"},
		{"malformed json", "POST", "Timestream_20181101.CreateDatabase", `{"DatabaseName":`, 400, "ValidationException", "Malformed JSON"},
		{"wrong type", "POST", "Timestream_20181101.WriteRecords", `{"DatabaseName":"a","TableName":"b","Records":[{"Version":"2"}]}`, 400, "ValidationException", `Invalid value for member \"Records.Version\": expected an integer, got JSON string.`},
		{"retention missing member", "POST", "Timestream_20181101.CreateTable", `{"DatabaseName":"db1","TableName":"tb1","RetentionProperties":{"MemoryStoreRetentionPeriodInHours":1}}`, 400, "ValidationException", "Value null at 'retentionProperties.magneticStoreRetentionPeriodInDays'"},
		{"magnetic missing member", "POST", "Timestream_20181101.UpdateTable", `{"DatabaseName":"db1","TableName":"tb1","MagneticStoreWriteProperties":{}}`, 400, "ValidationException", "Value null at 'magneticStoreWriteProperties.enableMagneticStoreWrites'"},
		{"tag without value", "POST", "Timestream_20181101.TagResource", `{"ResourceARN":"arn:aws:timestream:us-east-1:0:database/db1","Tags":[{"Key":"k"}]}`, 400, "ValidationException", "Value null at 'tags.1.member.value'"},
		{"untag without keys", "POST", "Timestream_20181101.UntagResource", `{"ResourceARN":"arn:aws:timestream:us-east-1:0:database/db1"}`, 400, "ValidationException", "Value null at 'tagKeys'"},
		{"write without records", "POST", "Timestream_20181101.WriteRecords", `{"DatabaseName":"db1","TableName":"tb1"}`, 400, "ValidationException", "Value null at 'records'"},
		{"empty schema", "POST", "Timestream_20181101.CreateTable", `{"DatabaseName":"db1","TableName":"tb1","Schema":{"CompositePartitionKey":[]}}`, 400, "ValidationException", "Member must have length greater than or equal to 1"},
		{"missing member", "POST", "Timestream_20181101.DescribeDatabase", `{}`, 400, "ValidationException", "Value null at 'databaseName'"},
		{"too big", "POST", "Timestream_20181101.WriteRecords", `{"x":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`, 400, "ValidationException", "exceeds the limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/", strings.NewReader(tc.body))
			if tc.target != "" {
				req.Header.Set("X-Amz-Target", tc.target)
			}
			rec := httptest.NewRecorder()
			e.api.ServeHTTP(rec, req)
			if rec.Code != tc.status || rec.Header().Get("X-Amzn-ErrorType") != tc.errType ||
				!strings.Contains(rec.Body.String(), `"__type":"`+tc.errType+`"`) || !strings.Contains(rec.Body.String(), tc.msg) {
				t.Fatalf("got %d %s %s; want %d %s containing %q", rec.Code, rec.Header().Get("X-Amzn-ErrorType"), rec.Body.String(), tc.status, tc.errType, tc.msg)
			}
			if rec.Header().Get("Content-Type") != "application/x-amz-json-1.0" || rec.Header().Get("x-amzn-RequestId") == "" {
				t.Fatalf("headers = %v", rec.Header())
			}
		})
	}
	// Unknown operations through Serve directly.
	rec := httptest.NewRecorder()
	e.api.Serve(rec, httptest.NewRequest("POST", "/", nil), "Query", nil)
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "UnknownOperationException") {
		t.Fatalf("Serve(Query) = %d %s", rec.Code, rec.Body.String())
	}
}

// TestSDKDefaultDiscoverySetting checks the configuration most users have:
// a custom endpoint with endpoint discovery left at its default (auto).
func TestSDKDefaultDiscoverySetting(t *testing.T) {
	e := newEnv(t)
	client := tsw.New(tsw.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      aws.NopRetryer{},
		BaseEndpoint: aws.String(e.srv.URL),
	})
	if _, err := client.CreateDatabase(context.Background(), &tsw.CreateDatabaseInput{DatabaseName: aws.String("auto")}); err != nil {
		t.Fatal(err)
	}
	out, err := client.ListDatabases(context.Background(), &tsw.ListDatabasesInput{})
	if err != nil || len(out.Databases) != 1 || aws.ToString(out.Databases[0].DatabaseName) != "auto" {
		t.Fatalf("ListDatabases = %+v, %v", out, err)
	}
}
