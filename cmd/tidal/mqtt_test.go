package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"google.golang.org/protobuf/encoding/protowire"
)

// mqttFixture is a tidal server with the embedded broker on.
type mqttFixture struct {
	srv      *server
	dataDir  string
	cfg      string
	mqttAddr string
}

func startMQTT(t *testing.T) *mqttFixture {
	t.Helper()
	dir := t.TempDir()
	f := &mqttFixture{dataDir: filepath.Join(dir, "data"), cfg: filepath.Join(dir, "tidal.yaml"), mqttAddr: freeAddr(t)}
	// influxAuthConfig's keys and tokens plus a device key.
	conf := strings.Replace(influxAuthConfig, "  bearer_tokens:",
		"    - {access_key_id: device, secret_access_key: dev-secret-4, role: write}\n  bearer_tokens:", 1) + `
mqtt:
  listen: ` + f.mqttAddr + `
  dead_letter: {database: iot, table: dead_letter}
  topics:
    - {pattern: "factory/{site}/{line}/{device}/telemetry", database: iot, dimensions: [unit]}
    - {pattern: "agents/{agent}/influx", database: iot, format: lineproto, time_unit: s}
    - {pattern: "fleet/{device}/q1", database: iot, table: acked}
    - {format: sparkplug, database: iot}
`
	if err := os.WriteFile(f.cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	return f
}

// start starts tidal and waits until the broker accepts connections.
func (f *mqttFixture) start(t *testing.T) {
	t.Helper()
	f.srv = startServer(t, f.dataDir, "--config", f.cfg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", f.mqttAddr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mqtt broker not listening: %v\n%s", err, f.srv.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *mqttFixture) paho(t *testing.T, user, pass string) (paho.Client, error) {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker("tcp://" + f.mqttAddr).SetClientID("test-" + user + strconv.Itoa(int(time.Now().UnixNano()%1e6))).
		SetUsername(user).SetPassword(pass).SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(true)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, fmt.Errorf("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

// TestMQTTMosquittoPub publishes JSON and line protocol with Debian's
// mosquitto_pub (MQTT 3.1.1 and 5) to the embedded broker and reads the //nolint:misspell
// records back with SQL; wrong passwords and read keys cannot publish, and
// a bad payload leaves the broker running.
func TestMQTTMosquittoPub(t *testing.T) {
	pub := needTool(t, "mosquitto_pub", "mosquitto-clients")
	f := startMQTT(t)
	host, port, _ := strings.Cut(f.mqttAddr, ":")
	run := func(user, pass string, args ...string) (string, error) {
		out, err := exec.Command(pub, append([]string{"-h", host, "-p", port, "-u", user, "-P", pass, "-q", "1"}, args...)...).CombinedOutput()
		return string(out), err
	}
	now := time.Now().Truncate(time.Second)
	ms := now.UnixMilli()
	if out, err := run("device", "dev-secret-4", "-t", "factory/berlin/l1/press7/telemetry",
		"-m", fmt.Sprintf(`{"time": %d, "temp": 21.5, "unit": "C", "ok": true, "state": {"mode": "auto"}}`, ms)); err != nil {
		t.Fatalf("mosquitto_pub json: %v %s", err, out)
	}
	// MQTT 5, an array of objects, a token as password.
	if out, err := run("any", "influx-write-token-0123456789", "-V", "mqttv5", "-t", "factory/paris/l2/robot1/telemetry",
		"-m", fmt.Sprintf(`[{"time": %d, "temp": 19}, {"time": %d, "temp": 20.25}]`, ms, ms+1000)); err != nil {
		t.Fatalf("mosquitto_pub json v5: %v %s", err, out)
	}
	if out, err := run("device", "dev-secret-4", "-t", "agents/a1/influx",
		"-m", fmt.Sprintf("cpu,core=0 usage=3.5,n=2i %d\ncpu,core=1 usage=4.5,n=3i %d", now.Unix(), now.Unix())); err != nil {
		t.Fatalf("mosquitto_pub line protocol: %v %s", err, out)
	}
	// Refused: wrong password; a read key publishing (3.1.1 disconnects,
	// so mosquitto_pub fails or the message is dropped; either way nothing //nolint:misspell
	// is stored).
	if out, err := run("device", "wrong", "-t", "factory/berlin/l1/press7/telemetry", "-m", `{"temp": 99}`); err == nil || !strings.Contains(out, "not authorised") {
		t.Fatalf("wrong password: %v %s", err, out)
	}
	_, _ = run("reader", "r-secret-3", "-t", "factory/berlin/l1/press7/telemetry", "-m", `{"temp": 98}`)
	// Bad payloads: acknowledged and dropped (3.1.1), "payload format
	// invalid" (0x99) for MQTT 5; the broker keeps running.
	if out, err := run("device", "dev-secret-4", "-t", "factory/berlin/l1/press7/telemetry", "-m", "not json"); err != nil {
		t.Fatalf("bad payload 3.1.1: %v %s", err, out)
	}
	if out, _ := run("device", "dev-secret-4", "-V", "mqttv5", "-d", "-t", "factory/berlin/l1/press7/telemetry", "-m", `{"temp": [1]}`); !strings.Contains(out, "RC:153") {
		t.Fatalf("bad payload 5: want PUBACK reason 153: %s", out)
	}
	if out, err := run("device", "dev-secret-4", "-t", "factory/berlin/l2/press8/telemetry", "-m", fmt.Sprintf(`{"time": %d, "temp": 22}`, ms)); err != nil {
		t.Fatalf("mosquitto_pub after bad payloads: %v %s", err, out)
	}

	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000000") }
	tests := []struct {
		sql  string
		want [][]string
	}{
		{`SELECT site, line, device, unit, temp, ok, state_mode, time FROM "iot"."telemetry" ORDER BY site, device, time`, [][]string{
			{"berlin", "l1", "press7", "C", "21.5", "true", "auto", ts(now)},
			{"berlin", "l2", "press8", "-", "22.0", "-", "-", ts(now)},
			{"paris", "l2", "robot1", "-", "19.0", "-", "-", ts(now)},
			{"paris", "l2", "robot1", "-", "20.25", "-", "-", ts(now.Add(time.Second))},
		}},
		{`SELECT agent, core, usage, n, time FROM "iot"."cpu" ORDER BY core`, [][]string{
			{"a1", "0", "3.5", "2", ts(now)}, {"a1", "1", "4.5", "3", ts(now)},
		}},
	}
	// The counters: 6 messages on configured topics, 4 stored as 6 records, 2 refused.
	req, _ := http.NewRequest("GET", f.srv.url()+"/metrics", nil)
	req.SetBasicAuth("admin", "admin-secret-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`tidal_mqtt_messages_total{source="broker"} 6`, `tidal_mqtt_records_total{source="broker"} 6`,
		`tidal_mqtt_refused_total{source="broker"} 2`, `tidal_mqtt_append_failures_total{source="broker"} 0`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The two bad payloads are in the dead-letter table.
	tests = append(tests, struct {
		sql  string
		want [][]string
	}{`SELECT source, topic, refused, reason, payload FROM "iot"."dead_letter" ORDER BY time`, [][]string{
		{"mqtt", "factory/berlin/l1/press7/telemetry", "1", "decode JSON payload: invalid character 'o' in literal null (expecting 'u')", "not json"},
		{"mqtt", "factory/berlin/l1/press7/telemetry", "1", `object 0: field "temp": arrays are not supported`, `{"temp": [1]}`},
	}})
	for _, tt := range tests {
		if got := sqlRows(t, f.srv, tt.sql); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.sql, got, tt.want)
		}
	}
}

// TestMQTTQoS1Durable publishes QoS 1 messages with paho, each waited for
// its PUBACK, kills tidal with SIGKILL right after the last PUBACK,
// restarts it and checks every acknowledged message is stored.
func TestMQTTQoS1Durable(t *testing.T) {
	f := startMQTT(t)
	if _, err := f.paho(t, "device", "wrong"); err == nil {
		t.Fatal("paho connected with a wrong password")
	}
	c, err := f.paho(t, "device", "dev-secret-4")
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	base := time.Now().Add(-time.Minute).UnixMilli()
	var toks []paho.Token
	for i := range n {
		payload := fmt.Sprintf(`{"time": %d, "seq": %d}`, base+int64(i), i)
		toks = append(toks, c.Publish(fmt.Sprintf("fleet/dev%d/q1", i%10), 1, false, payload))
	}
	for i, tok := range toks {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: no PUBACK: %v", i, tok.Error())
		}
	}
	f.srv.kill()
	f.start(t)
	got := sqlRows(t, f.srv, `SELECT count(*), count(DISTINCT device), sum(seq) FROM "iot"."acked"`)
	want := fmt.Sprint([][]string{{strconv.Itoa(n), "10", strconv.FormatFloat(float64(n*(n-1)/2), 'f', 1, 64)}})
	if fmt.Sprint(got) != want {
		t.Fatalf("after kill -9: got %v, want %s\n%s", got, want, f.srv.logs.String())
	}
}

// TestMQTTTLS runs the broker with the server's certificate: mosquitto_pub //nolint:misspell
// publishes over TLS trusting the test CA, a paho subscriber with a read
// key receives the message, and a plain-text connection is refused.
func TestMQTTTLS(t *testing.T) {
	pub := needTool(t, "mosquitto_pub", "mosquitto-clients")
	f := newTLSFixture(t, "")
	mqttAddr := freeAddr(t)
	conf, err := os.ReadFile(f.cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	conf = append(conf, "mqtt:\n  listen: "+mqttAddr+"\n  topics:\n    - {pattern: \"sensors/{device}\", database: iot, table: secure}\n"...)
	if err := os.WriteFile(f.cfgFile, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServerTLS(t, t.TempDir(), f.client, "--config", f.cfgFile)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", mqttAddr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mqtt broker not listening: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A read-only subscriber over TLS.
	got := make(chan string, 1)
	sub := paho.NewClient(paho.NewClientOptions().AddBroker("tls://" + mqttAddr).SetClientID("tls-sub").
		SetUsername("grafana").SetPassword("gr-secret-3").SetTLSConfig(&tls.Config{RootCAs: f.ca.Pool()}).SetAutoReconnect(false))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("paho tls connect: %v", tok.Error())
	}
	defer sub.Disconnect(0)
	if tok := sub.Subscribe("sensors/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	host, port, _ := strings.Cut(mqttAddr, ":")
	ms := time.Now().Truncate(time.Millisecond).UnixMilli()
	payload := fmt.Sprintf(`{"time": %d, "v": 7.5}`, ms)
	args := []string{"-h", host, "-p", port, "-u", "promwriter", "-P", "pw-secret-2", "-q", "1", "-t", "sensors/s1", "-m", payload}
	if out, err := exec.Command(pub, append([]string{"--cafile", f.caFile}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub over tls: %v %s", err, out)
	}
	if out, err := exec.Command(pub, args...).CombinedOutput(); err == nil {
		t.Fatalf("plain-text publish to the TLS broker succeeded: %s", out)
	}
	select {
	case m := <-got:
		if m != payload {
			t.Fatalf("subscriber got %q, want %q", m, payload)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscriber got nothing")
	}
	if got := sqlRows(t, srv, `SELECT device, v FROM "iot"."secure"`); fmt.Sprint(got) != "[[s1 7.5]]" {
		t.Fatalf("rows %v", got)
	}
}

// spPayload encodes a Sparkplug B payload (sparkplug_b.proto field
// numbers) with DOUBLE metrics given as name (may be empty), alias and
// value.
func spPayload(ts uint64, seq int64, metrics ...struct {
	name  string
	alias uint64
	v     float64
}) []byte {
	b := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), ts)
	for _, m := range metrics {
		var mb []byte
		if m.name != "" {
			mb = protowire.AppendString(protowire.AppendTag(mb, 1, protowire.BytesType), m.name)
		}
		mb = protowire.AppendVarint(protowire.AppendTag(mb, 2, protowire.VarintType), m.alias)
		mb = protowire.AppendVarint(protowire.AppendTag(mb, 4, protowire.VarintType), 10) // Double
		mb = protowire.AppendFixed64(protowire.AppendTag(mb, 13, protowire.Fixed64Type), math.Float64bits(m.v))
		b = protowire.AppendBytes(protowire.AppendTag(b, 2, protowire.BytesType), mb)
	}
	if seq >= 0 {
		b = protowire.AppendVarint(protowire.AppendTag(b, 3, protowire.VarintType), uint64(seq))
	}
	return b
}

// TestMQTTSparkplug sends a Sparkplug B edge node's life through the
// embedded broker: NBIRTH with aliases from mosquitto_pub, NDATA by alias //nolint:misspell
// from paho (with a sequence gap), and NDEATH as the will of a
// mosquitto_pub killed with SIGKILL. //nolint:misspell
func TestMQTTSparkplug(t *testing.T) {
	pub := needTool(t, "mosquitto_pub", "mosquitto-clients")
	f := startMQTT(t)
	host, port, _ := strings.Cut(f.mqttAddr, ":")
	base := uint64(time.Now().Add(-time.Minute).UnixMilli())
	type m = struct {
		name  string
		alias uint64
		v     float64
	}
	birth := filepath.Join(t.TempDir(), "nbirth.bin")
	if err := os.WriteFile(birth, spPayload(base, 0, m{"temp", 1, 20.5}, m{"pressure", 2, 1.25}), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pub, "-h", host, "-p", port, "-u", "device", "-P", "dev-secret-4", "-q", "1",
		"-t", "spBv1.0/plant/NBIRTH/edge1", "-f", birth).CombinedOutput(); err != nil {
		t.Fatalf("NBIRTH: %v %s", err, out)
	}
	c, err := f.paho(t, "device", "dev-secret-4")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{
		spPayload(base+1000, 1, m{"", 1, 21}, m{"", 2, 1.5}),
		spPayload(base+2000, 3, m{"", 1, 22}), // seq 2 lost
	} {
		if tok := c.Publish("spBv1.0/plant/NDATA/edge1", 1, false, p); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("NDATA: %v", tok.Error())
		}
	}
	// An edge node whose connection drops: the broker publishes its will,
	// the NDEATH. mosquitto_pub -l stays connected while stdin is open. //nolint:misspell
	will := exec.Command(pub, "-h", host, "-p", port, "-u", "device", "-P", "dev-secret-4", "-q", "1", "-l",
		"-t", "agents/edge1/influx", "--will-topic", "spBv1.0/plant/NDEATH/edge1", "--will-qos", "1",
		"--will-payload", string(spPayload(base+3000, -1)))
	stdin, err := will.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := will.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(stdin, "alive v=1i %d\n", time.Now().Unix())
	poll := func(sql, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			rows, err := sqlQuery(t, f.srv, sql)
			got := fmt.Sprint(rows, err)
			if err == nil && fmt.Sprint(rows) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: got %s, want %s", sql, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	poll(`SELECT count(*) FROM "iot"."alive"`, "[[1]]")
	_ = will.Process.Kill()
	_ = will.Wait()
	poll(`SELECT measure_value::varchar FROM "iot"."sparkplug" WHERE measure_name = 'status' ORDER BY time DESC LIMIT 1`, "[[offline]]")

	got := sqlRows(t, f.srv, `SELECT group_id, edge_node_id, measure_name, measure_value::double, measure_value::varchar FROM "iot"."sparkplug" ORDER BY time, measure_name`)
	want := [][]string{
		{"plant", "edge1", "pressure", "1.25", "-"}, {"plant", "edge1", "status", "-", "online"}, {"plant", "edge1", "temp", "20.5", "-"},
		{"plant", "edge1", "pressure", "1.5", "-"}, {"plant", "edge1", "temp", "21.0", "-"},
		{"plant", "edge1", "temp", "22.0", "-"},
		{"plant", "edge1", "status", "-", "offline"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sparkplug rows:\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(f.srv.logs.String(), "seq 3 after 1") {
		t.Errorf("the sequence gap was not logged:\n%s", f.srv.logs.String())
	}
}

// startMosquitto runs Debian's mosquitto broker on addr (anonymous, no //nolint:misspell
// persistence) until the test ends or the returned stop is called.
func startMosquitto(t *testing.T, bin, addr string) (stop func()) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	if err := os.WriteFile(conf, []byte("listener "+port+" "+host+"\nallow_anonymous true\npersistence false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto not listening on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMQTTExternalBroker subscribes tidal to a real mosquitto with a //nolint:misspell
// shared subscription, stores what mosquitto_pub publishes there, and //nolint:misspell
// resumes after mosquitto is killed and restarted. //nolint:misspell
func TestMQTTExternalBroker(t *testing.T) {
	pub := needTool(t, "mosquitto_pub", "mosquitto-clients")
	mosq, err := exec.LookPath("mosquitto")
	if err != nil {
		mosq = "/usr/sbin/mosquitto" // Debian's path, outside a user's PATH
	}
	if _, err := os.Stat(mosq); err != nil {
		needTool(t, "mosquitto", "mosquitto")
	}
	brokerAddr := freeAddr(t)
	stop := startMosquitto(t, mosq, brokerAddr)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	conf := influxAuthConfig + `
mqtt:
  subscribe:
    - broker: tcp://` + brokerAddr + `
      client_id: tidal-test
      share_group: tidal
      topics:
        - {pattern: "ext/{device}/data", database: iot, table: ext}
`
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
	host, port, _ := strings.Cut(brokerAddr, ":")
	publish := func(device string, ms int64, v float64) {
		t.Helper()
		out, err := exec.Command(pub, "-h", host, "-p", port, "-q", "1", "-t", "ext/"+device+"/data",
			"-m", fmt.Sprintf(`{"time": %d, "v": %g}`, ms, v)).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v %s", err, out)
		}
	}
	// waitFor publishes probes (a subscription may not exist yet, and
	// mosquitto drops what nobody subscribed to) until device's rows //nolint:misspell
	// reach n.
	base := time.Now().Add(-time.Minute).UnixMilli()
	probe := 0
	waitFor := func(device string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			probe++
			publish(device, base+int64(probe), float64(probe))
			rows, err := sqlQuery(t, srv, `SELECT count(*) FROM "iot"."ext" WHERE device = '`+device+`'`)
			if err == nil && len(rows) == 1 && rows[0][0] != "0" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("nothing from %s through mosquitto: %v %v\n%s", device, rows, err, srv.logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("probe1")
	for i := range 5 {
		publish("d1", base+int64(i)*1000, float64(i)+0.5)
	}
	poll := func(sql, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			rows, err := sqlQuery(t, srv, sql)
			if err == nil && fmt.Sprint(rows) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: got %v %v, want %s", sql, rows, err, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	poll(`SELECT count(*), sum(v) FROM "iot"."ext" WHERE device = 'd1'`, "[[5 12.5]]")

	// The broker dies and comes back: tidal reconnects and subscribes again.
	stop()
	startMosquitto(t, mosq, brokerAddr)
	waitFor("probe2")
	publish("d2", base, 7)
	poll(`SELECT count(*), sum(v) FROM "iot"."ext" WHERE device = 'd2'`, "[[1 7.0]]")
}

// TestFailureLimitAcrossListeners guesses MQTT passwords with paho until the
// failed-attempt limit is reached, then checks that the right password is
// refused on MQTT and that the same address is answered 429 over HTTP: the
// limit is one per address across listeners.
func TestFailureLimitAcrossListeners(t *testing.T) {
	f := startMQTT(t)
	for i := range 10 { // the default auth.failure_burst
		if _, err := f.paho(t, "device", fmt.Sprint("guess-", i)); err == nil {
			t.Fatalf("guess %d connected", i)
		}
	}
	if _, err := f.paho(t, "device", "dev-secret-4"); err == nil {
		t.Fatal("the right password connected while the address is throttled")
	}
	req, _ := http.NewRequest("GET", f.srv.url()+"/metrics", nil)
	req.SetBasicAuth("admin", "admin-secret-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("HTTP from the throttled address: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if !strings.Contains(f.srv.logs.String(), "mqtt connection throttled") {
		t.Errorf("no throttle log line:\n%s", f.srv.logs.String())
	}
}
