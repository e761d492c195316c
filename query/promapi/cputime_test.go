package promapi

import (
	"time"

	"github.com/tidaldb/tidal/internal/cputime"
)

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration { return cputime.Process() }
