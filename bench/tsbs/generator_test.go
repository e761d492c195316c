package tsbs

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func testConfig(useCase string, scale int, d time.Duration, seed int64) Config {
	return Config{UseCase: useCase, Scale: scale, Start: t0, End: t0.Add(d), Seed: seed}
}

// generate returns deep copies of every point of cfg.
func generate(t testing.TB, cfg Config) []*Point {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	var out []*Point
	var p Point
	for g.Next(&p) {
		out = append(out, p.Clone())
	}
	return out
}

// influxBytes returns the line protocol of every point of cfg.
func influxBytes(t testing.TB, cfg Config) []byte {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	var buf []byte
	var p Point
	for g.Next(&p) {
		buf = p.AppendInflux(buf)
	}
	return buf
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" for valid
	}{
		{"devops", testConfig("devops", 1, time.Minute, 1), ""},
		{"cpu-only", testConfig("cpu-only", 1, time.Minute, 1), ""},
		{"iot", testConfig("iot", 1, time.Minute, 1), ""},
		{"unknown use case", testConfig("bogus", 1, time.Minute, 1), `unknown use case "bogus"`},
		{"zero scale", testConfig("devops", 0, time.Minute, 1), "scale 0 is not positive"},
		{"empty window", testConfig("devops", 1, 0, 1), "is not after start"},
		{"negative interval", Config{UseCase: "iot", Scale: 1, Start: t0, End: t0.Add(time.Hour), Interval: -time.Second}, "interval -1s is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrConfig) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("New error = %v, want ErrConfig containing %q", err, tc.want)
			}
		})
	}
}

func TestSteps(t *testing.T) {
	tests := []struct {
		d, iv time.Duration
		want  int
	}{
		{6 * time.Hour, 0, 2160}, // the reference's 2,160 intervals
		{time.Minute, 10 * time.Second, 6},
		{61 * time.Second, 10 * time.Second, 7},
		{time.Second, 10 * time.Second, 1},
		{time.Hour, time.Minute, 60},
	}
	for _, tc := range tests {
		c := Config{UseCase: "devops", Scale: 1, Start: t0, End: t0.Add(tc.d), Interval: tc.iv}
		if got := c.Steps(); got != tc.want {
			t.Errorf("Steps(%v, %v) = %d, want %d", tc.d, tc.iv, got, tc.want)
		}
	}
}

func TestDeterminism(t *testing.T) {
	for _, uc := range []string{"cpu-only", "devops", "iot"} {
		t.Run(uc, func(t *testing.T) {
			a := influxBytes(t, testConfig(uc, 5, 10*time.Minute, 42))
			b := influxBytes(t, testConfig(uc, 5, 10*time.Minute, 42))
			if !bytes.Equal(a, b) {
				t.Fatalf("same seed gave different output (%d vs %d bytes)", len(a), len(b))
			}
			c := influxBytes(t, testConfig(uc, 5, 10*time.Minute, 43))
			if bytes.Equal(a, c) {
				t.Fatal("seeds 42 and 43 gave identical output")
			}
		})
	}
}

// TestHostIndependentOfScale checks that host_N's data does not depend on
// how many hosts are generated.
func TestHostIndependentOfScale(t *testing.T) {
	small := generate(t, testConfig("devops", 2, time.Minute, 7))
	large := generate(t, testConfig("devops", 5, time.Minute, 7))
	for _, p := range small[:9] { // host_0 at t0
		found := false
		for _, q := range large {
			if q.Measurement == p.Measurement && q.Time == p.Time && q.Tags[0] == p.Tags[0] {
				found = p.Equal(q)
				break
			}
		}
		if !found {
			t.Fatalf("host_0 %s differs between scale 2 and 5", p.Measurement)
		}
	}
}

// TestGolden pins the first cpu line for seed 123, so that any change to
// the generator's output is deliberate.
func TestGolden(t *testing.T) {
	pts := generate(t, testConfig("cpu-only", 1, 10*time.Second, 123))
	if len(pts) != 1 {
		t.Fatalf("got %d points, want 1", len(pts))
	}
	got := string(pts[0].AppendInflux(nil))
	want := "cpu,hostname=host_0,region=ap-southeast-1,datacenter=ap-southeast-1b,rack=96,os=Ubuntu15.10,arch=x86,team=CHI,service=2,service_version=0,service_environment=test usage_user=47i,usage_system=85i,usage_idle=15i,usage_nice=76i,usage_iowait=80i,usage_irq=3i,usage_softirq=63i,usage_steal=94i,usage_guest=6i,usage_guest_nice=1i 1704067200000000000\n"
	if got != want {
		t.Fatalf("first line\n got %q\nwant %q", got, want)
	}
}

