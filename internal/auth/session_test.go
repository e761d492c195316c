package auth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// sessionRouter is a Router with a read key, an admin token and routes of
// each role that echo the principal and its method.
func sessionRouter(t *testing.T, now func() time.Time) (*Router, *Authenticator) {
	t.Helper()
	a, err := New(Options{
		Keys:   []Key{{ID: "AKIDREAD", Secret: "read-secret", Role: Read}},
		Tokens: []Token{{Value: "admin-token-0123", Role: Admin}},
		Now:    now, SessionTTL: time.Hour, MaxSessions: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRouter(a, nil)
	echo := func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		io.WriteString(w, p.Name+" "+p.Method.String())
	}
	rt.HandleFunc("GET /read", Read, echo)
	rt.HandleFunc("POST /read", Read, echo)
	rt.HandleFunc("POST /admin", Admin, echo)
	rt.HandleAWS("POST /{$}", "Target", map[string]Role{"Query": Read}, http.HandlerFunc(echo))
	rt.HandleFunc("POST /signin", Public, a.SignIn)
	rt.HandleFunc("GET /session", Public, a.Session)
	rt.HandleFunc("POST /signout", Any, a.SignOut)
	rt.SetSignInPage("/signin-page")
	return rt, a
}

func serve(rt *Router, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, r)
	return w
}

// signIn signs in with body and returns the cookie and the session info.
func signIn(t *testing.T, rt *Router, body string) (*http.Cookie, SessionInfo) {
	t.Helper()
	r := httptest.NewRequest("POST", "/signin", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := serve(rt, r)
	if w.Code != http.StatusOK {
		t.Fatalf("sign in %s: %d %s", body, w.Code, w.Body)
	}
	var info SessionInfo
	if err := json.Unmarshal(w.Body.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != SessionCookie {
		t.Fatalf("sign in set cookies %v", cookies)
	}
	return cookies[0], info
}

func TestSignIn(t *testing.T) {
	rt, _ := sessionRouter(t, nil)
	for _, tc := range []struct {
		name, body      string
		principal, role string
	}{
		{"key pair", `{"access_key_id":"AKIDREAD","secret_access_key":"read-secret"}`, "AKIDREAD", "read"},
		{"token", `{"token":"admin-token-0123"}`, "token:0", "admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, info := signIn(t, rt, tc.body)
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP", c)
			}
			if !info.SignedIn || !info.AuthRequired || info.Principal != tc.principal || info.Role != tc.role || len(info.CSRFToken) < 40 {
				t.Errorf("info %+v", info)
			}
			r := httptest.NewRequest("GET", "/read", nil)
			r.AddCookie(c)
			if w := serve(rt, r); w.Code != http.StatusOK || w.Body.String() != tc.principal+" session" {
				t.Errorf("GET /read with the cookie: %d %q", w.Code, w.Body)
			}
			r = httptest.NewRequest("GET", "/session", nil)
			r.AddCookie(c)
			var again SessionInfo
			if err := json.Unmarshal(serve(rt, r).Body.Bytes(), &again); err != nil || again.CSRFToken != info.CSRFToken || again.Principal != tc.principal {
				t.Errorf("GET /session: %+v %v, want the sign-in's %+v", again, err, info)
			}
		})
	}
}

func TestSignInRefused(t *testing.T) {
	rt, _ := sessionRouter(t, nil)
	for _, tc := range []struct {
		name, ct, body string
		status         int
	}{
		{"wrong secret", "application/json", `{"access_key_id":"AKIDREAD","secret_access_key":"nope"}`, 401},
		{"unknown token", "application/json", `{"token":"admin-token-0124"}`, 401},
		{"secret as token", "application/json", `{"token":"read-secret"}`, 401},
		{"nothing", "application/json", `{}`, 401},
		{"form post", "application/x-www-form-urlencoded", `token=admin-token-0123`, 415},
		{"bad json", "application/json", `{"token":`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/signin", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.ct)
			w := serve(rt, r)
			if w.Code != tc.status || len(w.Result().Cookies()) != 0 {
				t.Fatalf("%d %v %s, want %d and no cookie", w.Code, w.Result().Cookies(), w.Body, tc.status)
			}
			if len(w.Header().Values("WWW-Authenticate")) != 0 {
				t.Errorf("challenge %q: a browser would show a password dialog", w.Header().Values("WWW-Authenticate"))
			}
		})
	}
}

