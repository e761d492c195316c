//go:build unix

package exec

import "syscall"

// processCPU returns the user plus system CPU time of the process in
// nanoseconds (0 if it cannot be read). Benchmarks report it per op next
// to the wall time: on a machine shared with other work the wall time
// includes waiting for a core, the CPU time does not.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
