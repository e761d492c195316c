package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// Binaries under test, built once in TestMain: the tidal server from the
// repository root and this plugin's backend, named as Grafana names it.
var (
	tidalBin  string
	pluginBin string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tidal-grafana-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tidalBin = filepath.Join(dir, "tidal")
	pluginBin = filepath.Join(dir, fmt.Sprintf("gpx_tidaldb_%s_%s", runtime.GOOS, runtime.GOARCH))
	builds := []struct{ dir, out, pkg string }{{"../../..", tidalBin, "./cmd/tidal"}, {".", pluginBin, "."}}
	// `make plugin-test` passes the binary `make plugin` built into dist/,
	// so the tests run what ships.
	if bin := os.Getenv("TIDAL_PLUGIN_BIN"); bin != "" {
		pluginBin, builds = bin, builds[:1]
	}
	for _, b := range builds {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b.pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a process's output for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tidal is a real tidal server process.
type tidal struct {
	url  string
	logs *syncBuffer
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startTidal starts `tidal server` with extra flags and waits for /healthz.
// It is killed when the test ends.
func startTidal(t testing.TB, extra ...string) *tidal {
	t.Helper()
	addr := freeAddr(t)
	s := &tidal{url: "http://" + addr, logs: &syncBuffer{}}
	args := append([]string{"server", "--data-dir", t.TempDir(), "--listen", addr}, extra...)
	cmd := exec.Command(tidalBin, args...)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("tidal exited during start\n%s", s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("tidal not healthy after 30s\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric reads one sample of the server's /metrics, -1 if it is absent.
func (s *tidal) metric(t testing.TB, series string) float64 {
	t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

// writeClient is the AWS SDK's Timestream Write client pointed at s.
func (s *tidal) writeClient(key, secret string) *timestreamwrite.Client {
	return timestreamwrite.New(timestreamwrite.Options{
		Region:            "us-east-1",
		Credentials:       credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint:      aws.String(s.url),
		EndpointDiscovery: timestreamwrite.EndpointDiscoveryOptions{EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled},
	})
}

// plugin is the built plugin binary started the way Grafana starts it:
// hashicorp go-plugin, Grafana's handshake, protocol 2, gRPC only.
type pluginProc struct {
	data   grpcplugin.DataClient
	diag   grpcplugin.DiagnosticsClient
	res    grpcplugin.ResourceClient
	logs   *syncBuffer
	client *goplugin.Client
}

func startPlugin(t testing.TB) *pluginProc {
	t.Helper()
	p := &pluginProc{logs: &syncBuffer{}}
	cmd := exec.Command(pluginBin)
	p.client = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{grpcplugin.ProtocolVersion: {
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
			"data":        &grpcplugin.DataGRPCPlugin{},
			"stream":      &grpcplugin.StreamGRPCPlugin{},
		}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		SyncStderr:       p.logs,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: p.logs, Level: hclog.Info}),
	})
	t.Cleanup(p.client.Kill)
	rpc, err := p.client.Client()
	if err != nil {
		t.Fatalf("start plugin: %v\n%s", err, p.logs.String())
	}
	for name, dst := range map[string]any{"data": &p.data, "diagnostics": &p.diag, "resource": &p.res} {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("dispense %s: %v", name, err)
		}
		switch d := dst.(type) {
		case *grpcplugin.DataClient:
			*d = raw.(grpcplugin.DataClient)
		case *grpcplugin.DiagnosticsClient:
			*d = raw.(grpcplugin.DiagnosticsClient)
		case *grpcplugin.ResourceClient:
			*d = raw.(grpcplugin.ResourceClient)
		}
	}
	return p
}

// dsConfig is a data source as Grafana's form saves it.
type dsConfig struct {
	id        int64
	url       string
	jsonData  map[string]any
	secure    map[string]string
	basicUser string
}

// pluginContext is what Grafana sends with every call for ds.
func (ds dsConfig) pluginContext() backend.PluginContext {
	j, _ := json.Marshal(ds.jsonData)
	id := ds.id
	if id == 0 {
		id = 1
	}
	return backend.PluginContext{
		OrgID:    1,
		PluginID: PluginID,
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: id, UID: "tidal-" + strconv.FormatInt(id, 10), Name: "TidalDB", Type: PluginID,
			URL: ds.url, JSONData: j, DecryptedSecureJSONData: ds.secure,
			BasicAuthEnabled: ds.basicUser != "", BasicAuthUser: ds.basicUser,
			Updated: time.Unix(1700000000, 0),
		},
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// query sends one QueryData call with the given queries through gRPC.
func (p *pluginProc) query(ctx context.Context, t testing.TB, ds dsConfig, headers map[string]string, qs ...backend.DataQuery) *backend.QueryDataResponse {
	t.Helper()
	req := &backend.QueryDataRequest{PluginContext: ds.pluginContext(), Headers: headers, Queries: qs}
	pres, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	if err != nil {
		t.Fatalf("QueryData: %v\n%s", err, p.logs.String())
	}
	res, err := backend.FromProto().QueryDataResponse(pres)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (p *pluginProc) health(ctx context.Context, t testing.TB, ds dsConfig) *backend.CheckHealthResult {
	t.Helper()
	pres, err := p.diag.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(ds.pluginContext())})
	if err != nil {
		t.Fatalf("CheckHealth: %v\n%s", err, p.logs.String())
	}
	return backend.FromProto().CheckHealthResponse(pres)
}

// resource makes a CallResource call and returns the status and body.
func (p *pluginProc) resource(ctx context.Context, t testing.TB, ds dsConfig, method, path string, body any) (int, []byte) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req := &backend.CallResourceRequest{PluginContext: ds.pluginContext(), Path: path, Method: method,
		URL: "/api/datasources/uid/tidal-1/resources/" + path, Body: b}
	stream, err := p.res.CallResource(ctx, backend.ToProto().CallResourceRequest(req))
	if err != nil {
		t.Fatalf("CallResource: %v", err)
	}
	var (
		status int
		out    []byte
	)
	for {
		r, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("CallResource %s: %v\n%s", path, err, p.logs.String())
		}
		if r.Code != 0 {
			status = int(r.Code)
		}
		out = append(out, r.Body...)
	}
	return status, out
}
