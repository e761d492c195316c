package plugin

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Auth types of Settings.AuthType.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthSigV4  = "sigv4"
)

// defaultTimeout bounds one QueryData call when the settings name none.
const defaultTimeout = 5 * time.Minute

// Settings is a data source's configuration: the standard URL and basic-auth
// fields of Grafana's data-source form, jsonData, and decrypted secrets.
type Settings struct {
	URL string `json:"-"`
	// AuthType is none, basic, bearer or sigv4. Empty means basic when
	// Grafana's standard basic-auth switch is on, else none.
	AuthType        string `json:"authType"`
	Region          string `json:"region"`          // SigV4 region (default us-east-1)
	DefaultDatabase string `json:"defaultDatabase"` // for $__database
	DefaultTable    string `json:"defaultTable"`    // for $__table
	DefaultMeasure  string `json:"defaultMeasure"`  // for $__measure
	// TimeoutSeconds bounds one query, paging included (default 300).
	TimeoutSeconds int `json:"timeout"`
	// MaxRows is the page size asked of the server (MaxRows of Query);
	// 0 lets the server choose (pages of up to 1 MB).
	MaxRows       int32 `json:"maxRows"`
	TLSSkipVerify bool  `json:"tlsSkipVerify"`
	TLSWithCACert bool  `json:"tlsAuthWithCACert"`

	BasicUser     string `json:"-"`
	BasicPassword string `json:"-"`
	BearerToken   string `json:"-"`
	AccessKey     string `json:"-"`
	SecretKey     string `json:"-"`
	SessionToken  string `json:"-"`
	CACert        string `json:"-"`
}

// Timeout is the bound on one query.
func (s *Settings) Timeout() time.Duration {
	if s.TimeoutSeconds <= 0 {
		return defaultTimeout
	}
	return time.Duration(s.TimeoutSeconds) * time.Second
}

// LoadSettings reads s from Grafana's instance settings and checks it.
func LoadSettings(is backend.DataSourceInstanceSettings) (*Settings, error) {
	s := &Settings{}
	if len(is.JSONData) > 0 {
		if err := json.Unmarshal(is.JSONData, s); err != nil {
			return nil, fmt.Errorf("decode jsonData: %w", err)
		}
	}
	s.URL = strings.TrimRight(strings.TrimSpace(is.URL), "/")
	sec := is.DecryptedSecureJSONData
	s.BasicUser = is.BasicAuthUser
	s.BasicPassword = sec["basicAuthPassword"]
	s.BearerToken = sec["bearerToken"]
	s.AccessKey, s.SecretKey, s.SessionToken = sec["accessKey"], sec["secretKey"], sec["sessionToken"]
	s.CACert = sec["tlsCACert"]
	if s.AuthType == "" {
		s.AuthType = AuthNone
		if is.BasicAuthEnabled {
			s.AuthType = AuthBasic
		}
	}
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Settings) validate() error {
	if s.URL == "" {
		return errors.New("check settings: the URL of the TidalDB server is empty")
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("check settings: URL %q is not an http(s) address", s.URL)
	}
	switch s.AuthType {
	case AuthNone:
	case AuthBasic:
		if s.BasicUser == "" {
			return errors.New("check settings: basic auth needs a user")
		}
	case AuthBearer:
		if s.BearerToken == "" {
			return errors.New("check settings: bearer auth needs a token")
		}
	case AuthSigV4:
		if s.AccessKey == "" || s.SecretKey == "" {
			return errors.New("check settings: SigV4 needs an access key and a secret key")
		}
	default:
		return fmt.Errorf("check settings: unknown auth type %q", s.AuthType)
	}
	return nil
}

// HTTPClient is the client requests go through: the TLS settings, and the
// Authorization header for basic and bearer auth (SigV4 signs per request
// in the AWS SDK instead).
func (s *Settings) HTTPClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: s.TLSSkipVerify} //nolint:gosec // an explicit setting
	if s.TLSWithCACert && s.CACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.CACert)) {
			return nil, errors.New("load TLS CA certificate: no PEM certificate found")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	var rt http.RoundTripper = tr
	switch s.AuthType {
	case AuthBasic:
		rt = headerTransport{next: tr, set: func(h http.Header) {
			r := http.Request{Header: h}
			r.SetBasicAuth(s.BasicUser, s.BasicPassword)
		}}
	case AuthBearer:
		rt = headerTransport{next: tr, set: func(h http.Header) { h.Set("Authorization", "Bearer "+s.BearerToken) }}
	}
	return &http.Client{Transport: rt}, nil
}

// headerTransport sets headers on a copy of each request.
type headerTransport struct {
	next http.RoundTripper
	set  func(http.Header)
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	t.set(r.Header)
	return t.next.RoundTrip(r)
}
