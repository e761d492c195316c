package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/smithy-go"
)

// TestTimestreamWriteClient drives a verifying server with the real
// timestreamwrite SDK client: a good key lists (zero) databases, a wrong
// secret and an unknown key come back as the SDK's typed API errors.
func TestTimestreamWriteClient(t *testing.T) {
	v := &Verifier{Creds: Credentials{testKey: testSecret}, Service: "timestream"}
	var (
		mu       sync.Mutex
		accepted []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		key, err := v.Verify(r, body)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(se.HTTPStatus())
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": se.Code, "Message": se.Message})
			return
		}
		mu.Lock()
		accepted = append(accepted, key+" "+r.Header.Get("X-Amz-Target"))
		mu.Unlock()
		_, _ = io.WriteString(w, `{"Databases":[]}`)
	}))
	defer srv.Close()

	client := func(key, secret string) *timestreamwrite.Client {
		return timestreamwrite.New(timestreamwrite.Options{
			Region: testRegion,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, Source: "test"}, nil
			}),
			BaseEndpoint:     aws.String(srv.URL),
			HTTPClient:       srv.Client(),
			RetryMaxAttempts: 1,
			EndpointDiscovery: timestreamwrite.EndpointDiscoveryOptions{
				EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled,
			},
		})
	}
	ctx := context.Background()

	out, err := client(testKey, testSecret).ListDatabases(ctx, &timestreamwrite.ListDatabasesInput{})
	if err != nil {
		t.Fatalf("ListDatabases with the right key: %v", err)
	}
	if out.Databases == nil || len(out.Databases) != 0 {
		t.Fatalf("Databases = %#v, want an empty list", out.Databases)
	}
	mu.Lock()
	got := append([]string(nil), accepted...)
	mu.Unlock()
	if len(got) != 1 || got[0] != testKey+" Timestream_20181101.ListDatabases" {
		t.Fatalf("accepted = %q, want one ListDatabases by %s", got, testKey)
	}

	tests := []struct {
		name, key, secret, code, msg string
	}{
		{
			"wrong secret", testKey, "not-the-secret", CodeInvalidSignature,
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
		},
		{"unknown key", "AKIDUNKNOWN", testSecret, CodeUnrecognizedClient, "The security token included in the request is invalid."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client(tt.key, tt.secret).ListDatabases(ctx, &timestreamwrite.ListDatabasesInput{})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want a smithy.APIError", err, err)
			}
			if apiErr.ErrorCode() != tt.code {
				t.Fatalf("ErrorCode = %q (%v), want %q", apiErr.ErrorCode(), err, tt.code)
			}
			if apiErr.ErrorMessage() != tt.msg {
				t.Fatalf("ErrorMessage = %q, want %q", apiErr.ErrorMessage(), tt.msg)
			}
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
				t.Fatalf("HTTP status of %v is not 403", err)
			}
		})
	}
}
