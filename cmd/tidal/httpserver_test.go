package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestHTTPServerRecoversPanics serves a panicking handler with the real
// server construction: the request gets a 500, the stack is logged once,
// and the server keeps serving.
func TestHTTPServerRecoversPanics(t *testing.T) {
	var logs strings.Builder
	mux := http.NewServeMux()
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("injected handler panic") })
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})
	srv := newHTTPServer(mux, slog.New(slog.NewTextHandler(&logs, nil)))
	if srv.ReadTimeout <= 0 || srv.ReadHeaderTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Fatalf("timeouts not set: %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	for range 2 {
		resp, err := http.Get(base + "/panic")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || string(body) != "internal error\n" {
			t.Fatalf("panicking handler: %d %q", resp.StatusCode, body)
		}
	}
	resp, err := http.Post(base+"/echo", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello" {
		t.Fatalf("echo after panics: %d %q", resp.StatusCode, body)
	}
	if n := strings.Count(logs.String(), "panic serving request"); n != 2 || !strings.Contains(logs.String(), "injected handler panic") {
		t.Fatalf("%d panic log lines:\n%s", n, logs.String())
	}
}
