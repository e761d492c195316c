package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
)

// postRW1 posts one remote-write 1.0 body and returns the status and body.
func postRW1(t testing.TB, url string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// TestRemoteWriteLateSamples: samples 13 days old, far outside the memory
// retention, sent by remote write (a Prometheus that was cut off, or a
// backfill) are acknowledged and answer SQL through the Query API, as
// VictoriaMetrics and Prometheus keep them (issue 14). The implicit table
// has magnetic writes on; with retention.magnetic_writes off they are
// rejected with 400 as before.
func TestRemoteWriteLateSamples(t *testing.T) {
	start := time.Now().Add(-13 * 24 * time.Hour).Truncate(time.Minute)
	stream := rwStream(2, 6, start) // 2 hosts x 10 metrics x 6 steps
	total := 0
	var bodies [][]byte
	for _, s := range stream {
		total += len(s)
		bodies = append(bodies, encodeRW1(t, s)...)
	}
	t.Run("kept", func(t *testing.T) {
		srv := startServer(t, t.TempDir())
		for _, b := range bodies {
			if code, msg := postRW1(t, srv.url()+"/api/v1/write", b); code/100 != 2 {
				t.Fatalf("remote write of 13-day-old samples: HTTP %d: %s", code, msg)
			}
		}
		out, err := srv.queryClient().Query(ctxT(t), &timestreamquery.QueryInput{QueryString: aws.String(
			`SELECT count(*), min(time), max(time) FROM prometheus.metrics WHERE hostname = 'host_1' AND measure_name = 'cpu_usage_user'`)})
		if err != nil {
			t.Fatal(err)
		}
		row := out.Rows[0].Data
		want := []string{"6", start.UTC().Format("2006-01-02 15:04:05.000000000"), start.Add(50 * time.Second).UTC().Format("2006-01-02 15:04:05.000000000")}
		for i, w := range want {
			if got := aws.ToString(row[i].ScalarValue); got != w {
				t.Fatalf("column %d = %q, want %q", i, got, w)
			}
		}
		all, err := srv.queryClient().Query(ctxT(t), &timestreamquery.QueryInput{QueryString: aws.String(`SELECT count(*) FROM prometheus.metrics`)})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(all.Rows[0].Data[0].ScalarValue); got != fmt.Sprint(total) {
			t.Fatalf("count(*) = %s, want %d", got, total)
		}
	})
	t.Run("rejected when off", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "tidal.yaml")
		if err := os.WriteFile(cfg, []byte("retention:\n  magnetic_writes: false\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		srv := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
		code, msg := postRW1(t, srv.url()+"/api/v1/write", bodies[0])
		if code != http.StatusBadRequest || !bytes.Contains([]byte(msg), []byte("of the memory store")) {
			t.Fatalf("with magnetic writes off: HTTP %d: %s; want 400 naming the memory store range", code, msg)
		}
	})
}

// BenchmarkRemoteWriteLate measures remote-write ingest of samples 13 days
// old (written straight to the magnetic tier) against the same samples in
// the memory window, each into a fresh server, in samples/s:
//
//	go test -run '^$' -bench RemoteWriteLate -benchtime 1x ./cmd/tidal
//
// TIDAL_RW_HOSTS and TIDAL_RW_STEPS set the stream as for
// BenchmarkRemoteWrite (default 1000 hosts x 1 h at 10 s).
func BenchmarkRemoteWriteLate(b *testing.B) {
	hosts, steps := rwShape()
	rates := map[string]float64{}
	for _, c := range []struct {
		name string
		age  time.Duration
	}{{"memory", time.Duration(steps)*10*time.Second + 5*time.Minute}, {"13d", 13 * 24 * time.Hour}} {
		stream := rwStream(hosts, steps, time.Now().Add(-c.age).Truncate(time.Minute))
		total := 0
		bodies := make([][][]byte, rwSenders)
		for i, s := range stream {
			total += len(s)
			bodies[i] = encodeRW1(b, s)
		}
		srv := startServer(b, b.TempDir())
		runtime.GC()
		elapsed, _ := sendStream(b, rwTarget{"tidal", srv.url() + "/api/v1/write"}, false, bodies)
		rates[c.name] = float64(total) / elapsed.Seconds()
		srv.kill()
	}
	b.Logf("remote-write 1.0, %d hosts x 10 metrics x %d steps: memory window %.0f samples/s, 13 days old %.0f samples/s (%.2fx)",
		hosts, steps, rates["memory"], rates["13d"], rates["13d"]/rates["memory"])
	b.ReportMetric(rates["memory"], "memory-samples/s")
	b.ReportMetric(rates["13d"], "13d-samples/s")
	b.ReportMetric(rates["13d"]/rates["memory"], "13d/memory")
}
