package main

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"
)

// TestWriteAPIWithAWSSDK drives every Write API operation through the AWS
// SDK for Go v2 against a real tidal server process.
func TestWriteAPIWithAWSSDK(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	ctx := ctxT(t)
	c := srv.writeClient()

	// DescribeEndpoints answers with our own address.
	ep, err := c.DescribeEndpoints(ctx, &timestreamwrite.DescribeEndpointsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ep.Endpoints) != 1 || !strings.Contains(aws.ToString(ep.Endpoints[0].Address), srv.addr) || ep.Endpoints[0].CachePeriodInMinutes != 1440 {
		t.Fatalf("DescribeEndpoints = %+v", ep.Endpoints)
	}

	// Databases: create, conflict, describe, update, list with pagination.
	for i := range 5 {
		name := "db" + strconv.Itoa(i)
		out, err := c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String(name),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("tab" + strconv.Itoa(i))}}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Database.DatabaseName) != name || !strings.HasSuffix(aws.ToString(out.Database.Arn), ":database/"+name) {
			t.Fatalf("CreateDatabase = %+v", out.Database)
		}
	}
	_, err = c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("db0")})
	var conflict *types.ConflictException
	if !errors.As(err, &conflict) {
		t.Fatalf("duplicate CreateDatabase: %v", err)
	}
	if _, err := c.DescribeDatabase(ctx, &timestreamwrite.DescribeDatabaseInput{DatabaseName: aws.String("nope")}); !isNotFound(err) {
		t.Fatalf("DescribeDatabase missing: %v", err)
	}
	upd, err := c.UpdateDatabase(ctx, &timestreamwrite.UpdateDatabaseInput{DatabaseName: aws.String("db1"), KmsKeyId: aws.String("key-1")})
	if err != nil || aws.ToString(upd.Database.KmsKeyId) != "key-1" {
		t.Fatalf("UpdateDatabase = %+v, %v", upd, err)
	}
	var names []string
	p := timestreamwrite.NewListDatabasesPaginator(c, &timestreamwrite.ListDatabasesInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Databases) > 2 {
			t.Fatalf("page of %d databases with MaxResults 2", len(out.Databases))
		}
		for _, d := range out.Databases {
			names = append(names, aws.ToString(d.DatabaseName))
		}
	}
	if pages != 3 || strings.Join(names, ",") != "db0,db1,db2,db3,db4" {
		t.Fatalf("ListDatabases: %d pages %v", pages, names)
	}

	// Tables.
	tbl, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{
		DatabaseName: aws.String("db0"), TableName: aws.String("cpu"),
		RetentionProperties: &types.RetentionProperties{MemoryStoreRetentionPeriodInHours: aws.Int64(12), MagneticStoreRetentionPeriodInDays: aws.Int64(30)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Table.TableStatus != types.TableStatusActive || aws.ToInt64(tbl.Table.RetentionProperties.MemoryStoreRetentionPeriodInHours) != 12 {
		t.Fatalf("CreateTable = %+v", tbl.Table)
	}
	if _, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("nope"), TableName: aws.String("cpu")}); !isNotFound(err) {
		t.Fatalf("CreateTable in missing database: %v", err)
	}
	_, err = c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("db0"), TableName: aws.String("xyz"),
		RetentionProperties: &types.RetentionProperties{MemoryStoreRetentionPeriodInHours: aws.Int64(0), MagneticStoreRetentionPeriodInDays: aws.Int64(1)}})
	var validation *types.ValidationException
	if !errors.As(err, &validation) {
		t.Fatalf("CreateTable with memory retention 0: %v", err)
	}
	for i := range 3 {
		if _, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("db0"), TableName: aws.String("tab" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	lt, err := c.ListTables(ctx, &timestreamwrite.ListTablesInput{DatabaseName: aws.String("db0"), MaxResults: aws.Int32(3)})
	if err != nil || len(lt.Tables) != 3 || lt.NextToken == nil {
		t.Fatalf("ListTables page 1 = %+v, %v", lt, err)
	}
	lt2, err := c.ListTables(ctx, &timestreamwrite.ListTablesInput{DatabaseName: aws.String("db0"), MaxResults: aws.Int32(3), NextToken: lt.NextToken})
	if err != nil || len(lt2.Tables) != 1 || lt2.NextToken != nil {
		t.Fatalf("ListTables page 2 = %+v, %v", lt2, err)
	}
	dd, err := c.DescribeDatabase(ctx, &timestreamwrite.DescribeDatabaseInput{DatabaseName: aws.String("db0")})
	if err != nil || dd.Database.TableCount != 4 {
		t.Fatalf("DescribeDatabase = %+v, %v", dd, err)
	}
	ut, err := c.UpdateTable(ctx, &timestreamwrite.UpdateTableInput{DatabaseName: aws.String("db0"), TableName: aws.String("cpu"),
		MagneticStoreWriteProperties: &types.MagneticStoreWriteProperties{EnableMagneticStoreWrites: aws.Bool(true)}})
	if err != nil || !aws.ToBool(ut.Table.MagneticStoreWriteProperties.EnableMagneticStoreWrites) {
		t.Fatalf("UpdateTable = %+v, %v", ut, err)
	}
	dt, err := c.DescribeTable(ctx, &timestreamwrite.DescribeTableInput{DatabaseName: aws.String("db0"), TableName: aws.String("cpu")})
	if err != nil || aws.ToInt64(dt.Table.RetentionProperties.MagneticStoreRetentionPeriodInDays) != 30 || !aws.ToBool(dt.Table.MagneticStoreWriteProperties.EnableMagneticStoreWrites) {
		t.Fatalf("DescribeTable = %+v, %v", dt, err)
	}

	// WriteRecords: CommonAttributes, single and multi measures, every TimeUnit.
	now := time.Now()
	wr, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{
		DatabaseName: aws.String("db0"), TableName: aws.String("cpu"),
		CommonAttributes: &types.Record{Dimensions: []types.Dimension{{Name: aws.String("host"), Value: aws.String("h1")}}, TimeUnit: types.TimeUnitMilliseconds},
		Records: []types.Record{
			{MeasureName: aws.String("usage"), MeasureValue: aws.String("35.5"), MeasureValueType: types.MeasureValueTypeDouble, Time: aws.String(strconv.FormatInt(now.UnixMilli(), 10))},
			{MeasureName: aws.String("usage"), MeasureValue: aws.String("36.5"), MeasureValueType: types.MeasureValueTypeDouble, Time: aws.String(strconv.FormatInt(now.Unix()-1, 10)), TimeUnit: types.TimeUnitSeconds},
			{MeasureName: aws.String("usage"), MeasureValue: aws.String("37.5"), MeasureValueType: types.MeasureValueTypeDouble, Time: aws.String(strconv.FormatInt(now.UnixMicro()-2e6, 10)), TimeUnit: types.TimeUnitMicroseconds},
			{MeasureName: aws.String("usage"), MeasureValue: aws.String("38.5"), MeasureValueType: types.MeasureValueTypeDouble, Time: aws.String(strconv.FormatInt(now.UnixNano()-3e9, 10)), TimeUnit: types.TimeUnitNanoseconds},
			{MeasureName: aws.String("stats"), MeasureValueType: types.MeasureValueTypeMulti, Time: aws.String(strconv.FormatInt(now.UnixMilli(), 10)), Version: aws.Int64(2),
				MeasureValues: []types.MeasureValue{{Name: aws.String("mem"), Value: aws.String("61"), Type: types.MeasureValueTypeBigint}, {Name: aws.String("ok"), Value: aws.String("true"), Type: types.MeasureValueTypeBoolean}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if wr.RecordsIngested.Total != 5 || wr.RecordsIngested.MemoryStore != 5 || wr.RecordsIngested.MagneticStore != 0 {
		t.Fatalf("RecordsIngested = %+v", wr.RecordsIngested)
	}

	// Partial rejects: good records stay, bad ones come back with their index.
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	_, err = c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{
		DatabaseName: aws.String("db0"), TableName: aws.String("cpu"),
		CommonAttributes: &types.Record{Dimensions: []types.Dimension{{Name: aws.String("host"), Value: aws.String("h1")}}},
		Records: []types.Record{
			{MeasureName: aws.String("usage"), MeasureValue: aws.String("99"), Time: aws.String(ms)},                                                      // 0: same version, new value
			{MeasureName: aws.String("usage"), MeasureValue: aws.String("1"), Time: aws.String(strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10))}, // 1: ok
			{MeasureName: aws.String("usage"), MeasureValue: aws.String("abc"), Time: aws.String(ms)},                                                     // 2: not a double
			{MeasureName: aws.String("usage"), MeasureValue: aws.String("1"), Time: aws.String(strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10))},    // 3: too far in the future
			{MeasureName: aws.String("stats"), MeasureValueType: types.MeasureValueTypeMulti, Time: aws.String(ms), Version: aws.Int64(1),
				MeasureValues: []types.MeasureValue{{Name: aws.String("mem"), Value: aws.String("62"), Type: types.MeasureValueTypeBigint}, {Name: aws.String("ok"), Value: aws.String("true"), Type: types.MeasureValueTypeBoolean}}}, // 4: lower version
			{MeasureName: aws.String("usage"), MeasureValue: aws.String("35.5"), Time: aws.String(ms)}, // 5: identical, accepted
		},
	})
	var rre *types.RejectedRecordsException
	if !errors.As(err, &rre) {
		t.Fatalf("expected RejectedRecordsException, got %v", err)
	}
	got := map[int32]types.RejectedRecord{}
	for _, r := range rre.RejectedRecords {
		got[r.RecordIndex] = r
	}
	if len(got) != 4 {
		t.Fatalf("rejected %+v, want indexes 0, 2, 3, 4", rre.RejectedRecords)
	}
	if r := got[0]; aws.ToInt64(r.ExistingVersion) != 1 || !strings.Contains(aws.ToString(r.Reason), "same time, dimensions, measure name, and record version") {
		t.Fatalf("record 0: %+v", r)
	}
	if r := got[4]; aws.ToInt64(r.ExistingVersion) != 2 || !strings.Contains(aws.ToString(r.Reason), "lower than the existing version 2") {
		t.Fatalf("record 4: %+v", r)
	}
	for _, i := range []int32{2, 3} {
		if r, ok := got[i]; !ok || aws.ToString(r.Reason) == "" || r.ExistingVersion != nil {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	// Upsert with a higher version replaces the value.
	if _, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("db0"), TableName: aws.String("cpu"),
		Records: []types.Record{{Dimensions: []types.Dimension{{Name: aws.String("host"), Value: aws.String("h1")}}, MeasureName: aws.String("usage"),
			MeasureValue: aws.String("99"), Time: aws.String(ms), Version: aws.Int64(2)}}}); err != nil {
		t.Fatalf("upsert with higher version: %v", err)
	}

	// Request-level errors.
	if _, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("db0"), TableName: aws.String("nope"),
		Records: []types.Record{{Dimensions: []types.Dimension{{Name: aws.String("h"), Value: aws.String("1")}}, MeasureName: aws.String("m"), MeasureValue: aws.String("1"), Time: aws.String(ms)}}}); !isNotFound(err) {
		t.Fatalf("WriteRecords to missing table: %v", err)
	}
	tooMany := make([]types.Record, 101)
	for i := range tooMany {
		tooMany[i] = types.Record{Dimensions: []types.Dimension{{Name: aws.String("h"), Value: aws.String("1")}}, MeasureName: aws.String("m"), MeasureValue: aws.String("1"), Time: aws.String(ms)}
	}
	if _, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("db0"), TableName: aws.String("cpu"), Records: tooMany}); !errors.As(err, &validation) {
		t.Fatalf("101 records: %v", err)
	}

	// Tags.
	arn := dt.Table.Arn
	if _, err := c.TagResource(ctx, &timestreamwrite.TagResourceInput{ResourceARN: arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("owner"), Value: aws.String("me")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &timestreamwrite.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"owner"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &timestreamwrite.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" || aws.ToString(tags.Tags[0].Value) != "prod" {
		t.Fatalf("ListTagsForResource = %+v, %v", tags, err)
	}

	// Deletes: a database with tables cannot go.
	if _, err := c.DeleteDatabase(ctx, &timestreamwrite.DeleteDatabaseInput{DatabaseName: aws.String("db0")}); !errors.As(err, &validation) {
		t.Fatalf("DeleteDatabase with tables: %v", err)
	}
	for _, tn := range []string{"tab0", "tab1", "tab2"} {
		if _, err := c.DeleteTable(ctx, &timestreamwrite.DeleteTableInput{DatabaseName: aws.String("db0"), TableName: aws.String(tn)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteDatabase(ctx, &timestreamwrite.DeleteDatabaseInput{DatabaseName: aws.String("db4")}); err != nil {
		t.Fatal(err)
	}

	// Everything survives a clean restart, and the data is what was written.
	srv.stop()
	srv2 := startServer(t, dataDir)
	c2 := srv2.writeClient()
	ld, err := c2.ListDatabases(ctx, &timestreamwrite.ListDatabasesInput{})
	if err != nil || len(ld.Databases) != 4 {
		t.Fatalf("after restart ListDatabases = %+v, %v", ld, err)
	}
	lt3, err := c2.ListTables(ctx, &timestreamwrite.ListTablesInput{DatabaseName: aws.String("db0")})
	if err != nil || len(lt3.Tables) != 1 || aws.ToString(lt3.Tables[0].TableName) != "cpu" {
		t.Fatalf("after restart ListTables = %+v, %v", lt3, err)
	}
	srv2.stop()
	rows := readRows(t, dataDir, "db0", "cpu")
	want := map[string]string{
		"h1/usage@" + ms: "99 v2",
		"h1/usage@" + strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10): "1 v1",
		"h1/stats@" + ms: "mem=61 ok=true v2",
	}
	for k, v := range want {
		if rows[k] != v {
			t.Errorf("row %s = %q, want %q", k, rows[k], v)
		}
	}
	if len(rows) != 6 {
		t.Errorf("%d rows stored, want 6: %v", len(rows), rows)
	}
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// TestSigV4 checks that with access keys configured only correctly signed
// requests get through.
func TestSigV4(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	if err := os.WriteFile(cfg, []byte("auth:\n  access_keys:\n    - access_key_id: AKIDGOOD\n      secret_access_key: s3cret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
	ctx := ctxT(t)
	client := func(key, secret string) *timestreamwrite.Client {
		return timestreamwrite.New(timestreamwrite.Options{Region: "us-east-1",
			Credentials:       credentials.NewStaticCredentialsProvider(key, secret, ""),
			BaseEndpoint:      aws.String(srv.url()),
			EndpointDiscovery: timestreamwrite.EndpointDiscoveryOptions{EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled},
		})
	}
	if _, err := client("AKIDGOOD", "s3cret").CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("signed")}); err != nil {
		t.Fatalf("correctly signed request: %v", err)
	}
	for _, bad := range [][2]string{{"AKIDGOOD", "wrong"}, {"AKIDOTHER", "s3cret"}} {
		_, err := client(bad[0], bad[1]).ListDatabases(ctx, &timestreamwrite.ListDatabasesInput{})
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("key %s/%s: got %v, want a 403", bad[0], bad[1], err)
		}
	}
	resp, err := http.Post(srv.url()+"/", "application/x-amz-json-1.0", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("unsigned request accepted: %s", body)
	}
}

// TestListenRefusesNonLoopbackWithoutKeys checks the safety default.
func TestListenRefusesNonLoopbackWithoutKeys(t *testing.T) {
	out, err := runTidal(t, "server", "--data-dir", t.TempDir(), "--listen", "0.0.0.0:0")
	if err == nil || !strings.Contains(out, "not a loopback address") || !strings.Contains(out, "insecure") {
		t.Fatalf("got %v: %s", err, out)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	srv := startServer(t, t.TempDir())
	ctx := ctxT(t)
	c := srv.writeClient()
	if _, err := c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("met")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("met"), TableName: aws.String("tbl")}); err != nil {
		t.Fatal(err)
	}
	ms := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if _, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("met"), TableName: aws.String("tbl"),
		Records: []types.Record{{Dimensions: []types.Dimension{{Name: aws.String("h"), Value: aws.String("1")}}, MeasureName: aws.String("x"), MeasureValue: aws.String("1"), Time: aws.String(ms)}}}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`tidal_memstore_records_total{result="memory"} 1`,
		"tidal_memstore_series 1",
		"tidal_wal_fsync_duration_seconds_bucket",
		"go_memstats_heap_inuse_bytes",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
