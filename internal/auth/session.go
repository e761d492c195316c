package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Browser sessions, for the web console. A browser signs in once with an
// access key pair or a bearer token (SignIn); the Authenticator answers
// with a session cookie (HttpOnly, SameSite=Strict, Secure over TLS) that
// then stands for that credential on every route, with the credential's
// role. A request authenticated by its session cookie that may change state
// (any method but GET, HEAD and OPTIONS) must also carry the session's CSRF
// token in the X-CSRF-Token header, or it is refused with 403 before the
// handler runs. A request with an Authorization header is judged by that
// header alone; the cookie is ignored.

// SessionCookie is the name of the session cookie.
const SessionCookie = "tidal_session"

// CSRFHeader carries a session's CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

// Session defaults.
const (
	// DefaultSessionTTL is how long a session lasts after sign-in.
	DefaultSessionTTL = 12 * time.Hour
	// DefaultMaxSessions bounds the sessions kept; signing in past it
	// drops the session closest to expiry.
	DefaultMaxSessions = 10000
)

// session is one signed-in browser.
type session struct {
	principal Principal // Method is the credential's, before MethodSession
	csrf      string
	expires   time.Time
}

// sessions is the Authenticator's session store, keyed by the SHA-256 of
// the cookie value so that the store holds no usable cookie.
type sessions struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex // Guards m.
	m  map[[sha256.Size]byte]*session
}

func newSessions(ttl time.Duration, maxN int, now func() time.Time) *sessions {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	if maxN <= 0 {
		maxN = DefaultMaxSessions
	}
	if now == nil {
		now = time.Now
	}
	return &sessions{ttl: ttl, max: maxN, now: now, m: map[[sha256.Size]byte]*session{}}
}

// randomToken returns 32 random bytes, base64url without padding.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for p and returns its cookie value.
func (s *sessions) create(p Principal) (cookie string, sess session) {
	cookie = randomToken()
	sess = session{principal: p, csrf: randomToken(), expires: s.now().Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	for len(s.m) >= s.max {
		var oldest [sha256.Size]byte
		first := true
		for k, v := range s.m {
			if first || v.expires.Before(s.m[oldest].expires) {
				oldest, first = k, false
			}
		}
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(cookie))] = &sess
	return cookie, sess
}

// get returns the live session of a cookie value.
func (s *sessions) get(cookie string) (session, bool) {
	k := sha256.Sum256([]byte(cookie))
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return session{}, false
	}
	if !s.now().Before(v.expires) {
		delete(s.m, k)
		return session{}, false
	}
	return *v, true
}

// remove ends the session of a cookie value.
func (s *sessions) remove(cookie string) {
	s.mu.Lock()
	delete(s.m, sha256.Sum256([]byte(cookie)))
	s.mu.Unlock()
}

// safeMethod reports whether an HTTP method does not change state, so that
// a session request with it needs no CSRF token.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// session authenticates r by its session cookie; ok is false when r has no
// session cookie.
func (a *Authenticator) session(r *http.Request) (p Principal, f *failure, ok bool) {
	c, err := r.Cookie(SessionCookie)
	if errors.Is(err, http.ErrNoCookie) || err == nil && c.Value == "" {
		return Principal{}, nil, false
	}
	if err != nil { // a malformed cookie header
		return Principal{}, &failure{method: MethodSession, msg: "read session cookie: " + err.Error()}, true
	}
	s, live := a.sessions.get(c.Value)
	if !live {
		return Principal{}, &failure{method: MethodSession, msg: "session expired or unknown: sign in again"}, true
	}
	if !safeMethod(r.Method) {
		got := sha256.Sum256([]byte(r.Header.Get(CSRFHeader)))
		want := sha256.Sum256([]byte(s.csrf))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return Principal{}, &failure{method: MethodSession, csrf: true, msg: "missing or wrong " + CSRFHeader + " header"}, true
		}
	}
	p = s.principal
	p.Method = MethodSession
	return p, nil, true
}

