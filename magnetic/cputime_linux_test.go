//go:build linux

package magnetic

import (
	"syscall"
	"time"
)

// processCPU returns the user+system CPU time of this process so far. On
// a loaded machine CPU time per operation stays meaningful where
// wall-clock time does not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
