package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey    = "AKIDTIDALTEST0001"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testRegion = "us-east-1"
	testBody   = `{"DatabaseName":"devops","TableName":"cpu","Records":[{"Dimensions":[{"Name":"hostname","Value":"host_0"}],"MeasureName":"usage_user","MeasureValue":"58.2","MeasureValueType":"DOUBLE","Time":"1700000000000"}]}`
)

// testNow is the server clock in every test.
var testNow = time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC)

// signSpec describes how the client signs a request.
type signSpec struct {
	key, secret, service, region string
	at                           time.Time
	token                        string
	body                         string
	url                          string
	// before edits the request before signing; after edits the signed
	// request (what an attacker or a broken proxy would do).
	before, after func(r *http.Request)
	// payloadHash overrides the hash passed to the signer.
	payloadHash string
}

func (s signSpec) withDefaults() signSpec {
	if s.key == "" {
		s.key = testKey
	}
	if s.secret == "" {
		s.secret = testSecret
	}
	if s.service == "" {
		s.service = "timestream"
	}
	if s.region == "" {
		s.region = testRegion
	}
	if s.at.IsZero() {
		s.at = testNow.Add(-3 * time.Second)
	}
	if s.url == "" {
		s.url = "https://ingest.timestream.us-east-1.amazonaws.com/"
	}
	return s
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// signed returns the request as a server sees it after the real AWS SDK
// signer signed it and it crossed the wire, and its body.
func signed(t testing.TB, s signSpec) (*http.Request, []byte) {
	t.Helper()
	s = s.withDefaults()
	req, err := http.NewRequest(http.MethodPost, s.url, strings.NewReader(s.body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "Timestream_20181101.WriteRecords")
	if s.before != nil {
		s.before(req)
	}
	hash := s.payloadHash
	if hash == "" {
		hash = sha256Hex([]byte(s.body))
	}
	creds := aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.secret, SessionToken: s.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, s.service, s.region, s.at); err != nil {
		t.Fatalf("sign request: %v", err)
	}
	if s.after != nil {
		s.after(req)
	}
	return overTheWire(t, req)
}

// overTheWire serialises a client request and parses it back the way
// net/http's server does.
func overTheWire(t testing.TB, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatalf("write request: %v", err)
	}
	srvReq, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	body, err := io.ReadAll(srvReq.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return srvReq, body
}

func testVerifier() *Verifier {
	return &Verifier{
		Creds:   Credentials{testKey: testSecret, "AKIDOTHER": "other-secret"},
		Service: "timestream",
		Now:     func() time.Time { return testNow },
	}
}

// wantCode asserts that err is an *Error with the given code and a message
// containing msg.
func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %q (message %q), want %q", e.Code, e.Message, code)
	}
	if !strings.Contains(e.Message, msg) {
		t.Fatalf("message = %q, want it to contain %q", e.Message, msg)
	}
}

