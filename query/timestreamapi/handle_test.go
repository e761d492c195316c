package timestreamapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/internal/awsjson"
)

// TestHandle checks that an operation registered by another package is
// listed, gets the request's body and operation, and has its response and
// errors written in the AWS JSON shapes.
func TestHandle(t *testing.T) {
	a := New(&fakeEngine{}, Options{})
	defer a.Close()
	a.Handle("EchoThing", func(_ context.Context, op string, body []byte) (any, error) {
		if strings.Contains(string(body), "fail") {
			return nil, awsjson.NotFound("no %s", op)
		}
		if strings.Contains(string(body), "boom") {
			return nil, errors.New("internal detail")
		}
		return map[string]string{"Op": op, "Body": string(body)}, nil
	})
	if !slices.Contains(a.Operations(), "EchoThing") {
		t.Fatalf("operations %v", a.Operations())
	}
	for _, tt := range []struct {
		body, status, want string
	}{
		{`{"x":1}`, "200", `{"Body":"{\"x\":1}","Op":"EchoThing"}`},
		{`fail`, "400", `{"Message":"no EchoThing","__type":"ResourceNotFoundException"}`},
		{`boom`, "500", `InternalServerException`},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
		req.Header.Set(awsjson.TargetHeader, awsjson.TimestreamPrefix+".EchoThing")
		a.ServeHTTP(rec, req)
		if got := rec.Body.String(); strconv.Itoa(rec.Code) != tt.status || !strings.Contains(got, tt.want) || strings.Contains(got, "internal detail") {
			t.Errorf("%s: %d %s, want %s containing %s", tt.body, rec.Code, got, tt.status, tt.want)
		}
	}
}
