package plugin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestLoadSettings(t *testing.T) {
	for _, c := range []struct {
		name     string
		is       backend.DataSourceInstanceSettings
		err      string
		auth     string
		header   string
		timeout  time.Duration
		database string
	}{
		{name: "defaults", is: backend.DataSourceInstanceSettings{URL: "http://127.0.0.1:7490/"}, auth: AuthNone, timeout: defaultTimeout},
		{name: "jsonData", is: backend.DataSourceInstanceSettings{URL: "http://h:1", JSONData: []byte(`{"defaultDatabase":"devops","timeout":30}`)},
			auth: AuthNone, timeout: 30 * time.Second, database: "devops"},
		{name: "grafana basic auth switch", is: backend.DataSourceInstanceSettings{URL: "http://h:1", BasicAuthEnabled: true, BasicAuthUser: "u",
			DecryptedSecureJSONData: map[string]string{"basicAuthPassword": "p"}}, auth: AuthBasic, header: "Basic dTpw", timeout: defaultTimeout},
		{name: "bearer", is: backend.DataSourceInstanceSettings{URL: "https://h", JSONData: []byte(`{"authType":"bearer"}`),
			DecryptedSecureJSONData: map[string]string{"bearerToken": "t"}}, auth: AuthBearer, header: "Bearer t", timeout: defaultTimeout},
		{name: "no URL", is: backend.DataSourceInstanceSettings{}, err: "URL"},
		{name: "not http", is: backend.DataSourceInstanceSettings{URL: "ftp://h"}, err: "not an http"},
		{name: "bearer without token", is: backend.DataSourceInstanceSettings{URL: "http://h", JSONData: []byte(`{"authType":"bearer"}`)}, err: "needs a token"},
		{name: "sigv4 without keys", is: backend.DataSourceInstanceSettings{URL: "http://h", JSONData: []byte(`{"authType":"sigv4"}`)}, err: "access key"},
		{name: "unknown auth", is: backend.DataSourceInstanceSettings{URL: "http://h", JSONData: []byte(`{"authType":"kerberos"}`)}, err: "unknown auth"},
		{name: "bad jsonData", is: backend.DataSourceInstanceSettings{URL: "http://h", JSONData: []byte(`{`)}, err: "decode jsonData"},
		{name: "bad CA", is: backend.DataSourceInstanceSettings{URL: "https://h", JSONData: []byte(`{"tlsAuthWithCACert":true}`),
			DecryptedSecureJSONData: map[string]string{"tlsCACert": "not pem"}}, err: "no PEM"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := LoadSettings(c.is)
			if err == nil {
				_, err = s.HTTPClient()
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.AuthType != c.auth || s.Timeout() != c.timeout || s.DefaultDatabase != c.database || strings.HasSuffix(s.URL, "/") {
				t.Fatalf("settings %+v", s)
			}
			// The header the client sends, seen by a local listener.
			var got string
			srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Get("Authorization") }))
			defer srv.Close()
			s.URL = srv.URL
			hc, _ := s.HTTPClient()
			resp, err := hc.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got != c.header {
				t.Fatalf("Authorization %q, want %q", got, c.header)
			}
		})
	}
}
