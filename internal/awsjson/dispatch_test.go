package awsjson

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDispatcher(t *testing.T) {
	var seenID, seenOp, seenBody string
	d := &Dispatcher{Prefix: TimestreamPrefix, MaxBody: 1 << 10}
	d.Handle("Query", func(w http.ResponseWriter, r *http.Request, op string, body []byte) {
		seenID, seenOp, seenBody = RequestID(r.Context()), op, string(body)
		if err := WriteJSON(w, RequestID(r.Context()), map[string]string{"ok": "1"}); err != nil {
			t.Error(err)
		}
	})
	cases := []struct {
		name, method, target, body string
		status                     int
		errType                    string
	}{
		{"dispatched", http.MethodPost, TimestreamPrefix + ".Query", `{"q":1}`, 200, ""},
		{"unknown op", http.MethodPost, TimestreamPrefix + ".Nope", `{}`, 400, TypeUnknownOperation},
		{"wrong prefix", http.MethodPost, "Other.Query", `{}`, 400, ""},
		{"not POST", http.MethodGet, TimestreamPrefix + ".Query", ``, 400, TypeUnknownOperation},
		{"body too large", http.MethodPost, TimestreamPrefix + ".Query", strings.Repeat("x", 2<<10), 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seenID = ""
			req := httptest.NewRequest(tc.method, "/", strings.NewReader(tc.body))
			req.Header.Set("X-Amz-Target", tc.target)
			req.Header.Set("Content-Type", ContentType)
			w := httptest.NewRecorder()
			d.ServeHTTP(w, req)
			rid := w.Header().Get(RequestIDHeader)
			if rid == "" {
				t.Fatal("no request ID header")
			}
			if tc.status == 200 {
				if w.Code != 200 || seenOp != "Query" || seenBody != tc.body || seenID != rid {
					t.Fatalf("status %d op %q body %q id %q (header %q)", w.Code, seenOp, seenBody, seenID, rid)
				}
				return
			}
			if w.Code < 400 || (tc.status != 400 && w.Code != tc.status) {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.errType != "" && !strings.Contains(w.Body.String(), tc.errType) {
				t.Fatalf("body %s, want %s", w.Body.String(), tc.errType)
			}
			if seenID != "" {
				t.Fatal("handler ran for a refused request")
			}
		})
	}
	if ops := d.Operations(); len(ops) != 1 || ops[0] != "Query" {
		t.Fatalf("Operations() = %v", ops)
	}
}
