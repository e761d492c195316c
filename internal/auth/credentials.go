package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/internal/sigv4"
)

// Key is an access key pair and its role.
type Key struct {
	ID     string
	Secret string
	Role   Role
}

// Token is a bearer token and its role.
type Token struct {
	Value string
	Role  Role
}

// Options configures an Authenticator.
type Options struct {
	Keys   []Key
	Tokens []Token
	// MaxBodyBytes bounds the body read to check a SigV4 payload hash;
	// zero means awsjson.DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxSkew is the SigV4 clock skew allowed; zero means
	// sigv4.DefaultMaxSkew (5 minutes).
	MaxSkew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// SessionTTL is how long a console session lasts; zero means
	// DefaultSessionTTL. MaxSessions bounds the sessions kept; zero means
	// DefaultMaxSessions.
	SessionTTL  time.Duration
	MaxSessions int
	// FailureBurst is how many wrong credentials a client address may
	// present before its requests are answered 429 (Too Many Requests);
	// it regains one every FailureRefill. Zero means DefaultFailureBurst
	// and DefaultFailureRefill; a negative burst turns the limit off.
	FailureBurst  int
	FailureRefill time.Duration
}

// Authenticator checks a request's credentials against the configured keys
// and tokens.
type Authenticator struct {
	// Immutable after New.
	keys    map[string]Key
	tokens  map[[sha256.Size]byte]tokenEntry // keyed by the token's SHA-256
	aws     *sigv4.Verifier                  // service timestream
	other   *sigv4.Verifier                  // service timestream or aps
	maxBody int64
	// sessions and limiter are safe for concurrent use on their own.
	sessions *sessions
	limiter  *failLimiter // nil when turned off
}

type tokenEntry struct {
	name string
	role Role
}

// ServiceTimestream and ServicePrometheus are the SigV4 signing names
// accepted: the first on AWS JSON routes, both elsewhere.
const (
	ServiceTimestream = "timestream"
	ServicePrometheus = "aps"
)

// New returns an Authenticator for opts. It refuses duplicate key ids and
// tokens, and credentials without a role.
func New(opts Options) (*Authenticator, error) {
	a := &Authenticator{
		keys:     make(map[string]Key, len(opts.Keys)),
		tokens:   make(map[[sha256.Size]byte]tokenEntry, len(opts.Tokens)),
		maxBody:  opts.MaxBodyBytes,
		sessions: newSessions(opts.SessionTTL, opts.MaxSessions, opts.Now),
		limiter:  newFailLimiter(opts.FailureBurst, opts.FailureRefill, opts.Now),
	}
	creds := make(sigv4.Credentials, len(opts.Keys))
	for _, k := range opts.Keys {
		if _, dup := a.keys[k.ID]; dup || k.ID == "" || k.Secret == "" {
			return nil, fmt.Errorf("auth: access key %q is empty or repeated", k.ID)
		}
		if k.Role < Read {
			return nil, fmt.Errorf("auth: access key %q has no role", k.ID)
		}
		a.keys[k.ID] = k
		creds[k.ID] = k.Secret
	}
	for i, t := range opts.Tokens {
		h := sha256.Sum256([]byte(t.Value))
		if _, dup := a.tokens[h]; dup || t.Value == "" {
			return nil, fmt.Errorf("auth: bearer token %d is empty or repeated", i)
		}
		if t.Role < Read {
			return nil, fmt.Errorf("auth: bearer token %d has no role", i)
		}
		a.tokens[h] = tokenEntry{name: "token:" + strconv.Itoa(i), role: t.Role}
	}
	a.aws = &sigv4.Verifier{Creds: creds, Service: ServiceTimestream, MaxSkew: opts.MaxSkew, Now: opts.Now}
	a.other = &sigv4.Verifier{Creds: creds, Service: ServiceTimestream, OtherServices: []string{ServicePrometheus},
		MaxSkew: opts.MaxSkew, Now: opts.Now}
	return a, nil
}

