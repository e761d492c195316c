package sigv4

import (
	"strconv"
	"strings"
)

// authorization is the parsed signature of a request, from either the
// Authorization header or presigned query parameters.
type authorization struct {
	accessKey     string
	scopeDate     string // YYYYMMDD from the credential scope
	region        string
	service       string
	signedHeaders []string // lowercase, in the order the client listed them
	signature     string   // hex, as sent
	date          string   // X-Amz-Date; presigned requests only
}

// String formats a as an Authorization header value; parseAuthorization
// reads it back unchanged.
func (a authorization) String() string {
	return Algorithm + " Credential=" + a.accessKey + "/" + a.scopeDate + "/" + a.region + "/" + a.service +
		"/aws4_request, SignedHeaders=" + strings.Join(a.signedHeaders, ";") + ", Signature=" + a.signature
}

// parseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/timestream/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
//
// Components may come in any order, separated by commas and optional spaces.
// Errors are *Error with CodeIncompleteSignature.
func parseAuthorization(h string) (authorization, error) {
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != Algorithm {
		if !ok {
			alg = h
		}
		return authorization{}, incomplete("Unsupported AWS 'algorithm': '" + alg + "'.")
	}
	var a authorization
	var credential, signedHeaders string
	var seenCred, seenSigned, seenSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " ")
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok || value == "" || strings.ContainsAny(value, " \t") {
			return authorization{}, incomplete("Authorization header component '" + part + "' is not of the form Key=Value. Authorization=" + h)
		}
		var seen *bool
		switch key {
		case "Credential":
			credential, seen = value, &seenCred
		case "SignedHeaders":
			signedHeaders, seen = value, &seenSigned
		case "Signature":
			a.signature, seen = value, &seenSig
		default:
			return authorization{}, incomplete("Authorization header has unknown component '" + key + "'. Authorization=" + h)
		}
		if *seen {
			return authorization{}, incomplete("Authorization header has component '" + key + "' more than once. Authorization=" + h)
		}
		*seen = true
	}
	var missing []string
	if !seenCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !seenSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !seenSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return authorization{}, incomplete(strings.Join(missing, " ") + " Authorization=" + h)
	}
	if err := a.parseCredential(credential); err != nil {
		return authorization{}, err
	}
	if err := a.parseSignedHeaders(signedHeaders); err != nil {
		return authorization{}, err
	}
	return a, nil
}

// parsePresigned reads the signature of a presigned URL from its decoded
// query parameters and returns it with X-Amz-Expires in seconds.
func parsePresigned(q query) (authorization, int64, error) {
	var missing []string
	get := func(name string) string {
		v, ok := q.get(name)
		if !ok || v == "" {
			missing = append(missing, "'"+name+"'")
		}
		return v
	}
	alg := get("X-Amz-Algorithm")
	credential := get("X-Amz-Credential")
	signedHeaders := get("X-Amz-SignedHeaders")
	sig := get("X-Amz-Signature")
	date := get("X-Amz-Date")
	exp := get("X-Amz-Expires")
	if len(missing) > 0 {
		return authorization{}, 0, incomplete("AWS query-string parameters must include " + strings.Join(missing, ", ") + ". Re-examine the query-string parameters.")
	}
	if alg != Algorithm {
		return authorization{}, 0, incomplete("Unsupported AWS 'algorithm': '" + alg + "'.")
	}
	expires, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || expires < 1 || expires > maxPresignExpires {
		return authorization{}, 0, incomplete("X-Amz-Expires must be a whole number of seconds from 1 to 604800, got '" + exp + "'.")
	}
	a := authorization{signature: sig, date: date}
	if err := a.parseCredential(credential); err != nil {
		return authorization{}, 0, err
	}
	if err := a.parseSignedHeaders(signedHeaders); err != nil {
		return authorization{}, 0, err
	}
	return a, expires, nil
}

// parseCredential splits AKID/YYYYMMDD/region/service/aws4_request into a.
func (a *authorization) parseCredential(c string) error {
	parts := strings.Split(c, "/")
	if len(parts) != 5 {
		return incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + c + "'.")
	}
	for _, p := range parts {
		if p == "" {
			return incomplete("Credential has an empty element: '" + c + "'.")
		}
	}
	if parts[4] != "aws4_request" {
		return incomplete("Credential should be scoped with a valid terminator: 'aws4_request', not '" + parts[4] + "'.")
	}
	if !isDate(parts[1]) {
		return incomplete("Credential date must be in YYYYMMDD form, not '" + parts[1] + "'.")
	}
	a.accessKey, a.scopeDate, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// parseSignedHeaders splits the semicolon-separated lowercase header list.
func (a *authorization) parseSignedHeaders(s string) error {
	n := strings.Count(s, ";") + 1
	a.signedHeaders = make([]string, 0, n)
	for name := range strings.SplitSeq(s, ";") {
		if name == "" || !isLowerToken(name) {
			return incomplete("SignedHeaders must be a semicolon-separated list of lowercase header names, got '" + s + "'.")
		}
		a.signedHeaders = append(a.signedHeaders, name)
	}
	return nil
}

// isDate reports whether s is eight ASCII digits.
func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isLowerToken reports whether s is a valid HTTP header name with no
// uppercase letters.
func isLowerToken(s string) bool {
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
