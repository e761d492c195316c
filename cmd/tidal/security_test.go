package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"
	"github.com/aws/smithy-go"
	"github.com/golang/snappy"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/prompb"
	promsigv4 "github.com/prometheus/sigv4"

	"github.com/tidaldb/tidal/internal/auth/authtest"
)

// Credentials of the TLS tests' server.
const (
	tlsAuthConfig = `
auth:
  access_keys:
    - {access_key_id: admin, secret_access_key: admin-secret-1}
    - {access_key_id: promwriter, secret_access_key: pw-secret-2, role: write}
    - {access_key_id: grafana, secret_access_key: gr-secret-3, role: read}
  bearer_tokens:
    - {token: write-token-0123456789abcdef, role: write}
    - {token: read-token-0123456789abcdef, role: read}
`
	readToken  = "read-token-0123456789abcdef"
	writeToken = "write-token-0123456789abcdef"
)

// tlsFixture is a self-signed CA, a server certificate for 127.0.0.1 and a
// tidal configuration serving it with tlsAuthConfig.
type tlsFixture struct {
	ca                        *authtest.CA
	caFile, certFile, keyFile string
	cfgFile                   string
	client                    *http.Client // trusts ca
}

func newTLSFixture(t *testing.T, extraServer string) *tlsFixture {
	t.Helper()
	dir := t.TempDir()
	f := &tlsFixture{ca: authtest.NewCA(t, "tidal test ca")}
	f.caFile, f.certFile, f.keyFile = f.ca.WriteFiles(t, dir, "127.0.0.1", "localhost")
	f.cfgFile = filepath.Join(dir, "tidal.yaml")
	cfg := fmt.Sprintf("server:\n  tls_cert_file: %s\n  tls_key_file: %s\n%s%s", f.certFile, f.keyFile, extraServer, tlsAuthConfig)
	if err := os.WriteFile(f.cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	f.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.ca.Pool()}}}
	return f
}

// promQuery runs an instant PromQL query against tidal with setAuth
// applied, returning the status code and the decoded data.
func promQuery(t *testing.T, c *http.Client, base, query string, setAuth func(*http.Request)) (int, promResult, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/api/v1/query?"+url.Values{"query": {query}}.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	setAuth(req)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var env struct {
		Status string     `json:"status"`
		Data   promResult `json:"data"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &env); err != nil || env.Status != "success" {
			t.Fatalf("%s: %s (%v)", query, body, err)
		}
	}
	return resp.StatusCode, env.Data, resp.Header
}

// TestPrometheusRemoteWriteTLS has the real Prometheus remote-write over
// HTTPS, trusting a self-signed CA, into a TLS tidal with basic auth and a
// bearer token, plus a wrong password and a read-only key that must be
// refused; the samples of the accepted two are queryable through PromQL
// with read credentials and refused without. Debian's Prometheus 2.42
// sends remote_write.sigv4 requests unsigned (no Authorization header at
// all), so SigV4 is driven by Prometheus's own signer library instead, as
// current Prometheus releases use it (remote_write.sigv4, service aps).
func TestPrometheusRemoteWriteTLS(t *testing.T) {
	f := newTLSFixture(t, "")
	tidal := startServerTLS(t, t.TempDir(), f.client, "--config", f.cfgFile)
	queue := `    tls_config: {ca_file: ` + f.caFile + `}
    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}