var wantDevopsFields = map[string][]string{
	"cpu":    {"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"},
	"diskio": {"reads", "writes", "read_bytes", "write_bytes", "read_time", "write_time", "io_time"},
	"disk":   {"total", "free", "used", "used_percent", "inodes_total", "inodes_free", "inodes_used"},
	"kernel": {"boot_time", "interrupts", "context_switches", "processes_forked", "disk_pages_in", "disk_pages_out"},
	"mem":    {"total", "available", "used", "free", "cached", "buffered", "used_percent", "available_percent", "buffered_percent"},
	"net":    {"bytes_sent", "bytes_recv", "packets_sent", "packets_recv", "err_in", "err_out", "drop_in", "drop_out"},
	"nginx":  {"accepts", "active", "handled", "reading", "requests", "waiting", "writing"},
	"postgresl": {"numbackends", "xact_commit", "xact_rollback", "blks_read", "blks_hit", "tup_returned", "tup_fetched",
		"tup_inserted", "tup_updated", "tup_deleted", "conflicts", "temp_files", "temp_bytes", "deadlocks", "blk_read_time", "blk_write_time"},
	"redis": {"uptime_in_seconds", "total_connections_received", "expired_keys", "evicted_keys", "keyspace_hits",
		"keyspace_misses", "instantaneous_ops_per_sec", "instantaneous_input_kbps", "instantaneous_output_kbps",
		"connected_clients", "used_memory", "used_memory_rss", "used_memory_peak", "used_memory_lua",
		"rdb_changes_since_last_save", "sync_full", "sync_partial_ok", "sync_partial_err", "pubsub_channels",
		"pubsub_patterns", "latest_fork_usec", "connected_slaves", "master_repl_offset", "repl_backlog_active",
		"repl_backlog_size", "repl_backlog_histlen", "mem_fragmentation_ratio", "used_cpu_sys", "used_cpu_user",
		"used_cpu_sys_children", "used_cpu_user_children"},
}

var wantExtraTags = map[string][]string{
	"diskio": {"serial"},
	"disk":   {"path", "fstype"},
	"net":    {"interface"},
	"nginx":  {"port", "server"},
	"redis":  {"port", "server"},
}

func TestDevopsShape(t *testing.T) {
	const scale, d = 10, 10 * time.Minute // 60 ticks
	pts := generate(t, testConfig("devops", scale, d, 123))
	order := []string{"cpu", "diskio", "disk", "kernel", "mem", "net", "nginx", "postgresl", "redis"}
	if want := scale * 60 * len(order); len(pts) != want {
		t.Fatalf("got %d points, want %d", len(pts), want)
	}
	totalFields := 0
	for _, f := range wantDevopsFields {
		totalFields += len(f)
	}
	if totalFields != 101 {
		t.Fatalf("devops has %d fields per host and tick, want 101", totalFields)
	}
	hostnames := map[string]bool{}
	tagValues := map[string]map[string]bool{}
	for i, p := range pts {
		tick, host, m := i/(scale*9), i/9%scale, i%9
		if want := t0.UnixNano() + int64(tick)*int64(10*time.Second); p.Time != want {
			t.Fatalf("point %d time %d, want %d", i, p.Time, want)
		}
		if p.Measurement != order[m] {
			t.Fatalf("point %d is %s, want %s", i, p.Measurement, order[m])
		}
		if want := fmt.Sprintf("host_%d", host); p.Tags[0] != (Tag{"hostname", want}) {
			t.Fatalf("point %d first tag %v, want hostname=%s", i, p.Tags[0], want)
		}
		keys := append(append([]string{}, hostTagKeys...), wantExtraTags[p.Measurement]...)
		if len(p.Tags) != len(keys) {
			t.Fatalf("point %d (%s) has %d tags, want %d", i, p.Measurement, len(p.Tags), len(keys))
		}
		for j, k := range keys {
			if p.Tags[j].Key != k || p.Tags[j].Value == "" {
				t.Fatalf("point %d tag %d = %v, want key %s with a value", i, j, p.Tags[j], k)
			}
			if tagValues[k] == nil {
				tagValues[k] = map[string]bool{}
			}
			tagValues[k][p.Tags[j].Value] = true
		}
		hostnames[p.Tags[0].Value] = true
		names := wantDevopsFields[p.Measurement]
		if len(p.Fields) != len(names) {
			t.Fatalf("point %d (%s) has %d fields, want %d", i, p.Measurement, len(p.Fields), len(names))
		}
		for j, f := range p.Fields {
			if f.Name != names[j] {
				t.Fatalf("point %d field %d is %s, want %s", i, j, f.Name, names[j])
			}
			v := f.Value()
			switch {
			case p.Measurement == "cpu" && (f.Kind != FieldInt || v < 0 || v > 100):
				t.Fatalf("cpu %s = %+v, want an int in [0,100]", f.Name, f)
			case v < 0:
				t.Fatalf("%s %s = %v, want >= 0", p.Measurement, f.Name, v)
			}
		}
		checkDerived(t, p)
	}
	if len(hostnames) != scale {
		t.Fatalf("%d distinct hostnames, want %d", len(hostnames), scale)
	}
	// Value lists bound the cardinality of each host tag.
	limits := map[string]int{"region": 9, "os": 3, "arch": 2, "team": 4, "service": 20, "service_version": 2, "service_environment": 3, "rack": 100}
	for k, n := range limits {
		if c := len(tagValues[k]); c < 1 || c > n {
			t.Errorf("tag %s has %d distinct values, want 1..%d", k, c, n)
		}
	}
	if c := len(tagValues["region"]); c < 3 {
		t.Errorf("10 hosts used only %d regions", c)
	}
}

