package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"

	"github.com/tidaldb/tidal/internal/testutil/s3server"
	"github.com/tidaldb/tidal/query/unload"
)

// TestUnloadServer runs UNLOAD on a real tidal server configured with
// unload.file_root and unload.s3 (s3rver, a real S3-compatible server, on loopback):
// written records come back in the exported files.
func TestUnloadServer(t *testing.T) {
	s3srv := s3server.Start(t)
	s3srv.Bucket(t, "exports")
	s3c := s3srv.Client()
	ctx := ctxT(t)
	dir := t.TempDir()
	exports := filepath.Join(dir, "exports")
	cfg := filepath.Join(dir, "tidal.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`unload:
  file_root: %s
  s3: {endpoint: %s, access_key_id: S3RVER, secret_access_key: S3RVER, path_style: true}
auth:
  access_keys:
    - {access_key_id: AKIDTEST, secret_access_key: secret}
    - {access_key_id: reader, secret_access_key: reader-secret, role: read}
`, exports, s3srv.Endpoint)), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
	w := srv.writeClient()
	if _, err := w.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("unl")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("unl"), TableName: aws.String("cpu")}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var recs []types.Record
	for i := range 50 {
		recs = append(recs, types.Record{
			Dimensions:   []types.Dimension{{Name: aws.String("host"), Value: aws.String(fmt.Sprintf("h%d", i%2))}},
			MeasureName:  aws.String("usage"),
			MeasureValue: aws.String(strconv.Itoa(i)),
			Time:         aws.String(strconv.FormatInt(base.Add(time.Duration(i)*time.Second).UnixMilli(), 10)),
		})
	}
	if _, err := w.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("unl"), TableName: aws.String("cpu"), Records: recs}); err != nil {
		t.Fatal(err)
	}
	q := srv.queryClient()
	// A read-only credential may query but not UNLOAD.
	reader := timestreamquery.New(timestreamquery.Options{
		Region:            "us-east-1",
		Credentials:       credentials.NewStaticCredentialsProvider("reader", "reader-secret", ""),
		BaseEndpoint:      aws.String(srv.url()),
		EndpointDiscovery: timestreamquery.EndpointDiscoveryOptions{EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled},
	})
	if _, err := reader.Query(ctx, &timestreamquery.QueryInput{QueryString: aws.String("SELECT count(*) FROM unl.cpu")}); err != nil {
		t.Fatalf("reader query: %v", err)
	}
	_, err := reader.Query(ctx, &timestreamquery.QueryInput{QueryString: aws.String("UNLOAD (SELECT 1) TO 'file:///r/' WITH (format = 'CSV')")})
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("reader UNLOAD: %v", err)
	}
	if _, err := os.Stat(filepath.Join(exports, "r")); !os.IsNotExist(err) {
		t.Fatalf("reader UNLOAD wrote %s: %v", filepath.Join(exports, "r"), err)
	}
	for _, to := range []string{"file:///out/", "s3://exports/out/"} {
		sql := `UNLOAD (SELECT host, measure_value::double AS v FROM unl.cpu ORDER BY v) TO '` + to + `' WITH (format = 'CSV', partitioned_by = ARRAY['host'])`
		var row []string
		p := timestreamquery.NewQueryPaginator(q, &timestreamquery.QueryInput{QueryString: aws.String(sql)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("%s: %v", to, err)
			}
			for _, r := range out.Rows {
				for _, d := range r.Data {
					row = append(row, aws.ToString(d.ScalarValue))
				}
			}
		}
		if len(row) != 3 || row[0] != "50" {
			t.Fatalf("%s: result %v", to, row)
		}
		read := func(u string) []byte {
			if strings.HasPrefix(u, "file:///") {
				b, err := os.ReadFile(filepath.Join(exports, filepath.FromSlash(strings.TrimPrefix(u, "file:///"))))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			key := strings.TrimPrefix(u, "s3://exports/")
			out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("exports"), Key: &key})
			if err != nil {
				t.Fatalf("get %s: %v", u, err)
			}
			defer out.Body.Close()
			b, err := io.ReadAll(out.Body)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		var m unload.Manifest
		if err := json.Unmarshal(read(row[2]), &m); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range m.ResultFiles {
			zr, err := gzip.NewReader(strings.NewReader(string(read(f.URL))))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			host := f.URL[strings.Index(f.URL, "host=")+5:]
			got[host[:strings.IndexByte(host, '/')]] = strings.ReplaceAll(string(b), "\n", " ")
		}
		want := map[string]string{}
		for i := range 50 {
			want[fmt.Sprintf("h%d", i%2)] += strconv.Itoa(i) + " "
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: files %v, want %v", to, got, want)
		}
	}
}
