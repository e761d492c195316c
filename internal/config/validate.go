package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Limits checked by Validate.
const (
	minRequestBytes  = KiB
	maxRequestBytes  = GiB
	minSegmentSize   = MiB
	maxSegmentSize   = 4 * GiB
	minQueryMemory   = MiB
	minMemoryHours   = 1
	maxMemoryHours   = 8766
	minMagneticDays  = 1
	maxMagneticDays  = 73000
	minCheckpoint    = time.Second
	minSyncInterval  = time.Millisecond
	maxNameLen       = 256
	minNameLen       = 3
	maxAccessKeyLen  = 128
	maxTenantNameLen = 256
	minTokenLen      = 16
	maxTokenLen      = 4096
)

// Validate checks every value. It reports all problems at once, joined, one
// per line, each naming its key:
//
//	config: wal.sync: unknown value "sometimes" (want batch, interval or never)
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...)))
	}

	// server
	host, port, err := net.SplitHostPort(c.Server.Listen)
	if err != nil {
		bad("server.listen", "%q is not HOST:PORT", c.Server.Listen)
	} else if p, err := strconv.ParseUint(port, 10, 16); err != nil || (p == 0 && port != "0") {
		bad("server.listen", "invalid port %q (want 0 to 65535)", port)
	} else if !c.AuthEnabled() && !c.Server.Insecure && !isLoopback(host) {
		bad("server.listen", "%q is not a loopback address and auth.access_keys and auth.bearer_tokens are empty: add credentials or set server.insecure: true to serve without authentication", c.Server.Listen)
	}
	if (c.MQTT.DeadLetter.Table == "") != (c.MQTT.DeadLetter.Database == "") {
		bad("mqtt.dead_letter", "database and table must be set together")
	}
	if c.MQTT.Listen != "" {
		host, _, err := net.SplitHostPort(c.MQTT.Listen)
		switch {
		case err != nil:
			bad("mqtt.listen", "%q is not HOST:PORT", c.MQTT.Listen)
		case !c.AuthEnabled() && !c.Server.Insecure && !isLoopback(host):
			bad("mqtt.listen", "%q is not a loopback address and no credentials are configured: add credentials or set server.insecure: true", c.MQTT.Listen)
		}
	}
	switch {
	case (c.Server.TLSCertFile == "") != (c.Server.TLSKeyFile == ""):
		bad("server.tls_cert_file", "tls_cert_file and tls_key_file must be set together")
	case c.Server.TLSClientCAFile != "" && c.Server.TLSCertFile == "":
		bad("server.tls_client_ca_file", "needs server.tls_cert_file and server.tls_key_file")
	}
	if c.Server.DataDir == "" {
		bad("server.data_dir", "must not be empty")
	}
	sizeRange(bad, "server.max_request_bytes", c.Server.MaxRequestBytes, minRequestBytes, maxRequestBytes)
	positive(bad, "server.shutdown_timeout", c.Server.ShutdownTimeout, 0)
	if c.Server.MemoryLimit != 0 {
		sizeRange(bad, "server.memory_limit", c.Server.MemoryLimit, 16*MiB, 1<<50)
	}
	intRange(bad, "server.gc_percent", c.Server.GCPercent, 0, 10000)

	// auth
	seen := make(map[string]int, len(c.Auth.AccessKeys))
	for i, k := range c.Auth.AccessKeys {
		key := "auth.access_keys[" + strconv.Itoa(i) + "]"
		switch {
		case k.AccessKeyID == "":
			bad(key+".access_key_id", "must not be empty")
		case len(k.AccessKeyID) > maxAccessKeyLen || !isKeyID(k.AccessKeyID):
			bad(key+".access_key_id", "%q: want 1 to %d letters, digits, '_', '-' or '.'", k.AccessKeyID, maxAccessKeyLen)
		default:
			if j, dup := seen[k.AccessKeyID]; dup {
				bad(key+".access_key_id", "%q repeats auth.access_keys[%d]", k.AccessKeyID, j)
			}
			seen[k.AccessKeyID] = i
		}
		if k.SecretAccessKey == "" {
			bad(key+".secret_access_key", "must not be empty")
		}
		if k.Role != "" && !isRole(k.Role) {
			bad(key+".role", "unknown role %q (want read, write or admin)", k.Role)
		}
	}
	seenTok := make(map[string]int, len(c.Auth.BearerTokens))
	for i, tok := range c.Auth.BearerTokens {
		key := "auth.bearer_tokens[" + strconv.Itoa(i) + "]"
		switch {
		case len(tok.Token) < minTokenLen || len(tok.Token) > maxTokenLen || !isToken68(tok.Token):
			bad(key+".token", "want %d to %d characters of letters, digits and -._~+/= (for example: openssl rand -hex 32)", minTokenLen, maxTokenLen)
		default:
			if j, dup := seenTok[tok.Token]; dup {
				bad(key+".token", "repeats auth.bearer_tokens[%d]", j)
			}
			seenTok[tok.Token] = i
		}
		if !isRole(tok.Role) {
			bad(key+".role", "unknown role %q (want read, write or admin)", tok.Role)
		}
	}
	if c.Auth.FailureBurst < -1 {
		bad("auth.failure_burst", "%d: want a count of attempts, 0 for the default or -1 to turn the limit off", c.Auth.FailureBurst)
	}
	if c.Auth.FailureRefill < 0 {
		bad("auth.failure_refill", "%s: must not be negative", c.Auth.FailureRefill)
	}
	if !isRegion(c.Auth.Region) {
		bad("auth.region", "%q: want lowercase letters, digits and '-', such as us-east-1", c.Auth.Region)
	}

	// limits
	for _, l := range []struct {
		key string
		v   int
	}{{"databases", c.Limits.Databases}, {"tables", c.Limits.Tables}, {"dimensions_per_table", c.Limits.DimensionsPerTable},
		{"measure_names", c.Limits.MeasureNames}, {"attributes_per_table", c.Limits.AttributesPerTable}} {
		if l.v < 0 {
			bad("limits."+l.key, "%d: must not be negative (0 takes the default)", l.v)
		}
	}

	// wal
	switch c.WAL.Sync {
	case SyncBatch, SyncInterval, SyncNever:
	default:
		bad("wal.sync", "unknown value %q (want batch, interval or never)", string(c.WAL.Sync))
	}
	positive(bad, "wal.sync_interval", c.WAL.SyncInterval, minSyncInterval)
	sizeRange(bad, "wal.segment_size", c.WAL.SegmentSize, minSegmentSize, maxSegmentSize)

	// retention
	intRange(bad, "retention.memory_hours", c.Retention.MemoryHours, minMemoryHours, maxMemoryHours)
	intRange(bad, "retention.magnetic_days", c.Retention.MagneticDays, minMagneticDays, maxMagneticDays)

	// memstore
	positive(bad, "memstore.checkpoint_interval", c.Memstore.CheckpointInterval, minCheckpoint)
	if c.Memstore.MaxSeries < 0 {
		bad("memstore.max_series", "%d is negative (want 0 for unlimited, or a positive limit)", c.Memstore.MaxSeries)
	}

	// prometheus
	tableName(bad, "prometheus.database", c.Prometheus.Database)
	tableName(bad, "prometheus.table", c.Prometheus.Table)
	if h := c.Prometheus.TenantHeader; h != "" && (len(h) > maxTenantNameLen || !isHeaderName(h)) {
		bad("prometheus.tenant_header", "%q is not an HTTP header name", h)
	}
	if c.Prometheus.MaxTenants < 1 {
		bad("prometheus.max_tenants", "%d: want a positive number", c.Prometheus.MaxTenants)
	}

	// query
	if c.Query.MaxMemoryBytes < minQueryMemory {
		bad("query.max_memory_bytes", "%s is below the minimum %s", c.Query.MaxMemoryBytes, minQueryMemory)
	}
	positive(bad, "query.timeout", c.Query.Timeout, 0)
	if c.Query.MaxSamples < 1 {
		bad("query.max_samples", "%d: want a positive number", c.Query.MaxSamples)
	}

	// scheduled
	switch c.Scheduled.MissedRuns {
	case "catch-up", "skip":
	default:
		bad("scheduled.missed_runs", "unknown value %q (want catch-up or skip)", c.Scheduled.MissedRuns)
	}
	if c.Scheduled.MaxCatchUp < 1 {
		bad("scheduled.max_catch_up", "%d: want a positive number", c.Scheduled.MaxCatchUp)
	}
	if u := c.Scheduled.NotificationURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		bad("scheduled.notification_url", "%q is not an http(s) URL", u)
	}

	// unload
	if c.Unload.FileRoot != "" && !filepath.IsAbs(c.Unload.FileRoot) {
		bad("unload.file_root", "%q must be an absolute path", c.Unload.FileRoot)
	}
	if e := c.Unload.S3.Endpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("unload.s3.endpoint", "%q is not an http(s)://host[:port] URL", e)
		}
		if (c.Unload.S3.AccessKeyID == "") != (c.Unload.S3.SecretAccessKey == "") {
			bad("unload.s3.access_key_id", "access_key_id and secret_access_key must be set together")
		}
	}

	// storage
	if o := c.Storage.Object; o.Bucket != "" || o.Endpoint != "" {
		if o.Bucket == "" {
			bad("storage.object.bucket", "must be set with storage.object.endpoint")
		}
		if e := o.Endpoint; e != "" {
			if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("storage.object.endpoint", "%q is not an http(s)://host[:port] URL", e)
			}
		}
		if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
			bad("storage.object.access_key_id", "access_key_id and secret_access_key must be set together")
		}
		if o.UploadAge < 0 {
			bad("storage.object.upload_age", "%v is negative", o.UploadAge)
		}
		if o.CacheSize < 0 {
			bad("storage.object.cache_size", "%v is negative", o.CacheSize)
		}
	}

	// log
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "unknown value %q (want debug, info, warn or error)", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "unknown value %q (want text or json)", c.Log.Format)
	}
	c.validateIngest(bad)
	return errors.Join(errs...)
}