func TestSessionCSRF(t *testing.T) {
	rt, _ := sessionRouter(t, nil)
	c, info := signIn(t, rt, `{"token":"admin-token-0123"}`)
	for _, tc := range []struct {
		name, method, path, csrf string
		aws                      bool
		status                   int
	}{
		{"get needs none", "GET", "/read", "", false, 200},
		{"post without", "POST", "/read", "", false, 403},
		{"post wrong", "POST", "/read", info.CSRFToken[:len(info.CSRFToken)-1] + "x", false, 403},
		{"post right", "POST", "/read", info.CSRFToken, false, 200},
		{"admin right", "POST", "/admin", info.CSRFToken, false, 200},
		{"aws without", "POST", "/", "", true, 403},
		{"aws right", "POST", "/", info.CSRFToken, true, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader("{}"))
			r.AddCookie(c)
			if tc.aws {
				r.Header.Set("X-Amz-Target", "Target.Query")
			}
			if tc.csrf != "" {
				r.Header.Set(CSRFHeader, tc.csrf)
			}
			w := serve(rt, r)
			if w.Code != tc.status {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tc.status)
			}
			if tc.status == 200 && w.Body.String() != "token:0 session" {
				t.Errorf("body %q", w.Body)
			}
			if tc.status == 403 && !strings.Contains(w.Body.String(), CSRFHeader) {
				t.Errorf("refusal does not name the header: %s", w.Body)
			}
			if tc.aws && tc.status == 403 && !strings.Contains(w.Body.String(), `"__type"`) {
				t.Errorf("AWS route refusal without the AWS error shape: %s", w.Body)
			}
		})
	}
}

// TestSessionRole checks that a session holds its credential's role.
func TestSessionRole(t *testing.T) {
	rt, _ := sessionRouter(t, nil)
	c, info := signIn(t, rt, `{"access_key_id":"AKIDREAD","secret_access_key":"read-secret"}`)
	r := httptest.NewRequest("POST", "/admin", nil)
	r.AddCookie(c)
	r.Header.Set(CSRFHeader, info.CSRFToken)
	if w := serve(rt, r); w.Code != http.StatusForbidden {
		t.Fatalf("read session on an admin route: %d %s", w.Code, w.Body)
	}
}

