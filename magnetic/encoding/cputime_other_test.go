//go:build !linux

package encoding

import "time"

// cpuMeter is a no-op where per-thread CPU time is not available.
type cpuMeter struct{}

func startCPU() cpuMeter { return cpuMeter{} }

// stop returns 0: no CPU time measured.
func (cpuMeter) stop() time.Duration { return 0 }
