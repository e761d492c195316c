// Package config reads the YAML configuration file of `tidal server`
// (--config FILE): snake_case keys, every key optional with an embedded
// default, unknown keys rejected with their line, every value range-checked
// by Validate. docs/config.md lists every key.
//
// It owns the file format and the defaults only. It imports no other TidalDB
// package: cmd/tidal maps a Config onto each package's options struct, applies
// command-line flags over it, and calls Validate again.
//
// Config is a plain value; Load and Parse share no state and are safe to call
// concurrently.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Size is a byte count. In YAML it is an integer or a string with a unit:
// "512KB", "64MiB", "1GiB" (see ParseSize).
type Size int64

// Byte multiples used in defaults and limits.
const (
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
	TiB Size = 1 << 40
)

// Config is the whole configuration of `tidal server`.
type Config struct {
	Server     Server     `yaml:"server"`
	Auth       Auth       `yaml:"auth"`
	WAL        WAL        `yaml:"wal"`
	Retention  Retention  `yaml:"retention"`
	Memstore   Memstore   `yaml:"memstore"`
	Prometheus Prometheus `yaml:"prometheus"`
	MQTT       MQTT       `yaml:"mqtt"`
	Query      Query      `yaml:"query"`
	Scheduled  Scheduled  `yaml:"scheduled"`
	Unload     Unload     `yaml:"unload"`
	Storage    Storage    `yaml:"storage"`
	Log        Log        `yaml:"log"`
	Ingest     Ingest     `yaml:"ingest"`
	Limits     Limits     `yaml:"limits"`
}

// Limits are the catalog's quotas. Zero takes Timestream's default quota,
// given with each field.
type Limits struct {
	// Databases bounds the databases (500).
	Databases int `yaml:"databases"`
	// Tables bounds the tables of all databases together (50000).
	Tables int `yaml:"tables"`
	// DimensionsPerTable bounds the distinct dimension names a table
	// holds (128). Every label name of every metric in the Prometheus
	// table counts: raise it for large Kubernetes label sets.
	DimensionsPerTable int `yaml:"dimensions_per_table"`
	// MeasureNames bounds the measure names of a table (8192).
	MeasureNames int `yaml:"measure_names"`
	// AttributesPerTable bounds the multi-measure attributes of a table
	// (1024).
	AttributesPerTable int `yaml:"attributes_per_table"`
}

// Server configures the HTTP listener and the data directory.
type Server struct {
	// Listen is the HOST:PORT of the one HTTP port serving every API.
	Listen string `yaml:"listen"`
	// DataDir holds the WAL, checkpoints and magnetic parts.
	DataDir string `yaml:"data_dir"`
	// Insecure allows listening on a non-loopback address without access
	// keys or bearer tokens. With credentials configured, every request
	// except GET /healthz is authenticated.
	Insecure bool `yaml:"insecure"`
	// TLSCertFile and TLSKeyFile are PEM files of the server certificate
	// (with its chain) and private key; set both to serve HTTPS on Listen.
	// They are reloaded on SIGHUP and when the files change.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// TLSClientCAFile, if set, is a PEM bundle of CAs; every client must
	// then present a certificate they signed.
	TLSClientCAFile string `yaml:"tls_client_ca_file"`
	// MetricsPublic serves GET /metrics without credentials.
	MetricsPublic bool `yaml:"metrics_public"`
	// EnablePprof serves /debug/pprof/ (to admin credentials only).
	EnablePprof bool `yaml:"enable_pprof"`
	// MaxRequestBytes caps the size of a request body.
	MaxRequestBytes Size `yaml:"max_request_bytes"`
	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// in-flight requests.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MemoryLimit is the Go runtime's soft memory limit
	// (runtime/debug.SetMemoryLimit): the garbage collector runs more
	// often as the heap nears it, trading CPU for a lower peak RSS. It is
	// soft: a heap that needs more gets more. 0 means automatic: the
	// GOMEMLIMIT environment variable when set, else 3/4 of the cgroup's
	// memory limit when the process runs under one, else none.
	MemoryLimit Size `yaml:"memory_limit"`
	// GCPercent is the garbage collector's heap growth target (GOGC): a
	// collection starts when the heap has grown by this percentage of what
	// the last one left. 0 means the GOGC environment variable or Go's
	// default of 100.
	GCPercent int `yaml:"gc_percent"`
}

// Auth holds the credentials clients authenticate with: access key pairs
// (SigV4 or HTTP basic auth) and bearer tokens.
type Auth struct {
	// AccessKeys are the accepted key pairs. With neither access keys nor
	// bearer tokens authentication is off, which Validate allows only on a
	// loopback address or with server.insecure.
	AccessKeys []AccessKey `yaml:"access_keys"`
	// BearerTokens are accepted in "Authorization: Bearer <token>".
	BearerTokens []BearerToken `yaml:"bearer_tokens"`
	// Region is the region TidalDB reports (ARNs, endpoint discovery).
	Region string `yaml:"region"`
	// FailureBurst is how many wrong credentials one client address may
	// present (on any listener: HTTP, console sign-in, MQTT) before its
	// requests are answered 429 without being checked; it regains one
	// attempt every FailureRefill. Zero means 10 and 6s; a negative burst
	// turns the limit off.
	FailureBurst  int           `yaml:"failure_burst"`
	FailureRefill time.Duration `yaml:"failure_refill"`
}