// SessionInfo is the JSON answer of the session endpoints.
type SessionInfo struct {
	// AuthRequired is false when no credential is configured: the
	// console needs no sign-in.
	AuthRequired bool   `json:"auth_required"`
	SignedIn     bool   `json:"signed_in"`
	Principal    string `json:"principal,omitempty"`
	Role         string `json:"role,omitempty"`
	// CSRFToken goes in the X-CSRF-Token header of every state-changing
	// request made with the session.
	CSRFToken string    `json:"csrf_token,omitempty"`
	Expires   time.Time `json:"expires,omitzero"`
}

// SignInRequest is the JSON body of a sign-in: an access key pair, or a
// bearer token.
type SignInRequest struct {
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	Token           string `json:"token,omitempty"`
}

// SignIn is the handler of the console's sign-in: it checks the credential
// in the JSON body (SignInRequest) and starts a session, answering with the
// session cookie and a SessionInfo. It is registered as a Public route: the
// credential it checks is the one in the body. Only application/json bodies
// are taken, which a cross-site HTML form cannot send. A wrong credential is
// 401 without a challenge, so that browsers show no password dialog.
func (a *Authenticator) SignIn(w http.ResponseWriter, r *http.Request) {
	if a.empty() {
		writeSessionJSON(w, http.StatusOK, SessionInfo{})
		return
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != "application/json" {
		http.Error(w, "sign in: want Content-Type application/json", http.StatusUnsupportedMediaType)
		return
	}
	if wait, blocked := a.Throttled(r.RemoteAddr); blocked {
		w.Header().Set("Retry-After", retryAfter(wait))
		http.Error(w, "sign in: too many failed attempts from this address; retry later", http.StatusTooManyRequests)
		return
	}
	var req SignInRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil {
		http.Error(w, "sign in: decode request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var (
		p Principal
		f *failure
	)
	switch {
	case req.AccessKeyID != "":
		p, f = a.password(req.AccessKeyID, req.SecretAccessKey)
	case req.Token != "":
		p, f = a.bearer(req.Token)
	default:
		f = &failure{msg: "give an access key id and secret, or a bearer token"}
	}
	if f != nil {
		a.Failed(r.RemoteAddr)
		http.Error(w, "sign in: "+f.msg, http.StatusUnauthorized)
		return
	}
	cookie, s := a.sessions.create(p)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: cookie, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, Expires: s.expires})
	writeSessionJSON(w, http.StatusOK, a.info(s))
}

// Session is the handler telling the console whether it is signed in, and
// its CSRF token. It is registered as a Public route and reads the cookie
// itself; without a live session it answers signed_in false.
func (a *Authenticator) Session(w http.ResponseWriter, r *http.Request) {
	if a.empty() {
		writeSessionJSON(w, http.StatusOK, SessionInfo{})
		return
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		writeSessionJSON(w, http.StatusOK, SessionInfo{AuthRequired: true})
		return
	}
	s, ok := a.sessions.get(c.Value)
	if !ok {
		writeSessionJSON(w, http.StatusOK, SessionInfo{AuthRequired: true})
		return
	}
	writeSessionJSON(w, http.StatusOK, a.info(s))
}

// SignOut ends the request's session and clears its cookie. It is
// registered with role Any, so the Router has checked the session and its
// CSRF token before it runs.
func (a *Authenticator) SignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && !a.empty() {
		a.sessions.remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: -1})
	writeSessionJSON(w, http.StatusOK, SessionInfo{AuthRequired: !a.empty()})
}

func (a *Authenticator) info(s session) SessionInfo {
	return SessionInfo{AuthRequired: true, SignedIn: true, Principal: s.principal.Name, Role: s.principal.Role.String(),
		CSRFToken: s.csrf, Expires: s.expires.UTC()}
}

func writeSessionJSON(w http.ResponseWriter, status int, v SessionInfo) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
