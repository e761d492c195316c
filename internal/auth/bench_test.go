package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// BenchmarkRouter measures the auth layer's cost per request, by credential
// kind, in front of a handler that does nothing. The SigV4 case carries a
// 64 KiB body (a typical remote-write batch), which it reads and hashes.
func BenchmarkRouter(b *testing.B) {
	a, err := New(Options{Keys: []Key{{ID: "AKID", Secret: "secret", Role: Write}},
		Tokens: []Token{{Value: "token-0123456789abcdef", Role: Write}}})
	if err != nil {
		b.Fatal(err)
	}
	rt := NewRouter(a, nil)
	rt.HandleFunc("POST /api/v1/write", Write, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	body := bytes.Repeat([]byte("x"), 64<<10)
	sum := sha256.Sum256(body)
	signed := httptest.NewRequest("POST", "http://tidal.test/api/v1/write", nil)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"},
		signed, hex.EncodeToString(sum[:]), "aps", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	cookie, sess := a.sessions.create(Principal{Name: "AKID", Role: Write, Method: MethodBasic})
	for _, bc := range []struct {
		name string
		set  func(r *http.Request)
	}{
		{"session", func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
			r.Header.Set(CSRFHeader, sess.csrf)
		}},
		{"basic", func(r *http.Request) { r.SetBasicAuth("AKID", "secret") }},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer token-0123456789abcdef") }},
		{"sigv4", func(r *http.Request) { r.Header = signed.Header.Clone() }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			w := &statusWriter{h: http.Header{}}
			for b.Loop() {
				r := httptest.NewRequest("POST", "http://tidal.test/api/v1/write", bytes.NewReader(body))
				bc.set(r)
				w.status = 0
				rt.ServeHTTP(w, r)
				if w.status != http.StatusNoContent {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}

// statusWriter is a ResponseWriter that keeps only the status.
type statusWriter struct {
	h      http.Header
	status int
}

func (w *statusWriter) Header() http.Header         { return w.h }
func (w *statusWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *statusWriter) WriteHeader(code int)        { w.status = code }
