// Package awsjson implements the server side of the AWS JSON 1.0 protocol
// that the Timestream Write and Query APIs speak: reading the X-Amz-Target
// operation, decoding request bodies, and writing responses and errors in the
// shape the AWS SDKs and CLI parse.
//
// The package owns only the wire conventions; it knows nothing about
// Timestream operations. Each API package (ingest/timestreamwrite,
// query/timestreamapi) decodes its own request shapes with Decode and answers
// with WriteJSON or WriteError.
//
// Everything here is stateless and safe for concurrent use.
package awsjson

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Protocol constants.
const (
	// ContentType is the media type of every request and response body.
	ContentType = "application/x-amz-json-1.0"
	// TargetHeader names the operation, as "Prefix.Operation".
	TargetHeader = "X-Amz-Target"
	// RequestIDHeader carries the request ID the SDKs report in errors.
	RequestIDHeader = "x-amzn-RequestId"
	// ErrorTypeHeader carries the error shape name; SDKs prefer it to
	// the body's __type.
	ErrorTypeHeader = "X-Amzn-ErrorType"
	// TimestreamPrefix is the target prefix of both Timestream services.
	TimestreamPrefix = "Timestream_20181101"
	// DefaultMaxBodyBytes bounds request bodies when the caller gives no
	// limit. A full WriteRecords request (100 records of at most 2 KB plus
	// JSON overhead) fits comfortably.
	DefaultMaxBodyBytes = 4 << 20
)

// Error shape names used by the Timestream APIs and the AWS front end.
const (
	TypeValidation          = "ValidationException"
	TypeResourceNotFound    = "ResourceNotFoundException"
	TypeConflict            = "ConflictException"
	TypeServiceQuota        = "ServiceQuotaExceededException"
	TypeRejectedRecords     = "RejectedRecordsException"
	TypeThrottling          = "ThrottlingException"
	TypeAccessDenied        = "AccessDeniedException"
	TypeInternalServer      = "InternalServerException"
	TypeInvalidEndpoint     = "InvalidEndpointException"
	TypeUnknownOperation    = "UnknownOperationException"
	TypeQueryExecution      = "QueryExecutionException"
	TypeInvalidSignature    = "InvalidSignatureException"
	TypeUnrecognizedClient  = "UnrecognizedClientException"
	TypeMissingAuthToken    = "MissingAuthenticationTokenException"
	TypeIncompleteSignature = "IncompleteSignatureException"
)

// Error is an AWS JSON error response. It is written as
// {"__type": Type, "Message": Message, ...Extra} with HTTP status Status (or
// the usual status of Type when Status is zero).
type Error struct {
	// Type is the error shape name, e.g. "ValidationException".
	Type string
	// Message is the user-facing sentence.
	Message string
	// Status is the HTTP status; zero means StatusOf(Type).
	Status int
	// Extra holds additional members of the error shape, such as
	// RejectedRecords. Keys "__type" and "Message" are ignored.
	Extra map[string]any
}

// Error returns "Type: Message".
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// HTTPStatus returns the status the error is written with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return StatusOf(e.Type)
}