func TestVerifyAccepts(t *testing.T) {
	tests := []struct {
		name   string
		spec   signSpec
		verify func(v *Verifier)
		want   string
	}{
		{name: "write records", spec: signSpec{body: testBody}, want: testKey},
		{name: "second key", spec: signSpec{key: "AKIDOTHER", secret: "other-secret", body: testBody}, want: "AKIDOTHER"},
		{name: "empty body", spec: signSpec{}, want: testKey},
		{name: "session token", spec: signSpec{body: testBody, token: "FwoGZXIvYXdzEXAMPLETOKEN"}, want: testKey},
		{
			name: "declared content sha256",
			spec: signSpec{body: testBody, before: func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte(testBody)))
			}},
			want: testKey,
		},
		{
			name: "unsigned payload",
			spec: signSpec{body: testBody, payloadHash: UnsignedPayload, before: func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			}},
			want: testKey,
		},
		{
			name: "path and query needing encoding",
			spec: signSpec{body: testBody, url: "https://ingest.timestream.us-east-1.amazonaws.com/api/v1/a%20b/c+d~e?z=1&b=two%20words&b=a%2Fb&a=x-y&empty=&star=%2A"},
			want: testKey,
		},
		{
			name: "header values trimmed and collapsed",
			spec: signSpec{body: testBody, before: func(r *http.Request) {
				r.Header.Set("X-Tidal-Note", "  a   b  c ")
				r.Header.Add("X-Tidal-Multi", "one")
				r.Header.Add("X-Tidal-Multi", "two")
			}},
			want: testKey,
		},
		{name: "4 minutes old", spec: signSpec{body: testBody, at: testNow.Add(-4 * time.Minute)}, want: testKey},
		{name: "4 minutes ahead", spec: signSpec{body: testBody, at: testNow.Add(4 * time.Minute)}, want: testKey},
		{
			name:   "region pinned and matching",
			spec:   signSpec{body: testBody, region: "eu-west-1"},
			verify: func(v *Verifier) { v.Region = "eu-west-1" },
			want:   testKey,
		},
		{
			name: "non-default port in host",
			spec: signSpec{body: testBody, url: "http://127.0.0.1:7490/"},
			want: testKey,
		},
		{
			name:   "other accepted service",
			spec:   signSpec{body: testBody, service: "aps"},
			verify: func(v *Verifier) { v.OtherServices = []string{"aps"} },
			want:   testKey,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := signed(t, tt.spec)
			v := testVerifier()
			if tt.verify != nil {
				tt.verify(v)
			}
			got, err := v.Verify(r, body)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Fatalf("access key = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	const mismatch = "does not match the signature you provided"
	tests := []struct {
		name   string
		spec   signSpec
		verify func(v *Verifier)
		code   string
		msg    string
	}{
		{name: "wrong secret", spec: signSpec{body: testBody, secret: "not-the-secret"}, code: CodeInvalidSignature, msg: mismatch},
		{name: "unknown key", spec: signSpec{body: testBody, key: "AKIDUNKNOWN"}, code: CodeUnrecognizedClient, msg: "security token included in the request is invalid"},
		{
			name: "tampered body",
			spec: signSpec{body: testBody, after: func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(strings.Replace(testBody, "58.2", "99.9", 1)))
			}},
			code: CodeInvalidSignature, msg: mismatch,
		},
		{
			name: "tampered body with declared hash",
			spec: signSpec{
				body:   testBody,
				before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte(testBody))) },
				after: func(r *http.Request) {
					r.Body = io.NopCloser(strings.NewReader(strings.Replace(testBody, "58.2", "99.9", 1)))
				},
			},
			code: CodeInvalidSignature, msg: "x-amz-content-sha256",
		},
		{
			name: "tampered signed header",
			spec: signSpec{body: testBody, after: func(r *http.Request) { r.Header.Set("X-Amz-Target", "Timestream_20181101.DeleteTable") }},
			code: CodeInvalidSignature,
			msg:  mismatch,
		},
		{
			name: "tampered query",
			spec: signSpec{body: testBody, url: "https://h.example/?a=1", after: func(r *http.Request) { r.URL.RawQuery = "a=2" }},
			code: CodeInvalidSignature, msg: mismatch,
		},
		{
			name: "tampered path",
			spec: signSpec{body: testBody, url: "https://h.example/api/v1/write", after: func(r *http.Request) { r.URL.Path = "/api/v1/read" }},
			code: CodeInvalidSignature, msg: mismatch,
		},
		{
			name: "tampered host",
			spec: signSpec{body: testBody, after: func(r *http.Request) { r.Host = "evil.example" }},
			code: CodeInvalidSignature, msg: mismatch,
		},
		{name: "expired", spec: signSpec{body: testBody, at: testNow.Add(-6 * time.Minute)}, code: CodeInvalidSignature, msg: "Signature expired: 20261125T012400Z is now earlier than 20261125T012500Z (20261125T013000Z - 5 min.)"},
		{name: "from the future", spec: signSpec{body: testBody, at: testNow.Add(6 * time.Minute)}, code: CodeInvalidSignature, msg: "Signature not yet current: 20261125T013600Z is still later than 20261125T013500Z"},
		{
			name:   "custom skew",
			spec:   signSpec{body: testBody, at: testNow.Add(-2 * time.Minute)},
			verify: func(v *Verifier) { v.MaxSkew = time.Minute },
			code:   CodeInvalidSignature, msg: "(20261125T013000Z - 1 min.)",
		},
		{
			name: "missing authorization",
			spec: signSpec{body: testBody, after: func(r *http.Request) { r.Header.Del("Authorization") }},
			code: CodeMissingAuthenticationToken, msg: "Missing Authentication Token",
		},
		{
			name: "missing x-amz-date",
			spec: signSpec{body: testBody, after: func(r *http.Request) { r.Header.Del("X-Amz-Date") }},
			code: CodeIncompleteSignature, msg: "requires existence of a 'X-Amz-Date' header",
		},
		{
			name: "malformed x-amz-date",
			spec: signSpec{body: testBody, after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-11-25T01:30:00Z") }},
			code: CodeIncompleteSignature, msg: "ISO-8601 'basic format'",
		},
		{
			name: "x-amz-date on another day than the scope",
			spec: signSpec{body: testBody, after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261124T013000Z") }},
			code: CodeInvalidSignature, msg: "scoped to a valid date",
		},
		{name: "other service", spec: signSpec{body: testBody, service: "s3"}, code: CodeInvalidSignature, msg: "scoped to correct service: 'timestream'"},
		{
			name:   "service not among the others",
			spec:   signSpec{body: testBody, service: "s3"},
			verify: func(v *Verifier) { v.OtherServices = []string{"aps"} },
			code:   CodeInvalidSignature, msg: "scoped to correct service: 'timestream'",
		},
		{
			name:   "region pinned",
			spec:   signSpec{body: testBody, region: "eu-west-1"},
			verify: func(v *Verifier) { v.Region = "us-east-1" },
			code:   CodeInvalidSignature, msg: "valid region, not 'eu-west-1'",
		},
		{
			name: "signature component missing",
			spec: signSpec{body: testBody, after: func(r *http.Request) {
				h := r.Header.Get("Authorization")
				r.Header.Set("Authorization", h[:strings.Index(h, ", Signature=")])
			}},
			code: CodeIncompleteSignature, msg: "requires 'Signature' parameter",
		},
		{
			name: "host not signed",
			spec: signSpec{body: testBody, after: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=content-length;content-type;host;", "SignedHeaders=content-length;content-type;", 1))
			}},
			code: CodeIncompleteSignature, msg: "must include 'host'",
		},
		{
			name: "other algorithm",
			spec: signSpec{body: testBody, after: func(r *http.Request) { r.Header.Set("Authorization", "Basic dXNlcjpwYXNz") }},
			code: CodeIncompleteSignature, msg: "Unsupported AWS 'algorithm': 'Basic'",
		},
		{
			name: "header and query signature together",
			spec: signSpec{body: testBody, url: "https://h.example/?X-Amz-Algorithm=AWS4-HMAC-SHA256"},
			code: CodeIncompleteSignature, msg: "Only one authentication method",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := signed(t, tt.spec)
			v := testVerifier()
			if tt.verify != nil {
				tt.verify(v)
			}
			key, err := v.Verify(r, body)
			if key != "" {
				t.Errorf("access key = %q, want empty on failure", key)
			}
			wantCode(t, err, tt.code, tt.msg)
		})
	}
}

