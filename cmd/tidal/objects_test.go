package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"

	"github.com/tidaldb/tidal/internal/testutil/s3server"
)

// TestObjectStorageServer runs the real binary with storage.object on
// s3rver: old rows written through the write API go to parts, `tidal
// admin flush` uploads them, queries read them back by range, and after the
// local magnetic directory is deleted the restarted server rebuilds its
// part index from the bucket and answers the same.
func TestObjectStorageServer(t *testing.T) {
	s3srv := s3server.Start(t)
	s3srv.Bucket(t, "parts")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`storage:
  object: {endpoint: %s, bucket: parts, prefix: node1, access_key_id: S3RVER, secret_access_key: S3RVER, path_style: true, upload_age: 1s}
`, s3srv.Endpoint)), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	srv := startServer(t, dataDir, "--config", cfg)
	ctx := ctxT(t)
	w := srv.writeClient()
	if _, err := w.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("objdb")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("objdb"), TableName: aws.String("cpu"),
		RetentionProperties: &types.RetentionProperties{MemoryStoreRetentionPeriodInHours: aws.Int64(100), MagneticStoreRetentionPeriodInDays: aws.Int64(100)}}); err != nil {
		t.Fatal(err)
	}
	// Three days ago, in memory (100 hours) until the flush; in a partition
	// that has ended.
	base := time.Now().Add(-72 * time.Hour).Truncate(time.Hour)
	const rows = 600
	for b := 0; b < rows; b += 100 {
		var recs []types.Record
		for i := b; i < b+100; i++ {
			recs = append(recs, types.Record{
				Dimensions:   []types.Dimension{{Name: aws.String("host"), Value: aws.String(fmt.Sprint("h", i%3))}},
				MeasureName:  aws.String("usage"),
				MeasureValue: aws.String(strconv.Itoa(i)),
				Time:         aws.String(strconv.FormatInt(base.Add(time.Duration(i)*time.Second).UnixMilli(), 10)),
			})
		}
		if _, err := w.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("objdb"), TableName: aws.String("cpu"), Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(srv.url()+"/api/v1/admin/flush", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var fr flushResponse
	err = json.NewDecoder(resp.Body).Decode(&fr)
	resp.Body.Close()
	if err != nil || fr.Uploaded == 0 {
		t.Fatalf("flush = %+v, %v: nothing uploaded", fr, err)
	}
	list, err := s3srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("parts"), Prefix: aws.String("node1/")})
	if err != nil || len(list.Contents) != fr.Uploaded {
		t.Fatalf("%d objects for %d uploaded parts: %v", len(list.Contents), fr.Uploaded, err)
	}
	check := func(srv *server) {
		t.Helper()
		out, err := srv.queryClient().Query(ctx, &timestreamquery.QueryInput{QueryString: aws.String(
			`SELECT count(*), sum(measure_value::double) FROM "objdb"."cpu"`)})
		if err != nil {
			t.Fatal(err)
		}
		d := out.Rows[0].Data
		if aws.ToString(d[0].ScalarValue) != strconv.Itoa(rows) || aws.ToString(d[1].ScalarValue) != strconv.Itoa(rows*(rows-1)/2)+".0" {
			t.Fatalf("count, sum = %s, %s; want %d, %d", aws.ToString(d[0].ScalarValue), aws.ToString(d[1].ScalarValue), rows, rows*(rows-1)/2)
		}
	}
	check(srv)
	srv.stop()
	if err := os.RemoveAll(filepath.Join(dataDir, "magnetic")); err != nil {
		t.Fatal(err)
	}
	srv2 := startServer(t, dataDir, "--config", cfg)
	check(srv2)
	if !strings.Contains(srv2.logs.String(), "rebuilt part index from the object store") {
		t.Fatalf("no index rebuild logged:\n%s", srv2.logs.String())
	}
	srv2.stop()
}
