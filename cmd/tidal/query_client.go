package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/smithy-go"
)

// The Query API client of tidal query: the AWS SDK's timestreamquery
// client pointed at the server, and how its errors read.

// newQueryClient returns a Timestream Query client for a TidalDB server:
// fixed endpoint, no endpoint discovery, credentials from the environment
// or placeholders (a server without access keys accepts any).
func newQueryClient(endpoint, region string) *timestreamquery.Client {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		id, secret = "tidal", "tidal"
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
	}
	return timestreamquery.NewFromConfig(cfg, func(o *timestreamquery.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.EndpointDiscovery.EnableEndpointDiscovery = aws.EndpointDiscoveryDisabled
		o.HTTPClient = &http.Client{Transport: bufferedBodyTransport{base: http.DefaultTransport}}
	})
}

// bufferedBodyTransport sends a private copy of each request body. The SDK
// closes its request body as soon as response headers arrive, and its body
// wrapper's WriteTo then returns io.EOF; against a fast local server the Go
// transport is still finishing the request write, takes that as a write
// error and closes the connection under the response being read
// (aws-sdk-go-v2#2737). Query request bodies are small, so a copy is cheap.
type bufferedBodyTransport struct{ base http.RoundTripper }

func (t bufferedBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return t.base.RoundTrip(req)
	}
	data, err := io.ReadAll(req.Body)
	_ = req.Body.Close() // the SDK's in-memory body; closing cannot fail usefully
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(data))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r2.ContentLength = int64(len(data))
	return t.base.RoundTrip(r2)
}

// describeError renders an API error as "Type: message".
func describeError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}
