package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidaldb/tidal/query/scan"
)

// countRows opens the data dir in-process and counts the rows of db.table,
// failing on a row read twice (same series and time).
func countRows(t *testing.T, dataDir, db, table string) int {
	t.Helper()
	cur, err := openTiers(t, dataDir).Scan(context.Background(), &scan.Request{Database: db, Table: table, MinTime: math.MinInt64, MaxTime: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	seen := map[string]bool{}
	for cur.Next() {
		b := cur.Batch()
		for _, ts := range b.Time {
			k := fmt.Sprintf("%v/%s@%d", b.Series.Dimensions, b.Series.MeasureName, ts)
			if seen[k] {
				t.Fatalf("%s.%s: row %s read twice", db, table, k)
			}
			seen[k] = true
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return len(seen)
}

// scrape returns the value of every sample of metric on s's /metrics, by
// its label set.
func scrape(t *testing.T, s *server, metric string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(s.url() + "/metrics")
	if err != nil {
		return nil // restarting
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric+"{") {
			continue
		}
		labels, val, _ := strings.Cut(strings.TrimPrefix(line, metric), " ")
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatalf("metric line %q", line)
		}
		out[labels] = v
	}
	return out
}

func pollUntil(t *testing.T, s *server, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\n%s", what, s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStreamPipelinesKill9 runs the real server with the Kafka
// pipeline against an in-process Kafka cluster (kfake) and a Firehose
// pipeline: it kills the server with SIGKILL while it consumes, restarts
// it, and checks that every good message is one row and every bad one a
// dead letter, none lost and none twice.
func TestStreamPipelinesKill9(t *testing.T) {
	const partitions = 3
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "telemetry"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	dataDir := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "tidal.yaml")
	cfg := fmt.Sprintf(`
ingest:
  pipelines:
    - name: plant
      source:
        kafka: {brokers: [%q], topics: [telemetry], group: tidal, session_timeout: 6s}
      format: json
      mapping:
        database: plant
        table: telemetry
        time: {field: ts, unit: ms}
        dimensions: [device, site]
        measures: {temp: DOUBLE, rpm: BIGINT}
    - name: fleet
      source: {firehose: {access_keys: [fleet-key]}}
      format: json
      mapping: {database: fleet, table: positions, time: {field: t, unit: s}, dimensions: [truck], measures: {lat: DOUBLE, lon: DOUBLE}}
`, brokers[0])
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	producer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	base := time.Now().Add(-time.Hour).UnixMilli()
	next, bad := 0, 0
	produce := func(n int) {
		var recs []*kgo.Record
		for range n {
			i := next
			next++
			v := fmt.Sprintf(`{"ts": %d, "device": "d%d", "site": "s%d", "temp": %d.25, "rpm": %d}`, base+int64(i), i%11, i%3, i, i*10)
			if i%100 == 42 {
				v = fmt.Sprintf(`{"ts": %d, "device": "d", "rpm": 1.5}`, base+int64(i)) // rpm is BIGINT
				bad++
			}
			recs = append(recs, &kgo.Record{Topic: "telemetry", Partition: int32(i % partitions), Value: []byte(v)})
		}
		if err := producer.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	produce(20000)

	s := startServer(t, dataDir, "--config", cfgPath)
	pollUntil(t, s, "the first records", func() bool { return scrape(t, s, "tidal_pipeline_records_total")[`{pipeline="plant"}`] > 0 })
	stored := scrape(t, s, "tidal_pipeline_records_total")[`{pipeline="plant"}`]
	s.kill()
	t.Logf("killed after %v of %d records", stored, next-bad)
	produce(3000)

	s = startServer(t, dataDir, "--config", cfgPath)
	pollUntil(t, s, "lag 0 on every partition", func() bool {
		lag := scrape(t, s, "tidal_pipeline_lag")
		done := 0
		for p := range partitions {
			if v, ok := lag[fmt.Sprintf(`{partition="telemetry/%d",pipeline="plant"}`, p)]; ok && v == 0 {
				done++
			}
		}
		return done == partitions
	})

	out, err := runTidal(t, "admin", "pipelines", "--endpoint", s.url())
	if err != nil {
		t.Fatalf("tidal admin pipelines: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!regexp.MustCompile(`^plant +kafka +json +plant\.telemetry +running +\d+ +\d+ +\d+ +\d+ +0 `).MatchString(lines[1]+" ") ||
		!regexp.MustCompile(`^fleet +firehose +json +fleet\.positions +starting +0 +0 +0 +0 +0`).MatchString(lines[2]) {
		t.Fatalf("tidal admin pipelines:\n%s", out)
	}

	// A Firehose delivery through the real server.
	now := time.Now().Add(-time.Minute).Unix()
	var recs []map[string]string
	for i := range 3 {
		recs = append(recs, map[string]string{"data": base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"t": %d, "truck": "t%d", "lat": 1.5, "lon": 2}`, now, i))})
	}
	body, _ := json.Marshal(map[string]any{"requestId": "e2e-1", "timestamp": time.Now().UnixMilli(), "records": recs})
	req, _ := http.NewRequest(http.MethodPost, s.url()+"/firehose/fleet", bytes.NewReader(body))
	req.Header.Set("X-Amz-Firehose-Request-Id", "e2e-1")
	req.Header.Set("X-Amz-Firehose-Access-Key", "fleet-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var fr struct{ RequestID string }
	_ = json.NewDecoder(resp.Body).Decode(&fr)
	resp.Body.Close()
	if resp.StatusCode != 200 || fr.RequestID != "e2e-1" {
		t.Fatalf("firehose delivery: %d %+v", resp.StatusCode, fr)
	}
	s.stop()

	if bad != 230 {
		t.Fatalf("produced %d bad messages, want 230", bad)
	}
	if got := countRows(t, dataDir, "plant", "telemetry"); got != next-bad {
		t.Fatalf("plant.telemetry has %d rows, want %d", got, next-bad)
	}
	if got := countRows(t, dataDir, "plant", "_dead_letters"); got != bad {
		t.Fatalf("plant._dead_letters has %d rows, want %d", got, bad)
	}
	if got := countRows(t, dataDir, "fleet", "positions"); got != 3 {
		t.Fatalf("fleet.positions has %d rows, want 3", got)
	}
}
