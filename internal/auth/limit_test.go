package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func basicReq(method, path, user, pass, remote string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	r.SetBasicAuth(user, pass)
	r.RemoteAddr = remote
	return r
}

func TestFailureLimit(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	rt, _ := sessionRouter(t, c.now)
	const attacker, other = "198.51.100.7:40000", "203.0.113.9:5000"

	// DefaultFailureBurst wrong secrets are told 401 each.
	for i := range DefaultFailureBurst {
		if w := serve(rt, basicReq("GET", "/read", "AKIDREAD", fmt.Sprint("guess", i), attacker)); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: got %d, want 401", i, w.Code)
		}
	}
	// The next request from that address is refused before its
	// credentials are looked at: even the right secret gets 429.
	w := serve(rt, basicReq("GET", "/read", "AKIDREAD", "read-secret", "198.51.100.7:40001"))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "6" {
		t.Fatalf("after the burst: got %d Retry-After %q, want 429 and 6", w.Code, w.Header().Get("Retry-After"))
	}
	// So is an unknown path (which would otherwise need a credential to be
	// told 404), an AWS route (in AWS terms) and the console's sign-in.
	if w := serve(rt, basicReq("GET", "/nope", "AKIDREAD", "read-secret", attacker)); w.Code != http.StatusTooManyRequests {
		t.Fatalf("unknown path: got %d, want 429", w.Code)
	}
	r := basicReq("POST", "/", "AKIDREAD", "read-secret", attacker)
	r.Header.Set("X-Amz-Target", "Target.Query")
	if w := serve(rt, r); w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "ThrottlingException") {
		t.Fatalf("AWS route: got %d %s, want 429 ThrottlingException", w.Code, w.Body)
	}
	r = httptest.NewRequest("POST", "/signin", strings.NewReader(`{"token":"admin-token-0123"}`))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = attacker
	if w := serve(rt, r); w.Code != http.StatusTooManyRequests {
		t.Fatalf("sign in: got %d, want 429", w.Code)
	}
	// Another address is not affected, and public routes stay open.
	if w := serve(rt, basicReq("GET", "/read", "AKIDREAD", "read-secret", other)); w.Code != http.StatusOK {
		t.Fatalf("other address: got %d, want 200", w.Code)
	}
	r = httptest.NewRequest("GET", "/session", nil)
	r.RemoteAddr = attacker
	if w := serve(rt, r); w.Code != http.StatusOK {
		t.Fatalf("public route: got %d, want 200", w.Code)
	}

	// One attempt comes back per refill period; a wrong one uses it up.
	c.t = c.t.Add(DefaultFailureRefill)
	if w := serve(rt, basicReq("GET", "/read", "AKIDREAD", "wrong", attacker)); w.Code != http.StatusUnauthorized {
		t.Fatalf("after one refill: got %d, want 401", w.Code)
	}
	if w := serve(rt, basicReq("GET", "/read", "AKIDREAD", "read-secret", attacker)); w.Code != http.StatusTooManyRequests {
		t.Fatalf("refill used: got %d, want 429", w.Code)
	}
	c.t = c.t.Add(DefaultFailureRefill)
	if w := serve(rt, basicReq("GET", "/read", "AKIDREAD", "read-secret", attacker)); w.Code != http.StatusOK {
		t.Fatalf("after a second refill, right secret: got %d, want 200", w.Code)
	}
}

// TestFailureLimitCounts checks which refusals count as guesses: a missing
// credential or an unsupported scheme does not, a wrong token or signature
// does, and so does a wrong console sign-in.
func TestFailureLimitCounts(t *testing.T) {
	tests := []struct {
		name  string
		req   func(remote string) *http.Request
		count bool
	}{
		{"no credential", func(remote string) *http.Request {
			r := httptest.NewRequest("GET", "/read", nil)
			r.RemoteAddr = remote
			return r
		}, false},
		{"unknown scheme", func(remote string) *http.Request {
			r := httptest.NewRequest("GET", "/read", nil)
			r.Header.Set("Authorization", "Negotiate abc")
			r.RemoteAddr = remote
			return r
		}, false},
		{"wrong bearer", func(remote string) *http.Request {
			r := httptest.NewRequest("GET", "/read", nil)
			r.Header.Set("Authorization", "Bearer not-a-token")
			r.RemoteAddr = remote
			return r
		}, true},
		{"wrong basic", func(remote string) *http.Request {
			return basicReq("GET", "/read", "AKIDREAD", "nope", remote)
		}, true},
		{"wrong sign-in", func(remote string) *http.Request {
			r := httptest.NewRequest("POST", "/signin", strings.NewReader(`{"token":"guess"}`))
			r.Header.Set("Content-Type", "application/json")
			r.RemoteAddr = remote
			return r
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1_700_000_000, 0)}
			rt, _ := sessionRouter(t, c.now)
			const remote = "192.0.2.50:1"
			for range DefaultFailureBurst + 5 {
				serve(rt, tc.req(remote))
			}
			w := serve(rt, basicReq("GET", "/read", "AKIDREAD", "read-secret", remote))
			if got := w.Code == http.StatusTooManyRequests; got != tc.count {
				t.Fatalf("after %d such requests the right secret got %d; throttled = %v, want %v",
					DefaultFailureBurst+5, w.Code, got, tc.count)
			}
		})
	}
}

func TestFailureLimitOff(t *testing.T) {
	a, err := New(Options{Keys: []Key{{ID: "K", Secret: "S", Role: Read}}, FailureBurst: -1})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		a.Failed("192.0.2.1:1")
	}
	if _, blocked := a.Throttled("192.0.2.1:1"); blocked {
		t.Fatal("a disabled limiter throttled")
	}
	if _, ok := a.CheckPassword("K", "S"); !ok {
		t.Fatal("right password refused")
	}
}

// TestFailureLimitBounded checks that the tracked addresses stay bounded
// and that an address arriving when the table is full of throttled
// addresses is let through rather than refused.
func TestFailureLimitBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := newFailLimiter(1, time.Minute, c.now)
	for i := range maxFailureClients + 100 {
		l.fail(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255))
	}
	if n := len(l.clients); n != maxFailureClients {
		t.Fatalf("tracked %d addresses, want %d", n, maxFailureClients)
	}
	if _, blocked := l.blocked("10.0.0.0:9"); !blocked {
		t.Fatal("first address not throttled")
	}
	late := fmt.Sprintf("10.%d.%d.%d:1", (maxFailureClients+50)>>16&255, (maxFailureClients+50)>>8&255, (maxFailureClients+50)&255)
	if _, blocked := l.blocked(late); blocked {
		t.Fatal("an address past the bound was throttled")
	}
	// Once the buckets refill, new addresses push the old ones out.
	c.t = c.t.Add(2 * time.Minute)
	l.fail("172.16.0.1:1")
	if n := len(l.clients); n != 1 {
		t.Fatalf("after refill: tracked %d addresses, want 1", n)
	}
}
