// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests, so
// that AWS SDKs and tools (which sign every request, for example with service
// name "timestream") can authenticate against TidalDB with static access keys.
//
// It owns the server side of the signing protocol only: parsing the
// Authorization header or a presigned query string, rebuilding the canonical
// request, deriving the signing key and comparing signatures in constant time.
// It knows nothing of the APIs behind it; callers map an *Error onto their own
// wire format (AWS JSON: {"__type": Code, "Message": Message}).
//
// A Verifier is safe for concurrent use once its exported fields are set; it
// caches derived signing keys behind a mutex, so it must not be copied after
// first use. Verify never modifies the request.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Algorithm is the only signing algorithm Verify accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// UnsignedPayload is the X-Amz-Content-Sha256 value by which a client declares
// that the body is not covered by the signature.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// DefaultMaxSkew is the clock skew Verify tolerates when MaxSkew is zero. It
// bounds how long a captured request can be replayed; AWS services allow 5
// minutes.
const DefaultMaxSkew = 5 * time.Minute

// maxPresignExpires is the longest X-Amz-Expires AWS accepts (seven days).
const maxPresignExpires = 7 * 24 * 60 * 60

// amzDateLayout is the ISO 8601 basic format of X-Amz-Date.
const amzDateLayout = "20060102T150405Z"

// Credentials maps an access key id to its secret access key.
type Credentials map[string]string

// Verifier checks SigV4 signatures for one service. The zero value of every
// field except Creds and Service is usable.
type Verifier struct {
	// Creds holds the accepted access keys.
	Creds Credentials
	// Service is the signing name the credential scope must carry, for
	// example "timestream".
	Service string
	// OtherServices are further signing names accepted besides Service, for
	// example "aps", which Prometheus remote_write.sigv4 signs with.
	OtherServices []string
	// Region, if not empty, is the only region a credential scope may name.
	// Empty accepts any region, which suits a self-hosted server that clients
	// reach with whatever region their profile holds.
	Region string
	// MaxSkew is how far X-Amz-Date may be from Now in either direction;
	// zero means DefaultMaxSkew.
	MaxSkew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// keys caches the last signing key derived for each access key; a
	// Verifier must not be copied after first use.
	keys keyCache
}

// keyCache remembers the signing key of each access key's latest scope, so a
// client's requests on one day cost one HMAC instead of five. Entries are
// stored only after a signature verified, so they are bounded by the number
// of configured keys.
type keyCache struct {
	mu sync.Mutex // Guards m.
	m  map[string]cachedKey
}

// cachedKey is a derived signing key and what it was derived from.
type cachedKey struct {
	secret, scope string
	key           [sha256.Size]byte
}

// get returns the cached key of accessKey if it was derived from secret for
// scope.
func (c *keyCache) get(accessKey, secret, scope string) ([sha256.Size]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[accessKey]
	if !ok || k.secret != secret || k.scope != scope {
		return [sha256.Size]byte{}, false
	}
	return k.key, true
}

// put remembers key as accessKey's signing key for scope.
func (c *keyCache) put(accessKey, secret, scope string, key [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cachedKey)
	}
	c.m[accessKey] = cachedKey{secret: secret, scope: scope, key: key}
}

