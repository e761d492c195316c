package main

import (
	"testing"

	"github.com/tidaldb/tidal/internal/config"
)

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name       string
		configured config.Size
		env        string
		cgroup     int64
		want       int64
		from       string
	}{
		{"configured wins", 512 * config.MiB, "1GiB", 4 << 30, 512 << 20, "server.memory_limit"},
		{"GOMEMLIMIT left to the runtime", 0, "1GiB", 4 << 30, 0, "GOMEMLIMIT"},
		{"three quarters of the cgroup", 0, "", 4 << 30, 3 << 30, "cgroup"},
		{"none", 0, "", 0, 0, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from := memoryLimit(tt.configured, tt.env, tt.cgroup)
			if got != tt.want || from != tt.from {
				t.Errorf("memoryLimit = %d from %s, want %d from %s", got, from, tt.want, tt.from)
			}
		})
	}
}

func TestParseCgroupMax(t *testing.T) {
	tests := map[string]int64{
		"max\n":                 0,
		"9223372036854771712\n": 0, // cgroup v1 without a limit
		"2147483648\n":          2 << 30,
		"":                      0,
		"-1":                    0,
	}
	for in, want := range tests {
		if got := parseCgroupMax(in); got != want {
			t.Errorf("parseCgroupMax(%q) = %d, want %d", in, got, want)
		}
	}
}