// presigned returns a GET request presigned by the SDK with X-Amz-Expires
// of expires seconds, as the server receives it.
func presigned(t *testing.T, at time.Time, expires string, payloadHash string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://query.timestream.us-east-1.amazonaws.com/api/v1/query?query=up&X-Amz-Expires="+expires, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, req, payloadHash, "timestream", testRegion, at)
	if err != nil {
		t.Fatalf("presign: %v", err)
	}
	out, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatalf("new presigned request: %v", err)
	}
	r, _ := overTheWire(t, out)
	return r
}

func TestVerifyPresigned(t *testing.T) {
	emptyHash := sha256Hex(nil)
	tests := []struct {
		name    string
		at      time.Time
		expires string
		hash    string
		edit    func(r *http.Request)
		code    string
		msg     string
	}{
		{name: "fresh", at: testNow.Add(-time.Minute), expires: "300", hash: emptyHash},
		{name: "unsigned payload", at: testNow.Add(-time.Minute), expires: "300", hash: UnsignedPayload},
		{name: "old but not expired", at: testNow.Add(-time.Hour), expires: "3601", hash: emptyHash},
		{name: "expired", at: testNow.Add(-10 * time.Minute), expires: "300", hash: emptyHash, code: CodeInvalidSignature, msg: "Signature expired: 20261125T012500Z is now earlier than 20261125T013000Z."},
		{name: "expires too long", at: testNow, expires: "604801", hash: emptyHash, code: CodeIncompleteSignature, msg: "X-Amz-Expires"},
		{
			name: "tampered parameter", at: testNow, expires: "300", hash: emptyHash,
			edit: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "query=up", "query=down", 1) },
			code: CodeInvalidSignature, msg: "does not match",
		},
		{
			name: "signature removed", at: testNow, expires: "300", hash: emptyHash,
			edit: func(r *http.Request) {
				q := r.URL.Query()
				q.Del("X-Amz-Signature")
				r.URL.RawQuery = q.Encode()
			},
			code: CodeIncompleteSignature, msg: "must include 'X-Amz-Signature'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := presigned(t, tt.at, tt.expires, tt.hash)
			if tt.edit != nil {
				tt.edit(r)
			}
			key, err := testVerifier().Verify(r, nil)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if key != testKey {
					t.Fatalf("access key = %q, want %q", key, testKey)
				}
				return
			}
			wantCode(t, err, tt.code, tt.msg)
		})
	}
}

