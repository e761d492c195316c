// Package auth is TidalDB's one authentication layer for HTTP. Every route the
// server answers is registered on a Router together with the role it needs
// (r.Handle("POST /api/v1/write", auth.Write, h)); the Router checks the
// request's credentials before the handler runs. A request that matches no
// registered route is refused: 401 without valid credentials, 404 with them.
// The package also owns the server's TLS certificate reloading (CertReloader).
//
// Credentials are the configured access key pairs and bearer tokens, each
// holding one role. A request presents exactly one of:
//
//   - AWS Signature Version 4 (Authorization header or presigned query string)
//     made with a key pair, in any region, for service "timestream" on the AWS
//     JSON routes and "timestream" or "aps" (what Prometheus remote_write.sigv4
//     and Grafana's SigV4 option sign with) on every other route;
//   - HTTP basic auth with the access key id as user and the secret access key
//     as password (Prometheus basic_auth, Grafana, Telegraf, IoT gateways);
//   - "Authorization: Bearer <token>" with a configured token; InfluxDB's
//     "Authorization: Token <token>" is the same, and "Token <key id>:<secret>"
//     (InfluxDB's 1.x compatibility form) is a key pair;
//   - on InfluxDB routes (HandleInflux) only, the 1.x query parameters u and
//     p as key id and secret.
//   - a bearer token alone in X-Amz-Firehose-Access-Key (what Amazon Data
//     Firehose's HTTP endpoint destination sends) when there is no
//     Authorization header.
//   - without an Authorization header, a browser session cookie that
//     SignIn issued for a key pair or token (the web console); a session
//     request that may change state also needs the session's CSRF token in
//     X-CSRF-Token (see session.go).
//
// Roles: Read may query, Write may ingest, Admin may do everything, including
// schema changes (DDL), the admin API and pprof. Read and Write do not include
// each other, so a remote_write key cannot read data back. A route needs one of
// Public (no credential, only GET /healthz), Any (any valid credential), Read,
// Write or Admin. Failures never reach the handler: a missing, malformed or
// wrong basic or bearer credential gets 401 with WWW-Authenticate, a bad SigV4
// signature the AWS error code with 403 (400 when malformed), a valid
// credential without the role 403. On AWS JSON routes every refusal has the
// AWS JSON error shape ({"__type": ..., "Message": ...}).
//
// With no credentials configured the Router is open and serves every
// registered route unchecked; config.Validate allows that only on a loopback
// listen address or with --insecure.
//
// # Contract for every listener
//
// Every HTTP endpoint of the server, including those added later (Influx line
// protocol /write, the Firehose endpoint, the console, the Grafana plugin's
// backend), is registered on the server's one Router with the role it needs;
// none gets its own ServeMux, listener or credential check. Ingest routes need
// Write, query routes Read, anything that changes schema or server state
// Admin; Public is for liveness only. A handler may read who called it with
// PrincipalFrom but never re-authenticates. Protocols on their own listeners
// (MQTT, Kafka, Kinesis) have their own credentials and are outside this
// package.
//
// Router, Authenticator and CertReloader are safe for concurrent use; routes
// must all be registered before the Router serves its first request.
package auth

import (
	"context"
	"fmt"
)

// Role is what a credential may do, and what a route needs.
type Role uint8

// Roles, from least to most privileged. Public and Any are only needed by
// routes; a credential holds Read, Write or Admin.
const (
	// Public routes are served without credentials.
	Public Role = iota
	// Any routes need a valid credential of any role.
	Any
	// Read routes query data.
	Read
	// Write routes ingest data.
	Write
	// Admin routes change schema or server state; Admin holds every role.
	Admin
)

// String returns the role's configuration name.
func (r Role) String() string {
	switch r {
	case Public:
		return "public"
	case Any:
		return "any"
	case Read:
		return "read"
	case Write:
		return "write"
	case Admin:
		return "admin"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// ParseRole returns the credential role named s: read, write or admin.
func ParseRole(s string) (Role, error) {
	switch s {
	case "read":
		return Read, nil
	case "write":
		return Write, nil
	case "admin":
		return Admin, nil
	}
	return 0, fmt.Errorf("auth: unknown role %q (want read, write or admin)", s)
}

// allows reports whether a credential holding r may use a route needing need.
func (r Role) allows(need Role) bool {
	switch need {
	case Public:
		return true
	case Any:
		return r >= Read
	}
	return r == Admin || r == need
}

// Method is how a request authenticated.
type Method uint8

// Authentication methods.
const (
	// MethodNone: the Router is open, or the route is Public.
	MethodNone Method = iota
	MethodSigV4
	MethodBasic
	MethodBearer
	// MethodSession is a browser session cookie (the console's sign-in).
	MethodSession
)

// String returns the method's name.
func (m Method) String() string {
	switch m {
	case MethodSigV4:
		return "sigv4"
	case MethodBasic:
		return "basic"
	case MethodBearer:
		return "bearer"
	case MethodSession:
		return "session"
	}
	return "none"
}

// Principal is the caller a request authenticated as.
type Principal struct {
	// Name is the access key id, or "token:N" for the Nth configured bearer
	// token (never the token itself); empty when unauthenticated.
	Name   string
	Role   Role
	Method Method
}

type principalKey struct{}

// PrincipalFrom returns the principal the Router attached to ctx; ok is false
// when the request was served unauthenticated (open Router, Public route).
func PrincipalFrom(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}
