package tsbs

import (
	"strconv"
)

// TSBS's host tag value lists.
var (
	regions = []struct {
		name string
		dcs  []string
	}{
		{"us-east-1", []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"}},
		{"us-west-1", []string{"us-west-1a", "us-west-1b"}},
		{"us-west-2", []string{"us-west-2a", "us-west-2b", "us-west-2c"}},
		{"eu-west-1", []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{"eu-central-1", []string{"eu-central-1a", "eu-central-1b"}},
		{"ap-southeast-1", []string{"ap-southeast-1a", "ap-southeast-1b"}},
		{"ap-southeast-2", []string{"ap-southeast-2a", "ap-southeast-2b"}},
		{"ap-northeast-1", []string{"ap-northeast-1a", "ap-northeast-1c"}},
		{"sa-east-1", []string{"sa-east-1a", "sa-east-1b", "sa-east-1c"}},
	}
	oses         = []string{"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"}
	arches       = []string{"x64", "x86"}
	teams        = []string{"SF", "NYC", "LON", "CHI"}
	environments = []string{"production", "staging", "test"}
	diskPaths    = []string{"/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd", "/dev/sde", "/dev/sdf"}
	fsTypes      = []string{"ext3", "ext4", "btrfs"}
	interfaces   = []string{"eth0", "eth1", "eth2", "eth3"}
)

// Host tag keys in TSBS order.
var hostTagKeys = []string{
	"hostname", "region", "datacenter", "rack", "os", "arch",
	"team", "service", "service_version", "service_environment",
}

const (
	gib = 1 << 30
	mib = 1 << 20
)

// devopsSpecs are the measurements of the devops use case in emission order;
// cpu-only uses the first.
var devopsSpecs = []measSpec{
	{name: "cpu", fields: []fieldSpec{
		gauge("usage_user", 0, 100, 1), gauge("usage_system", 0, 100, 1),
		gauge("usage_idle", 0, 100, 1), gauge("usage_nice", 0, 100, 1),
		gauge("usage_iowait", 0, 100, 1), gauge("usage_irq", 0, 100, 1),
		gauge("usage_softirq", 0, 100, 1), gauge("usage_steal", 0, 100, 1),
		gauge("usage_guest", 0, 100, 1), gauge("usage_guest_nice", 0, 100, 1),
	}},
	{name: "diskio", fields: []fieldSpec{
		counter("reads", 10), counter("writes", 10),
		counter("read_bytes", 40960), counter("write_bytes", 40960),
		counter("read_time", 100), counter("write_time", 100), counter("io_time", 100),
	}},
	{name: "disk", fields: []fieldSpec{
		choice("total", 250e9, 500e9, 1e12), // 0
		gaugeUnder("free", 0, 1e8),          // 1
		diff("used", 0, 1),                  // 2
		pct("used_percent", 2, 0),           // 3
		constant("inodes_total", 1<<25, 1<<25+1),
		gaugeUnder("inodes_free", 4, 1000), // 5
		diff("inodes_used", 4, 5),
	}},
	{name: "kernel", fields: []fieldSpec{
		constant("boot_time", 1.6e9, 1.7e9),
		counter("interrupts", 1000), counter("context_switches", 5000),
		counter("processes_forked", 10),
		counter("disk_pages_in", 100), counter("disk_pages_out", 100),
	}},
	{name: "mem", fields: []fieldSpec{
		choice("total", 8*gib, 16*gib, 32*gib), // 0
		gaugeUnder("available", 0, 1e7),        // 1
		diff("used", 0, 1),                     // 2
		gaugeUnder("free", 1, 1e7),             // 3
		gaugeUnder("cached", 0, 1e6),           // 4
		gaugeUnder("buffered", 0, 1e6),         // 5
		pct("used_percent", 2, 0).float(2),
		pct("available_percent", 1, 0).float(2),
		pct("buffered_percent", 5, 0).float(2),
	}},
	{name: "net", fields: []fieldSpec{
		counter("bytes_sent", 1e6), counter("bytes_recv", 1e6),
		counter("packets_sent", 1000), counter("packets_recv", 1000),
		counter("err_in", 0.05), counter("err_out", 0.05),
		counter("drop_in", 0.05), counter("drop_out", 0.05),
	}},
	{name: "nginx", fields: []fieldSpec{
		counter("accepts", 100), gauge("active", 0, 100, 5),
		counter("handled", 100), gauge("reading", 0, 100, 2),
		counter("requests", 200), gauge("waiting", 0, 100, 5),
		gauge("writing", 0, 100, 2),
	}},
	{name: "postgresl", fields: []fieldSpec{
		gauge("numbackends", 0, 100, 2),
		counter("xact_commit", 1000), counter("xact_rollback", 10),
		counter("blks_read", 1000), counter("blks_hit", 10000),
		counter("tup_returned", 10000), counter("tup_fetched", 5000),
		counter("tup_inserted", 1000), counter("tup_updated", 1000),
		counter("tup_deleted", 100), counter("conflicts", 0.1),
		counter("temp_files", 1), counter("temp_bytes", 1e5),
		counter("deadlocks", 0.01),
		counter("blk_read_time", 100), counter("blk_write_time", 100),
	}},
	{name: "redis", fields: []fieldSpec{
		{name: "uptime_in_seconds", kind: walkUptime, lo: 0, hi: 1e6, maxRef: -1},
		counter("total_connections_received", 10),
		counter("expired_keys", 100), counter("evicted_keys", 10),
		counter("keyspace_hits", 1000), counter("keyspace_misses", 100),
		gauge("instantaneous_ops_per_sec", 0, 10000, 100),
		gauge("instantaneous_input_kbps", 0, 1000, 10),
		gauge("instantaneous_output_kbps", 0, 1000, 10),
		gauge("connected_clients", 0, 10000, 10),
		gauge("used_memory", 0, 8*gib, 1e6),
		gauge("used_memory_rss", 0, 8*gib, 1e6),
		gauge("used_memory_peak", 0, 8*gib, 1e6),
		gauge("used_memory_lua", 0, 1e6, 1e3),
		gauge("rdb_changes_since_last_save", 0, 1e6, 1e3),
		counter("sync_full", 0.01), counter("sync_partial_ok", 0.01),
		counter("sync_partial_err", 0.01),
		gauge("pubsub_channels", 0, 100, 1), gauge("pubsub_patterns", 0, 100, 1),
		gauge("latest_fork_usec", 0, 1e6, 1e3),
		gauge("connected_slaves", 0, 10, 0.5),
		counter("master_repl_offset", 1e4),
		gauge("repl_backlog_active", 0, 2, 0.1),
		constant("repl_backlog_size", mib, mib+1),
		gauge("repl_backlog_histlen", 0, mib, 1e4),
		gauge("mem_fragmentation_ratio", 1, 2, 0.01).float(2),
		counter("used_cpu_sys", 1).float(2), counter("used_cpu_user", 1).float(2),
		counter("used_cpu_sys_children", 0.1).float(2),
		counter("used_cpu_user_children", 0.1).float(2),
	}},
}

// host is one simulated devops host: its tags per measurement (host tags
// followed by the measurement's own) and the walk state of every field.
type host struct {
	r    rng
	tags [][]Tag     // per measurement
	vals [][]float64 // per measurement, per field
}

func newHost(seed int64, idx int, specs []measSpec) *host {
	h := &host{r: newRNG(seed, uint64(idx)+1)}
	r := &h.r
	reg := regions[r.intn(len(regions))]
	base := []Tag{
		{"hostname", "host_" + strconv.Itoa(idx)},
		{"region", reg.name},
		{"datacenter", reg.dcs[r.intn(len(reg.dcs))]},
		{"rack", strconv.Itoa(r.intn(100))},
		{"os", oses[r.intn(len(oses))]},
		{"arch", arches[r.intn(len(arches))]},
		{"team", teams[r.intn(len(teams))]},
		{"service", strconv.Itoa(r.intn(20))},
		{"service_version", strconv.Itoa(r.intn(2))},
		{"service_environment", environments[r.intn(len(environments))]},
	}
	h.tags = make([][]Tag, len(specs))
	h.vals = make([][]float64, len(specs))
	for i := range specs {
		m := &specs[i]
		ts := base
		if extra := devopsExtraTags(r, m.name); len(extra) > 0 {
			ts = append(append(make([]Tag, 0, len(base)+len(extra)), base...), extra...)
		}
		h.tags[i] = ts
		h.vals[i] = make([]float64, len(m.fields))
		m.initValues(r, h.vals[i])
	}
	return h
}

// devopsExtraTags draws the tags measurement name adds after the host tags.
func devopsExtraTags(r *rng, name string) []Tag {
	switch name {
	case "diskio":
		return []Tag{{"serial", digits(r, 3) + "-" + digits(r, 3) + "-" + digits(r, 4)}}
	case "disk":
		return []Tag{
			{"path", diskPaths[r.intn(len(diskPaths))]},
			{"fstype", fsTypes[r.intn(len(fsTypes))]},
		}
	case "net":
		return []Tag{{"interface", interfaces[r.intn(len(interfaces))]}}
	case "nginx":
		return []Tag{
			{"port", strconv.Itoa(80 + r.intn(20))},
			{"server", "nginx_" + strconv.Itoa(r.intn(100000))},
		}
	case "redis":
		return []Tag{
			{"port", strconv.Itoa(6379 + r.intn(100))},
			{"server", "redis_" + strconv.Itoa(r.intn(100000))},
		}
	}
	return nil
}

func digits(r *rng, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.intn(10))
	}
	return string(b)
}