// Verify checks the SigV4 signature of r, whose full body the caller has
// already read into body. It accepts the Authorization header form and the
// presigned query-string form (X-Amz-Algorithm, X-Amz-Credential, ...).
// The payload hash is X-Amz-Content-Sha256 when present, which must then
// match the body unless it is UNSIGNED-PAYLOAD; otherwise Verify hashes body.
// An X-Amz-Security-Token is accepted but not checked: TidalDB issues no
// temporary credentials, so only the access key's secret authenticates.
//
// The signed host is r.Host, so a reverse proxy in front of TidalDB must
// preserve the Host header. Not supported: the Date header in place of
// X-Amz-Date, S3's chunked STREAMING-* payloads, and SigV4a.
//
// On success Verify returns the access key id that signed the request. Every
// failure is an *Error whose Code is one AWS services return.
func (v *Verifier) Verify(r *http.Request, body []byte) (accessKey string, err error) {
	auth := r.Header.Get("Authorization")
	query, qerr := parseQuery(r.URL.RawQuery)
	var (
		a       authorization
		presign bool
		expires int64
	)
	switch {
	case auth != "":
		if query.has("X-Amz-Algorithm") {
			return "", incomplete("Only one authentication method is allowed: use either the Authorization header or query-string parameters.")
		}
		if a, err = parseAuthorization(auth); err != nil {
			return "", err
		}
	case query.has("X-Amz-Algorithm") || query.has("X-Amz-Signature"):
		if qerr != nil {
			return "", incomplete("The query string is not correctly encoded.")
		}
		presign = true
		if a, expires, err = parsePresigned(query); err != nil {
			return "", err
		}
	default:
		return "", &Error{Code: CodeMissingAuthenticationToken, Message: "Missing Authentication Token"}
	}
	if qerr != nil {
		return "", incomplete("The query string is not correctly encoded.")
	}

	amzDate := a.date
	if !presign {
		amzDate = r.Header.Get("X-Amz-Date")
		if amzDate == "" {
			return "", incomplete("Authorization header requires existence of a 'X-Amz-Date' header. Authorization=" + auth)
		}
		if !a.signs("x-amz-date") {
			return "", incomplete("Signed headers must include 'x-amz-date'.")
		}
	}
	if !a.signs("host") {
		return "", incomplete("Signed headers must include 'host'.")
	}
	t, perr := time.Parse(amzDateLayout, amzDate)
	if perr != nil {
		return "", incomplete("Date must be in ISO-8601 'basic format'. Got '" + amzDate + "'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	if err := v.checkScope(a, amzDate); err != nil {
		return "", err
	}
	secret, ok := v.Creds[a.accessKey]
	if !ok {
		return "", &Error{Code: CodeUnrecognizedClient, Message: "The security token included in the request is invalid."}
	}
	if err := v.checkTime(t, presign, expires); err != nil {
		return "", err
	}

	payloadHash, err := payloadHash(r, body)
	if err != nil {
		return "", err
	}
	scope := string(appendScope(make([]byte, 0, 64), a))
	key, cached := v.keys.get(a.accessKey, secret, scope)
	if !cached {
		key = deriveKey(secret, a)
	}
	ok = v.matches(key, a, amzDate, canonicalRequest(r, query, a, payloadHash, presign))
	// Presigned URLs are commonly built with UNSIGNED-PAYLOAD in place of the
	// hash of an empty body; both describe the same (empty) payload.
	if !ok && presign && len(body) == 0 && payloadHash != UnsignedPayload {
		ok = v.matches(key, a, amzDate, canonicalRequest(r, query, a, UnsignedPayload, presign))
	}
	if !ok {
		return "", &Error{Code: CodeInvalidSignature, Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	if !cached {
		v.keys.put(a.accessKey, secret, scope, key)
	}
	return a.accessKey, nil
}

// matches reports, in constant time, whether a.signature is the signature of
// the canonical request under the signing key.
func (v *Verifier) matches(key [sha256.Size]byte, a authorization, amzDate string, canonical []byte) bool {
	want := signature(key, a, amzDate, canonical)
	return subtle.ConstantTimeCompare(want[:], []byte(a.signature)) == 1
}

// checkScope compares the credential scope with the request date and with the
// service and region this Verifier serves.
func (v *Verifier) checkScope(a authorization, amzDate string) error {
	if a.scopeDate != amzDate[:8] {
		return &Error{Code: CodeInvalidSignature, Message: "Credential should be scoped to a valid date, not '" + a.scopeDate + "': the request date is '" + amzDate[:8] + "'."}
	}
	if a.service != v.Service && !slices.Contains(v.OtherServices, a.service) {
		return &Error{Code: CodeInvalidSignature, Message: "Credential should be scoped to correct service: '" + v.Service + "'."}
	}
	if v.Region != "" && a.region != v.Region {
		return &Error{Code: CodeInvalidSignature, Message: "Credential should be scoped to a valid region, not '" + a.region + "'."}
	}
	return nil
}

// checkTime rejects a request date outside the allowed skew and an expired
// presigned URL.
func (v *Verifier) checkTime(t time.Time, presign bool, expires int64) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	n := now().UTC()
	mins := strconv.FormatInt(int64(skew/time.Minute), 10)
	if t.After(n.Add(skew)) {
		return &Error{Code: CodeInvalidSignature, Message: "Signature not yet current: " + t.Format(amzDateLayout) + " is still later than " + n.Add(skew).Format(amzDateLayout) + " (" + n.Format(amzDateLayout) + " + " + mins + " min.)"}
	}
	if presign {
		end := t.Add(time.Duration(expires) * time.Second)
		if n.After(end) {
			return &Error{Code: CodeInvalidSignature, Message: "Signature expired: " + end.Format(amzDateLayout) + " is now earlier than " + n.Format(amzDateLayout) + "."}
		}
		return nil
	}
	if t.Before(n.Add(-skew)) {
		return &Error{Code: CodeInvalidSignature, Message: "Signature expired: " + t.Format(amzDateLayout) + " is now earlier than " + n.Add(-skew).Format(amzDateLayout) + " (" + n.Format(amzDateLayout) + " - " + mins + " min.)"}
	}
	return nil
}

// payloadHash returns the hex SHA-256 the signature covers for body, checking
// a declared X-Amz-Content-Sha256 against the body.
func payloadHash(r *http.Request, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	computed := hex.EncodeToString(sum[:])
	declared := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case declared == "":
		return computed, nil
	case declared == UnsignedPayload:
		return declared, nil
	case declared != computed:
		return "", &Error{Code: CodeInvalidSignature, Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	return declared, nil
}

// deriveKey derives the signing key of secret for a's credential scope.
func deriveKey(secret string, a authorization) [sha256.Size]byte {
	var key [sha256.Size]byte
	k := hmacSum(hmac.New(sha256.New, []byte("AWS4"+secret)), key[:0], a.scopeDate)
	k = hmacSum(hmac.New(sha256.New, k), key[:0], a.region)
	k = hmacSum(hmac.New(sha256.New, k), key[:0], a.service)
	hmacSum(hmac.New(sha256.New, k), key[:0], "aws4_request")
	return key
}

// signature returns the hex HMAC-SHA256, under the signing key, of the
// string to sign built from the canonical request.
func signature(key [sha256.Size]byte, a authorization, amzDate string, canonical []byte) [sha256.Size * 2]byte {
	creq := sha256.Sum256(canonical)
	var hexReq [sha256.Size * 2]byte
	hex.Encode(hexReq[:], creq[:])

	sts := make([]byte, 0, 256)
	sts = append(sts, Algorithm...)
	sts = append(sts, '\n')
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = appendScope(sts, a)
	sts = append(sts, '\n')
	sts = append(sts, hexReq[:]...)

	mac := hmac.New(sha256.New, key[:])
	mac.Write(sts)
	var sum [sha256.Size]byte
	var out [sha256.Size * 2]byte
	hex.Encode(out[:], mac.Sum(sum[:0]))
	return out
}

// hmacSum writes s to mac and appends the MAC to dst.
func hmacSum(mac hash.Hash, dst []byte, s string) []byte {
	mac.Write([]byte(s))
	return mac.Sum(dst)
}

// appendScope appends the credential scope date/region/service/aws4_request.
func appendScope(dst []byte, a authorization) []byte {
	dst = append(dst, a.scopeDate...)
	dst = append(dst, '/')
	dst = append(dst, a.region...)
	dst = append(dst, '/')
	dst = append(dst, a.service...)
	dst = append(dst, "/aws4_request"...)
	return dst
}

// signs reports whether name (lowercase) is among the signed headers.
func (a authorization) signs(name string) bool {
	for _, h := range a.signedHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}
