package auth

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		header string
		method Method
		param  string
	}{
		{"", MethodNone, ""},
		{"Basic QUtJRDpzZWNyZXQ=", MethodBasic, "QUtJRDpzZWNyZXQ="},
		{"basic   QUtJRDpzZWNyZXQ=  ", MethodBasic, "QUtJRDpzZWNyZXQ="},
		{"Bearer abc.def-ghi", MethodBearer, "abc.def-ghi"},
		{"BEARER tok", MethodBearer, "tok"},
		{"Token abc", methodToken, "abc"},
		{"Token AKID:secret ", methodToken, "AKID:secret"},
		{"AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/timestream/aws4_request, SignedHeaders=host, Signature=00",
			MethodSigV4, "Credential=A/20260101/us-east-1/timestream/aws4_request, SignedHeaders=host, Signature=00"},
		{"aws4-hmac-sha256 Credential=x", MethodNone, ""}, // the algorithm name is case-sensitive
		{"Digest username=x", MethodNone, ""},
		{"Basic", MethodBasic, ""},
		{"Bearer", MethodBearer, ""},
	}
	for _, tt := range tests {
		m, p := classify(tt.header)
		if m != tt.method || p != tt.param {
			t.Errorf("classify(%q) = %s %q, want %s %q", tt.header, m, p, tt.method, tt.param)
		}
	}
}

func TestParseBasic(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		param      string
		user, pass string
		ok         bool
	}{
		{enc("AKID:secret"), "AKID", "secret", true},
		{enc("AKID:se:cr:et"), "AKID", "se:cr:et", true}, // the password may hold colons
		{enc("AKID:"), "AKID", "", true},
		{enc(":secret"), "", "", false},
		{enc("AKIDsecret"), "", "", false},
		{"not base64!", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		u, p, ok := parseBasic(tt.param)
		if u != tt.user || p != tt.pass || ok != tt.ok {
			t.Errorf("parseBasic(%q) = %q %q %v, want %q %q %v", tt.param, u, p, ok, tt.user, tt.pass, tt.ok)
		}
	}
}

// FuzzParseAuthorization feeds arbitrary Authorization headers to the
// scheme parsers: they never panic, a basic credential round-trips through
// its encoding, and a header set by net/http's SetBasicAuth parses back.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"", "Basic QUtJRDpzZWNyZXQ=", "Bearer tok", "bearer  a=b ", "Basic Og==",
		"AWS4-HMAC-SHA256 Credential=A/20260101/r/s/aws4_request, SignedHeaders=host, Signature=0", "Basic \x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		m, param := classify(h)
		switch m {
		case MethodBasic:
			user, pass, ok := parseBasic(param)
			if !ok {
				return
			}
			if user == "" || strings.Contains(user, ":") {
				t.Fatalf("parseBasic(%q) user %q", param, user)
			}
			if u2, p2, ok2 := parseBasic(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))); !ok2 || u2 != user || p2 != pass {
				t.Fatalf("round trip of %q:%q gave %q:%q %v", user, pass, u2, p2, ok2)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.SetBasicAuth(user, pass)
			if m2, p2 := classify(r.Header.Get("Authorization")); m2 != MethodBasic {
				t.Fatalf("SetBasicAuth header classified %s %q", m2, p2)
			}
		case MethodBearer:
			if isToken68(param) && strings.ContainsAny(param, " \t\r\n") {
				t.Fatalf("token %q with white space accepted", param)
			}
		case MethodNone:
			if param != "" {
				t.Fatalf("no scheme but parameter %q", param)
			}
		}
	})
}

// FuzzAuthenticate runs the whole credential check on arbitrary headers and
// query strings against a fixed key and token: it never panics, and nothing
// but the exact credentials authenticates.
func FuzzAuthenticate(f *testing.F) {
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("AKID:secret")), "")
	f.Add("Bearer token-0123456789abcdef", "")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fr%2Faps%2Faws4_request")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/r/aps/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "")
	a, err := New(Options{Keys: []Key{{ID: "AKID", Secret: "secret", Role: Write}},
		Tokens: []Token{{Value: "token-0123456789abcdef", Role: Read}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, h, rawQuery string) {
		r := httptest.NewRequest("POST", "http://tidal.test/api/v1/write", strings.NewReader("body"))
		r.URL.RawQuery = rawQuery
		r.Header.Set("Authorization", h)
		r.Header.Set("X-Amz-Date", "20260101T000000Z")
		p, fail := a.authenticate(r, false)
		if fail != nil {
			if p != (Principal{}) {
				t.Fatalf("failure %v with principal %+v", fail, p)
			}
			return
		}
		switch p.Method {
		case MethodBasic:
			if u, pw, _ := r.BasicAuth(); u != "AKID" || pw != "secret" || p.Role != Write {
				t.Fatalf("basic %q:%q authenticated as %+v", u, pw, p)
			}
		case MethodBearer:
			if _, tok := classify(h); tok != "token-0123456789abcdef" || p.Role != Read {
				t.Fatalf("bearer %q authenticated as %+v", h, p)
			}
		default:
			// A SigV4 signature found by the fuzzer would be a forgery.
			t.Fatalf("%q %q authenticated as %+v", h, rawQuery, p)
		}
	})
}

func TestRoleAllows(t *testing.T) {
	want := map[Role][]Role{ // credential role -> route roles it may use
		Read:  {Public, Any, Read},
		Write: {Public, Any, Write},
		Admin: {Public, Any, Read, Write, Admin},
	}
	for have, allowed := range want {
		for need := Public; need <= Admin; need++ {
			ok := false
			for _, a := range allowed {
				ok = ok || a == need
			}
			if have.allows(need) != ok {
				t.Errorf("%s allows %s = %v, want %v", have, need, have.allows(need), ok)
			}
		}
	}
	for _, s := range []string{"read", "write", "admin"} {
		r, err := ParseRole(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseRole(%q) = %s, %v", s, r, err)
		}
	}
	if _, err := ParseRole("any"); err == nil {
		t.Error("ParseRole(any) accepted a route-only role")
	}
}

func TestNewRejectsBadCredentials(t *testing.T) {
	for name, opts := range map[string]Options{
		"duplicate key":   {Keys: []Key{{ID: "A", Secret: "s", Role: Read}, {ID: "A", Secret: "t", Role: Read}}},
		"key no role":     {Keys: []Key{{ID: "A", Secret: "s"}}},
		"empty secret":    {Keys: []Key{{ID: "A", Role: Read}}},
		"duplicate token": {Tokens: []Token{{Value: "t", Role: Read}, {Value: "t", Role: Admin}}},
		"token no role":   {Tokens: []Token{{Value: "t", Role: Any}}},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New accepted %+v", name, opts)
		}
	}
}

// TestPrincipalReachesHandler checks that the handler sees who called it.
func TestPrincipalReachesHandler(t *testing.T) {
	a, err := New(Options{Keys: []Key{{ID: "AKID", Secret: "secret", Role: Admin}}})
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRouter(a, nil)
	var got Principal
	rt.HandleFunc("GET /x", Read, func(_ http.ResponseWriter, r *http.Request) { got, _ = PrincipalFrom(r.Context()) })
	r := httptest.NewRequest("GET", "/x", nil)
	r.SetBasicAuth("AKID", "secret")
	rt.ServeHTTP(httptest.NewRecorder(), r)
	if got != (Principal{Name: "AKID", Role: Admin, Method: MethodBasic}) {
		t.Fatalf("principal %+v", got)
	}
}