`
	rw := func(via, auth string) string {
		return "  - url: " + tidal.url() + "/api/v1/write\n" + auth + queue +
			"    write_relabel_configs: [{target_label: via, replacement: " + via + "}]\n"
	}
	prom := startPrometheus(t, `
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ['$SELF']}]
remote_write:
`+rw("basic", "    basic_auth: {username: promwriter, password: pw-secret-2}\n")+
		rw("bearer", "    authorization: {credentials: "+writeToken+"}\n")+
		rw("wrongpassword", "    basic_auth: {username: promwriter, password: not-the-password}\n")+
		rw("readonly", "    basic_auth: {username: grafana, password: gr-secret-3}\n"))
	_ = prom

	asReader := func(r *http.Request) { r.SetBasicAuth("grafana", "gr-secret-3") }
	deadline := time.Now().Add(90 * time.Second)
	var res promResult
	for {
		var code int
		code, res, _ = promQuery(t, f.client, tidal.url(), `count_over_time(up{job="prometheus"}[1m])`, asReader)
		if code == http.StatusUnauthorized || code == http.StatusForbidden {
			t.Fatalf("query with read credentials: %d", code)
		}
		// Until the first write creates the table the query fails (422).
		enough := 0
		for _, s := range res.Result {
			if n, _ := strconv.Atoi(fmt.Sprint(s.Value[1])); n >= 3 {
				enough++
			}
		}
		if enough >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90s tidal has %+v\nprometheus:\n%s\ntidal:\n%s", res, prom.logs.String(), tidal.logs.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	got := map[string]bool{}
	for _, s := range res.Result {
		got[s.Metric["via"]] = true
	}
	for _, via := range []string{"basic", "bearer"} {
		if !got[via] {
			t.Errorf("no samples remote-written with %s: %v", via, got)
		}
	}
	for _, via := range []string{"wrongpassword", "readonly"} {
		if got[via] {
			t.Errorf("samples remote-written with %s were accepted", via)
		}
	}
	// Every sample is the scrape's up == 1, the same through each path.
	_, vals, _ := promQuery(t, f.client, tidal.url(), `up{job="prometheus"}`, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+readToken)
	})
	if len(vals.Result) != 2 {
		t.Errorf("up through a read token: %d series, want 2: %+v", len(vals.Result), vals)
	}
	for _, s := range vals.Result {
		if s.Value[1] != "1" {
			t.Errorf("up%v = %v, want 1", s.Metric, s.Value[1])
		}
	}
	if !strings.Contains(tidal.logs.String(), "request refused") || !strings.Contains(tidal.logs.String(), "request forbidden") {
		t.Errorf("tidal logged no refusal for the wrong password or no forbidden for the read-only key:\n%s", tidal.logs.String())
	}

	// Without credentials, with a write-only token, or over plain HTTP: no data.
	code, _, hdr := promQuery(t, f.client, tidal.url(), "up", func(*http.Request) {})
	if code != http.StatusUnauthorized || len(hdr.Values("WWW-Authenticate")) == 0 {
		t.Errorf("query without credentials: %d %v, want 401 with WWW-Authenticate", code, hdr)
	}
	if code, _, _ := promQuery(t, f.client, tidal.url(), "up", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+writeToken) }); code != http.StatusForbidden {
		t.Errorf("query with a write token: %d, want 403", code)
	}
	resp, err := http.Get("http://" + tidal.addr + "/api/v1/query?query=up")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP to the TLS port answered: %s", body)
		}
	}
	// A client that does not trust the CA cannot connect.
	if _, err := http.Get(tidal.url() + "/healthz"); err == nil {
		t.Error("client without the CA connected")
	}

	// SigV4 with service aps through github.com/prometheus/sigv4, the
	// signer of Prometheus's remote_write.sigv4.
	ts := time.Now().Add(-time.Minute).Truncate(time.Second).UnixMilli()
	send := func(key, secret string) int {
		t.Helper()
		rtSigned, err := promsigv4.NewSigV4RoundTripper(&promsigv4.SigV4Config{Region: "eu-west-3", AccessKey: key,
			SecretKey: promconfig.Secret(secret)}, f.client.Transport)
		if err != nil {
			t.Fatal(err)
		}
		wr := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
			Labels:  []prompb.Label{{Name: "__name__", Value: "sigv4_probe"}, {Name: "key", Value: key}},
			Samples: []prompb.Sample{{Value: 42, Timestamp: ts}, {Value: 43, Timestamp: ts + 1000}},
		}}}
		raw, err := wr.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", tidal.url()+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		resp, err := (&http.Client{Transport: rtSigned}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send("promwriter", "pw-secret-2"); code/100 != 2 {
		t.Fatalf("sigv4 remote write: %d", code)
	}
	if code := send("promwriter", "wrong-secret"); code != http.StatusForbidden {
		t.Errorf("sigv4 remote write with a wrong secret: %d, want 403", code)
	}
	if code := send("grafana", "gr-secret-3"); code != http.StatusForbidden {
		t.Errorf("sigv4 remote write with a read key: %d, want 403", code)
	}
	_, probe, _ := promQuery(t, f.client, tidal.url(), `sigv4_probe[5m]`, asReader)
	if len(probe.Result) != 1 || probe.Result[0].Metric["key"] != "promwriter" || len(probe.Result[0].Values) != 2 ||
		probe.Result[0].Values[0][0] != float64(ts/1000) || probe.Result[0].Values[0][1] != "42" ||
		probe.Result[0].Values[1][0] != float64(ts/1000+1) || probe.Result[0].Values[1][1] != "43" {
		t.Errorf("sigv4 samples read back: %+v", probe)
	}
}

// TestTimestreamSDKOverTLS drives the AWS SDK v2 Timestream clients over
// HTTPS with a custom CA, with keys of each role.
func TestTimestreamSDKOverTLS(t *testing.T) {
	f := newTLSFixture(t, "")
	tidal := startServerTLS(t, t.TempDir(), f.client, "--config", f.cfgFile)
	ctx := ctxT(t)
	writeClient := func(key, secret string) *timestreamwrite.Client {
		return timestreamwrite.New(timestreamwrite.Options{
			Region: "eu-west-3", HTTPClient: f.client, BaseEndpoint: aws.String(tidal.url()),
			Credentials:       credentials.NewStaticCredentialsProvider(key, secret, ""),
			EndpointDiscovery: timestreamwrite.EndpointDiscoveryOptions{EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled},
		})
	}
	queryClient := func(key, secret string) *timestreamquery.Client {
		return timestreamquery.New(timestreamquery.Options{
			Region: "eu-west-3", HTTPClient: f.client, BaseEndpoint: aws.String(tidal.url()),
			Credentials:       credentials.NewStaticCredentialsProvider(key, secret, ""),
			EndpointDiscovery: timestreamquery.EndpointDiscoveryOptions{EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled},
		})
	}
	admin, writer, reader := writeClient("admin", "admin-secret-1"), writeClient("promwriter", "pw-secret-2"), writeClient("grafana", "gr-secret-3")

	if _, err := admin.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("secure")}); err != nil {
		t.Fatalf("admin CreateDatabase: %v", err)
	}
	if _, err := admin.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("secure"), TableName: aws.String("temps")}); err != nil {
		t.Fatalf("admin CreateTable: %v", err)
	}
	wantDenied := func(what string, err error) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
			t.Errorf("%s: %v, want AccessDeniedException", what, err)
		}
	}
	_, err := writer.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("secure"), TableName: aws.String("other")})
	wantDenied("write key CreateTable", err)
	_, err = reader.DeleteDatabase(ctx, &timestreamwrite.DeleteDatabaseInput{DatabaseName: aws.String("secure")})
	wantDenied("read key DeleteDatabase", err)

	ms := time.Now().UnixMilli()
	in := &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("secure"), TableName: aws.String("temps"),
		Records: []types.Record{{Dimensions: []types.Dimension{{Name: aws.String("host"), Value: aws.String("h1")}},
			MeasureName: aws.String("temp"), MeasureValue: aws.String("21.5"), Time: aws.String(strconv.FormatInt(ms, 10))}}}
	_, err = reader.WriteRecords(ctx, in)
	wantDenied("read key WriteRecords", err)
	if _, err := writer.WriteRecords(ctx, in); err != nil {
		t.Fatalf("write key WriteRecords: %v", err)
	}
	if _, err := writer.DescribeEndpoints(ctx, &timestreamwrite.DescribeEndpointsInput{}); err != nil {
		t.Errorf("write key DescribeEndpoints: %v", err)
	}

	q := `SELECT host, measure_value::double FROM "secure"."temps"`
	out, err := queryClient("grafana", "gr-secret-3").Query(ctx, &timestreamquery.QueryInput{QueryString: aws.String(q)})
	if err != nil {
		t.Fatalf("read key Query: %v", err)
	}
	if len(out.Rows) != 1 || *out.Rows[0].Data[0].ScalarValue != "h1" || *out.Rows[0].Data[1].ScalarValue != "21.5" {
		t.Fatalf("Query rows %+v", out.Rows)
	}
	_, err = queryClient("promwriter", "pw-secret-2").Query(ctx, &timestreamquery.QueryInput{QueryString: aws.String(q)})
	wantDenied("write key Query", err)
	_, err = queryClient("grafana", "wrong").Query(ctx, &timestreamquery.QueryInput{QueryString: aws.String(q)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
		t.Errorf("wrong secret: %v, want InvalidSignatureException", err)
	}
}

// TestTLSCertificateRotation rotates the certificate files of a running
// tidal and sends SIGHUP: new connections get the new certificate.
func TestTLSCertificateRotation(t *testing.T) {
	f := newTLSFixture(t, "")
	tidal := startServerTLS(t, t.TempDir(), f.client, "--config", f.cfgFile)
	serial := func() int64 {
		t.Helper()
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: f.ca.Pool()}}}
		resp, err := c.Get(tidal.url() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(); got != 2 {
		t.Fatalf("serial %d, want 2", got)
	}
	c, k := f.ca.Issue(t, 7, "127.0.0.1")
	if err := os.WriteFile(f.certFile, c, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.keyFile, k, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tidal.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for serial() != 7 {
		if time.Now().After(deadline) {
			t.Fatalf("certificate not rotated after SIGHUP:\n%s", tidal.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-tidal.exited:
		t.Fatalf("tidal exited on SIGHUP:\n%s", tidal.logs.String())
	default:
	}
}

// TestNonLoopbackWithoutTLSWarns checks the warning for credentials in
// clear text on the network.
func TestNonLoopbackWithoutTLSWarns(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	if err := os.WriteFile(cfg, []byte(tlsAuthConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(freeAddr(t), ":")
	srv := startServerOn(t, filepath.Join(dir, "data"), "0.0.0.0:"+port, "--config", cfg)
	if !strings.Contains(srv.logs.String(), "without TLS") {
		t.Errorf("no warning for a non-loopback listen without TLS:\n%s", srv.logs.String())
	}
}

// TestAdminCommandWithCredentials runs `tidal admin parts` against a TLS
// server with credentials: it signs with the AWS environment's key and
// trusts the CA named by SSL_CERT_FILE; a read key is refused.
func TestAdminCommandWithCredentials(t *testing.T) {
	f := newTLSFixture(t, "")
	tidal := startServerTLS(t, t.TempDir(), f.client, "--config", f.cfgFile)
	run := func(key, secret string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, tidalBin, "admin", "parts", "--endpoint", tidal.url())
		cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+f.caFile, "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("admin", "admin-secret-1"); err != nil {
		t.Fatalf("admin key: %v\n%s", err, out)
	}
	if out, err := run("grafana", "gr-secret-3"); err == nil || !strings.Contains(out, "403") {
		t.Fatalf("read key: %v\n%s", err, out)
	}
	if out, err := run("", ""); err == nil || !strings.Contains(out, "401") {
		t.Fatalf("no key: %v\n%s", err, out)
	}
}
