package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/internal/auth"
	"github.com/tidaldb/tidal/internal/config"
	"github.com/tidaldb/tidal/query/promapi"
)

// consoleRouter is the server's route table with the real index and a
// console page that answers "console page".
func consoleRouter(t *testing.T, cfg config.Config) *auth.Router {
	t.Helper()
	a, err := newAuthenticator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stub := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, servedMarker) })
	page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "console page") })
	rt := auth.NewRouter(a, nil)
	registerRoutes(rt, cfg, routeHandlers{
		remoteWrite: stub, remoteRead: stub, influxV1: stub, influxV2: stub, ping: stub, health: stub, aws: stub, metrics: stub, flush: stub, parts: stub,
		pprofIndex: stub, pprofProfile: stub, pprofTrace: stub, index: index, healthz: healthz(), scheduledAdmin: stub, pipelines: stub,
		promAPI: func(promapi.Mux) {},
		console: consoleHandlers{page: page, static: stub, meta: stub, schema: stub, download: stub, signIn: stub, session: stub, signOut: stub},
	})
	return rt
}

// TestIndexNegotiation checks that GET / is the console for browsers and
// the list of APIs for everyone else, that GET /api is always the list, and
// that a browser without a session is sent to the sign-in page.
func TestIndexNegotiation(t *testing.T) {
	for _, tc := range []struct {
		name, path, accept string
		auth               bool
		basic              bool
		status             int
		want               string
	}{
		{"browser, open", "/", "text/html,application/xhtml+xml,*/*;q=0.8", false, false, 200, "console page"},
		{"curl, open", "/", "*/*", false, false, 200, "Every API on this port"},
		{"no accept, open", "/", "", false, false, 200, "Every API on this port"},
		{"api list for a browser", "/api", "text/html", false, false, 200, "Every API on this port"},
		{"browser without session", "/", "text/html", true, false, 303, ""},
		{"browser with basic auth", "/", "text/html", true, true, 200, "console page"},
		{"curl without credentials", "/", "*/*", true, false, 401, "unauthorized"},
		{"curl with basic auth", "/", "*/*", true, true, 200, "Every API on this port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			if tc.auth {
				cfg = authConfig()
			}
			r := httptest.NewRequest("GET", "http://tidal.test"+tc.path, nil)
			if tc.accept != "" {
				r.Header.Set("Accept", tc.accept)
			}
			if tc.basic {
				r.SetBasicAuth("AKIDREAD", "read-secret")
			}
			w := httptest.NewRecorder()
			consoleRouter(t, cfg).ServeHTTP(w, r)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("%d %.200q, want %d with %q", w.Code, w.Body, tc.status, tc.want)
			}
			if tc.status == 303 && w.Header().Get("Location") != "/console/signin?next=%2F" {
				t.Errorf("Location %q", w.Header().Get("Location"))
			}
		})
	}
}