func TestSessionEnds(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	rt, _ := sessionRouter(t, clock)
	get := func(c *http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/read", nil)
		r.AddCookie(c)
		return serve(rt, r)
	}
	refused := func(t *testing.T, w *httptest.ResponseRecorder) {
		t.Helper()
		if w.Code != http.StatusUnauthorized || w.Body.String() == "token:0 session" {
			t.Fatalf("%d %s, want 401", w.Code, w.Body)
		}
		if ch := w.Header().Values("WWW-Authenticate"); len(ch) != 1 || strings.HasPrefix(ch[0], "Basic") {
			t.Errorf("challenge %q, want one that no browser turns into a password dialog", ch)
		}
	}

	t.Run("sign out", func(t *testing.T) {
		c, info := signIn(t, rt, `{"token":"admin-token-0123"}`)
		r := httptest.NewRequest("POST", "/signout", nil)
		r.AddCookie(c)
		r.Header.Set(CSRFHeader, info.CSRFToken)
		w := serve(rt, r)
		if w.Code != 200 || len(w.Result().Cookies()) != 1 || w.Result().Cookies()[0].MaxAge >= 0 {
			t.Fatalf("sign out: %d %v", w.Code, w.Result().Cookies())
		}
		refused(t, get(c))
	})
	t.Run("expiry", func(t *testing.T) {
		c, _ := signIn(t, rt, `{"token":"admin-token-0123"}`)
		mu.Lock()
		now = now.Add(59 * time.Minute)
		mu.Unlock()
		if w := get(c); w.Code != 200 {
			t.Fatalf("before expiry: %d", w.Code)
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		refused(t, get(c))
	})
	t.Run("unknown cookie", func(t *testing.T) {
		refused(t, get(&http.Cookie{Name: SessionCookie, Value: "forged"}))
	})
	t.Run("bounded", func(t *testing.T) {
		first, _ := signIn(t, rt, `{"token":"admin-token-0123"}`)
		var last *http.Cookie
		for range 3 { // MaxSessions is 3
			mu.Lock()
			now = now.Add(time.Second)
			mu.Unlock()
			last, _ = signIn(t, rt, `{"token":"admin-token-0123"}`)
		}
		refused(t, get(first))
		if w := get(last); w.Code != 200 {
			t.Fatalf("newest session: %d", w.Code)
		}
	})
}

// TestSessionHeaderWins checks that an Authorization header is judged
// alone: a wrong one is refused even with a live session cookie.
func TestSessionHeaderWins(t *testing.T) {
	rt, _ := sessionRouter(t, nil)
	c, _ := signIn(t, rt, `{"token":"admin-token-0123"}`)
	r := httptest.NewRequest("GET", "/read", nil)
	r.AddCookie(c)
	r.SetBasicAuth("AKIDREAD", "wrong")
	if w := serve(rt, r); w.Code != http.StatusUnauthorized {
		t.Fatalf("wrong basic credential with a live cookie: %d %s", w.Code, w.Body)
	}
}

func TestSignInRedirect(t *testing.T) {
	rt, _ := sessionRouter(t, nil)
	for _, tc := range []struct {
		name, accept, auth string
		want               int
	}{
		{"browser", "text/html,application/xhtml+xml", "", http.StatusSeeOther},
		{"curl", "*/*", "", http.StatusUnauthorized},
		{"browser wrong credential", "text/html", "Bearer nope", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/read?x=1", nil)
			r.Header.Set("Accept", tc.accept)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := serve(rt, r)
			if w.Code != tc.want {
				t.Fatalf("%d, want %d", w.Code, tc.want)
			}
			if tc.want == http.StatusSeeOther && w.Header().Get("Location") != "/signin-page?next=%2Fread%3Fx%3D1" {
				t.Errorf("Location %q", w.Header().Get("Location"))
			}
		})
	}
}

func TestOpenSessionEndpoints(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.HandlerFunc{a.Session, a.SignIn} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(`{}`))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h(w, r)
		if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"auth_required":false,"signed_in":false}` {
			t.Errorf("open authenticator: %d %s", w.Code, w.Body)
		}
	}
}

// TestSessionsConcurrent signs in and uses sessions from several
// goroutines past the session bound (run with -race).
func TestSessionsConcurrent(t *testing.T) {
	rt, _ := sessionRouter(t, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	served := 0
	for range 8 {
		wg.Go(func() {
			for range 20 {
				r := httptest.NewRequest("POST", "/signin", strings.NewReader(`{"token":"admin-token-0123"}`))
				r.Header.Set("Content-Type", "application/json")
				w := serve(rt, r)
				if w.Code != 200 {
					t.Errorf("sign in: %d", w.Code)
					return
				}
				r = httptest.NewRequest("GET", "/read", nil)
				r.AddCookie(w.Result().Cookies()[0])
				if serve(rt, r).Code == 200 { // may already be evicted by the others
					mu.Lock()
					served++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if served == 0 {
		t.Error("no session was usable")
	}
}
