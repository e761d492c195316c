package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
	"github.com/tidaldb/tidal/ingest/kinesis/kinesalite"
	"github.com/tidaldb/tidal/internal/config"
)

func TestPointJSONAndPipelineConfig(t *testing.T) {
	p := tsbs.Point{Measurement: "cpu", Time: 1700000000123456789,
		Tags:   []tsbs.Tag{{Key: "hostname", Value: "host_0"}, {Key: "region", Value: `eu "west"`}},
		Fields: []tsbs.Field{{Name: "usage_user", Float: 12.5}, {Name: "usage_idle", Kind: tsbs.FieldInt, Int: 7}}}
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(string(appendPointJSON(nil, &p))))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"_m": "cpu", "_t": json.Number("1700000000123456789"), "hostname": "host_0", "region": `eu "west"`,
		"usage_user": json.Number("12.5"), "usage_idle": json.Number("7")}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %v, want %v", k, got[k], v)
		}
	}

	// The pipelines the harness configures pass tidal's config check.
	for _, b := range []broker{&kafkaBroker{}, &kinesisBroker{}} {
		d := &streamDriver{b: fakeSource{b}}
		cfg, err := config.Parse([]byte(d.pipelinesYAML([]string{"hostname", "region"}, []string{"usage_idle", "usage_user"})))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(cfg.Ingest.Pipelines); n != 2 || cfg.Ingest.Pipelines[0].Mapping.Table != "{{._m}}" {
			t.Fatalf("pipelines %+v", cfg.Ingest.Pipelines)
		}
	}
}

// fakeSource gives the YAML of a broker that was not started.
type fakeSource struct{ broker }

func (f fakeSource) sourceYAML(topic string) string {
	if _, ok := f.broker.(*kafkaBroker); ok {
		return `{kafka: {brokers: ["127.0.0.1:9092"], topics: [` + topic + `], group: g}}`
	}
	return `{kinesis: {stream: ` + topic + `, endpoint: "http://127.0.0.1:4567"}}`
}

// TestStreamDriversEndToEnd runs the smoke preset through Kafka (kfake)
// and Kinesis (kinesalite) into a real tidal: every sample stored, the
// latency probe measured, the figures in the report.
func TestStreamDriversEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := os.Getenv("TIDAL_BENCH_TIDAL_BIN")
	if bin == "" {
		var err error
		if bin, err = buildTidal(ctx, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	for _, driver := range []string{DriverKafka, DriverKinesis} {
		t.Run(driver, func(t *testing.T) {
			if driver == DriverKinesis {
				if _, err := kinesalite.Dir(); err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatalf("kinesalite is required in CI: %v", err)
					}
					t.Skip(err)
				}
			}
			o := DefaultOptions()
			o.Driver = driver
			o.TidalBin = bin
			o.OutDir = t.TempDir()
			o.WorkDir = t.TempDir()
			rep, err := Run(ctx, o)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			s := rep.Systems[0]
			if s.IngestErr != "" || s.Ingest.Samples != 6000 || s.Stored != 6000 {
				t.Fatalf("ingest %+v (%s), stored %d (%s)", s.Ingest, s.IngestErr, s.Stored, s.StoredErr)
			}
			if s.Stream == nil || s.Stream.Records != latencyRecords || s.Stream.P50 <= 0 || s.Stream.P99 < s.Stream.P50 {
				t.Fatalf("stream result %+v", s.Stream)
			}
			md, err := os.ReadFile(filepath.Join(o.OutDir, ReportFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"| TidalDB | " + driver + " | 6000 | 6000 |", "Produce → queryable latency at a steady 1000 records/s"} {
				if !strings.Contains(string(md), want) {
					t.Errorf("report lacks %q", want)
				}
			}
			if q := rep.find("TidalDB", "lastpoint", LangSQL); q == nil || q.Err != "" {
				t.Errorf("lastpoint over the streamed data: %+v", q)
			}
		})
	}
}