// StatusOf returns the HTTP status AWS uses for an error shape: 404 for
// UnknownOperationException, 419 for RejectedRecordsException (as observed
// from Timestream), 403 for authentication failures, 500 for
// InternalServerException, 503 for ServiceUnavailableException and 400 for
// every other client error.
func StatusOf(typ string) int {
	switch typ {
	case TypeUnknownOperation:
		return http.StatusNotFound
	case TypeRejectedRecords:
		return 419
	case TypeAccessDenied, TypeInvalidSignature, TypeUnrecognizedClient, TypeMissingAuthToken:
		return http.StatusForbidden
	case TypeInternalServer:
		return http.StatusInternalServerError
	case "ServiceUnavailableException":
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// NewError returns an Error of the given type with a formatted message.
func NewError(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// Validation returns a ValidationException with a formatted message.
func Validation(format string, args ...any) *Error {
	return NewError(TypeValidation, format, args...)
}

// NotFound returns a ResourceNotFoundException with a formatted message.
func NotFound(format string, args ...any) *Error {
	return NewError(TypeResourceNotFound, format, args...)
}

// Conflict returns a ConflictException with a formatted message.
func Conflict(format string, args ...any) *Error {
	return NewError(TypeConflict, format, args...)
}

// QuotaExceeded returns a ServiceQuotaExceededException with a formatted
// message.
func QuotaExceeded(format string, args ...any) *Error {
	return NewError(TypeServiceQuota, format, args...)
}

// Internal returns an InternalServerException. The message is generic on
// purpose: details belong in the server log, not in the response.
func Internal() *Error {
	return &Error{Type: TypeInternalServer, Message: "Timestream was unable to fully process this request because of an internal server error."}
}

// UnknownOperation returns the 404 UnknownOperationException for op.
func UnknownOperation(op string) *Error {
	return NewError(TypeUnknownOperation, "Unknown operation %q.", op)
}

// ParseTarget splits an X-Amz-Target value "Prefix.Operation". Both parts
// must be non-empty.
func ParseTarget(target string) (prefix, op string, err error) {
	i := strings.LastIndexByte(target, '.')
	if i <= 0 || i == len(target)-1 {
		return "", "", fmt.Errorf("awsjson: malformed %s header %q", TargetHeader, target)
	}
	return target[:i], target[i+1:], nil
}

// Operation returns the operation named by r's X-Amz-Target header when its
// prefix is prefix. A missing or foreign target yields an
// UnknownOperationException, as AWS answers.
func Operation(r *http.Request, prefix string) (string, *Error) {
	target := r.Header.Get(TargetHeader)
	p, op, err := ParseTarget(target)
	if err != nil || p != prefix {
		return "", &Error{Type: TypeUnknownOperation, Message: fmt.Sprintf("Unknown operation target %q.", target)}
	}
	return op, nil
}

// ReadBody reads r's body up to limit bytes (DefaultMaxBodyBytes when limit
// <= 0). A larger body is a ValidationException, as is a read failure.
func ReadBody(r *http.Request, limit int64) ([]byte, *Error) {
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, Validation("Request body of %d bytes exceeds the limit of %d bytes.", r.ContentLength, limit)
	}
	var data []byte
	var err error
	if r.ContentLength > 0 {
		// The usual case, SDKs send the length: one allocation of the right
		// size instead of io.ReadAll's doubling from 512 bytes.
		data, err = readKnown(r.Body, r.ContentLength, limit)
	} else {
		data, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
	}
	if err != nil {
		return nil, Validation("Unable to read the request body: %v.", err)
	}
	if int64(len(data)) > limit {
		return nil, Validation("Request body exceeds the limit of %d bytes.", limit)
	}
	return data, nil
}

// readKnown reads a body that announced n bytes (0 < n <= limit). A body
// that ends early is an error, as net/http reports it; one that runs on is
// read up to limit+1 bytes so that the caller sees it exceed the limit.
func readKnown(body io.Reader, n, limit int64) ([]byte, error) {
	data := make([]byte, n, n+1)
	if _, err := io.ReadFull(body, data); err != nil {
		return nil, err
	}
	var one [1]byte
	m, err := io.ReadFull(body, one[:])
	if m == 0 {
		if errors.Is(err, io.EOF) {
			return data, nil
		}
		return nil, err
	}
	rest, err := io.ReadAll(io.LimitReader(body, limit-n))
	if err != nil {
		return nil, err
	}
	return append(append(data, one[0]), rest...), nil
}

// Decode unmarshals a JSON request body into v, which must be a pointer to a
// struct. An empty body is an empty object. Unknown members are ignored, as
// AWS does; malformed JSON, a top-level value that is not an object, a member
// of the wrong type and trailing data are ValidationExceptions naming the
// problem.
func Decode(body []byte, v any) *Error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return Validation("Request body must be a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Validation("Request body has trailing data after the JSON object.")
	}
	return nil
}

func decodeError(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "request"
		}
		return Validation("Invalid value for member %q: expected %s, got JSON %s.", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return Validation("Malformed JSON request body at byte offset %d: %v.", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Validation("Malformed JSON request body: unexpected end of input.")
	default:
		return Validation("Malformed JSON request body: %v.", err)
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	default:
		return goKind
	}
}

// NewRequestID returns a random request ID in the UUID format AWS uses.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// WriteJSON writes v as a 200 AWS JSON response. A nil v writes "{}".
// requestID, when non-empty, is sent in the x-amzn-RequestId header.
func WriteJSON(w http.ResponseWriter, requestID string, v any) error {
	var data []byte
	if v == nil {
		data = []byte("{}")
	} else {
		var err error
		data, err = json.Marshal(v)
		if err != nil {
			WriteError(w, requestID, Internal())
			return fmt.Errorf("encode response: %w", err)
		}
	}
	writeBody(w, requestID, http.StatusOK, data)
	return nil
}

// WriteError writes err as an AWS JSON error response. An *Error (found with
// errors.As) is written as is; any other error becomes an
// InternalServerException with a generic message.
func WriteError(w http.ResponseWriter, requestID string, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = Internal()
	}
	body := make(map[string]any, len(e.Extra)+2)
	for k, v := range e.Extra {
		body[k] = v
	}
	body["__type"] = e.Type
	body["Message"] = e.Message
	data, mErr := json.Marshal(body)
	if mErr != nil {
		// Extra held something JSON cannot encode; drop it rather than
		// fail the error response itself.
		data, _ = json.Marshal(map[string]string{"__type": e.Type, "Message": e.Message})
	}
	w.Header().Set(ErrorTypeHeader, e.Type)
	writeBody(w, requestID, e.HTTPStatus(), data)
}

