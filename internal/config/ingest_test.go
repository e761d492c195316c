package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// issueExample is the pipeline example of the stream-ingestion issue,
// verbatim: it must keep parsing to the same meaning.
const issueExample = `
ingest:
  pipelines:
    - name: plant
      source:
        kafka: {brokers: ["127.0.0.1:9092"], topics: [telemetry], group: tidal}
      format: json
      mapping:
        database: plant
        table: telemetry
        time: {field: ts, unit: ms}
        dimensions: [device, site]
        measures: {temp: DOUBLE, rpm: BIGINT}   # one multi-measure record per message, measure_name "telemetry"
    - name: fleet
      source:
        kinesis: {stream: fleet, endpoint: "http://127.0.0.1:4567", region: us-east-1, start: TRIM_HORIZON}
      format: json
      mapping: {database: fleet, table: positions, time: {field: t, unit: s}, dimensions: [truck], measures: {lat: DOUBLE, lon: DOUBLE}}
`

func TestIngestExample(t *testing.T) {
	c, err := Parse([]byte(issueExample))
	if err != nil {
		t.Fatal(err)
	}
	want := []Pipeline{
		{Name: "plant", Source: Source{Kafka: Kafka{Brokers: []string{"127.0.0.1:9092"}, Topics: []string{"telemetry"}, Group: "tidal"}}, Format: "json",
			Mapping: Mapping{Database: "plant", Table: "telemetry", Time: Time{Field: "ts", Unit: "ms"}, Dimensions: []string{"device", "site"},
				Measures: Measures{{"temp", "DOUBLE"}, {"rpm", "BIGINT"}}}},
		{Name: "fleet", Source: Source{Kinesis: Kinesis{Stream: "fleet", Endpoint: "http://127.0.0.1:4567", Region: "us-east-1", Start: "TRIM_HORIZON"}}, Format: "json",
			Mapping: Mapping{Database: "fleet", Table: "positions", Time: Time{Field: "t", Unit: "s"}, Dimensions: []string{"truck"},
				Measures: Measures{{"lat", "DOUBLE"}, {"lon", "DOUBLE"}}}},
	}
	if !reflect.DeepEqual(c.Ingest.Pipelines, want) {
		t.Fatalf("pipelines = %+v\nwant %+v", c.Ingest.Pipelines, want)
	}
	if c.Ingest.Pipelines[0].Source.Kind() != "kafka" || c.Ingest.Pipelines[1].Source.Kind() != "kinesis" {
		t.Fatal("source kinds")
	}
	// Written back, it reads the same.
	out, err := yaml.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(marshalled):\n%s\n%v", out, err)
	}
	if !reflect.DeepEqual(back.Ingest, c.Ingest) {
		t.Fatalf("round trip changed the pipelines:\n%s", out)
	}
}

