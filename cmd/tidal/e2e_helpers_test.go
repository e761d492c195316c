package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
)

// tidalBin is the binary under test, built once in TestMain.
var tidalBin string

func TestMain(m *testing.M) {
	// TIDAL_TEST_BIN runs the tests against a binary built beforehand
	// (scripts/test.sh builds one for this package and bench).
	if tidalBin = os.Getenv("TIDAL_TEST_BIN"); tidalBin != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "tidal-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tidalBin = filepath.Join(dir, "tidal")
	out, err := exec.Command("go", "build", "-o", tidalBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build tidal: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a real tidal server process.
type server struct {
	t       testing.TB
	cmd     *exec.Cmd
	addr    string
	scheme  string       // http, or https for startServerTLS
	client  *http.Client // trusts the server's CA when scheme is https
	dataDir string
	logs    *syncBuffer
	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed
}

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

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer starts tidal server on dataDir and waits for /healthz.
func startServer(t testing.TB, dataDir string, extra ...string) *server {
	t.Helper()
	return startServerOn(t, dataDir, freeAddr(t), extra...)
}

func startServerOn(t testing.TB, dataDir, addr string, extra ...string) *server {
	t.Helper()
	return launchServer(t, dataDir, addr, "http", http.DefaultClient, extra...)
}

// startServerTLS starts tidal configured for TLS (by a --config among
// extra) and waits for /healthz through client, which trusts its CA.
func startServerTLS(t testing.TB, dataDir string, client *http.Client, extra ...string) *server {
	t.Helper()
	return launchServer(t, dataDir, freeAddr(t), "https", client, extra...)
}

func launchServer(t testing.TB, dataDir, addr, scheme string, client *http.Client, extra ...string) *server {
	t.Helper()
	s := &server{t: t, addr: addr, scheme: scheme, client: client, dataDir: dataDir, logs: &syncBuffer{}, exited: make(chan struct{})}
	args := append([]string{"server", "--data-dir", dataDir, "--listen", s.addr}, extra...)
	s.cmd = exec.Command(tidalBin, args...)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := s.client.Get(s.url() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("tidal exited during start: %v\n%s", s.waitErr, s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			s.kill()
			t.Fatalf("tidal not healthy after 30s\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(s.kill)
	return s
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (s *server) kill() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.exited:
		if s.waitErr != nil {
			s.t.Fatalf("tidal exit after SIGTERM: %v\n%s", s.waitErr, s.logs.String())
		}
	case <-time.After(30 * time.Second):
		s.t.Fatalf("tidal did not stop within 30s of SIGTERM\n%s", s.logs.String())
	}
}

func (s *server) url() string { return s.scheme + "://" + s.addr }

// writeClient is the AWS SDK's Timestream Write client pointed at s. It
// keeps the SDK's default retries: the SDK can drop a loopback connection
// while reading a response (aws-sdk-go-v2#2737), which a retry absorbs.
func (s *server) writeClient() *timestreamwrite.Client {
	return timestreamwrite.New(timestreamwrite.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(s.url()),
		EndpointDiscovery: timestreamwrite.EndpointDiscoveryOptions{
			EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled,
		},
	})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// runTidal runs the binary to completion and returns its combined output.
func runTidal(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tidalBin, args...).CombinedOutput()
	return string(out), err
}

// startServerAt restarts tidal on a known address (after a kill).
func startServerAt(t testing.TB, dataDir, addr string, extra ...string) *server {
	t.Helper()
	return startServerOn(t, dataDir, addr, extra...)
}
