package auth

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/internal/sigv4"
)

// Realm is the realm named in WWW-Authenticate challenges.
const Realm = "tidal"

// Route is one registered route and the role it needs.
type Route struct {
	// Pattern is the http.ServeMux pattern, "METHOD /path".
	Pattern string
	Role    Role
	// Op is the AWS JSON operation (X-Amz-Target suffix) for routes
	// registered with HandleAWS; "*" stands for every operation not in the
	// role table, which needs Admin.
	Op string
	// Target is the X-Amz-Target prefix of HandleAWS routes.
	Target string
}

// Router is an http.Handler that serves only registered routes, each after
// checking the request's credentials for the route's role.
type Router struct {
	auth   *Authenticator // nil or empty: open
	logger *slog.Logger
	mux    *http.ServeMux
	routes []Route
	// signIn is the page a browser without credentials is sent to
	// (SetSignInPage); empty: none.
	signIn string
}

// SetSignInPage makes the Router answer a GET from a browser (Accept
// text/html) that carries no credential and is refused for that with a 303
// redirect to path instead of a 401, so that opening the console shows its
// sign-in page rather than the browser's password dialog. The original
// path goes in the "next" query parameter.
func (rt *Router) SetSignInPage(path string) { rt.signIn = path }

// NewRouter returns a Router checking credentials with a. A nil a, or one
// without credentials, makes the Router open: routes are served unchecked.
func NewRouter(a *Authenticator, logger *slog.Logger) *Router {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if a.empty() {
		a = nil
	}
	return &Router{auth: a, logger: logger, mux: http.NewServeMux()}
}

// Open reports whether the Router serves without checking credentials.
func (rt *Router) Open() bool { return rt.auth == nil }

// Handle registers h for pattern (an http.ServeMux pattern with a method,
// "GET /metrics"); requests need a credential allowed role. It panics, as
// ServeMux does, on a pattern without a method or one registered twice.
func (rt *Router) Handle(pattern string, role Role, h http.Handler) {
	method, _, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || strings.HasPrefix(method, "/") {
		panic("BUG: auth: route pattern " + pattern + " has no method")
	}
	rt.routes = append(rt.routes, Route{Pattern: pattern, Role: role})
	rt.mux.Handle(pattern, rt.guard(func(*http.Request) (Role, string) { return role, "" }, false, h))
}

// HandleInflux is Handle for InfluxDB's HTTP API (/write, /api/v2/write):
// besides the usual credentials, requests may authenticate as InfluxDB
// clients do, with "Authorization: Token <token>" (a configured bearer
// token, or "<access key id>:<secret>") or, without an Authorization header,
// with the 1.x query parameters u (access key id) and p (secret).
func (rt *Router) HandleInflux(pattern string, role Role, h http.Handler) {
	method, _, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || strings.HasPrefix(method, "/") {
		panic("BUG: auth: route pattern " + pattern + " has no method")
	}
	rt.routes = append(rt.routes, Route{Pattern: pattern, Role: role})
	g := rt.guard(func(*http.Request) (Role, string) { return role, "" }, false, h)
	rt.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), influxKey{}, true)))
	}))
}

type influxKey struct{}

// HandleFunc is Handle for a handler function.
func (rt *Router) HandleFunc(pattern string, role Role, h func(http.ResponseWriter, *http.Request)) {
	rt.Handle(pattern, role, http.HandlerFunc(h))
}

// Registrar registers handler functions with one role; it lets a package
// register its routes without knowing about roles.
type Registrar struct {
	rt   *Router
	role Role
}

// WithRole returns a Registrar adding routes that need role.
func (rt *Router) WithRole(role Role) Registrar { return Registrar{rt: rt, role: role} }

// HandleFunc registers h for pattern with the Registrar's role.
func (g Registrar) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	g.rt.HandleFunc(pattern, g.role, h)
}

// HandleAWS registers h for an AWS JSON 1.0 endpoint, whose operation is the
// X-Amz-Target header "<target>.<Operation>". ops gives each operation's
// role; an operation not in ops (or a missing or foreign target) needs Admin,
// so a new operation is closed until given a role. Refusals have the AWS JSON
// error shape and SigV4 must be signed for service "timestream".
func (rt *Router) HandleAWS(pattern, target string, ops map[string]Role, h http.Handler) {
	names := make([]string, 0, len(ops))
	for op := range ops {
		names = append(names, op)
	}
	slices.Sort(names)
	for _, op := range names {
		rt.routes = append(rt.routes, Route{Pattern: pattern, Role: ops[op], Op: op, Target: target})
	}
	rt.routes = append(rt.routes, Route{Pattern: pattern, Role: Admin, Op: "*", Target: target})
	roleOf := func(r *http.Request) (Role, string) {
		op, err := awsjson.Operation(r, target)
		if err != nil {
			return Admin, ""
		}
		role, ok := ops[op]
		if !ok {
			return Admin, op
		}
		return role, op
	}
	rt.mux.Handle(pattern, rt.guard(roleOf, true, h))
}

// Routes returns every registered route, in registration order; HandleAWS
// routes appear once per operation.
func (rt *Router) Routes() []Route {
	return slices.Clone(rt.routes)
}

// ServeHTTP dispatches r to its route. A request matching no route needs a
// valid credential of any role before it learns that (404, 405), so that the
// route table cannot be probed without credentials.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rt.auth != nil {
		if _, pattern := rt.mux.Handler(r); pattern == "" {
			if rt.throttle(w, r, false) {
				return
			}
			p, f := rt.auth.authenticate(r, false)
			if f != nil {
				rt.refuse(w, r, f, false)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
	}
	rt.mux.ServeHTTP(w, r)
}

