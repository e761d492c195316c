// Package kinesalite runs kinesalite, the npm implementation of the Kinesis
// Data Streams API that scripts/deps.sh installs under scripts/kinesalite,
// for tests and benchmarks: a real Kinesis peer on a free loopback port.
package kinesalite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	tk "github.com/tidaldb/tidal/ingest/kinesis"
)

// Server is a running kinesalite.
type Server struct {
	// Endpoint is its URL, http://127.0.0.1:<port>.
	Endpoint string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
}

// Dir finds scripts/kinesalite with kinesalite installed: $TIDAL_KINESALITE_DIR,
// or scripts/kinesalite in the working directory or one of its parents.
func Dir() (string, error) {
	if d := os.Getenv("TIDAL_KINESALITE_DIR"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find kinesalite: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "scripts", "kinesalite")
		if _, err := os.Stat(filepath.Join(cand, "node_modules", "kinesalite")); err == nil {
			return cand, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("find kinesalite: scripts/kinesalite/node_modules/kinesalite not found (run scripts/deps.sh)")
		}
	}
}

// Start runs scripts/kinesalite/serve.js with node and waits until it
// listens.
func Start() (*Server, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("start kinesalite: %w", err)
	}
	cmd := exec.Command(node, "serve.js")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start kinesalite: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start kinesalite: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start kinesalite: %w", err)
	}
	s := &Server{cmd: cmd, stdin: stdin}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		port, found := strings.CutPrefix(l, "listening ")
		if !ok || !found {
			s.Close()
			return nil, fmt.Errorf("start kinesalite: unexpected output %q", l)
		}
		s.Endpoint = "http://127.0.0.1:" + port
	case <-time.After(30 * time.Second):
		s.Close()
		return nil, errors.New("start kinesalite: not listening after 30s")
	}
	return s, nil
}

// Close stops the server (by its PID) and waits for it.
func (s *Server) Close() {
	_ = s.stdin.Close()
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// StartT starts kinesalite for a test and stops it at the test's end. A
// missing kinesalite fails the test under CI=true and skips it elsewhere.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("kinesalite is required in CI: %v", err)
		}
		t.Skipf("kinesalite not available: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Client returns a Kinesis client for the server.
func (s *Server) Client(ctx context.Context) (*kinesis.Client, error) {
	return tk.NewClient(ctx, s.Endpoint, "us-east-1", "AKIDLOCAL", "local")
}

// CreateStream creates a stream of shards shards and waits until it is
// ACTIVE.
func CreateStream(ctx context.Context, cl *kinesis.Client, name string, shards int32) error {
	if _, err := cl.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	return WaitActive(ctx, cl, name)
}

// WaitActive waits until the stream is ACTIVE (after a create, split or
// merge), polling every 20ms for up to 30s.
func WaitActive(ctx context.Context, cl *kinesis.Client, name string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := cl.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && res.StreamDescriptionSummary.StreamStatus == "ACTIVE" {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("wait for stream %s: not active after 30s: %w", name, err)
			}
			return fmt.Errorf("wait for stream %s: not active after 30s", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
