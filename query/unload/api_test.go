package unload_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	tsq "github.com/aws/aws-sdk-go-v2/service/timestreamquery"

	"github.com/tidaldb/tidal/query/timestreamapi"
	"github.com/tidaldb/tidal/query/unload"
)

// bodyCopy sends a private copy of each request body (see
// timestreamapi's tests: aws-sdk-go-v2#2737 on fast loopback servers).
type bodyCopy struct{}

func (bodyCopy) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return http.DefaultTransport.RoundTrip(req)
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(data))
	return http.DefaultTransport.RoundTrip(req)
}

// TestQueryAPI issues UNLOAD through the AWS SDK's timestreamquery client
// against the Query API: Timestream's result shape (rows, metadataFile,
// manifestFile), files named after the QueryId, to file:// and s3://.
func TestQueryAPI(t *testing.T) {
	cfg, s3c, _ := newS3(t, "bkt")
	root := t.TempDir()
	eng := newEngine(t, 3, 50)
	api := timestreamapi.New(unload.New(eng, unload.Options{FileRoot: root, S3: &cfg}), timestreamapi.Options{})
	srv := httptest.NewServer(api)
	t.Cleanup(func() { srv.Close(); _ = api.Close() })
	client := tsq.New(tsq.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		HTTPClient:  &http.Client{Transport: bodyCopy{}},
	}, func(o *tsq.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.EndpointDiscovery.EnableEndpointDiscovery = aws.EndpointDiscoveryDisabled
	})
	for _, to := range []string{"file:///api/", "s3://bkt/api/"} {
		t.Run(to, func(t *testing.T) {
			sql := `UNLOAD (SELECT hostname, time, usage_user FROM devops.cpu WHERE usage_system > 0) TO '` + to + `' WITH (format = 'PARQUET')`
			p := tsq.NewQueryPaginator(client, &tsq.QueryInput{QueryString: aws.String(sql)})
			var rows [][]string
			var cols []string
			var qid string
			for p.HasMorePages() {
				out, err := p.NextPage(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				qid = aws.ToString(out.QueryId)
				cols = cols[:0]
				for _, c := range out.ColumnInfo {
					cols = append(cols, aws.ToString(c.Name)+" "+string(c.Type.ScalarType))
				}
				for _, r := range out.Rows {
					var row []string
					for _, d := range r.Data {
						row = append(row, aws.ToString(d.ScalarValue))
					}
					rows = append(rows, row)
				}
			}
			if got := strings.Join(cols, ", "); got != "rows BIGINT, metadataFile VARCHAR, manifestFile VARCHAR" {
				t.Fatalf("columns = %s", got)
			}
			if len(rows) != 1 || rows[0][0] != "100" {
				t.Fatalf("rows = %v", rows)
			}
			if rows[0][1] != to+qid+"_metadata.json" || rows[0][2] != to+qid+"_manifest.json" {
				t.Fatalf("files = %v (query %s)", rows[0], qid)
			}
			var raw []byte
			if strings.HasPrefix(to, "s3://") {
				raw = getObject(t, s3c, rows[0][2])
			} else {
				var err error
				if raw, err = os.ReadFile(localPath(root, rows[0][2])); err != nil {
					t.Fatal(err)
				}
			}
			var m unload.Manifest
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if m.QueryMetadata.RowCount != 100 || len(m.ResultFiles) != 1 ||
				m.ResultFiles[0].URL != to+"results/"+qid+"_1.parquet" {
				t.Fatalf("manifest = %s", raw)
			}
		})
	}
	// A bad option is a ValidationException with Timestream's shape.
	_, err := client.Query(context.Background(), &tsq.QueryInput{QueryString: aws.String(
		`UNLOAD (SELECT 1) TO 's3://bkt/x' WITH (format = 'ORC')`)})
	if err == nil || !strings.Contains(err.Error(), "ValidationException") || !strings.Contains(err.Error(), "format must be") {
		t.Fatalf("err = %v", err)
	}
}