// checkDerived checks the derived fields of disk and mem.
func checkDerived(t *testing.T, p *Point) {
	t.Helper()
	get := func(name string) float64 {
		for _, f := range p.Fields {
			if f.Name == name {
				return f.Value()
			}
		}
		t.Fatalf("%s has no field %s", p.Measurement, name)
		return 0
	}
	near := func(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }
	switch p.Measurement {
	case "disk":
		if !near(get("used"), get("total")-get("free"), 1) || get("free") > get("total") {
			t.Fatalf("disk used/free/total inconsistent: %+v", p.Fields)
		}
		if up := get("used_percent"); up < 0 || up > 100 {
			t.Fatalf("disk used_percent %v", up)
		}
	case "mem":
		total := get("total")
		if !near(get("used"), total-get("available"), 1) || get("free") > get("available") {
			t.Fatalf("mem used/available/free inconsistent: %+v", p.Fields)
		}
		if !near(get("used_percent")+get("available_percent"), 100, 0.011) {
			t.Fatalf("mem percents do not add to 100: %+v", p.Fields)
		}
	}
}

func TestCPUOnlyShape(t *testing.T) {
	pts := generate(t, testConfig("cpu-only", 4, time.Hour, 1))
	if len(pts) != 4*360 {
		t.Fatalf("got %d points, want %d", len(pts), 4*360)
	}
	var prev [4][10]int64
	maxStep := int64(0)
	for i, p := range pts {
		if p.Measurement != "cpu" || len(p.Fields) != 10 {
			t.Fatalf("point %d: %s with %d fields", i, p.Measurement, len(p.Fields))
		}
		h := i % 4
		for j, f := range p.Fields {
			if i >= 4 {
				d := f.Int - prev[h][j]
				maxStep = max(maxStep, d, -d)
			}
			prev[h][j] = f.Int
		}
	}
	// A Gaussian walk with sigma 1 moves by at most 2*sqrt(3) per tick,
	// plus one for truncation to int.
	if maxStep > 4 || maxStep == 0 {
		t.Fatalf("largest cpu step %d, want 1..4", maxStep)
	}
}

func TestCountersMonotonic(t *testing.T) {
	pts := generate(t, testConfig("devops", 2, time.Hour, 9))
	last := map[string]int64{}
	for _, p := range pts {
		if p.Measurement != "diskio" && p.Measurement != "net" {
			continue
		}
		for _, f := range p.Fields {
			k := p.Tags[0].Value + p.Measurement + f.Name
			if f.Int < last[k] {
				t.Fatalf("%s went down from %d to %d", k, last[k], f.Int)
			}
			last[k] = f.Int
		}
	}
	if last["host_0diskioreads"] == 0 || last["host_1netbytes_sent"] == 0 {
		t.Fatalf("counters did not grow: %v", last)
	}
}

