package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/tidaldb/tidal/ingest/timestreamwrite"
	"github.com/tidaldb/tidal/internal/auth"
	"github.com/tidaldb/tidal/internal/config"
	"github.com/tidaldb/tidal/query/promapi"
	"github.com/tidaldb/tidal/query/timestreamapi"
)

// wantRoles is the documented role of every route (docs/security.md). A
// route registered in registerRoutes and missing here fails
// TestEveryRouteAuthenticated, so a new route cannot go undocumented.
var wantRoles = map[string]auth.Role{
	"POST /api/v1/write":            auth.Write,
	"POST /firehose/{pipeline}":     auth.Write,
	"POST /api/v1/read":             auth.Read,
	"POST /write":                   auth.Write,
	"POST /api/v2/write":            auth.Write,
	"POST /query":                   auth.Any, // CREATE DATABASE needs write (the handler checks)
	"GET /query":                    auth.Any,
	"GET /ping":                     auth.Public,
	"HEAD /ping":                    auth.Public,
	"GET /health":                   auth.Public,
	"POST /api/v1/admin/flush":      auth.Admin,
	"GET /api/v1/admin/parts":       auth.Admin,
	"GET /api/v1/admin/scheduled":   auth.Admin,
	"GET /api/v1/admin/pipelines":   auth.Admin,
	"POST /api/v1/admin/snapshots":  auth.Admin,
	"GET /api/v1/admin/snapshots":   auth.Admin,
	"GET /debug/pprof/":             auth.Admin,
	"GET /debug/pprof/profile":      auth.Admin,
	"GET /debug/pprof/trace":        auth.Admin,
	"GET /healthz":                  auth.Public,
	"GET /metrics":                  auth.Read,
	"GET /{$}":                      auth.Any,
	"GET /api":                      auth.Any,
	"GET /console/signin":           auth.Public,
	"GET /console/static/":          auth.Public,
	"GET /console/api/session":      auth.Public,
	"POST /console/api/signin":      auth.Public,
	"POST /console/api/signout":     auth.Any,
	"GET /console/api/meta":         auth.Any,
	"GET /console/api/schema":       auth.Read,
	"GET /console/api/download":     auth.Read,
	"POST /{$} *":                   auth.Admin, // an operation without a role
	"POST /{$} WriteRecords":        auth.Write,
	"POST /{$} DescribeEndpoints":   auth.Any,
	"POST /{$} Query":               auth.Read,
	"POST /{$} CancelQuery":         auth.Read,
	"POST /{$} PrepareQuery":        auth.Read,
	"POST /{$} DescribeDatabase":    auth.Read,
	"POST /{$} ListDatabases":       auth.Read,
	"POST /{$} DescribeTable":       auth.Read,
	"POST /{$} ListTables":          auth.Read,
	"POST /{$} ListTagsForResource": auth.Read,
	"POST /{$} CreateDatabase":      auth.Admin,
	"POST /{$} UpdateDatabase":      auth.Admin,
	"POST /{$} DeleteDatabase":      auth.Admin,
	"POST /{$} CreateTable":         auth.Admin,
	"POST /{$} UpdateTable":         auth.Admin,
	"POST /{$} DeleteTable":         auth.Admin,
	"POST /{$} TagResource":         auth.Admin,
	"POST /{$} UntagResource":       auth.Admin,
}

func init() {
	// Prometheus's TSDB admin API for deletes (POST and PUT), and the
	// tombstone listing.
	for _, p := range []string{"POST /api/v1/admin/tsdb/delete_series", "PUT /api/v1/admin/tsdb/delete_series",
		"POST /api/v1/admin/tsdb/clean_tombstones", "PUT /api/v1/admin/tsdb/clean_tombstones", "GET /api/v1/admin/tombstones"} {
		wantRoles[p] = auth.Admin
	}
	for _, p := range []string{"query", "query_range", "series", "labels", "label/{name}/values", "metadata",
		"status/buildinfo", "format_query", "query_exemplars", "rules", "alerts", "status/runtimeinfo"} {
		wantRoles["GET /api/v1/"+p] = auth.Read
		wantRoles["POST /api/v1/"+p] = auth.Read
	}
}

// testCred is one configured credential of the route test.
type testCred struct {
	role        auth.Role
	key, secret string
	token       string
}

var testCreds = []testCred{
	{auth.Read, "AKIDREAD", "read-secret", "read-token-0123456789"},
	{auth.Write, "AKIDWRITE", "write-secret", "write-token-0123456789"},
	{auth.Admin, "AKIDADMIN", "admin-secret", "admin-token-0123456789"},
}

