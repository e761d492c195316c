package encoding

import (
	"runtime"
	"time"

	"github.com/tidaldb/tidal/internal/cputime"
)

func threadCPU() time.Duration { return cputime.Thread() }

// cpuMeter measures the CPU time of a benchmark loop on its own OS thread:
// on a loaded machine it stays meaningful where wall-clock ns/op does not.
type cpuMeter struct{ start time.Duration }

// startCPU locks the goroutine to its thread; stop unlocks it.
func startCPU() cpuMeter {
	runtime.LockOSThread()
	return cpuMeter{start: threadCPU()}
}

// stop returns the CPU time since startCPU.
func (m cpuMeter) stop() time.Duration {
	d := threadCPU() - m.start
	runtime.UnlockOSThread()
	return d
}
