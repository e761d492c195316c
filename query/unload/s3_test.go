package unload_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/tidaldb/tidal/query/unload"
)

// newS3 starts gofakes3 (an S3-compatible server implementing the REST
// API, multipart uploads included) on a loopback port with one bucket, and
// returns the unload.S3Target's config for it.
func newS3(t *testing.T, bucket string) (unload.S3Config, *s3.Client, *atomic.Int64) {
	t.Helper()
	h := gofakes3.New(s3mem.New()).Server()
	var multipart atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Query().Has("uploads") {
			multipart.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := unload.S3Config{Endpoint: srv.URL, Region: "us-east-1", AccessKeyID: "AKID", SecretAccessKey: "secret", PathStyle: true}
	c := unload.NewS3Target(cfg).Client
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return cfg, c, &multipart
}

func getObject(t *testing.T, c *s3.Client, u string) []byte {
	t.Helper()
	rest := strings.TrimPrefix(u, "s3://")
	bucket, key, _ := strings.Cut(rest, "/")
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
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

// TestS3 unloads gzip CSV, partitioned, to an S3-compatible server with
// parts small enough that files go up as multipart uploads, and reads
// everything back through the S3 API.
func TestS3(t *testing.T) {
	cfg, c, multipart := newS3(t, "exports")
	eng := newEngine(t, 6, 400)
	u := unload.New(eng, unload.Options{S3: &cfg})
	// 5 MiB is S3's least part size; gofakes3 accepts smaller parts, so
	// the test exercises multipart without megabytes of data.
	u2 := unload.New(eng, unload.Options{Targets: map[string]unload.Target{"s3": &unload.S3Target{Client: c, PartSize: 4 << 10}}})
	for name, ue := range map[string]*unload.Engine{"put": u, "multipart": u2} {
		t.Run(name, func(t *testing.T) {
			before := multipart.Load()
			res := runUnload(t, ue, `UNLOAD (SELECT hostname, time, usage_user, region FROM devops.cpu ORDER BY time, hostname)
				TO 's3://exports/`+name+`/' WITH (format = 'CSV', partitioned_by = ARRAY['region'], compression = 'GZIP')`)
			if res.Rows != 2400 || !strings.HasPrefix(res.ManifestFile, "s3://exports/"+name+"/") {
				t.Fatalf("result = %+v", res)
			}
			var m unload.Manifest
			if err := json.Unmarshal(getObject(t, c, res.ManifestFile), &m); err != nil {
				t.Fatal(err)
			}
			if uploads := multipart.Load() - before; (name == "multipart") != (uploads == int64(len(m.ResultFiles))) || (name == "put" && uploads != 0) {
				t.Fatalf("%d multipart uploads for %d files", uploads, len(m.ResultFiles))
			}
			var md unload.Metadata
			if err := json.Unmarshal(getObject(t, c, res.MetadataFile), &md); err != nil || len(md.ColumnInfo) != 3 {
				t.Fatalf("metadata %+v: %v", md, err)
			}
			var lines []string
			for _, f := range m.ResultFiles {
				raw := getObject(t, c, f.URL)
				if int64(len(raw)) != f.FileMetadata.ContentLengthInBytes {
					t.Fatalf("%s: %d bytes, manifest %d", f.URL, len(raw), f.FileMetadata.ContentLengthInBytes)
				}
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				text, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				region := f.URL[strings.Index(f.URL, "region=")+7:]
				region = region[:strings.IndexByte(region, '/')]
				for _, l := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
					lines = append(lines, region+","+l)
				}
			}
			ref, err := eng.Query(context.Background(), `SELECT region, hostname, time, usage_user FROM devops.cpu`, nil)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, r := range ref.Rows {
				want = append(want, r[0].String()+","+r[1].String()+","+r[2].String()+","+r[3].String())
			}
			sort.Strings(lines)
			sort.Strings(want)
			if strings.Join(lines, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%d lines from S3, want %d", len(lines), len(want))
			}
			out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("exports"), Prefix: aws.String(name + "/")})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Contents) != len(m.ResultFiles)+2 {
				t.Fatalf("%d objects for %d files", len(out.Contents), len(m.ResultFiles))
			}
		})
	}
}

// TestS3Failure: a query failing halfway through a multipart upload
// leaves no manifest, no metadata and no unfinished upload.
func TestS3Failure(t *testing.T) {
	_, c, multipart := newS3(t, "fail")
	u := unload.New(newEngine(t, 4, 500), unload.Options{Targets: map[string]unload.Target{"s3": &unload.S3Target{Client: c, PartSize: 4 << 10}}})
	_, _, err := u.Unload(context.Background(), `UNLOAD (SELECT hostname, time, usage_user, 10 / (usage_count - 996) AS x
		FROM devops.cpu) TO 's3://fail/x/' WITH (format = 'CSV', compression = 'NONE')`, nil)
	if err == nil || !strings.Contains(err.Error(), "by zero") {
		t.Fatalf("err = %v", err)
	}
	if multipart.Load() == 0 {
		t.Fatal("the query failed before any multipart upload began")
	}
	ups, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("fail")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("%d uploads left open", len(ups.Uploads))
	}
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("fail")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out.Contents {
		if strings.HasSuffix(aws.ToString(o.Key), ".json") {
			t.Fatalf("left %s", aws.ToString(o.Key))
		}
	}
}