// servedMarker is what every stub handler answers, so that the test knows
// the request reached the handler.
const servedMarker = "handler reached"

// testRouter builds the server's route table (registerRoutes, as serve
// does) with handlers that only answer servedMarker.
func testRouter(t *testing.T, cfg config.Config) *auth.Router {
	t.Helper()
	a, err := newAuthenticator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stub := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, servedMarker) })
	tq := timestreamapi.New(nil, timestreamapi.Options{})
	t.Cleanup(func() { _ = tq.Close() })
	tw := timestreamwrite.New(nil, nil, timestreamwrite.Options{})
	prom := promapi.New(nil, promapi.Options{})
	rt := auth.NewRouter(a, nil)
	registerRoutes(rt, cfg, routeHandlers{
		remoteWrite: stub, remoteRead: stub, influxV1: stub, influxV2: stub, influxQuery: stub, ping: stub, health: stub, aws: stub, metrics: stub, flush: stub, parts: stub,
		pprofIndex: stub, pprofProfile: stub, pprofTrace: stub, index: stub, healthz: healthz(), scheduledAdmin: stub, pipelines: stub, firehose: stub,
		deleteSeries: stub, cleanTombstone: stub, tombstones: stub,
		snapshotCreate: stub, snapshotList: stub,
		promAPI: func(m promapi.Mux) { prom.Register(stubMux{m, stub}) },
		awsOps:  append(tq.Operations(), tw.Operations()...),
		console: consoleHandlers{page: stub, static: stub, meta: stub, schema: stub, download: stub, signIn: stub, session: stub, signOut: stub},
	})
	return rt
}

// stubMux registers the promapi routes with the stub handler.
type stubMux struct {
	m    promapi.Mux
	stub http.HandlerFunc
}

func (s stubMux) HandleFunc(pattern string, _ func(http.ResponseWriter, *http.Request)) {
	s.m.HandleFunc(pattern, s.stub)
}

func authConfig() config.Config {
	cfg := config.Default()
	cfg.Server.EnablePprof = true
	// These tests present many wrong credentials from one address on
	// purpose; the failed-attempt limit has its own tests.
	cfg.Auth.FailureBurst = -1
	for _, c := range testCreds {
		cfg.Auth.AccessKeys = append(cfg.Auth.AccessKeys, config.AccessKey{AccessKeyID: c.key, SecretAccessKey: c.secret, Role: c.role.String()})
		cfg.Auth.BearerTokens = append(cfg.Auth.BearerTokens, config.BearerToken{Token: c.token, Role: c.role.String()})
	}
	return cfg
}

var wildcard = regexp.MustCompile(`\{[a-z$]*\}`)

// routeRequest returns a request for route with body.
func routeRequest(rt auth.Route, body string) *http.Request {
	method, path, _ := strings.Cut(rt.Pattern, " ")
	path = wildcard.ReplaceAllStringFunc(path, func(w string) string {
		if w == "{$}" {
			return ""
		}
		return "x"
	})
	r := httptest.NewRequest(method, "http://tidal.test"+path, strings.NewReader(body))
	if rt.Op != "" {
		op := rt.Op
		if op == "*" {
			op = "NoSuchOperation"
		}
		r.Header.Set("X-Amz-Target", rt.Target+"."+op)
		r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	}
	return r
}

// sign signs r (whose body is body) with SigV4.
func sign(t *testing.T, r *http.Request, body, key, secret, service string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		r, hex.EncodeToString(sum[:]), service, "eu-west-3", at)
	if err != nil {
		t.Fatal(err)
	}
}

