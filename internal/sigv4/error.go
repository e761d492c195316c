package sigv4

import "net/http"

// Error codes returned in Error.Code. They are the codes AWS JSON-protocol
// services (Timestream among them) put in "__type" for authentication
// failures, so SDKs surface them unchanged.
const (
	// CodeMissingAuthenticationToken: the request carries no signature at all.
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature: the signature is malformed or lacks a part
	// (component, date header, required signed header).
	CodeIncompleteSignature = "IncompleteSignatureException"
	// CodeInvalidSignature: the signature is well formed but wrong, expired,
	// or scoped to another date, service or region.
	CodeInvalidSignature = "InvalidSignatureException"
	// CodeUnrecognizedClient: the access key id is unknown.
	CodeUnrecognizedClient = "UnrecognizedClientException"
)

// Error is a signature verification failure, shaped like the AWS error the
// client expects: Code goes in "__type" (or X-Amzn-ErrorType), Message in
// "Message".
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return "sigv4: " + e.Code + ": " + e.Message
}

// HTTPStatus returns the status code to answer with: 400 for a malformed
// signature, 403 for everything else.
func (e *Error) HTTPStatus() int {
	if e.Code == CodeIncompleteSignature {
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}

func incomplete(msg string) *Error {
	return &Error{Code: CodeIncompleteSignature, Message: msg}
}