// Roles a credential may hold.
const (
	RoleRead  = "read"
	RoleWrite = "write"
	RoleAdmin = "admin"
)

// AccessKey is one access key id, its secret and its role.
type AccessKey struct {
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	// Role is read, write or admin; empty means admin, so that
	// configurations written before roles existed keep their access.
	Role string `yaml:"role,omitempty"`
}

// BearerToken is one token and its role (required).
type BearerToken struct {
	Token string `yaml:"token"`
	Role  string `yaml:"role"`
}

// SyncMode says when the WAL is fsynced.
type SyncMode string

// WAL sync modes.
const (
	// SyncBatch fsyncs before acknowledging, grouping concurrent writes into
	// one fsync (group commit).
	SyncBatch SyncMode = "batch"
	// SyncInterval fsyncs every WAL.SyncInterval; a crash may lose
	// acknowledged writes of the last interval.
	SyncInterval SyncMode = "interval"
	// SyncNever leaves flushing to the operating system.
	SyncNever SyncMode = "never"
)

// WAL configures the write-ahead log.
type WAL struct {
	Sync         SyncMode      `yaml:"sync"`
	SyncInterval time.Duration `yaml:"sync_interval"`
	SegmentSize  Size          `yaml:"segment_size"`
}

// Retention holds the retention of tables that are created implicitly (by
// Prometheus remote write, Influx line protocol, ...).
type Retention struct {
	MemoryHours  int `yaml:"memory_hours"`
	MagneticDays int `yaml:"magnetic_days"`
	// MagneticWrites lets such tables take records older than the memory
	// retention (straight into the magnetic tier) instead of rejecting them.
	MagneticWrites bool `yaml:"magnetic_writes"`
}

// Memstore configures the in-memory tier.
type Memstore struct {
	// CheckpointInterval is how often the memory tier is checkpointed so
	// that WAL segments can be removed.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// MaxSeries caps the number of in-memory series; 0 means unlimited.
	MaxSeries int `yaml:"max_series"`
}

// Prometheus configures where Prometheus remote write lands.
// MQTT configures the embedded MQTT broker (off unless Listen is set).
type MQTT struct {
	// Listen is the TCP HOST:PORT of the broker, such as 127.0.0.1:1883;
	// empty turns the broker off.
	Listen string `yaml:"listen"`
	// Topics maps topic patterns to tables, first match wins.
	Topics []MQTTTopic `yaml:"topics"`
	// Subscribe lists external brokers to subscribe to (independent of
	// Listen).
	Subscribe []MQTTSubscribe `yaml:"subscribe"`
	// DeadLetter, when its table is set, records every message with a
	// refused payload (topic, reason, payload).
	DeadLetter MQTTDeadLetter `yaml:"dead_letter"`
}

// MQTTDeadLetter names the dead-letter table of MQTT messages.
type MQTTDeadLetter struct {
	Database string `yaml:"database"`
	Table    string `yaml:"table"`
}

// MQTTSubscribe is a subscription to an external MQTT broker.
type MQTTSubscribe struct {
	// Broker URL: tcp://host:1883, ssl://host:8883.
	Broker   string `yaml:"broker"`
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// ShareGroup subscribes with $share/<group>/ so that tidal processes
	// of one group split the messages.
	ShareGroup string      `yaml:"share_group"`
	Topics     []MQTTTopic `yaml:"topics"`
}

// MQTTTopic maps the messages of one topic pattern to records (see package
// ingest/mqtt).
type MQTTTopic struct {
	// Pattern such as factory/{site}/{line}/{device}/telemetry: named
	// segments become dimensions.
	Pattern  string `yaml:"pattern"`
	Database string `yaml:"database"`
	// Table; empty means the line protocol measurement, or for JSON the
	// pattern's last literal segment.
	Table string `yaml:"table"`
	// Format is json (default) or lineproto.
	Format      string `yaml:"format"`
	MeasureName string `yaml:"measure_name"`
	// TimeField and TimeUnit: the JSON time field (default time) and the
	// unit of numeric times (ns, us, ms, s; default ms for JSON, ns for
	// line protocol).
	TimeField string `yaml:"time_field"`
	TimeUnit  string `yaml:"time_unit"`
	// TimeLayout parses string times (a Go layout; default RFC 3339).
	TimeLayout string `yaml:"time_layout"`
	// Dimensions lists JSON field paths stored as dimensions.
	Dimensions []string `yaml:"dimensions"`
	// Measures, as in a pipeline mapping, lists the JSON measure fields
	// and their types; empty means every other field, typed by its JSON
	// type.
	Measures Measures `yaml:"measures"`
}

type Prometheus struct {
	Database string `yaml:"database"`
	Table    string `yaml:"table"`
	// TenantHeader, if set, names the HTTP header whose value selects the
	// database instead of Database.
	TenantHeader string `yaml:"tenant_header"`
	// MaxTenants bounds the databases tenant routing may create: a write
	// for a new tenant once the server holds this many databases is
	// refused.
	MaxTenants int `yaml:"max_tenants"`
}

