package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
)

const influxAuthConfig = `
auth:
  access_keys:
    - {access_key_id: admin, secret_access_key: admin-secret-1}
    - {access_key_id: writer, secret_access_key: w-secret-2, role: write}
    - {access_key_id: reader, secret_access_key: r-secret-3, role: read}
  bearer_tokens:
    - {token: influx-write-token-0123456789, role: write}
`

// needTool returns the path of a tool a test drives; missing, it fails the
// test in CI and skips it elsewhere.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (Debian %s; scripts/deps.sh installs it)", name, pkg)
		}
		t.Skipf("%s not installed (Debian %s; run scripts/deps.sh)", name, pkg)
	}
	return p
}

// sqlRows runs sql as the admin key and returns the rows as strings
// (NULL as "-").
func sqlRows(t *testing.T, srv *server, sql string) [][]string {
	t.Helper()
	rows, err := sqlQuery(t, srv, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return rows
}

// sqlQuery is sqlRows returning the query's error.
func sqlQuery(t testing.TB, srv *server, sql string) ([][]string, error) {
	q := timestreamquery.New(timestreamquery.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("admin", "admin-secret-1", ""),
		BaseEndpoint:      aws.String(srv.url()),
		EndpointDiscovery: timestreamquery.EndpointDiscoveryOptions{EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled},
		HTTPClient:        srv.client,
	})
	out, err := q.Query(ctxT(t), &timestreamquery.QueryInput{QueryString: aws.String(sql)})
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, r := range out.Rows {
		var row []string
		for _, d := range r.Data {
			if d.NullValue != nil && *d.NullValue {
				row = append(row, "-")
			} else {
				row = append(row, aws.ToString(d.ScalarValue))
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// TestInfluxWrite drives /write with the real influx CLI (Debian
// influxdb-client) and /write and /api/v2/write over HTTP with every
// credential form InfluxDB clients use, then reads the values back with
// SQL through the Query API.
func TestInfluxWrite(t *testing.T) {
	influx := needTool(t, "influx", "influxdb-client")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	if err := os.WriteFile(cfg, []byte(influxAuthConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
	host, port, _ := strings.Cut(srv.addr, ":")
	now := time.Now().Truncate(time.Second)

	// The influx CLI: INSERT through /write with basic auth, precision s.
	cli := func(user, pass string, args ...string) (string, error) {
		cmd := exec.Command(influx, append([]string{"-host", host, "-port", port, "-username", user, "-password", pass}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ins := fmt.Sprintf(`INSERT cpu,host=h1,region=eu usage=1.5,cores=8i,up=true,note="a \"quoted\" note" %d`, now.Unix())
	if out, err := cli("writer", "w-secret-2", "-database", "telegraf", "-precision", "s", "-execute", ins); err != nil || strings.Contains(out, "ERR") {
		t.Fatalf("influx INSERT: %v %s", err, out)
	}
	if out, _ := cli("writer", "wrong", "-database", "telegraf", "-precision", "s", "-execute", ins); !strings.Contains(out, "unauthorized") {
		t.Fatalf("influx INSERT with a wrong password: %s", out)
	}
	if out, _ := cli("reader", "r-secret-3", "-database", "telegraf", "-precision", "s", "-execute", ins); !strings.Contains(out, "forbidden") {
		t.Fatalf("influx INSERT with a read key: %s", out)
	}
	// The influx CLI's importer, several lines in one batch.
	imp := filepath.Join(dir, "import.txt")
	body := fmt.Sprintf("# DML\n# CONTEXT-DATABASE: telegraf\ncpu,host=h2,region=us usage=2.25,cores=4i %d\ncpu,host=h3,region=us usage=-3,cores=2i %d\n", now.Unix(), now.Unix())
	if err := os.WriteFile(imp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := cli("writer", "w-secret-2", "-import", "-path", imp, "-precision", "s"); err != nil || !strings.Contains(out, "Processed 2 inserts") || !strings.Contains(out, "Failed 0 inserts") {
		t.Fatalf("influx -import: %v %s", err, out)
	}

	// /query: CREATE DATABASE needs write, SHOW DATABASES any credential.
	if out, err := cli("writer", "w-secret-2", "-execute", "CREATE DATABASE plant7"); err != nil || strings.Contains(out, "ERR") {
		t.Fatalf("influx CREATE DATABASE: %v %s", err, out)
	}
	if out, _ := cli("reader", "r-secret-3", "-execute", "CREATE DATABASE plant8"); !strings.Contains(out, "needs the write role") {
		t.Fatalf("influx CREATE DATABASE with a read key: %s", out)
	}
	if out, err := cli("reader", "r-secret-3", "-execute", "SHOW DATABASES"); err != nil || !strings.Contains(out, "plant7") || !strings.Contains(out, "telegraf") || strings.Contains(out, "plant8") {
		t.Fatalf("influx SHOW DATABASES: %v %s", err, out)
	}
	if out, _ := cli("reader", "r-secret-3", "-execute", "SELECT * FROM cpu"); !strings.Contains(out, "not supported") {
		t.Fatalf("influx SELECT: %s", out)
	}

	post := func(path, auth string, gz bool, body string) (int, string) {
		t.Helper()
		var rd io.Reader = strings.NewReader(body)
		if gz {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			io.WriteString(zw, body)
			zw.Close()
			rd = &b
		}
		req, _ := http.NewRequest("POST", srv.url()+path, rd)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ms := now.UnixMilli()
	// 1.x with u/p query credentials, gzip, a partial failure.
	lines := fmt.Sprintf("mem,host=h1 used=100i,free=0.5 %d\nmem,host=h1 used= %d\nmem,host=h2 used=200i,free=0.25 %d\n", ms, ms, ms)
	code, msg := post("/write?db=fleet&rp=autogen&precision=ms&u=writer&p=w-secret-2", "", true, lines)
	if code != http.StatusBadRequest || !strings.Contains(msg, `"error":"partial write: line 2: field \"used\": missing field value (1 of 3 lines refused`) {
		t.Fatalf("partial write: %d %s", code, msg)
	}
	if code, msg := post("/write?db=fleet&u=writer&p=nope", "", false, lines); code != http.StatusUnauthorized {
		t.Fatalf("wrong u/p: %d %s", code, msg)
	}
	if code, msg := post("/write?precision=ms", "Token writer:w-secret-2", false, lines); code != http.StatusBadRequest || !strings.Contains(msg, "database is required") {
		t.Fatalf("no db: %d %s", code, msg)
	}
	// 2.x with a token, a "db/rp" bucket and nanoseconds.
	v2 := fmt.Sprintf("disk,host=h1,path=/data free=9u,ro=F %d\n", now.UnixNano())
	if code, msg := post("/api/v2/write?org=acme&bucket=fleet/autogen&precision=ns", "Token influx-write-token-0123456789", false, v2); code != http.StatusNoContent {
		t.Fatalf("v2 write: %d %s", code, msg)
	}
	if code, msg := post("/api/v2/write?org=acme&bucket=fleet", "Token wrong-token", false, v2); code != http.StatusUnauthorized {
		t.Fatalf("v2 wrong token: %d %s", code, msg)
	}
	if code, msg := post("/api/v2/write?org=acme&bucket=fleet&precision=ns", "Token influx-write-token-0123456789", false, "disk free=1 1 2"); code != http.StatusBadRequest || !strings.Contains(msg, `"code":"invalid"`) {
		t.Fatalf("v2 bad line: %d %s", code, msg)
	}
	// The probes answer without credentials.
	for _, p := range []string{"/ping", "/health"} {
		resp, err := http.Get(srv.url() + p)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("GET %s: %v %v", p, resp, err)
		}
		resp.Body.Close()
	}

	// The line counters: 6 lines stored, 2 refused (the partial write's and
	// the v2 bad line).
	req, _ := http.NewRequest("GET", srv.url()+"/metrics", nil)
	req.SetBasicAuth("admin", "admin-secret-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`tidal_lineproto_lines_total{result="stored"} 6`, `tidal_lineproto_lines_total{result="refused"} 2`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	ts := now.UTC().Format("2006-01-02 15:04:05.000000000")
	tests := []struct {
		sql  string
		want [][]string
	}{
		{`SELECT host, region, measure_name, usage, cores, up, note, time FROM "telegraf"."cpu" ORDER BY host`, [][]string{
			{"h1", "eu", "cpu", "1.5", "8", "true", `a "quoted" note`, ts},
			{"h2", "us", "cpu", "2.25", "4", "-", "-", ts},
			{"h3", "us", "cpu", "-3.0", "2", "-", "-", ts},
		}},
		{`SELECT host, used, free FROM "fleet"."mem" ORDER BY host`, [][]string{{"h1", "100", "0.5"}, {"h2", "200", "0.25"}}},
		{`SELECT host, path, free, ro, time FROM "fleet"."disk"`, [][]string{{"h1", "/data", "9", "false", ts}}},
	}
	for _, tt := range tests {
		got := sqlRows(t, srv, tt.sql)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.sql, got, tt.want)
		}
	}
}

// TestLineProtocolPipeline: a stream pipeline with format
// influx_line_protocol (here fed by Firehose) stores each line as a
// multi-measure record of the mapping's table, the measurement as its
// measure name, and dead-letters a message with a bad line.
func TestLineProtocolPipeline(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	conf := `
ingest:
  pipelines:
    - name: agents
      source:
        firehose: {access_keys: [agents-delivery-token-0123]}
      format: influx_line_protocol
      mapping: {database: plant, table: agents}
`
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
	ns := time.Now().Truncate(time.Second).UnixNano()
	good := fmt.Sprintf("cpu,host=h1 usage=1.5,procs=12i %d\nmem,host=h1 used=0.25 %d\n", ns, ns)
	bad := "cpu,host=h2 usage= 1\n"
	body := fmt.Sprintf(`{"requestId":"r1","timestamp":%d,"records":[{"data":%q},{"data":%q}]}`, time.Now().UnixMilli(),
		base64.StdEncoding.EncodeToString([]byte(good)), base64.StdEncoding.EncodeToString([]byte(bad)))
	req, _ := http.NewRequest("POST", srv.url()+"/firehose/agents", strings.NewReader(body))
	req.Header.Set("X-Amz-Firehose-Access-Key", "agents-delivery-token-0123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("firehose: %d %s", resp.StatusCode, msg)
	}
	ts := time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05.000000000")
	for _, tt := range []struct {
		sql  string
		want [][]string
	}{
		{`SELECT measure_name, host, usage, procs, used, time FROM "plant"."agents" ORDER BY measure_name`, [][]string{
			{"cpu", "h1", "1.5", "12", "-", ts}, {"mem", "h1", "-", "-", "0.25", ts}}},
		{`SELECT count(*) FROM "plant"."_dead_letters"`, [][]string{{"1"}}},
	} {
		if got := sqlRows(t, srv, tt.sql); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.sql, got, tt.want)
		}
	}
}
