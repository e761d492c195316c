// Package s3server starts a real S3-compatible HTTP server for tests: the
// npm package s3rver, installed by scripts/deps.sh into scripts/s3rver, run
// as a child process on a free loopback port with its data in a test's
// temporary directory. Tests of object storage, snapshots and UNLOAD talk
// to it with the AWS SDK v2 S3 client, path-style.
//
// When the server is not installed, Start fails the test under CI=true and
// skips it elsewhere.
package s3server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The credentials s3rver accepts (its built-in account).
const (
	AccessKeyID     = "S3RVER"
	SecretAccessKey = "S3RVER"
	Region          = "us-east-1"
)

// Server is one running s3rver.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Dir holds the server's objects.
	Dir string
}

var listening = regexp.MustCompile(`listening on ([0-9.]+):([0-9]+)`)

// Bin returns the path of the s3rver executable under the module root, or
// an error if it is not installed.
func Bin() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find s3rver: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "scripts", "s3rver", "package.json")); err == nil {
				break
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find s3rver: no scripts/s3rver above the working directory")
		}
		dir = parent
	}
	bin := filepath.Join(dir, "scripts", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("find s3rver (run scripts/deps.sh): %w", err)
	}
	return bin, nil
}

// Start starts a server for the test and stops it at the test's end. It
// fails the test under CI=true and skips it elsewhere when s3rver or node
// is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Bin()
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("s3server: %v", err)
		}
		t.Skipf("s3server: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command("node", "--openssl-legacy-provider", bin, "-d", dir, "-a", "127.0.0.1", "-p", "0", "--no-vhost-buckets", "--silent")
	if os.Getenv("S3SERVER_LOG") != "" {
		cmd.Args = cmd.Args[:len(cmd.Args)-1]
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start s3rver: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil && !sent {
				addr <- m[1] + ":" + m[2]
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("start s3rver: exited without listening")
		}
		return &Server{Endpoint: "http://" + a, Dir: dir}
	case <-time.After(60 * time.Second):
		t.Fatal("start s3rver: not listening after 60s")
	}
	return nil
}

// Client returns an AWS SDK v2 S3 client for the server, path-style.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		// s3rver predates the SDK's default CRC checksums on every request.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Bucket creates a bucket and returns its name.
func (s *Server) Bucket(t testing.TB, name string) string {
	t.Helper()
	name = strings.ToLower(name)
	if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}