func writeBody(w http.ResponseWriter, requestID string, status int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if requestID != "" {
		h.Set(RequestIDHeader, requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(data) // The client went away; nothing useful to do.
}

// Timestamp is a time that encodes as AWS JSON timestamps do: epoch seconds
// as a JSON number, with a fractional part for sub-second precision
// (milliseconds are kept; finer precision is truncated, as AWS does).
type Timestamp time.Time

// MarshalJSON encodes t as epoch seconds with up to three decimals.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return AppendEpochSeconds(nil, time.Time(t)), nil
}

// UnmarshalJSON accepts epoch seconds as a JSON number (integer or
// fractional) or as a JSON string holding such a number.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	s := string(bytes.Trim(data, `"`))
	ms, err := parseEpochMillis(s)
	if err != nil {
		return err
	}
	*t = Timestamp(time.UnixMilli(ms).UTC())
	return nil
}

// AppendEpochSeconds appends t as epoch seconds with millisecond precision
// ("1700000000", "1700000000.5", "1700000000.123") to dst.
func AppendEpochSeconds(dst []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		dst = append(dst, '-')
		if ms == math.MinInt64 {
			ms++ // -ms would overflow; one millisecond is lost at the very edge.
		}
		ms = -ms
	}
	sec, frac := ms/1000, ms%1000
	dst = strconv.AppendInt(dst, sec, 10)
	if frac == 0 {
		return dst
	}
	digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 3
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	dst = append(dst, '.')
	return append(dst, digits[:n]...)
}

func parseEpochMillis(s string) (int64, error) {
	intPart, fracPart, hasFrac := strings.Cut(s, ".")
	if intPart == "" || intPart == "-" || (hasFrac && fracPart == "") {
		return 0, fmt.Errorf("awsjson: invalid epoch seconds %q", s)
	}
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("awsjson: invalid epoch seconds %q", s)
	}
	if sec > (1<<63-1)/1000-1 || sec < -(1<<63-1)/1000+1 {
		return 0, fmt.Errorf("awsjson: epoch seconds %q out of range", s)
	}
	var frac int64
	for i := 0; i < len(fracPart); i++ {
		c := fracPart[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("awsjson: invalid epoch seconds %q", s)
		}
		if i < 3 {
			frac = frac*10 + int64(c-'0')
		}
	}
	for i := len(fracPart); i < 3; i++ {
		frac *= 10
	}
	if strings.HasPrefix(intPart, "-") {
		return sec*1000 - frac, nil
	}
	return sec*1000 + frac, nil
}
