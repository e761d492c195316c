package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/smithy-go"
)

// queryClient is the part of the Timestream Query API the data source uses.
type queryClient interface {
	Query(ctx context.Context, in *timestreamquery.QueryInput, opts ...func(*timestreamquery.Options)) (*timestreamquery.QueryOutput, error)
	CancelQuery(ctx context.Context, in *timestreamquery.CancelQueryInput, opts ...func(*timestreamquery.Options)) (*timestreamquery.CancelQueryOutput, error)
}

// newQueryClient is the AWS SDK's Timestream Query client pointed at the
// server of s: SigV4-signed with s's keys, or unsigned with s's basic or
// bearer header. Endpoint discovery is off: the server is the endpoint.
func newQueryClient(s *Settings) (*timestreamquery.Client, error) {
	hc, err := s.HTTPClient()
	if err != nil {
		return nil, err
	}
	var creds aws.CredentialsProvider = aws.AnonymousCredentials{}
	if s.AuthType == AuthSigV4 {
		creds = credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, s.SessionToken)
	}
	return timestreamquery.New(timestreamquery.Options{
		Region:            s.Region,
		Credentials:       creds,
		BaseEndpoint:      aws.String(s.URL),
		HTTPClient:        hc,
		EndpointDiscovery: timestreamquery.EndpointDiscoveryOptions{EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled},
	}), nil
}

// httpStatus is the HTTP status of a failed API call, 0 if none was seen.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// apiMessage is the server's message for a failed call: "Code: message"
// for API errors, else the error's text.
func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err.Error()
}

// isUserError tells whether err is the query's fault (bad SQL, unknown
// table), not the server's or the network's.
func isUserError(err error) bool {
	switch st := httpStatus(err); {
	case st == http.StatusBadRequest, st == http.StatusNotFound, st == http.StatusConflict:
		return true
	}
	return false
}
