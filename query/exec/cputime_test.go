package exec

import "github.com/tidaldb/tidal/internal/cputime"

// processCPU returns the user plus system CPU time of the process in
// nanoseconds (0 if it cannot be read). Benchmarks report it per op next
// to the wall time: on a machine shared with other work the wall time
// includes waiting for a core, the CPU time does not.
func processCPU() int64 { return int64(cputime.Process()) }