type reporter func(key, format string, args ...any)

func sizeRange(bad reporter, key string, v, lo, hi Size) {
	if v < lo || v > hi {
		bad(key, "%s out of range (want %s to %s)", v, lo, hi)
	}
}

func intRange(bad reporter, key string, v, lo, hi int) {
	if v < lo || v > hi {
		bad(key, "%d out of range (want %d to %d)", v, lo, hi)
	}
}

// positive checks that d is above zero and at least floor.
func positive(bad reporter, key string, d, floor time.Duration) {
	switch {
	case d <= 0:
		bad(key, "%s: want a positive duration", d)
	case d < floor:
		bad(key, "%s is below the minimum %s", d, floor)
	}
}

// tableName checks a Timestream database or table name: 3 to 256 bytes of
// letters, digits, '_', '.' and '-'.
func tableName(bad reporter, key, name string) {
	if len(name) < minNameLen || len(name) > maxNameLen {
		bad(key, "%q: want %d to %d bytes", name, minNameLen, maxNameLen)
		return
	}
	for i := range len(name) {
		if !isAlnum(name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-' {
			bad(key, "%q: want only letters, digits, '_', '.' and '-'", name)
			return
		}
	}
}

// isLoopback reports whether host names only the local machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isKeyID(s string) bool {
	for i := range len(s) {
		if !isAlnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.' {
			return false
		}
	}
	return true
}

func isRole(s string) bool {
	return s == RoleRead || s == RoleWrite || s == RoleAdmin
}

// isToken68 reports whether s is an RFC 9110 token68, the syntax of a
// bearer token.
func isToken68(s string) bool {
	for i := range len(s) {
		if c := s[i]; !isAlnum(c) && strings.IndexByte("-._~+/=", c) < 0 {
			return false
		}
	}
	return true
}

func isRegion(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isHeaderName reports whether s is an RFC 9110 token.
func isHeaderName(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !isAlnum(c) && !(c == '!' || '#' <= c && c <= '\'' || c == '*' || c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~') {
			return false
		}
	}
	return true
}
