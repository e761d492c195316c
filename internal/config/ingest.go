package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Ingest configures stream ingestion.
type Ingest struct {
	// Pipelines each read one source, decode its messages with Format and
	// write the records Mapping describes.
	Pipelines []Pipeline `yaml:"pipelines"`
}

// Pipeline is one source → decoder → mapping → table chain.
type Pipeline struct {
	Name    string  `yaml:"name"`
	Source  Source  `yaml:"source"`
	Format  string  `yaml:"format"`
	Mapping Mapping `yaml:"mapping"`
}

// Source holds exactly one source.
type Source struct {
	Kafka    Kafka    `yaml:"kafka"`
	Kinesis  Kinesis  `yaml:"kinesis"`
	Firehose Firehose `yaml:"firehose"`
}

// Kind names the configured source ("kafka", "kinesis", "firehose"), or ""
// when none or several are set.
func (s Source) Kind() string {
	var kinds []string
	if len(s.Kafka.Brokers) > 0 || len(s.Kafka.Topics) > 0 || s.Kafka.Group != "" {
		kinds = append(kinds, "kafka")
	}
	if s.Kinesis.Stream != "" {
		kinds = append(kinds, "kinesis")
	}
	if len(s.Firehose.AccessKeys) > 0 {
		kinds = append(kinds, "firehose")
	}
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

// Kafka is a Kafka consumer-group source.
type Kafka struct {
	Brokers []string `yaml:"brokers"`
	Topics  []string `yaml:"topics"`
	Group   string   `yaml:"group"`
	// Start is where a group without committed offsets starts: earliest
	// (the default) or latest.
	Start string `yaml:"start"`
	// ClientID names the consumer to the brokers (default "tidal").
	ClientID string `yaml:"client_id"`
	// SessionTimeout is how long the group waits for a silent member
	// (one that crashed) before giving its partitions to the others
	// (default: franz-go's, 45s).
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// TLS connects with TLS (the system roots).
	TLS bool `yaml:"tls"`
	// SASL authenticates; empty mechanism means none.
	SASL SASL `yaml:"sasl"`
}

// SASL is a Kafka SASL login.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
}

// Kinesis is a Kinesis Data Streams source.
type Kinesis struct {
	Stream   string `yaml:"stream"`
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"`
	// Start is where a shard without a checkpoint starts: TRIM_HORIZON
	// (the default), LATEST or AT_TIMESTAMP (from Timestamp).
	Start string `yaml:"start"`
	// Timestamp is the AT_TIMESTAMP start, RFC 3339
	// ("2026-12-01T00:00:00Z").
	Timestamp string `yaml:"timestamp"`
	// AccessKeyID and SecretAccessKey are static credentials; without
	// them the AWS SDK's default chain (environment, shared files, instance
	// role) is used.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	// IdleWait is the pause after a read that found no new record
	// (default 1s; a shard allows 5 reads a second): lower it for latency.
	IdleWait time.Duration `yaml:"idle_wait"`
}

// Firehose is an Amazon Data Firehose HTTP endpoint destination: the
// pipeline is served at POST /firehose/<name>.
type Firehose struct {
	// AccessKeys are the values Firehose may send in
	// X-Amz-Firehose-Access-Key (the "access key" of the destination).
	// With authentication on, each must also be a bearer token with role
	// write: the auth layer reads the header as one.
	AccessKeys []string `yaml:"access_keys"`
}

// Mapping says where records go and how JSON fields become records.
type Mapping struct {
	// Database and Table may take a JSON field's value:
	// "{{.device_type}}".
	Database string `yaml:"database"`
	Table    string `yaml:"table"`
	// MaxTables bounds the distinct targets of a templated database or
	// table (default 100).
	MaxTables       int    `yaml:"max_tables"`
	DeadLetterTable string `yaml:"dead_letter_table"`
	// DeadLetterDatabase holds the dead letters (default: the record's
	// database); required when Database is templated.
	DeadLetterDatabase string `yaml:"dead_letter_database"`
	Time               Time   `yaml:"time"`
	// Dimensions are field paths ("device", "meta.site").
	Dimensions []string `yaml:"dimensions"`
	// Measures maps field paths to Timestream types, in file order.
	Measures Measures `yaml:"measures"`
	// Records is multi (one multi-measure record per object, the default)
	// or single (one record per measure field).
	Records string `yaml:"records"`
	// MeasureName names multi-measure records (default: the table).
	MeasureName string `yaml:"measure_name"`
}

// Time locates a record's time in a JSON object.
type Time struct {
	Field  string `yaml:"field"`
	Unit   string `yaml:"unit"`
	Layout string `yaml:"layout"`
}

// Measure is one measure field and its type.
type Measure struct {
	Field, Type string
}

// Measures is a YAML mapping of field path to type, order kept.
type Measures []Measure

// decodeNode reads the mapping {field: TYPE, ...}.
func (m *Measures) decodeNode(path string, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fieldError(n, path, "want a mapping of field to type, such as {temp: DOUBLE, rpm: BIGINT}")
	}
	out := make(Measures, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			return fieldError(k, path, "want field: TYPE pairs")
		}
		for _, prev := range out {
			if prev.Field == k.Value {
				return fieldError(k, path+"."+k.Value, "repeated")
			}
		}
		out = append(out, Measure{Field: k.Value, Type: v.Value})
	}
	*m = out
	return nil
}

