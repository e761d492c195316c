package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		want string // "" means valid
	}{
		{"default", func(*Config) {}, ""},
		{"listen without port", func(c *Config) { c.Server.Listen = "localhost" }, `config: server.listen: "localhost" is not HOST:PORT`},
		{"listen port out of range", func(c *Config) { c.Server.Listen = "127.0.0.1:70000" }, `config: server.listen: invalid port "70000" (want 0 to 65535)`},
		{"listen port name", func(c *Config) { c.Server.Listen = "127.0.0.1:http" }, `config: server.listen: invalid port "http" (want 0 to 65535)`},
		{"listen port zero", func(c *Config) { c.Server.Listen = "127.0.0.1:0" }, ""},
		{"listen localhost", func(c *Config) { c.Server.Listen = "localhost:7490" }, ""},
		{"listen ipv6 loopback", func(c *Config) { c.Server.Listen = "[::1]:7490" }, ""},
		{"mqtt loopback without credentials", func(c *Config) { c.MQTT.Listen = "127.0.0.1:1883" }, ""},
		{"mqtt network without credentials", func(c *Config) { c.MQTT.Listen = ":1883" },
			`config: mqtt.listen: ":1883" is not a loopback address and no credentials are configured: add credentials or set server.insecure: true`},
		{"mqtt not host:port", func(c *Config) { c.MQTT.Listen = "1883" }, `config: mqtt.listen: "1883" is not HOST:PORT`},
		{
			"listen everywhere without auth", func(c *Config) { c.Server.Listen = ":7490" },
			`config: server.listen: ":7490" is not a loopback address and auth.access_keys and auth.bearer_tokens are empty: add credentials or set server.insecure: true to serve without authentication`,
		},
		{"listen everywhere with a token", func(c *Config) {
			c.Server.Listen = "0.0.0.0:7490"
			c.Auth.BearerTokens = []BearerToken{{Token: "0123456789abcdef", Role: RoleRead}}
		}, ""},
		{"more dimensions per table", func(c *Config) { c.Limits.DimensionsPerTable = 4096 }, ""},
		{"negative limit", func(c *Config) { c.Limits.Tables = -1 }, `config: limits.tables: -1: must not be negative (0 takes the default)`},
		{"failure limit off", func(c *Config) { c.Auth.FailureBurst = -1 }, ""},
		{"failure burst below -1", func(c *Config) { c.Auth.FailureBurst = -2 },
			`config: auth.failure_burst: -2: want a count of attempts, 0 for the default or -1 to turn the limit off`},
		{"failure refill negative", func(c *Config) { c.Auth.FailureRefill = -time.Second }, `config: auth.failure_refill: -1s: must not be negative`},
		{"tls cert without key", func(c *Config) { c.Server.TLSCertFile = "cert.pem" }, "config: server.tls_cert_file: tls_cert_file and tls_key_file must be set together"},
		{"tls key without cert", func(c *Config) { c.Server.TLSKeyFile = "key.pem" }, "config: server.tls_cert_file: tls_cert_file and tls_key_file must be set together"},
		{"tls client ca without cert", func(c *Config) { c.Server.TLSClientCAFile = "ca.pem" }, "config: server.tls_client_ca_file: needs server.tls_cert_file and server.tls_key_file"},
		{"unload relative file root", func(c *Config) { c.Unload.FileRoot = "exports" }, `config: unload.file_root: "exports" must be an absolute path`},
		{"object storage endpoint without bucket", func(c *Config) { c.Storage.Object.Endpoint = "http://127.0.0.1:9000" },
			`config: storage.object.bucket: must be set with storage.object.endpoint`},
		{"object storage endpoint not a url", func(c *Config) { c.Storage.Object = ObjectStorage{Bucket: "b", Endpoint: "s3:9000"} },
			`config: storage.object.endpoint: "s3:9000" is not an http(s)://host[:port] URL`},
		{"object storage half credentials", func(c *Config) { c.Storage.Object = ObjectStorage{Bucket: "b", AccessKeyID: "k"} },
			`config: storage.object.access_key_id: access_key_id and secret_access_key must be set together`},
		{"object storage negative upload age", func(c *Config) { c.Storage.Object = ObjectStorage{Bucket: "b", UploadAge: -time.Hour} },
			`config: storage.object.upload_age: -1h0m0s is negative`},
		{"object storage", func(c *Config) {
			c.Storage.Object = ObjectStorage{Bucket: "b", Endpoint: "http://127.0.0.1:9000", PathStyle: true, UploadAge: time.Hour, CacheSize: 256 * MiB}
		}, ""},
		{"unload s3 endpoint not a url", func(c *Config) { c.Unload.S3.Endpoint = "localhost:9000" }, `config: unload.s3.endpoint: "localhost:9000" is not an http(s)://host[:port] URL`},
		{"unload s3 half credentials", func(c *Config) {
			c.Unload.S3.Endpoint, c.Unload.S3.AccessKeyID = "http://127.0.0.1:9000", "AKID"
		}, "config: unload.s3.access_key_id: access_key_id and secret_access_key must be set together"},
		{"unload targets", func(c *Config) {
			c.Unload.FileRoot, c.Unload.S3 = "/srv/exports", UnloadS3{Endpoint: "https://s3.example:9000", AccessKeyID: "a", SecretAccessKey: "b", PathStyle: true}
		}, ""},
		{"tls with client ca", func(c *Config) {
			c.Server.TLSCertFile, c.Server.TLSKeyFile, c.Server.TLSClientCAFile = "cert.pem", "key.pem", "ca.pem"
		}, ""},
		{"access key role", func(c *Config) {
			c.Auth.AccessKeys = []AccessKey{{AccessKeyID: "A", SecretAccessKey: "s", Role: RoleWrite}}
		}, ""},
		{"access key unknown role", func(c *Config) {
			c.Auth.AccessKeys = []AccessKey{{AccessKeyID: "A", SecretAccessKey: "s", Role: "root"}}
		}, `config: auth.access_keys[0].role: unknown role "root" (want read, write or admin)`},
		{"token too short", func(c *Config) { c.Auth.BearerTokens = []BearerToken{{Token: "short", Role: RoleRead}} },
			"config: auth.bearer_tokens[0].token: want 16 to 4096 characters of letters, digits and -._~+/= (for example: openssl rand -hex 32)"},
		{"token with space", func(c *Config) { c.Auth.BearerTokens = []BearerToken{{Token: "0123456789 abcdef", Role: RoleRead}} },
			"config: auth.bearer_tokens[0].token: want 16 to 4096 characters of letters, digits and -._~+/= (for example: openssl rand -hex 32)"},
		{"token without role", func(c *Config) { c.Auth.BearerTokens = []BearerToken{{Token: "0123456789abcdef"}} },
			`config: auth.bearer_tokens[0].role: unknown role "" (want read, write or admin)`},
		{"duplicate token", func(c *Config) {
			c.Auth.BearerTokens = []BearerToken{{Token: "0123456789abcdef", Role: RoleRead}, {Token: "0123456789abcdef", Role: RoleAdmin}}
		}, "config: auth.bearer_tokens[1].token: repeats auth.bearer_tokens[0]"},
		{"listen everywhere insecure", func(c *Config) { c.Server.Listen = "0.0.0.0:7490"; c.Server.Insecure = true }, ""},
		{"listen everywhere with keys", func(c *Config) {
			c.Server.Listen = "0.0.0.0:7490"
			c.Auth.AccessKeys = []AccessKey{{AccessKeyID: "AKID", SecretAccessKey: "secret"}}
		}, ""},
		{"empty data dir", func(c *Config) { c.Server.DataDir = "" }, "config: server.data_dir: must not be empty"},
		{"request bytes too small", func(c *Config) { c.Server.MaxRequestBytes = 100 }, "config: server.max_request_bytes: 100 out of range (want 1KiB to 1GiB)"},
		{"request bytes too large", func(c *Config) { c.Server.MaxRequestBytes = 2 * GiB }, "config: server.max_request_bytes: 2GiB out of range (want 1KiB to 1GiB)"},
		{"shutdown timeout zero", func(c *Config) { c.Server.ShutdownTimeout = 0 }, "config: server.shutdown_timeout: 0s: want a positive duration"},
		{"memory limit too small", func(c *Config) { c.Server.MemoryLimit = MiB }, "config: server.memory_limit: 1MiB out of range (want 16MiB to 1024TiB)"},
		{"gc percent negative", func(c *Config) { c.Server.GCPercent = -1 }, "config: server.gc_percent: -1 out of range (want 0 to 10000)"},
		{"empty access key id", func(c *Config) { c.Auth.AccessKeys = []AccessKey{{AccessKeyID: "", SecretAccessKey: "s"}} }, "config: auth.access_keys[0].access_key_id: must not be empty"},
		{"access key id with slash", func(c *Config) { c.Auth.AccessKeys = []AccessKey{{AccessKeyID: "a/b", SecretAccessKey: "s"}} }, `config: auth.access_keys[0].access_key_id: "a/b": want 1 to 128 letters, digits, '_', '-' or '.'`},
		{"access key id too long", func(c *Config) {
			c.Auth.AccessKeys = []AccessKey{{AccessKeyID: strings.Repeat("A", 129), SecretAccessKey: "s"}}
		}, `config: auth.access_keys[0].access_key_id: "` + strings.Repeat("A", 129) + `": want 1 to 128 letters, digits, '_', '-' or '.'`},
		{"duplicate access key id", func(c *Config) {
			c.Auth.AccessKeys = []AccessKey{{AccessKeyID: "A", SecretAccessKey: "s"}, {AccessKeyID: "B", SecretAccessKey: "t"}, {AccessKeyID: "A", SecretAccessKey: "u"}}
		}, `config: auth.access_keys[2].access_key_id: "A" repeats auth.access_keys[0]`},
		{"empty secret", func(c *Config) {
			c.Auth.AccessKeys = []AccessKey{{AccessKeyID: "A", SecretAccessKey: "s"}, {AccessKeyID: "B", SecretAccessKey: ""}}
		}, "config: auth.access_keys[1].secret_access_key: must not be empty"},
		{"empty region", func(c *Config) { c.Auth.Region = "" }, `config: auth.region: "": want lowercase letters, digits and '-', such as us-east-1`},
		{"uppercase region", func(c *Config) { c.Auth.Region = "US-EAST-1" }, `config: auth.region: "US-EAST-1": want lowercase letters, digits and '-', such as us-east-1`},
		{"wal sync", func(c *Config) { c.WAL.Sync = "sometimes" }, `config: wal.sync: unknown value "sometimes" (want batch, interval or never)`},
		{"wal sync never", func(c *Config) { c.WAL.Sync = SyncNever }, ""},
		{"wal sync interval negative", func(c *Config) { c.WAL.SyncInterval = -time.Second }, "config: wal.sync_interval: -1s: want a positive duration"},
		{"wal sync interval tiny", func(c *Config) { c.WAL.SyncInterval = time.Microsecond }, "config: wal.sync_interval: 1µs is below the minimum 1ms"},
		{"wal segment too small", func(c *Config) { c.WAL.SegmentSize = 512 * KiB }, "config: wal.segment_size: 512KiB out of range (want 1MiB to 4GiB)"},
		{"wal segment too large", func(c *Config) { c.WAL.SegmentSize = 5 * GiB }, "config: wal.segment_size: 5GiB out of range (want 1MiB to 4GiB)"},
		{"memory hours zero", func(c *Config) { c.Retention.MemoryHours = 0 }, "config: retention.memory_hours: 0 out of range (want 1 to 8766)"},
		{"memory hours over a year", func(c *Config) { c.Retention.MemoryHours = 8767 }, "config: retention.memory_hours: 8767 out of range (want 1 to 8766)"},
		{"memory hours max", func(c *Config) { c.Retention.MemoryHours = 8766 }, ""},
		{"magnetic days zero", func(c *Config) { c.Retention.MagneticDays = 0 }, "config: retention.magnetic_days: 0 out of range (want 1 to 73000)"},
		{"magnetic days too many", func(c *Config) { c.Retention.MagneticDays = 73001 }, "config: retention.magnetic_days: 73001 out of range (want 1 to 73000)"},
		{"checkpoint zero", func(c *Config) { c.Memstore.CheckpointInterval = 0 }, "config: memstore.checkpoint_interval: 0s: want a positive duration"},
		{"checkpoint tiny", func(c *Config) { c.Memstore.CheckpointInterval = 10 * time.Millisecond }, "config: memstore.checkpoint_interval: 10ms is below the minimum 1s"},
		{"max series negative", func(c *Config) { c.Memstore.MaxSeries = -1 }, "config: memstore.max_series: -1 is negative (want 0 for unlimited, or a positive limit)"},
		{"prometheus database short", func(c *Config) { c.Prometheus.Database = "pr" }, `config: prometheus.database: "pr": want 3 to 256 bytes`},
		{"prometheus table characters", func(c *Config) { c.Prometheus.Table = "my table" }, `config: prometheus.table: "my table": want only letters, digits, '_', '.' and '-'`},
		{"prometheus table long", func(c *Config) { c.Prometheus.Table = strings.Repeat("t", 257) }, `config: prometheus.table: "` + strings.Repeat("t", 257) + `": want 3 to 256 bytes`},
		{"tenant header", func(c *Config) { c.Prometheus.TenantHeader = "X Scope" }, `config: prometheus.tenant_header: "X Scope" is not an HTTP header name`},
		{"tenant header ok", func(c *Config) { c.Prometheus.TenantHeader = "X-Scope-OrgID" }, ""},
		{"query memory", func(c *Config) { c.Query.MaxMemoryBytes = 1000 }, "config: query.max_memory_bytes: 1000 is below the minimum 1MiB"},
		{"query timeout", func(c *Config) { c.Query.Timeout = -time.Minute }, "config: query.timeout: -1m0s: want a positive duration"},
		{"query samples", func(c *Config) { c.Query.MaxSamples = 0 }, "config: query.max_samples: 0: want a positive number"},
		{"missed runs", func(c *Config) { c.Scheduled.MissedRuns = "later" }, `config: scheduled.missed_runs: unknown value "later" (want catch-up or skip)`},
		{"catch-up bound", func(c *Config) { c.Scheduled.MaxCatchUp = 0 }, "config: scheduled.max_catch_up: 0: want a positive number"},
		{"notification url", func(c *Config) { c.Scheduled.NotificationURL = "ftp://x" }, `config: scheduled.notification_url: "ftp://x" is not an http(s) URL`},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, `config: log.level: unknown value "trace" (want debug, info, warn or error)`},
		{"log format", func(c *Config) { c.Log.Format = "logfmt" }, `config: log.format: unknown value "logfmt" (want text or json)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Validate =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.WAL.Sync = "sometimes"
	c.Log.Level = "loud"
	c.Retention.MemoryHours = 0
	err := c.Validate()
	// Validate checks sections in file order: wal comes before retention.
	want := `config: wal.sync: unknown value "sometimes" (want batch, interval or never)` + "\n" +
		`config: retention.memory_hours: 0 out of range (want 1 to 8766)` + "\n" +
		`config: log.level: unknown value "loud" (want debug, info, warn or error)`
	if err == nil || err.Error() != want {
		t.Fatalf("Validate =\n%v\nwant\n%s", err, want)
	}
}

func TestSlogLevel(t *testing.T) {
	tests := []struct {
		level string
		want  string
	}{
		{"debug", "DEBUG"}, {"info", "INFO"}, {"warn", "WARN"}, {"error", "ERROR"}, {"bogus", "INFO"},
	}
	for _, tt := range tests {
		if got := (Log{Level: tt.level}).SlogLevel().String(); got != tt.want {
			t.Errorf("SlogLevel(%q) = %s, want %s", tt.level, got, tt.want)
		}
	}
}
