package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFirehoseAccessKeyAuth: Firehose can only send its key in
// X-Amz-Firehose-Access-Key; the auth layer reads it as a bearer token, so
// a Write token opens the endpoint and nothing less does.
func TestFirehoseAccessKeyAuth(t *testing.T) {
	rt := testRouter(t, authConfig())
	for _, tc := range []struct {
		name, key, authorization string
		want                     int
	}{
		{name: "write token", key: "write-token-0123456789", want: http.StatusOK},
		{name: "admin token", key: "admin-token-0123456789", want: http.StatusOK},
		{name: "read token", key: "read-token-0123456789", want: http.StatusForbidden},
		{name: "unknown key", key: "not-a-token-0123456789", want: http.StatusUnauthorized},
		{name: "no key", want: http.StatusUnauthorized},
		// Authorization wins when both are present.
		{name: "authorization first", key: "write-token-0123456789", authorization: "Bearer read-token-0123456789", want: http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://tidal.test/firehose/fleet", strings.NewReader(`{"requestId":"x","timestamp":1,"records":[]}`))
			if tc.key != "" {
				r.Header.Set("X-Amz-Firehose-Access-Key", tc.key)
			}
			if tc.authorization != "" {
				r.Header.Set("Authorization", tc.authorization)
			}
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if tc.want == http.StatusOK && w.Body.String() != servedMarker {
				t.Fatalf("body %q", w.Body)
			}
		})
	}
}
