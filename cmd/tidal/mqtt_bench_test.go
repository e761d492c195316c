package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// BenchmarkMQTTFleet is the MQTT figure: a fleet of devices (1,000;
// TIDAL_MQTT_DEVICES overrides) connected to the embedded broker, each
// publishing TIDAL_MQTT_MSGS (default 20) JSON readings per iteration at
// QoS 1, one at a time (the next once the PUBACK is in), all devices at
// once. It reports messages/s and records/s (one multi-measure record of
// three measures per message) and the publish → PUBACK latency p50/p99.
// The broker sends a QoS 1 PUBACK only once the message's records are
// appended, that is durable and visible to queries, so the PUBACK latency
// is the publish → queryable latency; every 1000th message is checked by
// a query issued right after its PUBACK, and the stored count at the end.
//
//	go test -run '^$' -bench BenchmarkMQTTFleet -benchtime 1x ./cmd/tidal/
func BenchmarkMQTTFleet(b *testing.B) {
	devices, msgs := envInt("TIDAL_MQTT_DEVICES", 1000), envInt("TIDAL_MQTT_MSGS", 20)
	dir := b.TempDir()
	mqttAddr := freeAddr(b)
	cfg := filepath.Join(dir, "tidal.yaml")
	conf := influxAuthConfig + `
mqtt:
  listen: ` + mqttAddr + `
  topics:
    - {pattern: "fleet/{site}/{device}/telemetry", database: iot}
log:
  level: warn
`
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	srv := startServer(b, filepath.Join(dir, "data"), "--config", cfg)

	clients := make([]paho.Client, devices)
	var cwg sync.WaitGroup
	var connErr atomic.Value
	for i := range clients {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			opts := paho.NewClientOptions().AddBroker("tcp://" + mqttAddr).SetClientID("dev-" + strconv.Itoa(i)).
				SetUsername("writer").SetPassword("w-secret-2").SetAutoReconnect(false).SetCleanSession(true).
				SetConnectTimeout(time.Minute).SetWriteTimeout(time.Minute)
			c := paho.NewClient(opts)
			if tok := c.Connect(); !tok.WaitTimeout(2*time.Minute) || tok.Error() != nil {
				connErr.Store(fmt.Errorf("device %d: connect: %w", i, tok.Error()))
				return
			}
			clients[i] = c
		}()
	}
	cwg.Wait()
	if err, _ := connErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	defer func() {
		for _, c := range clients {
			c.Disconnect(0)
		}
	}()

	base := time.Now().Add(-time.Hour).Truncate(time.Second).UnixMilli()
	lat := make([][]time.Duration, devices)
	var seq atomic.Int64 // message index across iterations: the time offset in ms
	var probes, probed atomic.Int64
	var elapsed time.Duration
	total := 0
	for b.Loop() {
		round := int(seq.Load())
		start := time.Now()
		var wg sync.WaitGroup
		var pubErr atomic.Value
		for d, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				topic := fmt.Sprintf("fleet/site%d/dev%d/telemetry", d%10, d)
				for m := range msgs {
					ms := base + int64(round+m)
					payload := fmt.Sprintf(`{"time": %d, "temp": %d.5, "hum": %d, "vib": 0.0%d}`, ms, 20+m%10, 40+d%30, m%7)
					t0 := time.Now()
					tok := c.Publish(topic, 1, false, payload)
					if !tok.WaitTimeout(2*time.Minute) || tok.Error() != nil {
						pubErr.Store(fmt.Errorf("device %d message %d: no PUBACK: %w", d, m, tok.Error()))
						return
					}
					lat[d] = append(lat[d], time.Since(t0))
					if (d*msgs+m)%1000 == 999 {
						probes.Add(1)
						sql := fmt.Sprintf(`SELECT count(*) FROM "iot"."telemetry" WHERE device = 'dev%d' AND time = from_milliseconds(%d)`, d, ms)
						if rows, err := sqlQuery(b, srv, sql); err == nil && len(rows) == 1 && rows[0][0] == "1" {
							probed.Add(1)
						}
					}
				}
			}()
		}
		wg.Wait()
		elapsed += time.Since(start)
		if err, _ := pubErr.Load().(error); err != nil {
			b.Fatal(err)
		}
		seq.Add(int64(msgs))
		total += devices * msgs
	}
	b.StopTimer()
	rows, err := sqlQuery(b, srv, `SELECT count(*), count(DISTINCT device) FROM "iot"."telemetry"`)
	if err != nil {
		b.Fatal(err)
	}
	if want := fmt.Sprint([][]string{{strconv.Itoa(total), strconv.Itoa(devices)}}); fmt.Sprint(rows) != want {
		b.Fatalf("stored %v, want %s", rows, want)
	}
	if probed.Load() != probes.Load() {
		b.Fatalf("%d of %d messages queried right after their PUBACK were visible", probed.Load(), probes.Load())
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))]) / float64(time.Millisecond) }
	rate := float64(total) / elapsed.Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(3*rate, "samples/s")
	b.ReportMetric(q(0.5), "puback-p50-ms")
	b.ReportMetric(q(0.99), "puback-p99-ms")
	b.Logf("%d devices x %d QoS 1 JSON messages: %.0f msgs/s (= records/s; %.0f samples/s), publish→PUBACK(=queryable) p50 %.1f ms p99 %.1f ms; %d/%d probes visible at PUBACK",
		devices, total/devices, rate, 3*rate, q(0.5), q(0.99), probed.Load(), probes.Load())
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