func TestVerifyDefaultsClock(t *testing.T) {
	// With Now unset the verifier uses the wall clock, so a request signed
	// a moment ago passes and one signed a day ago does not.
	v := &Verifier{Creds: Credentials{testKey: testSecret}, Service: "timestream"}
	r, body := signed(t, signSpec{body: testBody, at: time.Now()})
	if key, err := v.Verify(r, body); err != nil || key != testKey {
		t.Fatalf("Verify = %q, %v; want %q", key, err, testKey)
	}
	r, body = signed(t, signSpec{body: testBody, at: time.Now().Add(-24 * time.Hour)})
	_, err := v.Verify(r, body)
	wantCode(t, err, CodeInvalidSignature, "Signature expired")
}

func TestErrorHTTPStatus(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{CodeMissingAuthenticationToken, http.StatusForbidden},
		{CodeIncompleteSignature, http.StatusBadRequest},
		{CodeInvalidSignature, http.StatusForbidden},
		{CodeUnrecognizedClient, http.StatusForbidden},
	}
	for _, tt := range tests {
		e := &Error{Code: tt.code, Message: "m"}
		if got := e.HTTPStatus(); got != tt.want {
			t.Errorf("%s: HTTPStatus = %d, want %d", tt.code, got, tt.want)
		}
		if got, want := e.Error(), "sigv4: "+tt.code+": m"; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	}
}

// TestVerifyKeyCache checks that a cached signing key never stands in for a
// different secret or scope.
func TestVerifyKeyCache(t *testing.T) {
	v := testVerifier()
	verify := func(s signSpec) (string, error) {
		t.Helper()
		r, body := signed(t, s)
		return v.Verify(r, body)
	}
	if key, err := verify(signSpec{body: testBody}); err != nil || key != testKey {
		t.Fatalf("first request: %q, %v", key, err)
	}
	if key, err := verify(signSpec{body: testBody}); err != nil || key != testKey {
		t.Fatalf("second request (cached key): %q, %v", key, err)
	}
	_, err := verify(signSpec{body: testBody, secret: "not-the-secret"})
	wantCode(t, err, CodeInvalidSignature, "does not match")

	// Another region is another scope, hence another key.
	if key, err := verify(signSpec{body: testBody, region: "ap-south-1"}); err != nil || key != testKey {
		t.Fatalf("other region: %q, %v", key, err)
	}
	// A request signed just after midnight UTC uses the next day's scope.
	v.Now = func() time.Time { return time.Date(2026, 11, 26, 0, 0, 5, 0, time.UTC) }
	if key, err := verify(signSpec{body: testBody, at: time.Date(2026, 11, 26, 0, 0, 1, 0, time.UTC)}); err != nil || key != testKey {
		t.Fatalf("next day: %q, %v", key, err)
	}
	v.Now = func() time.Time { return testNow }

	// Rotating the secret invalidates the cached key.
	v.Creds = Credentials{testKey: "rotated-secret"}
	_, err = verify(signSpec{body: testBody})
	wantCode(t, err, CodeInvalidSignature, "does not match")
	if key, err := verify(signSpec{body: testBody, secret: "rotated-secret"}); err != nil || key != testKey {
		t.Fatalf("rotated secret: %q, %v", key, err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := testVerifier()
	good, goodBody := signed(t, signSpec{body: testBody})
	other, otherBody := signed(t, signSpec{body: testBody, key: "AKIDOTHER", secret: "other-secret"})
	bad, badBody := signed(t, signSpec{body: testBody, secret: "wrong"})
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			var err error
			for range 50 {
				switch i % 3 {
				case 0:
					if key, e := v.Verify(good, goodBody); e != nil || key != testKey {
						err = errors.Join(err, e, errors.New("good request rejected"))
					}
				case 1:
					if key, e := v.Verify(other, otherBody); e != nil || key != "AKIDOTHER" {
						err = errors.Join(err, e, errors.New("other key rejected"))
					}
				case 2:
					if _, e := v.Verify(bad, badBody); e == nil {
						err = errors.Join(err, errors.New("bad request accepted"))
					}
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