// empty reports whether no credential is configured.
func (a *Authenticator) empty() bool {
	return a == nil || len(a.keys) == 0 && len(a.tokens) == 0
}

// failure is why a request was refused.
type failure struct {
	method Method       // the scheme that failed; MethodNone when none was sent
	sig    *sigv4.Error // SigV4 failures
	body   *awsjson.Error
	csrf   bool // a session request without its CSRF token: 403
	msg    string
}

func (f *failure) Error() string {
	if f.sig != nil {
		return f.sig.Error()
	}
	return "auth: " + f.msg
}

// FirehoseAccessKeyHeader carries the access key of a Firehose HTTP
// endpoint delivery; without an Authorization header it is read as a bearer
// token.
const FirehoseAccessKeyHeader = "X-Amz-Firehose-Access-Key"

// authenticate returns the principal r's credentials name. SigV4 requests
// have their body read (up to the limit) to check the payload hash; r.Body is
// replaced so that the handler reads the same bytes.
func (a *Authenticator) authenticate(r *http.Request, awsRoute bool) (Principal, *failure) {
	return a.authenticateInflux(r, awsRoute, false)
}

// authenticateInflux is authenticate that, when influx is set, also takes
// InfluxDB's credentials: the 1.x "u" and "p" query parameters (when the
// request has no Authorization header) as an access key pair.
func (a *Authenticator) authenticateInflux(r *http.Request, awsRoute, influx bool) (Principal, *failure) {
	h := r.Header.Get("Authorization")
	method, param := classify(h)
	if h == "" {
		// Amazon Data Firehose cannot set Authorization: its HTTP endpoint
		// destination sends its access key in this header, which is
		// checked as a bearer token.
		if k := r.Header.Get(FirehoseAccessKeyHeader); k != "" {
			method, param = MethodBearer, k
		}
	}
	if method == MethodNone && isPresigned(r.URL.RawQuery) {
		method = MethodSigV4
	}
	switch method {
	case MethodSigV4:
		return a.sigV4(r, awsRoute)
	case MethodBasic:
		user, pass, ok := parseBasic(param)
		if !ok {
			return Principal{}, &failure{method: MethodBasic, msg: "malformed basic credentials"}
		}
		return a.password(user, pass)
	case MethodBearer:
		return a.bearer(param)
	case methodToken:
		// InfluxDB 2.x sends "Token <token>"; its 1.x compatibility API
		// sends "Token <user>:<password>".
		if user, pass, ok := strings.Cut(param, ":"); ok && user != "" {
			return a.password(user, pass)
		}
		return a.bearer(param)
	}
	if method == MethodNone && h == "" {
		if p, f, ok := a.session(r); ok {
			return p, f
		}
	}
	if h == "" && influx {
		if q := r.URL.Query(); q.Has("u") || q.Has("p") {
			if q.Get("u") == "" {
				return Principal{}, &failure{method: MethodBasic, msg: "malformed query credentials"}
			}
			return a.password(q.Get("u"), q.Get("p"))
		}
	}
	if h != "" {
		return Principal{}, &failure{method: MethodNone, msg: "unsupported authorization scheme"}
	}
	return Principal{}, &failure{method: MethodNone, msg: "credentials required",
		sig: &sigv4.Error{Code: sigv4.CodeMissingAuthenticationToken, Message: "Missing Authentication Token"}}
}

// password checks an access key id and secret.
func (a *Authenticator) password(user, pass string) (Principal, *failure) {
	k, found := a.keys[user]
	// Compare fixed-size digests so that the time taken says nothing
	// about the secret's length or prefix; an unknown user costs the same.
	want := sha256.Sum256([]byte(k.Secret))
	got := sha256.Sum256([]byte(pass))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !found {
		return Principal{}, &failure{method: MethodBasic, msg: "unknown access key or wrong secret"}
	}
	return Principal{Name: k.ID, Role: k.Role, Method: MethodBasic}, nil
}

