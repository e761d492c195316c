package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDefault(t *testing.T) {
	c := Default()
	tests := []struct {
		key  string
		got  any
		want any
	}{
		{"server.listen", c.Server.Listen, "127.0.0.1:7490"},
		{"server.data_dir", c.Server.DataDir, "./tidal-data"},
		{"server.insecure", c.Server.Insecure, false},
		{"server.max_request_bytes", c.Server.MaxRequestBytes, Size(8 << 20)},
		{"server.shutdown_timeout", c.Server.ShutdownTimeout, 10 * time.Second},
		{"server.memory_limit", c.Server.MemoryLimit, Size(0)},
		{"server.gc_percent", c.Server.GCPercent, 0},
		{"auth.access_keys", len(c.Auth.AccessKeys), 0},
		{"auth.region", c.Auth.Region, "us-east-1"},
		{"wal.sync", c.WAL.Sync, SyncBatch},
		{"wal.sync_interval", c.WAL.SyncInterval, time.Second},
		{"wal.segment_size", c.WAL.SegmentSize, Size(128 << 20)},
		{"retention.memory_hours", c.Retention.MemoryHours, 6},
		{"retention.magnetic_days", c.Retention.MagneticDays, 73000},
		{"retention.magnetic_writes", c.Retention.MagneticWrites, true},
		{"memstore.checkpoint_interval", c.Memstore.CheckpointInterval, 5 * time.Minute},
		{"memstore.max_series", c.Memstore.MaxSeries, 0},
		{"prometheus.database", c.Prometheus.Database, "prometheus"},
		{"prometheus.table", c.Prometheus.Table, "metrics"},
		{"prometheus.tenant_header", c.Prometheus.TenantHeader, ""},
		{"prometheus.max_tenants", c.Prometheus.MaxTenants, 1000},
		{"query.max_memory_bytes", c.Query.MaxMemoryBytes, Size(1 << 30)},
		{"query.timeout", c.Query.Timeout, 60 * time.Second},
		{"query.max_samples", c.Query.MaxSamples, int64(50_000_000)},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.key, tt.got, tt.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if c.AuthEnabled() {
		t.Error("AuthEnabled() = true with no access keys")
	}
}

func TestParseEmptyKeepsDefaults(t *testing.T) {
	for _, doc := range []string{"", "\n", "# nothing but a comment\n", "---\n", "server:\n", "server: {}\nlog:\n  level:\n", "{}"} {
		c, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("Parse(%q): %v", doc, err)
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("Parse(%q) = %+v, want Default()", doc, c)
		}
	}
}

func TestParseOverlay(t *testing.T) {
	doc := `
server:
  listen: "0.0.0.0:8086"
  data_dir: /var/lib/tidal
  max_request_bytes: 16MiB
  shutdown_timeout: 30s
auth:
  access_keys:
    - access_key_id: AKIDTIDAL1
      secret_access_key: "s3cr3t/with+chars"
    - {access_key_id: grafana, secret_access_key: other}
  region: eu-west-1
wal:
  sync: interval
  sync_interval: 250ms
  segment_size: 67108864
retention:
  memory_hours: 24
memstore:
  max_series: 1_000_000
prometheus:
  tenant_header: X-Scope-OrgID
query:
  max_memory_bytes: 512 MiB
  max_samples: 1000
log: {level: debug, format: json}
`
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Default()
	want.Server.Listen = "0.0.0.0:8086"
	want.Server.DataDir = "/var/lib/tidal"
	want.Server.MaxRequestBytes = 16 * MiB
	want.Server.ShutdownTimeout = 30 * time.Second
	want.Auth.AccessKeys = []AccessKey{{AccessKeyID: "AKIDTIDAL1", SecretAccessKey: "s3cr3t/with+chars"}, {AccessKeyID: "grafana", SecretAccessKey: "other"}}
	want.Auth.Region = "eu-west-1"
	want.WAL = WAL{Sync: SyncInterval, SyncInterval: 250 * time.Millisecond, SegmentSize: 64 * MiB}
	want.Retention.MemoryHours = 24
	want.Memstore.MaxSeries = 1_000_000
	want.Prometheus.TenantHeader = "X-Scope-OrgID"
	want.Query.MaxMemoryBytes = 512 * MiB
	want.Query.MaxSamples = 1000
	want.Log = Log{Level: "debug", Format: "json"}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Parse =\n%+v\nwant\n%+v", c, want)
	}
	if !c.AuthEnabled() {
		t.Error("AuthEnabled() = false with access keys")
	}
	creds := c.Auth.Credentials()
	if len(creds) != 2 || creds["AKIDTIDAL1"] != "s3cr3t/with+chars" || creds["grafana"] != "other" {
		t.Errorf("Credentials() = %v", creds)
	}
	if got := c.Log.SlogLevel(); got != slog.LevelDebug {
		t.Errorf("SlogLevel() = %v, want debug", got)
	}
}

