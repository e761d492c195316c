package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckInterval is how often, at most, a handshake checks whether the
// certificate files changed.
const certCheckInterval = time.Second

// CertReloader serves the certificate of a PEM certificate and key file pair
// and reloads it when Reload is called (on SIGHUP) or when a handshake finds
// the files changed (checked at most once a second, without a goroutine). A
// pair that fails to load (say the certificate was replaced but not yet its
// key) leaves the previous certificate in use and is retried.
type CertReloader struct {
	// Immutable after NewCertReloader.
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time

	mu      sync.Mutex // Guards everything below.
	cert    *tls.Certificate
	stamps  [2]fileStamp // of certFile and keyFile when cert was loaded
	checked time.Time    // last time the stamps were compared
}

// fileStamp identifies a version of a file.
type fileStamp struct {
	size    int64
	modTime time.Time
}

// NewCertReloader loads the pair once; a failure is returned.
func NewCertReloader(certFile, keyFile string, logger *slog.Logger) (*CertReloader, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &CertReloader{certFile: certFile, keyFile: keyFile, logger: logger, now: time.Now}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload loads the pair now. On failure the previous certificate stays.
func (c *CertReloader) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loadLocked()
}

func (c *CertReloader) loadLocked() error {
	c.checked = c.now()
	stamps, err := c.stat()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load tls certificate %s: %w", c.certFile, err)
	}
	if cert.Leaf == nil && len(cert.Certificate) > 0 {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return fmt.Errorf("parse tls certificate %s: %w", c.certFile, err)
		}
	}
	c.cert, c.stamps = &cert, stamps
	return nil
}

func (c *CertReloader) stat() ([2]fileStamp, error) {
	var s [2]fileStamp
	for i, name := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return s, fmt.Errorf("stat tls file: %w", err)
		}
		s[i] = fileStamp{size: fi.Size(), modTime: fi.ModTime()}
	}
	return s, nil
}

// Certificate returns the certificate in use.
func (c *CertReloader) Certificate() *tls.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert
}

// GetCertificate is a tls.Config.GetCertificate: it returns the current
// certificate, first reloading it if the files changed.
func (c *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= certCheckInterval || now.Before(c.checked) {
		c.checked = now
		if stamps, err := c.stat(); err == nil && stamps != c.stamps {
			if err := c.loadLocked(); err != nil {
				c.logger.Warn("tls certificate changed but does not load; keeping the previous one", "err", err)
			} else {
				c.logger.Info("tls certificate reloaded", "file", c.certFile, "not_after", c.cert.Leaf.NotAfter)
			}
		}
	}
	return c.cert, nil
}

// TLSConfig returns the server TLS configuration serving c's certificate.
// With clientCAFile set, clients must present a certificate signed by one of
// the CAs in that PEM file.
func TLSConfig(c *CertReloader, clientCAFile string) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.GetCertificate,
	}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls client ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("read tls client ca file " + clientCAFile + ": no PEM certificate in it")
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