var (
	pipelineFormats = []string{"json", "prometheus_remote_write", "timestream", "influx_line_protocol"}
	measureTypes    = []string{"DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP"}
)

// validateIngest checks the pipelines.
func (c *Config) validateIngest(bad reporter) {
	seen := map[string]bool{}
	for i, p := range c.Ingest.Pipelines {
		key := "ingest.pipelines[" + strconv.Itoa(i) + "]"
		switch {
		case p.Name == "":
			bad(key+".name", "must not be empty")
		case seen[p.Name]:
			bad(key+".name", "%q repeated", p.Name)
		}
		seen[p.Name] = true
		switch p.Source.Kind() {
		case "kafka":
			k := p.Source.Kafka
			if len(k.Brokers) == 0 || len(k.Topics) == 0 || k.Group == "" {
				bad(key+".source.kafka", "brokers, topics and group are required")
			}
			if k.Start != "" && k.Start != "earliest" && k.Start != "latest" {
				bad(key+".source.kafka.start", "unknown value %q (want earliest or latest)", k.Start)
			}
			if k.SessionTimeout < 0 {
				bad(key+".source.kafka.session_timeout", "%s: want a positive duration", k.SessionTimeout)
			}
			switch k.SASL.Mechanism {
			case "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
			default:
				bad(key+".source.kafka.sasl.mechanism", "unknown value %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", k.SASL.Mechanism)
			}
		case "kinesis":
			k := p.Source.Kinesis
			switch k.Start {
			case "", "TRIM_HORIZON", "LATEST":
			case "AT_TIMESTAMP":
				if _, err := time.Parse(time.RFC3339Nano, k.Timestamp); err != nil {
					bad(key+".source.kinesis.timestamp", "%q: want an RFC 3339 time with start AT_TIMESTAMP", k.Timestamp)
				}
			default:
				bad(key+".source.kinesis.start", "unknown value %q (want TRIM_HORIZON, LATEST or AT_TIMESTAMP)", k.Start)
			}
			if k.IdleWait < 0 {
				bad(key+".source.kinesis.idle_wait", "%s: want a positive duration", k.IdleWait)
			}
			if (k.AccessKeyID == "") != (k.SecretAccessKey == "") {
				bad(key+".source.kinesis", "access_key_id and secret_access_key go together")
			}
		case "firehose":
			// Firehose's key reaches the auth layer as a bearer token.
			for _, k := range p.Source.Firehose.AccessKeys {
				if c.AuthEnabled() && !c.writeToken(k) {
					bad(key+".source.firehose.access_keys", "each key must also be an auth.bearer_tokens token with role write or admin (the server checks it as one)")
					break
				}
			}
		default:
			bad(key+".source", "want exactly one of kafka, kinesis or firehose")
		}
		if !slices.Contains(pipelineFormats, p.Format) {
			bad(key+".format", "unknown value %q (want one of %v)", p.Format, pipelineFormats)
		}
		m := p.Mapping
		// A templated name is checked per record (and its template when
		// the pipeline is built).
		for _, n := range []struct{ key, name string }{{"database", m.Database}, {"table", m.Table}} {
			if !strings.Contains(n.name, "{{") {
				tableName(bad, key+".mapping."+n.key, n.name)
			} else if p.Format != "json" {
				bad(key+".mapping."+n.key, "a template needs format json")
			}
		}
		if strings.Contains(m.Database, "{{") && m.DeadLetterDatabase == "" {
			bad(key+".mapping.dead_letter_database", "required when the database is templated")
		}
		if m.MaxTables < 0 {
			bad(key+".mapping.max_tables", "%d: want a positive count", m.MaxTables)
		}
		if m.DeadLetterTable != "" {
			tableName(bad, key+".mapping.dead_letter_table", m.DeadLetterTable)
		}
		if m.DeadLetterDatabase != "" {
			tableName(bad, key+".mapping.dead_letter_database", m.DeadLetterDatabase)
		}
		if m.Records != "" && m.Records != "multi" && m.Records != "single" {
			bad(key+".mapping.records", "unknown value %q (want multi or single)", m.Records)
		}
		if p.Format != "json" {
			continue
		}
		if m.Time.Field == "" {
			bad(key+".mapping.time.field", "required for format json")
		}
		switch m.Time.Unit {
		case "", "s", "ms", "us", "ns":
		default:
			bad(key+".mapping.time.unit", "unknown value %q (want s, ms, us or ns)", m.Time.Unit)
		}
		if len(m.Measures) == 0 {
			bad(key+".mapping.measures", "at least one measure is required for format json")
		}
		for _, ms := range m.Measures {
			if !slices.Contains(measureTypes, ms.Type) {
				bad(fmt.Sprintf("%s.mapping.measures.%s", key, ms.Field), "unknown type %q (want one of %v)", ms.Type, measureTypes)
			}
		}
	}
}

// MarshalYAML writes m as the mapping decodeNode reads.
func (m Measures) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, ms := range m {
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Value: ms.Field},
			&yaml.Node{Kind: yaml.ScalarNode, Value: ms.Type})
	}
	return n, nil
}

// writeToken reports whether tok is a configured bearer token that may
// ingest.
func (c *Config) writeToken(tok string) bool {
	for _, t := range c.Auth.BearerTokens {
		if t.Token == tok && (t.Role == RoleWrite || t.Role == RoleAdmin) {
			return true
		}
	}
	return false
}