// guard wraps h with the credential check for the role roleOf gives r.
func (rt *Router) guard(roleOf func(*http.Request) (Role, string), awsRoute bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.auth == nil {
			h.ServeHTTP(w, r)
			return
		}
		need, op := roleOf(r)
		if need == Public {
			h.ServeHTTP(w, r)
			return
		}
		if rt.throttle(w, r, awsRoute) {
			return
		}
		influx, _ := r.Context().Value(influxKey{}).(bool)
		p, f := rt.auth.authenticateInflux(r, awsRoute, influx)
		if f != nil {
			rt.refuse(w, r, f, awsRoute)
			return
		}
		if !p.Role.allows(need) {
			rt.forbid(w, r, p, need, op, awsRoute)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// challenge sets the WWW-Authenticate challenges of a 401.
func challenge(w http.ResponseWriter, bearerError bool) {
	h := w.Header()
	h.Add("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
	if bearerError {
		h.Add("WWW-Authenticate", `Bearer realm="`+Realm+`", error="invalid_token"`)
	} else {
		h.Add("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
	}
}

// throttle answers 429 to a request from an address that has presented too
// many wrong credentials lately, before its own are checked; it reports
// whether it answered.
func (rt *Router) throttle(w http.ResponseWriter, r *http.Request, awsRoute bool) bool {
	wait, blocked := rt.auth.Throttled(r.RemoteAddr)
	if !blocked {
		return false
	}
	rt.logger.Info("request throttled", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
		"retry_after", wait.String())
	w.Header().Set("Retry-After", retryAfter(wait))
	const msg = "too many failed authentication attempts from this address; retry later"
	if awsRoute {
		awsjson.WriteError(w, awsjson.NewRequestID(), &awsjson.Error{Type: "ThrottlingException", Status: http.StatusTooManyRequests, Message: msg})
		return true
	}
	http.Error(w, msg, http.StatusTooManyRequests)
	return true
}

// refuse answers a request whose credentials failed.
func (rt *Router) refuse(w http.ResponseWriter, r *http.Request, f *failure, awsRoute bool) {
	if f.counts() {
		rt.auth.Failed(r.RemoteAddr)
	}
	rt.logger.Info("request refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
		"auth", f.method.String(), "reason", f.msg)
	if f.method == MethodSession {
		// A browser session: no Basic challenge, which would make the
		// browser ask for a password instead of the console's sign-in.
		status, typ := http.StatusUnauthorized, sigv4.CodeUnrecognizedClient
		if f.csrf {
			status, typ = http.StatusForbidden, "AccessDeniedException"
		} else {
			w.Header().Set("WWW-Authenticate", `Cookie realm="`+Realm+`"`)
		}
		if awsRoute {
			awsjson.WriteError(w, awsjson.NewRequestID(), &awsjson.Error{Type: typ, Status: status, Message: f.msg})
			return
		}
		http.Error(w, strings.ToLower(http.StatusText(status))+": "+f.msg, status)
		return
	}
	if rt.signIn != "" && f.method == MethodNone && f.sig != nil && r.Method == http.MethodGet &&
		strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Redirect(w, r, rt.signIn+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if f.body != nil { // the body could not be read for SigV4
		if awsRoute {
			awsjson.WriteError(w, awsjson.NewRequestID(), f.body)
			return
		}
		http.Error(w, f.body.Message, http.StatusRequestEntityTooLarge)
		return
	}
	// A SigV4 failure, or a missing credential on an AWS route, is told in
	// AWS terms; everything else is an HTTP authentication challenge.
	if f.sig != nil && (f.method == MethodSigV4 || awsRoute) {
		if awsRoute {
			awsjson.WriteError(w, awsjson.NewRequestID(), &awsjson.Error{Type: f.sig.Code, Status: f.sig.HTTPStatus(), Message: f.sig.Message})
			return
		}
		http.Error(w, f.sig.Code+": "+f.sig.Message, f.sig.HTTPStatus())
		return
	}
	challenge(w, f.method == MethodBearer)
	if awsRoute {
		awsjson.WriteError(w, awsjson.NewRequestID(), &awsjson.Error{Type: sigv4.CodeUnrecognizedClient, Status: http.StatusUnauthorized, Message: "The security token included in the request is invalid."})
		return
	}
	http.Error(w, "unauthorized: "+f.msg, http.StatusUnauthorized)
}

// forbid answers a request whose valid credential lacks the route's role.
func (rt *Router) forbid(w http.ResponseWriter, r *http.Request, p Principal, need Role, op string, awsRoute bool) {
	rt.logger.Info("request forbidden", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
		"principal", p.Name, "role", p.Role.String(), "need", need.String())
	if awsRoute {
		action := "timestream:" + op
		if op == "" {
			action = "this operation"
		}
		awsjson.WriteError(w, awsjson.NewRequestID(), &awsjson.Error{Type: "AccessDeniedException", Status: http.StatusForbidden,
			Message: "User: " + p.Name + " (role " + p.Role.String() + ") is not authorized to perform: " + action + " (needs role " + need.String() + ")."})
		return
	}
	http.Error(w, "forbidden: "+p.Name+" has role "+p.Role.String()+"; "+r.Method+" "+r.URL.Path+" needs role "+need.String(), http.StatusForbidden)
}
