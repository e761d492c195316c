package sigv4

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   authorization
		msg    string // non-empty: want an IncompleteSignature error containing it
	}{
		{
			name:   "sdk form",
			header: "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/timestream/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc123",
			want:   authorization{accessKey: "AKID", scopeDate: "20261125", region: "us-east-1", service: "timestream", signedHeaders: []string{"content-type", "host", "x-amz-date"}, signature: "abc123"},
		},
		{
			name:   "no spaces, other order",
			header: "AWS4-HMAC-SHA256 Signature=ff,SignedHeaders=host,Credential=K/20260101/eu-west-1/s3/aws4_request",
			want:   authorization{accessKey: "K", scopeDate: "20260101", region: "eu-west-1", service: "s3", signedHeaders: []string{"host"}, signature: "ff"},
		},
		{name: "empty", header: "", msg: "Unsupported AWS 'algorithm': ''"},
		{name: "sigv2", header: "AWS AKID:c2ln", msg: "Unsupported AWS 'algorithm': 'AWS'"},
		{name: "only algorithm", header: "AWS4-HMAC-SHA256 ", msg: "requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{name: "no value", header: "AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=ff", msg: "not of the form Key=Value"},
		{name: "no equals", header: "AWS4-HMAC-SHA256 Credential", msg: "not of the form Key=Value"},
		{name: "unknown component", header: "AWS4-HMAC-SHA256 Credential=K/20260101/r/s/aws4_request, SignedHeaders=host, Signature=ff, Foo=bar", msg: "unknown component 'Foo'"},
		{name: "duplicate", header: "AWS4-HMAC-SHA256 Credential=K/20260101/r/s/aws4_request, SignedHeaders=host, Signature=ff, Signature=ee", msg: "'Signature' more than once"},
		{name: "four elements", header: "AWS4-HMAC-SHA256 Credential=K/20260101/r/aws4_request, SignedHeaders=host, Signature=ff", msg: "exactly 5 slash-delimited elements"},
		{name: "bad terminator", header: "AWS4-HMAC-SHA256 Credential=K/20260101/r/s/aws5_request, SignedHeaders=host, Signature=ff", msg: "valid terminator"},
		{name: "bad date", header: "AWS4-HMAC-SHA256 Credential=K/2026-1-1/r/s/aws4_request, SignedHeaders=host, Signature=ff", msg: "YYYYMMDD"},
		{name: "empty key", header: "AWS4-HMAC-SHA256 Credential=/20260101/r/s/aws4_request, SignedHeaders=host, Signature=ff", msg: "empty element"},
		{name: "uppercase signed header", header: "AWS4-HMAC-SHA256 Credential=K/20260101/r/s/aws4_request, SignedHeaders=Host, Signature=ff", msg: "lowercase header names"},
		{name: "empty signed header", header: "AWS4-HMAC-SHA256 Credential=K/20260101/r/s/aws4_request, SignedHeaders=host;;x-amz-date, Signature=ff", msg: "lowercase header names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAuthorization(tt.header)
			if tt.msg != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeIncompleteSignature || !strings.Contains(e.Message, tt.msg) {
					t.Fatalf("error = %v, want %s containing %q", err, CodeIncompleteSignature, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/timestream/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0123456789abcdef")
	f.Add("AWS4-HMAC-SHA256 Signature=ff,SignedHeaders=host,Credential=K/20260101/eu-west-1/s3/aws4_request")
	f.Add("AWS4-HMAC-SHA256 Credential=a=b/20260101/r/s/aws4_request,, SignedHeaders=host, Signature=x;y")
	f.Add("AWS4-HMAC-SHA256 ")
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeIncompleteSignature {
				t.Fatalf("error %v is not an IncompleteSignature *Error", err)
			}
			return
		}
		if a.accessKey == "" || len(a.scopeDate) != 8 || a.region == "" || a.service == "" || a.signature == "" || len(a.signedHeaders) == 0 {
			t.Fatalf("accepted %q with an empty part: %+v", h, a)
		}
		again, err := parseAuthorization(a.String())
		if err != nil {
			t.Fatalf("reparse %q (from %q): %v", a.String(), h, err)
		}
		if !reflect.DeepEqual(a, again) {
			t.Fatalf("round trip changed %+v to %+v", a, again)
		}
	})
}

// FuzzVerify feeds arbitrary signature material to Verify: it must never
// panic and must never accept, since no input can know the secret.
func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDTIDALTEST0001/20261125/us-east-1/timestream/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20261125T013000Z", "a=1&b=%20", "/", []byte("{}"))
	f.Add("", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDTIDALTEST0001%2F20261125%2Fus-east-1%2Ftimestream%2Faws4_request&X-Amz-Date=20261125T013000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "/q", []byte(nil))
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDTIDALTEST0001/20261125/us-east-1/timestream/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20261125T013000Z", "%zz", "/%41", []byte("x"))
	f.Fuzz(func(t *testing.T, auth, date, rawQuery, path string, body []byte) {
		r, err := http.NewRequest(http.MethodPost, "http://tidal.local/", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.URL.RawQuery = rawQuery
		r.RequestURI = path
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		if date != "" {
			r.Header["X-Amz-Date"] = []string{date}
		}
		key, err := testVerifier().Verify(r, body)
		if err == nil || key != "" {
			t.Fatalf("Verify accepted a forged request: key %q, err %v", key, err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Code == "" || e.Message == "" {
			t.Fatalf("error %v is not a complete *Error", err)
		}
	})
}