// TestEveryRouteAuthenticated sends every route of the server's route
// table, generated from the router, the refused and the accepted kinds of
// credentials, and checks that only the accepted ones reach the handler.
func TestEveryRouteAuthenticated(t *testing.T) {
	rt := testRouter(t, authConfig())
	routes := rt.Routes()
	seen := map[string]bool{}
	for _, r := range routes {
		name := strings.TrimSpace(r.Pattern + " " + r.Op)
		seen[name] = true
		want, ok := wantRoles[name]
		if !ok {
			t.Errorf("route %s (role %s) is not in wantRoles: document it in docs/security.md and add it", name, r.Role)
		} else if want != r.Role {
			t.Errorf("route %s needs role %s, documented %s", name, r.Role, want)
		}
	}
	for name := range wantRoles {
		if !seen[name] {
			t.Errorf("documented route %s is not registered", name)
		}
	}

	const body = `{"a":1}`
	type attempt struct {
		name    string
		prepare func(t *testing.T, r *http.Request, aws bool)
		tamper  bool
		role    auth.Role // the credential's role; 0 for credentials that are not valid
	}
	now := time.Now().UTC()
	var attempts []attempt
	attempts = append(attempts,
		attempt{name: "unsigned", prepare: func(*testing.T, *http.Request, bool) {}},
		attempt{name: "sigv4 wrong secret", prepare: func(t *testing.T, r *http.Request, _ bool) {
			sign(t, r, body, "AKIDADMIN", "not-the-secret", "timestream", now)
		}},
		attempt{name: "sigv4 unknown key", prepare: func(t *testing.T, r *http.Request, _ bool) {
			sign(t, r, body, "AKIDNOBODY", "admin-secret", "timestream", now)
		}},
		attempt{name: "sigv4 expired date", prepare: func(t *testing.T, r *http.Request, _ bool) {
			sign(t, r, body, "AKIDADMIN", "admin-secret", "timestream", now.Add(-6*time.Minute))
		}},
		attempt{name: "sigv4 tampered body", tamper: true, prepare: func(t *testing.T, r *http.Request, _ bool) {
			sign(t, r, body, "AKIDADMIN", "admin-secret", "timestream", now)
		}},
		attempt{name: "sigv4 other service", prepare: func(t *testing.T, r *http.Request, _ bool) {
			sign(t, r, body, "AKIDADMIN", "admin-secret", "s3", now)
		}},
		attempt{name: "basic wrong secret", prepare: func(_ *testing.T, r *http.Request, _ bool) { r.SetBasicAuth("AKIDADMIN", "read-secret") }},
		attempt{name: "basic unknown key", prepare: func(_ *testing.T, r *http.Request, _ bool) { r.SetBasicAuth("AKIDNOBODY", "admin-secret") }},
		attempt{name: "bearer unknown token", prepare: func(_ *testing.T, r *http.Request, _ bool) {
			r.Header.Set("Authorization", "Bearer admin-token-0123456780")
		}},
		attempt{name: "bearer is a secret", prepare: func(_ *testing.T, r *http.Request, _ bool) {
			r.Header.Set("Authorization", "Bearer admin-secret")
		}},
		attempt{name: "unknown scheme", prepare: func(_ *testing.T, r *http.Request, _ bool) {
			r.Header.Set("Authorization", "Digest username=AKIDADMIN")
		}},
	)
	for _, c := range testCreds {
		attempts = append(attempts,
			attempt{name: "sigv4 timestream " + c.role.String(), role: c.role, prepare: func(t *testing.T, r *http.Request, _ bool) {
				sign(t, r, body, c.key, c.secret, "timestream", now)
			}},
			attempt{name: "basic " + c.role.String(), role: c.role, prepare: func(_ *testing.T, r *http.Request, _ bool) { r.SetBasicAuth(c.key, c.secret) }},
			attempt{name: "bearer " + c.role.String(), role: c.role, prepare: func(_ *testing.T, r *http.Request, _ bool) {
				r.Header.Set("Authorization", "Bearer "+c.token)
			}},
			// InfluxDB's spelling of a bearer token.
			attempt{name: "influx token " + c.role.String(), role: c.role, prepare: func(_ *testing.T, r *http.Request, _ bool) {
				r.Header.Set("Authorization", "Token "+c.token)
			}},
			// Prometheus remote_write.sigv4 signs for "aps": accepted on
			// every route but the AWS JSON one.
			attempt{name: "sigv4 aps " + c.role.String(), role: c.role, prepare: func(t *testing.T, r *http.Request, _ bool) {
				sign(t, r, body, c.key, c.secret, "aps", now)
			}},
		)
	}

	for _, route := range routes {
		for _, a := range attempts {
			t.Run(strings.TrimSpace(route.Pattern+" "+route.Op)+"/"+a.name, func(t *testing.T) {
				aws := route.Op != ""
				req := routeRequest(route, body)
				a.prepare(t, req, aws)
				if a.tamper {
					req.Body = io.NopCloser(strings.NewReader(`{"a":2}`))
				}
				w := httptest.NewRecorder()
				rt.ServeHTTP(w, req)
				// GET /healthz keeps its real handler, which answers "ok".
				served := w.Code == http.StatusOK && (w.Body.String() == servedMarker || route.Role == auth.Public && w.Body.String() == "ok\n")
				allowed := route.Role == auth.Public ||
					a.role != 0 && roleAllows(a.role, route.Role) && !(aws && strings.HasPrefix(a.name, "sigv4 aps"))
				switch {
				case allowed && !served:
					t.Fatalf("refused: %d %s", w.Code, w.Body.String())
				case !allowed && served:
					t.Fatalf("served without the right credentials")
				case !allowed:
					wrongRole := a.role != 0 && !(aws && strings.HasPrefix(a.name, "sigv4 aps"))
					checkRefusal(t, w, a.name, aws, wrongRole)
				}
			})
		}
	}
}

