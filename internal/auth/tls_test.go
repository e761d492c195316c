package auth

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/internal/auth/authtest"
)

// tlsServer serves 200 over TLS with cfg.
func tlsServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	// Not httptest.StartTLS: it adds its own certificate, which crypto/tls
	// would prefer to GetCertificate for clients that send no SNI.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		TLSConfig: cfg, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String()
}

// servedSerial returns the serial number of the certificate a new
// connection to url is served.
func servedSerial(t *testing.T, url string, ca *authtest.CA, client []tls.Certificate) (int64, error) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{RootCAs: ca.Pool(), Certificates: client},
	}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
}

// writePair writes a certificate with serial into certFile/keyFile with a
// distinct modification time, as a rotation would.
func writePair(t *testing.T, ca *authtest.CA, serial int64, certFile, keyFile string, mtime time.Time) {
	t.Helper()
	c, k := ca.Issue(t, serial, "127.0.0.1")
	for name, data := range map[string][]byte{certFile: c, keyFile: k} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCertReloader(t *testing.T) {
	dir := t.TempDir()
	ca := authtest.NewCA(t, "test ca")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	base := time.Now().Add(-time.Hour)
	writePair(t, ca, 10, certFile, keyFile, base)

	c, err := NewCertReloader(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now()
	c.mu.Lock()
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c.checked = now
	c.mu.Unlock()
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	cfg, err := TLSConfig(c, "")
	if err != nil {
		t.Fatal(err)
	}
	url := tlsServer(t, cfg)
	expect := func(want int64) {
		t.Helper()
		got, err := servedSerial(t, url, ca, nil)
		if err != nil || got != want {
			t.Fatalf("served serial %d (%v), want %d", got, err, want)
		}
	}
	expect(10)

	// Reload (what SIGHUP calls) picks up new files at once.
	writePair(t, ca, 11, certFile, keyFile, base.Add(time.Minute))
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	expect(11)

	// A change of the files is noticed by the next handshake after the
	// check interval, without Reload.
	writePair(t, ca, 12, certFile, keyFile, base.Add(2*time.Minute))
	expect(11) // checked less than a second ago
	advance(2 * certCheckInterval)
	expect(12)

	// A half-rotated pair (new certificate, old key) does not load: the
	// previous certificate stays, and Reload says why.
	c12, _ := os.ReadFile(keyFile)
	writePair(t, ca, 13, certFile, keyFile, base.Add(3*time.Minute))
	if err := os.WriteFile(keyFile, c12, 0o600); err != nil {
		t.Fatal(err)
	}
	advance(2 * certCheckInterval)
	expect(12)
	if err := c.Reload(); err == nil {
		t.Fatal("Reload of a mismatched pair succeeded")
	}
	expect(12)
	// Once the key arrives too, the next check loads the pair.
	writePair(t, ca, 14, certFile, keyFile, base.Add(4*time.Minute))
	advance(2 * certCheckInterval)
	expect(14)
}

func TestClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := authtest.NewCA(t, "server ca")
	clientCA := authtest.NewCA(t, "client ca")
	_, certFile, keyFile := ca.WriteFiles(t, dir, "127.0.0.1")
	clientCAFile := filepath.Join(dir, "client-ca.pem")
	if err := os.WriteFile(clientCAFile, clientCA.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := NewCertReloader(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := TLSConfig(c, clientCAFile)
	if err != nil {
		t.Fatal(err)
	}
	url := tlsServer(t, cfg)
	if _, err := servedSerial(t, url, ca, nil); err == nil {
		t.Error("connection without a client certificate accepted")
	}
	if _, err := servedSerial(t, url, ca, []tls.Certificate{ca.ClientCert(t, 5)}); err == nil {
		t.Error("client certificate of another CA accepted")
	}
	if got, err := servedSerial(t, url, ca, []tls.Certificate{clientCA.ClientCert(t, 6)}); err != nil || got != 2 {
		t.Errorf("client certificate of the client CA: serial %d, %v", got, err)
	}
	if _, err := TLSConfig(c, certFile+".missing"); err == nil {
		t.Error("missing client CA file accepted")
	}
	if _, err := TLSConfig(c, keyFile); err == nil {
		t.Error("client CA file without a certificate accepted")
	}
}
