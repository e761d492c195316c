package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestInfluxCredentials checks the credentials InfluxDB clients send on
// routes registered with HandleInflux, and that the query parameters are
// not accepted on other routes.
func TestInfluxCredentials(t *testing.T) {
	a, err := New(Options{
		Keys:   []Key{{ID: "writer", Secret: "s3cret", Role: Write}, {ID: "reader", Secret: "r", Role: Read}},
		Tokens: []Token{{Value: "tok-write", Role: Write}, {Value: "tok-read", Role: Read}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRouter(a, nil)
	var got Principal
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = PrincipalFrom(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	rt.HandleInflux("POST /write", Write, h)
	rt.Handle("POST /other", Write, h)
	tests := []struct {
		name, path, header string
		status             int
		principal          Principal
	}{
		{"token", "/write", "Token tok-write", 204, Principal{Name: "token:0", Role: Write, Method: MethodBearer}},
		{"token lower case scheme", "/write", "token tok-write", 204, Principal{Name: "token:0", Role: Write, Method: MethodBearer}},
		{"token user:password", "/write", "Token writer:s3cret", 204, Principal{Name: "writer", Role: Write, Method: MethodBasic}},
		{"token wrong", "/write", "Token nope", 401, Principal{}},
		{"token user wrong password", "/write", "Token writer:x", 401, Principal{}},
		{"token read role", "/write", "Token tok-read", 403, Principal{}},
		{"query u/p", "/write?db=x&u=writer&p=s3cret", "", 204, Principal{Name: "writer", Role: Write, Method: MethodBasic}},
		{"query wrong password", "/write?u=writer&p=bad", "", 401, Principal{}},
		{"query only p", "/write?p=s3cret", "", 401, Principal{}},
		{"query read role", "/write?u=reader&p=r", "", 403, Principal{}},
		{"header wins over query", "/write?u=writer&p=s3cret", "Token nope", 401, Principal{}},
		{"query not on other routes", "/other?u=writer&p=s3cret", "", 401, Principal{}},
		{"token on other routes", "/other", "Token tok-write", 204, Principal{Name: "token:0", Role: Write, Method: MethodBearer}},
		{"nothing", "/write", "", 401, Principal{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = Principal{}
			r := httptest.NewRequest("POST", tt.path, nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, r)
			if w.Code != tt.status || got != tt.principal {
				t.Fatalf("status %d principal %+v, want %d %+v (%s)", w.Code, got, tt.status, tt.principal, w.Body)
			}
		})
	}
}

// FuzzInfluxAuthenticate runs the Influx credential forms on arbitrary
// headers and query strings: nothing but the exact credentials
// authenticates.
func FuzzInfluxAuthenticate(f *testing.F) {
	f.Add("Token tok-0123456789", "")
	f.Add("Token AKID:secret", "")
	f.Add("", "u=AKID&p=secret")
	f.Add("", "u=AKID&p=secret&u=x")
	f.Add("token  AKID:secret ", "db=a")
	a, err := New(Options{Keys: []Key{{ID: "AKID", Secret: "secret", Role: Write}},
		Tokens: []Token{{Value: "tok-0123456789", Role: Read}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, h, rawQuery string) {
		r := httptest.NewRequest("POST", "http://tidal.test/write", nil)
		r.URL.RawQuery = rawQuery
		r.Header.Set("Authorization", h)
		p, fail := a.authenticateInflux(r, false, true)
		if fail != nil {
			if p != (Principal{}) {
				t.Fatalf("failure %v with principal %+v", fail, p)
			}
			return
		}
		switch {
		case p == Principal{Name: "AKID", Role: Write, Method: MethodBasic}:
			_, param := classify(h)
			q := r.URL.Query()
			u, pw, _ := r.BasicAuth()
			if param != "AKID:secret" && !(u == "AKID" && pw == "secret") && !(h == "" && q.Get("u") == "AKID" && q.Get("p") == "secret") {
				t.Fatalf("%q %q authenticated as %+v", h, rawQuery, p)
			}
		case p == Principal{Name: "token:0", Role: Read, Method: MethodBearer}:
			if _, param := classify(h); param != "tok-0123456789" {
				t.Fatalf("%q authenticated as %+v", h, p)
			}
		default:
			t.Fatalf("%q %q authenticated as %+v", h, rawQuery, p)
		}
	})
}

func TestCheckPassword(t *testing.T) {
	a, err := New(Options{Keys: []Key{{ID: "dev", Secret: "pw", Role: Write}}, Tokens: []Token{{Value: "tok-read", Role: Read}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, pass string
		ok         bool
		role       Role
	}{
		{"dev", "pw", true, Write},
		{"dev", "nope", false, 0},
		{"", "pw", false, 0},
		{"anyone", "tok-read", true, Read},
		{"", "tok-read", true, Read},
		{"dev", "tok-read", true, Read},
		{"x", "", false, 0},
	}
	for _, tt := range tests {
		p, ok := a.CheckPassword(tt.user, tt.pass)
		if ok != tt.ok || p.Role != tt.role {
			t.Errorf("CheckPassword(%q, %q) = %+v %v, want role %s %v", tt.user, tt.pass, p, ok, tt.role, tt.ok)
		}
	}
	var open *Authenticator
	if _, ok := open.CheckPassword("dev", "pw"); ok || !open.Open() {
		t.Error("nil Authenticator authenticated or is not open")
	}
}