// Query bounds the resources of one query.
type Query struct {
	MaxMemoryBytes Size          `yaml:"max_memory_bytes"`
	Timeout        time.Duration `yaml:"timeout"`
	MaxSamples     int64         `yaml:"max_samples"`
}

// Scheduled configures the scheduled-query runner.
type Scheduled struct {
	// MissedRuns says what happens to invocations missed while the server
	// was down: "catch-up" runs them in order (at most MaxCatchUp per
	// query, the most recent), "skip" runs only the latest.
	MissedRuns string `yaml:"missed_runs"`
	// MaxCatchUp bounds the missed invocations run per query.
	MaxCatchUp int `yaml:"max_catch_up"`
	// NotificationURL, if set, receives every scheduled-query notification
	// as a webhook POST.
	NotificationURL string `yaml:"notification_url"`
}

// Unload configures the targets of the SQL UNLOAD statement; with
// neither set, UNLOAD is refused.
type Unload struct {
	// FileRoot enables TO 'file:///path': the files go to FileRoot/path.
	FileRoot string `yaml:"file_root"`
	// S3 enables TO 's3://bucket/prefix' on an S3-compatible endpoint.
	S3 UnloadS3 `yaml:"s3"`
}

// UnloadS3 is the S3-compatible endpoint UNLOAD writes s3:// targets to.
type UnloadS3 struct {
	Endpoint        string `yaml:"endpoint"`
	Region          string `yaml:"region"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	PathStyle       bool   `yaml:"path_style"`
}

// Storage configures where the magnetic tier keeps its parts.
type Storage struct {
	// Object, when its bucket is set, keeps the parts of old partitions
	// in an S3-compatible object store (docs/object-storage.md).
	Object ObjectStorage `yaml:"object"`
}

// ObjectStorage is the S3-compatible bucket of the magnetic tier.
type ObjectStorage struct {
	// Endpoint is the http(s) URL of the service; empty means AWS S3.
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"`
	// Bucket enables object storage.
	Bucket string `yaml:"bucket"`
	// Prefix is prepended to every key; one prefix per server.
	Prefix          string `yaml:"prefix"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	PathStyle       bool   `yaml:"path_style"`
	// UploadAge is how long after a partition ends its parts are
	// uploaded; 0 means 24h.
	UploadAge time.Duration `yaml:"upload_age"`
	// CacheSize bounds the cache of blocks of remote parts (512 KiB
	// range requests), behind the magnetic tier's chunk cache; 0 means
	// 64 MiB.
	CacheSize Size `yaml:"cache_size"`
}

// Log configures the server's slog output.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// Default returns the configuration `tidal server` runs with when there is
// no file; it passes Validate.
func Default() Config {
	return Config{
		Server: Server{
			Listen:          "127.0.0.1:7490",
			DataDir:         "./tidal-data",
			MaxRequestBytes: 8 * MiB,
			ShutdownTimeout: 10 * time.Second,
		},
		Auth:       Auth{Region: "us-east-1"},
		WAL:        WAL{Sync: SyncBatch, SyncInterval: time.Second, SegmentSize: 128 * MiB},
		Retention:  Retention{MemoryHours: 6, MagneticDays: 73000, MagneticWrites: true},
		Memstore:   Memstore{CheckpointInterval: 5 * time.Minute},
		Prometheus: Prometheus{Database: "prometheus", Table: "metrics", MaxTenants: 1000},
		Query:      Query{MaxMemoryBytes: GiB, Timeout: 60 * time.Second, MaxSamples: 50_000_000},
		Scheduled:  Scheduled{MissedRuns: "catch-up", MaxCatchUp: 100},
		Log:        Log{Level: "info", Format: "text"},
	}
}

// Load reads the file at path and returns Default() overlaid with it,
// validated.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: read %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("load %s: %w", path, err)
	}
	return c, nil
}

// Parse returns Default() overlaid with the YAML document in data, validated.
// Keys absent from data, or present with an empty value, keep their default.
func Parse(data []byte) (Config, error) {
	c := Default()
	if err := decode(data, &c); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// SlogLevel returns Level as a slog.Level; an unknown level (which Validate
// rejects) is info.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Credentials returns the access keys as a map from access key id to
// secret, the shape sigv4.Credentials has.
func (a Auth) Credentials() map[string]string {
	m := make(map[string]string, len(a.AccessKeys))
	for _, k := range a.AccessKeys {
		m[k.AccessKeyID] = k.SecretAccessKey
	}
	return m
}

// AuthEnabled reports whether requests must carry credentials: whenever
// access keys or bearer tokens are configured.
func (c *Config) AuthEnabled() bool {
	return len(c.Auth.AccessKeys) > 0 || len(c.Auth.BearerTokens) > 0
}

// KeyRole returns the role of k, admin when k.Role is empty.
func (k AccessKey) KeyRole() string {
	if k.Role == "" {
		return RoleAdmin
	}
	return k.Role
}