func TestParseAnchors(t *testing.T) {
	doc := `
x-interval: &every 2m
memstore:
  checkpoint_interval: *every
`
	// A top-level helper key is still an unknown key.
	if _, err := Parse([]byte(doc)); err == nil || err.Error() != `config: line 2: unknown key "x-interval"` {
		t.Fatalf("err = %v", err)
	}
	doc = `
wal:
  sync_interval: &every 2s
memstore:
  checkpoint_interval: *every
`
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.WAL.SyncInterval != 2*time.Second || c.Memstore.CheckpointInterval != 2*time.Second {
		t.Fatalf("aliases decoded to %v and %v, want 2s", c.WAL.SyncInterval, c.Memstore.CheckpointInterval)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unknown top-level key", "server:\n  listen: 127.0.0.1:1\nstorages:\n  x: 1\n", `config: line 3: unknown key "storages"`},
		{"unknown nested key", "server:\n  listn: 127.0.0.1:1\n", `config: line 2: unknown key "server.listn"`},
		{"unknown key in list item", "auth:\n  access_keys:\n    - access_key_id: a\n      secret: b\n", `config: line 4: unknown key "auth.access_keys[0].secret"`},
		{"camelCase key", "server:\n  dataDir: /x\n", `config: line 2: unknown key "server.dataDir"`},
		{"repeated key", "log:\n  level: info\n  level: debug\n", `config: line 3: key "log.level" repeated (first at line 2)`},
		{"duration as integer", "server:\n  shutdown_timeout: 10\n", `config: line 2: server.shutdown_timeout: invalid duration "10": want a Go duration such as 500ms, 10s or 5m`},
		{"duration garbage", "query:\n  timeout: 1 minute\n", `config: line 2: query.timeout: invalid duration "1 minute": want a Go duration such as 500ms, 10s or 5m`},
		{"bool as yes", "server:\n  insecure: yes\n", `config: line 2: server.insecure: invalid boolean "yes": want true or false`},
		{"float into integer", "retention:\n  memory_hours: 6.5\n", `config: line 2: retention.memory_hours: invalid integer "6.5"`},
		{"quoted integer", "query:\n  max_samples: \"100\"\n", `config: line 2: query.max_samples: invalid integer "100"`},
		{"integer overflow", "memstore:\n  max_series: 99999999999999999999\n", `config: line 2: memstore.max_series: invalid integer "99999999999999999999"`},
		{"size unit", "wal:\n  segment_size: 64XB\n", `config: line 2: wal.segment_size: invalid size "64XB": unknown unit "XB" (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`},
		{"negative size", "wal:\n  segment_size: -1\n", `config: line 2: wal.segment_size: invalid size "-1": negative`},
		{"float size", "wal:\n  segment_size: 1.5\n", `config: line 2: wal.segment_size: invalid size "1.5": want an integer or a string such as 64MiB`},
		{"section not a mapping", "server: 127.0.0.1:7490\n", `config: line 1: server: want a mapping`},
		{"list not a list", "auth:\n  access_keys: {access_key_id: a}\n", `config: line 2: auth.access_keys: want a list`},
		{"string given a list", "log:\n  level: [info]\n", `config: line 2: log.level: want a string`},
		{"top level list", "- server\n", `config: line 1: want a mapping of sections (server, auth, ...) at the top level`},
		{"top level scalar", "tidal\n", `config: line 1: want a mapping of sections (server, auth, ...) at the top level`},
		{"syntax error", "server:\n  listen: [\n", "config: line 2: did not find expected node content"},
		{"tab indentation", "server:\n\tlisten: x\n", "config: line 2: found character that cannot start any token"},
		{"two documents", "log:\n  level: info\n---\nlog:\n  level: debug\n", "config: line 3: second YAML document; the file must hold exactly one"},
		{"complex key", "? [a, b]\n: 1\n", "config: line 1: keys must be plain strings"},
		{"validation after decode", "wal:\n  sync: sometimes\n", `config: wal.sync: unknown value "sometimes" (want batch, interval or never)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			if err.Error() != tt.want {
				t.Fatalf("error =\n%s\nwant\n%s", err, tt.want)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("Parse returned a non-zero Config with an error: %+v", c)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tidal.yaml")
	if err := os.WriteFile(path, []byte("log:\n  format: json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Log.Format != "json" || c.Log.Level != "info" {
		t.Fatalf("log = %+v, want json format and default level", c.Log)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if !strings.HasPrefix(err.Error(), "config: read "+dir) {
		t.Errorf("Load(missing) error %q does not name the file", err)
	}

	if err := os.WriteFile(path, []byte("log:\n  colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if want := "load " + path + `: config: line 2: unknown key "log.colour"`; err == nil || err.Error() != want {
		t.Fatalf("Load(bad) = %v, want %s", err, want)
	}
}

// TestExampleFile keeps docs/tidal.example.yaml loadable and in step with
// the documented values.
func TestExampleFile(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "docs", "tidal.example.yaml"))
	if err != nil {
		t.Fatalf("Load example: %v", err)
	}
	if !c.AuthEnabled() {
		t.Error("the example enables authentication, AuthEnabled() = false")
	}
	if got := c.Auth.Credentials(); len(got) != 2 {
		t.Errorf("example access keys = %v, want 2", got)
	}
	if k := c.Auth.AccessKeys; k[0].KeyRole() != RoleAdmin || k[1].KeyRole() != RoleRead {
		t.Errorf("example key roles %q %q, want admin (the default) and read", k[0].KeyRole(), k[1].KeyRole())
	}
	if len(c.Auth.BearerTokens) != 1 || c.Auth.BearerTokens[0].Role != RoleWrite || c.Server.TLSCertFile == "" || c.Server.TLSKeyFile == "" {
		t.Errorf("example tokens %+v, tls %q %q", c.Auth.BearerTokens, c.Server.TLSCertFile, c.Server.TLSKeyFile)
	}
	if c.Server.Listen != "0.0.0.0:7490" || c.WAL.Sync != SyncBatch || c.WAL.SegmentSize != 128*MiB || c.Query.MaxMemoryBytes != 2*GiB {
		t.Errorf("example decoded to %+v", c)
	}
}

// TestMarshalRoundTrip checks that a Config written with yaml.v3 reads back
// identical, which is what `tidal` would do to print its effective config.
func TestMarshalRoundTrip(t *testing.T) {
	c := Default()
	c.Server.Insecure = true
	c.Server.MaxRequestBytes = 3*MiB + 17
	c.Auth.AccessKeys = []AccessKey{{AccessKeyID: "AKID", SecretAccessKey: "secret"}}
	c.WAL.SyncInterval = 1500 * time.Millisecond
	out, err := yaml.Marshal(&c)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(marshalled):\n%s\n%v", out, err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip changed\n%+v\nto\n%+v\nvia\n%s", c, back, out)
	}
	if !strings.Contains(string(out), "segment_size: 128MiB") || !strings.Contains(string(out), "sync_interval: 1.5s") {
		t.Errorf("marshalled config is not human-friendly:\n%s", out)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("server:\n  listen: 127.0.0.1:7490\n  max_request_bytes: 8MiB\n"))
	f.Add([]byte("auth:\n  access_keys:\n    - {access_key_id: a, secret_access_key: b}\nwal: {sync: never, segment_size: 1GiB}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("memstore: &m\n  checkpoint_interval: 1m\nquery: *m\n"))
	f.Add([]byte("retention:\n  memory_hours: 0x10\n  magnetic_days: 1_000\n"))
	if data, err := os.ReadFile(filepath.Join("..", "..", "docs", "tidal.example.yaml")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse returned a Config that fails Validate: %v", err)
		}
		out, err := yaml.Marshal(&c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(marshalled):\n%s\n%v", out, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed\n%+v\nto\n%+v", c, back)
		}
	})
}