var wantIoTFields = map[string][]string{
	"readings":    {"latitude", "longitude", "elevation", "velocity", "heading", "grade", "fuel_consumption"},
	"diagnostics": {"load", "fuel_state", "status"},
}

var fieldRanges = map[string][2]float64{
	"latitude": {-90, 90}, "longitude": {-180, 180}, "elevation": {0, 5000}, "velocity": {0, 100},
	"heading": {0, 360}, "grade": {0, 100}, "fuel_consumption": {0, 50},
	"load": {0, 5000}, "fuel_state": {0, 1}, "status": {0, 5},
}

func TestIoTShape(t *testing.T) {
	const scale, steps = 50, 360 // 50 trucks for one hour
	pts := generate(t, testConfig("iot", scale, time.Hour, 5))
	expected := float64(scale * steps * 2)
	missing := expected - float64(len(pts))
	if r := missing / expected; r < MissingRate*0.6 || r > MissingRate*1.4 {
		t.Fatalf("missing rate %.4f (%d of %.0f), want about %v", r, int(missing), expected, MissingRate)
	}
	var late, fields, present int
	var maxTime int64
	seen := map[string]bool{}
	trucks := map[string]bool{}
	for i, p := range pts {
		if p.Time < maxTime {
			late++
			if lag := (maxTime - p.Time) / int64(10*time.Second); lag > MaxLateTicks {
				t.Fatalf("point %d is %d ticks late, max %d", i, lag, MaxLateTicks)
			}
		}
		maxTime = max(maxTime, p.Time)
		key := fmt.Sprint(p.Tags[0].Value, p.Measurement, p.Time)
		if seen[key] {
			t.Fatalf("point %s emitted twice", key)
		}
		seen[key] = true
		trucks[p.Tags[0].Value] = true
		if len(p.Tags) != len(truckTagKeys) {
			t.Fatalf("point %d has %d tags", i, len(p.Tags))
		}
		for j, k := range truckTagKeys {
			if p.Tags[j].Key != k {
				t.Fatalf("point %d tag %d is %s, want %s", i, j, p.Tags[j].Key, k)
			}
		}
		names := wantIoTFields[p.Measurement]
		if names == nil {
			t.Fatalf("unexpected measurement %s", p.Measurement)
		}
		fields += len(names)
		present += len(p.Fields)
		if len(p.Fields) == 0 {
			t.Fatalf("point %d has no fields", i)
		}
		k := 0
		for _, f := range p.Fields {
			for k < len(names) && names[k] != f.Name {
				k++
			}
			if k == len(names) {
				t.Fatalf("point %d field %s out of order or unknown", i, f.Name)
			}
			r := fieldRanges[f.Name]
			if v := f.Value(); v < r[0] || v > r[1] {
				t.Fatalf("%s = %v outside %v", f.Name, v, r)
			}
			if (f.Name == "status") != (f.Kind == FieldInt) {
				t.Fatalf("%s has kind %d", f.Name, f.Kind)
			}
		}
	}
	if len(trucks) != scale {
		t.Fatalf("%d trucks, want %d", len(trucks), scale)
	}
	// Late points are out of order unless they are overtaken by nothing;
	// every point is late with probability LateRate, and almost all late
	// points show up as a time going backwards.
	if r := float64(late) / float64(len(pts)); r < LateRate*0.6 || r > LateRate*1.4 {
		t.Fatalf("out-of-order rate %.4f (%d), want about %v", r, late, LateRate)
	}
	if r := 1 - float64(present)/float64(fields); r < NullRate*0.6 || r > NullRate*1.4 {
		t.Fatalf("null field rate %.4f, want about %v", r, NullRate)
	}
}

func TestIoTLoadBoundByModel(t *testing.T) {
	pts := generate(t, testConfig("iot", 30, 20*time.Minute, 3))
	for _, p := range pts {
		if p.Measurement != "diagnostics" {
			continue
		}
		capacity := map[string]float64{"F-150": 2000, "G-2000": 5000, "H-2": 1500}[p.Tags[3].Value]
		if p.Tags[5].Value != fmt.Sprint(capacity) {
			t.Fatalf("model %s has load_capacity %s", p.Tags[3].Value, p.Tags[5].Value)
		}
		for _, f := range p.Fields {
			if f.Name == "load" && f.Float > capacity {
				t.Fatalf("%s load %v above capacity %v", p.Tags[0].Value, f.Float, capacity)
			}
		}
	}
}