// devopsGen emits devops and cpu-only points time-major.
type devopsGen struct {
	specs  []measSpec
	hosts  []*host
	start  int64
	ivNs   int64
	ivSec  float64
	steps  int
	step   int // current tick
	hi, mi int // next host and measurement
}

func newDevops(cfg Config) *devopsGen {
	specs := devopsSpecs
	if cfg.UseCase == UseCaseCPUOnly {
		specs = devopsSpecs[:1]
	}
	g := &devopsGen{
		specs: specs,
		hosts: make([]*host, cfg.Scale),
		start: cfg.Start.UnixNano(),
		ivNs:  int64(cfg.interval()),
		ivSec: cfg.interval().Seconds(),
		steps: cfg.Steps(),
	}
	for i := range g.hosts {
		g.hosts[i] = newHost(cfg.Seed, i, specs)
	}
	return g
}

// Next implements Generator.
func (g *devopsGen) Next(p *Point) bool {
	if g.step >= g.steps {
		return false
	}
	h, m := g.hosts[g.hi], &g.specs[g.mi]
	v := h.vals[g.mi]
	if g.step > 0 {
		m.advance(&h.r, v, g.ivSec)
	}
	p.Measurement = m.name
	p.Tags = append(p.Tags[:0], h.tags[g.mi]...)
	p.Fields = p.Fields[:0]
	for i := range m.fields {
		p.Fields = m.emit(p.Fields, i, v)
	}
	p.Time = g.start + int64(g.step)*g.ivNs
	g.mi++
	if g.mi == len(g.specs) {
		g.mi = 0
		g.hi++
		if g.hi == len(g.hosts) {
			g.hi = 0
			g.step++
		}
	}
	return true
}