// roleAllows is the role rule written out independently of package auth.
func roleAllows(have, need auth.Role) bool {
	switch need {
	case auth.Public, auth.Any:
		return true
	case auth.Read:
		return have == auth.Read || have == auth.Admin
	case auth.Write:
		return have == auth.Write || have == auth.Admin
	}
	return have == auth.Admin
}

// checkRefusal checks the shape of a refusal of the attempt named name: a
// wrong role is 403; a bad SigV4 signature 403; a missing credential on the
// AWS route 403 MissingAuthenticationTokenException, as AWS answers; any
// other missing, basic or bearer failure 401 with WWW-Authenticate. On the
// AWS route every refusal has the AWS JSON error shape.
func checkRefusal(t *testing.T, w *httptest.ResponseRecorder, name string, aws, wrongRole bool) {
	t.Helper()
	body := w.Body.String()
	if aws && !strings.Contains(body, `"__type"`) {
		t.Errorf("AWS route refusal without the AWS error shape: %s", body)
	}
	switch {
	case wrongRole:
		if w.Code != http.StatusForbidden {
			t.Errorf("status %d, want 403: %s", w.Code, body)
		}
	case strings.HasPrefix(name, "sigv4"):
		if w.Code != http.StatusForbidden || !strings.Contains(body, "Signature") && !strings.Contains(body, "UnrecognizedClient") {
			t.Errorf("status %d, want 403 with a SigV4 error: %s", w.Code, body)
		}
	case aws && name == "unsigned":
		if w.Code != http.StatusForbidden || !strings.Contains(body, "MissingAuthenticationTokenException") {
			t.Errorf("status %d, want 403 MissingAuthenticationTokenException: %s", w.Code, body)
		}
	default:
		if w.Code != http.StatusUnauthorized || len(w.Header().Values("WWW-Authenticate")) == 0 {
			t.Errorf("status %d with WWW-Authenticate %q, want 401 with a challenge: %s", w.Code, w.Header().Values("WWW-Authenticate"), body)
		}
	}
}

// TestUnregisteredRoutes checks that a request matching no route learns
// nothing without credentials and gets a 404 or 405 with them.
func TestUnregisteredRoutes(t *testing.T) {
	cfg := authConfig()
	cfg.Server.EnablePprof = false
	rt := testRouter(t, cfg)
	for _, path := range []string{"GET /nope", "GET /debug/pprof/", "GET /debug/pprof/heap", "DELETE /api/v1/write", "GET /api/v1/admin/flush"} {
		method, p, _ := strings.Cut(path, " ")
		r := httptest.NewRequest(method, "http://tidal.test"+p, nil)
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized || w.Body.String() == servedMarker {
			t.Errorf("%s without credentials: %d %q, want 401", path, w.Code, w.Body.String())
		}
		r = httptest.NewRequest(method, "http://tidal.test"+p, nil)
		r.SetBasicAuth("AKIDADMIN", "admin-secret")
		w = httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		if (w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed) || w.Body.String() == servedMarker {
			t.Errorf("%s as admin: %d %q, want 404 or 405", path, w.Code, w.Body.String())
		}
	}
}

// TestOpenWithoutCredentials checks today's developer default: with no
// credentials configured every registered route is served unsigned, pprof
// only when enabled, and /metrics is public when configured so.
func TestOpenWithoutCredentials(t *testing.T) {
	cfg := config.Default()
	cfg.Server.EnablePprof = true
	rt := testRouter(t, cfg)
	if !rt.Open() {
		t.Fatal("router with no credentials is not open")
	}
	for _, route := range rt.Routes() {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, routeRequest(route, "{}"))
		if w.Body.String() != servedMarker && route.Pattern != "GET /healthz" {
			t.Errorf("%s %s: %d %q", route.Pattern, route.Op, w.Code, w.Body.String())
		}
	}

	cfg = authConfig()
	cfg.Server.MetricsPublic = true
	rt = testRouter(t, cfg)
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, httptest.NewRequest("GET", "http://tidal.test/metrics", nil))
	if w.Body.String() != servedMarker {
		t.Errorf("public /metrics: %d %q", w.Code, w.Body.String())
	}
}
