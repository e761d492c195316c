package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// queryParam is one decoded query-string parameter.
type queryParam struct {
	key, value string
}

// query is the decoded query string in request order.
type query []queryParam

// parseQuery decodes a raw query string. Unlike url.ParseQuery it keeps
// semicolons as data and never drops parameters.
func parseQuery(raw string) (query, error) {
	if raw == "" {
		return nil, nil
	}
	q := make(query, 0, strings.Count(raw, "&")+1)
	var firstErr error
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			firstErr = err
			continue
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			firstErr = err
			continue
		}
		q = append(q, queryParam{dk, dv})
	}
	return q, firstErr
}

// get returns the first value of the parameter named key.
func (q query) get(key string) (string, bool) {
	for _, p := range q {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// has reports whether the parameter named key is present.
func (q query) has(key string) bool {
	_, ok := q.get(key)
	return ok
}

// canonicalRequest builds the SigV4 canonical request:
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//
// The URI is the path as sent, URI-encoded once more (the non-S3 rule); the
// query is every parameter but X-Amz-Signature, encoded and sorted; headers
// are the signed ones, lowercase, values trimmed with inner spaces collapsed.
func canonicalRequest(r *http.Request, q query, a authorization, payloadHash string, presign bool) []byte {
	buf := make([]byte, 0, 512)
	buf = append(buf, r.Method...)
	buf = append(buf, '\n')
	buf = appendURIEncoded(buf, rawPath(r), false)
	buf = append(buf, '\n')
	buf = appendCanonicalQuery(buf, q, presign)
	buf = append(buf, '\n')
	for _, name := range a.signedHeaders {
		buf = append(buf, name...)
		buf = append(buf, ':')
		buf = appendHeaderValue(buf, r, name)
		buf = append(buf, '\n')
	}
	buf = append(buf, '\n')
	for i, name := range a.signedHeaders {
		if i > 0 {
			buf = append(buf, ';')
		}
		buf = append(buf, name...)
	}
	buf = append(buf, '\n')
	buf = append(buf, payloadHash...)
	return buf
}

// rawPath returns the request path exactly as the client sent it.
func rawPath(r *http.Request) string {
	if p := r.RequestURI; strings.HasPrefix(p, "/") {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return p
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// appendCanonicalQuery appends the encoded parameters sorted by key, then
// value, leaving out X-Amz-Signature on presigned requests.
func appendCanonicalQuery(dst []byte, q query, presign bool) []byte {
	if len(q) == 0 {
		return dst
	}
	enc := make([]queryParam, 0, len(q))
	for _, p := range q {
		if presign && p.key == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, queryParam{encodeComponent(p.key), encodeComponent(p.value)})
	}
	slices.SortFunc(enc, func(x, y queryParam) int {
		if c := strings.Compare(x.key, y.key); c != 0 {
			return c
		}
		return strings.Compare(x.value, y.value)
	})
	for i, p := range enc {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.key...)
		dst = append(dst, '=')
		dst = append(dst, p.value...)
	}
	return dst
}

// encodeComponent URI-encodes s with every byte outside A-Z a-z 0-9 - _ . ~
// percent-encoded.
func encodeComponent(s string) string {
	for i := range len(s) {
		if !isUnreserved(s[i]) {
			return string(appendURIEncoded(make([]byte, 0, len(s)+16), s, true))
		}
	}
	return s
}

// appendURIEncoded appends s percent-encoded as SigV4 requires (uppercase
// hex); '/' is kept as is unless encodeSlash.
func appendURIEncoded(dst []byte, s string, encodeSlash bool) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := range len(s) {
		c := s[i]
		if isUnreserved(c) || (c == '/' && !encodeSlash) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// appendHeaderValue appends the canonical value of the signed header name:
// all values joined by commas, each trimmed with runs of spaces collapsed.
// Host, Content-Length and Transfer-Encoding are read from the fields where
// net/http keeps them.
func appendHeaderValue(dst []byte, r *http.Request, name string) []byte {
	switch name {
	case "host":
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return appendTrimmed(dst, host)
	case "content-length":
		if r.Header.Get("Content-Length") == "" && r.ContentLength >= 0 {
			return strconv.AppendInt(dst, r.ContentLength, 10)
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return append(dst, strings.Join(r.TransferEncoding, ",")...)
		}
	}
	first := true
	for k, vs := range r.Header {
		if !strings.EqualFold(k, name) {
			continue
		}
		for _, v := range vs {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendTrimmed(dst, v)
		}
	}
	return dst
}

// appendTrimmed appends v without leading and trailing whitespace and with
// every run of spaces inside it reduced to one space.
func appendTrimmed(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := range len(v) {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}
