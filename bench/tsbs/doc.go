// Package tsbs owns the TSBS-compatible workloads of the benchmark harness:
// deterministic generators for TSBS's "cpu-only", "devops" and "iot" use
// cases, the Influx line-protocol and Timestream-file encodings of their
// points, readers for files made by TSBS's own tsbs_generate_data, and the
// conversions of a point to TidalDB records and Prometheus samples.
//
// Everything here is written from TSBS's description of its data (tag sets,
// field sets, value walks), not from its code, so values are TSBS-shaped but
// not TSBS-identical. A Generator is not safe for concurrent use; run one per
// goroutine. Readers and helpers hold no shared state. Nothing in this package
// starts goroutines.
//
// # Determinism
//
// A Generator's output depends only on its Config: the same Config yields
// byte-identical points on every run and every platform. Randomness comes from
// a splitmix64 stream per host or truck (seeded from Config.Seed and the
// entity's index, so host_N looks the same at any Scale); Gaussian steps are
// the Irwin-Hall sum of four uniforms, and every float expression is written
// so that the compiler cannot fuse multiply-adds, so no libm or FMA
// difference can change a value.
//
// # Devops (and cpu-only)
//
// Each host carries ten tags in TSBS order: hostname (host_N), region,
// datacenter (a zone of the region), rack ("0".."99"), os (Ubuntu16.10,
// Ubuntu16.04LTS, Ubuntu15.10), arch (x64, x86), team (SF, NYC, LON, CHI),
// service ("0".."19"), service_version ("0", "1") and service_environment
// (production, staging, test). Some measurements add tags after these:
// diskio serial ("NNN-NNN-NNNN"), disk path (/dev/sda../dev/sdf) and fstype
// (ext3, ext4, btrfs), net interface (eth0..eth3), nginx and redis port and
// server (nginx_N, redis_N).
//
// Points come time-major: at each tick every host in index order emits its
// measurements in the order cpu, diskio, disk, kernel, mem, net, nginx,
// postgresl, redis ("cpu-only" emits only cpu). The first tick emits the
// initial values. Field counts are those TSBS reports (cpu 10, diskio 7,
// disk 7, kernel 6, mem 9, net 8, nginx 7, postgresl 16, redis 31: 101 per
// host and tick). TSBS does not document every range, so these are ours, per
// 10 s tick whatever the interval:
//
//   - gauge: random walk with Gaussian steps of the given sigma, clamped to
//     its range, starting uniform in the range. cpu usage_* are gauges in
//     [0,100] with sigma 1, like TSBS's. Other gauges: disk free in
//     [0,total] (sigma 1e8), inodes_free in [0,inodes_total] (sigma 1000),
//     mem available in [0,total] and free in [0,available] (sigma 1e7),
//     cached and buffered in [0,total] (sigma 1e6), nginx active and waiting
//     in [0,100] (sigma 5), reading and writing (sigma 2), postgresl
//     numbackends in [0,100] (sigma 2), redis gauges as listed in devops.go.
//   - counter: starts at 0 and grows by a uniform step in [0,max] per tick
//     (for example diskio reads by up to 10, read_bytes by up to 40960, net
//     bytes_sent by up to 1e6, error and drop counters by up to 0.05, so they
//     move rarely); redis uptime_in_seconds grows by the interval in seconds.
//   - constant per host: disk total (250 GB, 500 GB or 1 TB), inodes_total
//     (2^25), mem total (8, 16 or 32 GiB), kernel boot_time (Unix seconds in
//     [1.6e9,1.7e9]), redis repl_backlog_size (1 MiB).
//   - derived: disk used = total-free, used_percent = 100*used/total;
//     inodes_used = inodes_total-inodes_free; mem used = total-available and
//     the three mem *_percent fields.
//
// Devops values are int64 (TSBS's influx output writes cpu as "58i"), except
// mem *_percent, redis mem_fragmentation_ratio and redis used_cpu_* which are
// float64 rounded to two decimals.
//
// # IoT
//
// Each truck carries eight tags: name (truck_N), fleet (East, West, North,
// South), driver (Albert, Derek, Nico, Rodney, Seth, Trish), model (F-150,
// G-2000, H-2), device_version (v1.0, v1.5, v2.0, v2.3) and the model's
// load_capacity, fuel_capacity and nominal_fuel_consumption (F-150:
// 2000/200/15, G-2000: 5000/300/19, H-2: 1500/150/12). At each tick every
// truck emits readings (latitude [-90,90] and longitude [-180,180] with
// sigma 0.01 rounded to 5 decimals; elevation [0,5000] sigma 10; velocity
// [0,100] sigma 5; heading [0,360] sigma 10; grade [0,100] sigma 5;
// fuel_consumption [0,50] sigma 1; all float64, 2 decimals) then diagnostics
// (load [0,load_capacity] sigma 50 and fuel_state [0,1] sigma 0.01, float64;
// status [0,5] sigma 1, int64).
//
// IoT data is irregular like TSBS's, with fixed rates drawn per truck stream:
//
//   - MissingRate (1%) of (truck, measurement, tick) points are never emitted;
//   - LateRate (2%) of the others are emitted late: they keep their
//     timestamp but come out 1..MaxLateTicks (6) ticks later, before the
//     points of that later tick, so the stream is out of order;
//   - NullRate (1%) of fields are null, that is absent from the point (at
//     least one field always remains, as line protocol requires).
//
// # Encodings
//
// AppendInflux and ReadInflux handle line protocol (ReadInflux parses with
// ingest/lineproto, the server's decoder, and its rules); AppendTimestream and
// ReadTimestream handle TSBS's --format=timestream files (a "tags,k=v,..."
// line followed by a "measurement,time,v1,v2,..." line per point; the field
// names come from a timescaledb-style header when there is one, otherwise
// from this package's devops and iot field lists). ToRecords follows the
// TSBS Timestream loader: one table per measurement, one single-measure
// DOUBLE record per non-null field named after the field.
package tsbs
