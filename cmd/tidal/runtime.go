package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/tidaldb/tidal/internal/config"
)

// cgroupMemoryFiles are where cgroup v2 and v1 publish the memory limit
// of the process's group.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// applyRuntimeLimits sets the Go runtime's soft memory limit and garbage
// collector percentage from the server configuration.
func applyRuntimeLimits(c config.Server, logger *slog.Logger) {
	limit, source := memoryLimit(c.MemoryLimit, os.Getenv("GOMEMLIMIT"), cgroupMemoryMax())
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	if c.GCPercent > 0 {
		debug.SetGCPercent(c.GCPercent)
	}
	cur := debug.SetMemoryLimit(-1) // reads the limit in force
	gc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gc)
	logger.Info("go runtime memory settings", "memory_limit_bytes", cur, "memory_limit_from", source, "gc_percent", gc)
}

// memoryLimit chooses the soft memory limit: the configured one, else none
// of ours when GOMEMLIMIT is set (the runtime applied it), else 3/4 of the
// cgroup's limit (the rest for the page cache and what the runtime does
// not count), else none. It returns 0 to leave the runtime's limit as is.
func memoryLimit(configured config.Size, env string, cgroupMax int64) (int64, string) {
	switch {
	case configured > 0:
		return int64(configured), "server.memory_limit"
	case env != "":
		return 0, "GOMEMLIMIT"
	case cgroupMax > 0:
		return cgroupMax / 4 * 3, "cgroup"
	}
	return 0, "none"
}

// cgroupMemoryMax returns the memory limit of the process's cgroup, or 0
// without one.
func cgroupMemoryMax() int64 {
	for _, f := range cgroupMemoryFiles {
		if b, err := os.ReadFile(f); err == nil {
			return parseCgroupMax(string(b))
		}
	}
	return 0
}

// parseCgroupMax parses a cgroup memory limit file: a byte count, or "max"
// (v2) or a near-2^63 value (v1) for none; 0 means no limit.
func parseCgroupMax(s string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v <= 0 || v >= 1<<60 {
		return 0
	}
	return v
}