func TestIngestErrors(t *testing.T) {
	base := "ingest:\n  pipelines:\n    - "
	for _, tc := range []struct{ name, doc, want string }{
		{"no source", base + "{name: a, format: json, mapping: {database: dbx, table: tbl, time: {field: t}, measures: {v: DOUBLE}}}", "ingest.pipelines[0].source: want exactly one of kafka, kinesis or firehose"},
		{"two sources", base + "{name: a, source: {kafka: {brokers: [b], topics: [t], group: g}, firehose: {access_keys: [k]}}, format: timestream, mapping: {database: dbx, table: tbl}}", "want exactly one"},
		{"kafka incomplete", base + "{name: a, source: {kafka: {brokers: [b]}}, format: timestream, mapping: {database: dbx, table: tbl}}", "brokers, topics and group are required"},
		{"bad format", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: avro, mapping: {database: dbx, table: tbl}}", `format: unknown value "avro"`},
		{"bad type", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: json, mapping: {database: dbx, table: tbl, time: {field: t}, measures: {v: FLOAT}}}", `mapping.measures.v: unknown type "FLOAT"`},
		{"no time", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: json, mapping: {database: dbx, table: tbl, measures: {v: DOUBLE}}}", "mapping.time.field: required"},
		{"bad unit", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: json, mapping: {database: dbx, table: tbl, time: {field: t, unit: h}, measures: {v: DOUBLE}}}", `time.unit: unknown value "h"`},
		{"bad table", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: timestream, mapping: {database: dbx, table: 't b'}}", "mapping.table"},
		{"measures list", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: json, mapping: {database: dbx, table: tbl, time: {field: t}, measures: [v]}}", "want a mapping of field to type"},
		{"repeated measure", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: json, mapping: {database: dbx, table: tbl, time: {field: t}, measures: {v: DOUBLE, v: BIGINT}}}", "repeated"},
		{"repeated name", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: timestream, mapping: {database: dbx, table: tbl}}\n    - {name: a, source: {firehose: {access_keys: [k]}}, format: timestream, mapping: {database: dbx, table: tbl}}", `name: "a" repeated`},
		{"firehose key not a token", "auth: {bearer_tokens: [{token: tok-write-0123456789, role: write}, {token: tok-read-0123456789, role: read}]}\n" + base + "{name: a, source: {firehose: {access_keys: [tok-read-0123456789]}}, format: timestream, mapping: {database: dbx, table: tbl}}", "must also be an auth.bearer_tokens token"},
		{"at_timestamp without timestamp", base + "{name: a, source: {kinesis: {stream: s, start: AT_TIMESTAMP}}, format: timestream, mapping: {database: dbx, table: tbl}}", "source.kinesis.timestamp"},
		{"kinesis half credentials", base + "{name: a, source: {kinesis: {stream: s, access_key_id: AKID}}, format: timestream, mapping: {database: dbx, table: tbl}}", "go together"},
		{"template needs json", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: timestream, mapping: {database: dbx, table: '{{.t}}'}}", "mapping.table: a template needs format json"},
		{"templated database needs dead letters", base + "{name: a, source: {firehose: {access_keys: [k]}}, format: json, mapping: {database: '{{.site}}', table: tbl, time: {field: t}, measures: {v: DOUBLE}}}", "mapping.dead_letter_database: required"},
		{"sasl", base + "{name: a, source: {kafka: {brokers: [b], topics: [t], group: g, sasl: {mechanism: GSSAPI}}}, format: timestream, mapping: {database: dbx, table: tbl}}", "sasl.mechanism"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestIngestFirehoseKeyIsWriteToken(t *testing.T) {
	doc := `
auth: {bearer_tokens: [{token: tok-write-0123456789, role: write}]}
ingest:
  pipelines:
    - {name: fleet, source: {firehose: {access_keys: [tok-write-0123456789]}}, format: timestream, mapping: {database: fleet, table: positions}}
`
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if k := c.Ingest.Pipelines[0].Source.Kind(); k != "firehose" {
		t.Fatalf("kind %q", k)
	}
}

// TestIngestDocExample parses every ingest YAML block of docs/ingest.md;
// the first is the issue's example with a Firehose pipeline added.
func TestIngestDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "ingest.md"))
	if err != nil {
		t.Fatal(err)
	}
	rest, n := string(doc), 0
	for {
		_, after, ok := strings.Cut(rest, "```yaml\n")
		if !ok {
			break
		}
		block, after2, _ := strings.Cut(after, "```")
		rest = after2
		if !strings.HasPrefix(block, "ingest:") {
			continue
		}
		c, err := Parse([]byte(block))
		if err != nil {
			t.Fatalf("docs/ingest.md example %d: %v\n%s", n+1, err, block)
		}
		if n == 0 {
			var kinds []string
			for _, p := range c.Ingest.Pipelines {
				kinds = append(kinds, p.Source.Kind())
			}
			if !reflect.DeepEqual(kinds, []string{"kafka", "kinesis", "firehose"}) {
				t.Fatalf("first example's sources %v", kinds)
			}
		}
		n++
	}
	if n < 3 {
		t.Fatalf("%d ingest examples in docs/ingest.md, want at least 3", n)
	}
}