// bearer checks a bearer token.
func (a *Authenticator) bearer(param string) (Principal, *failure) {
	if !isToken68(param) {
		return Principal{}, &failure{method: MethodBearer, msg: "malformed bearer token"}
	}
	t, ok := a.tokens[sha256.Sum256([]byte(param))]
	if !ok {
		return Principal{}, &failure{method: MethodBearer, msg: "invalid bearer token"}
	}
	return Principal{Name: t.name, Role: t.role, Method: MethodBearer}, nil
}

// sigV4 verifies r's signature after reading its body.
func (a *Authenticator) sigV4(r *http.Request, awsRoute bool) (Principal, *failure) {
	body, aerr := awsjson.ReadBody(r, a.maxBody)
	if aerr != nil {
		return Principal{}, &failure{method: MethodSigV4, body: aerr, msg: aerr.Message}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	v := a.other
	if awsRoute {
		v = a.aws
	}
	id, err := v.Verify(r, body)
	if err != nil {
		var se *sigv4.Error
		if !errors.As(err, &se) {
			se = &sigv4.Error{Code: sigv4.CodeInvalidSignature, Message: err.Error()}
		}
		return Principal{}, &failure{method: MethodSigV4, sig: se, msg: se.Message}
	}
	k := a.keys[id]
	return Principal{Name: k.ID, Role: k.Role, Method: MethodSigV4}, nil
}

// classify splits an Authorization header value into its scheme and
// parameter. Scheme names are case-insensitive (RFC 9110 section 11.1); SigV4
// is recognised by its algorithm name. An empty or unknown scheme is
// MethodNone.
func classify(h string) (Method, string) {
	scheme, param, _ := strings.Cut(h, " ")
	switch {
	case scheme == sigv4.Algorithm:
		return MethodSigV4, param
	case strings.EqualFold(scheme, "Basic"):
		return MethodBasic, strings.Trim(param, " ")
	case strings.EqualFold(scheme, "Bearer"):
		return MethodBearer, strings.Trim(param, " ")
	case strings.EqualFold(scheme, "Token"):
		return methodToken, strings.Trim(param, " ")
	}
	return MethodNone, ""
}

// methodToken is InfluxDB's "Token" scheme as classify reports it; it
// authenticates as MethodBearer or MethodBasic.
const methodToken Method = 255

// parseBasic decodes the parameter of a basic Authorization header: base64
// of "user:password" (RFC 7617). The user may not contain a colon; the
// password may.
func parseBasic(param string) (user, pass string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(param)
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	if !ok || user == "" {
		return "", "", false
	}
	return user, pass, true
}

// isPresigned reports whether a raw query string carries SigV4 parameters.
func isPresigned(rawQuery string) bool {
	return strings.Contains(rawQuery, "X-Amz-Algorithm=") || strings.Contains(rawQuery, "X-Amz-Signature=")
}

// isToken68 reports whether s is a non-empty bearer token of the characters
// RFC 9110's token68 allows (config.Validate checks tokens the same way).
func isToken68(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/=", c) >= 0) {
			return false
		}
	}
	return true
}

// CheckPassword authenticates a user name and password from a protocol on
// its own listener (MQTT): an access key id and its secret, or any user name
// with a configured bearer token as password. ok is false for anything else.
// Comparisons take constant time in the secret.
func (a *Authenticator) CheckPassword(user, pass string) (p Principal, ok bool) {
	if a.empty() {
		return Principal{}, false
	}
	if user != "" {
		if p, f := a.password(user, pass); f == nil {
			return p, true
		}
	}
	if p, f := a.bearer(pass); f == nil {
		return p, true
	}
	return Principal{}, false
}

// Open reports whether no credential is configured (every caller is let in
// unchecked, as the Router does).
func (a *Authenticator) Open() bool { return a.empty() }

// Allows reports whether a credential holding r may do what need needs.
func (r Role) Allows(need Role) bool { return r.allows(need) }
