package magnetic

import (
	"time"

	"github.com/tidaldb/tidal/internal/cputime"
)

// processCPU is the process's CPU time: on a loaded machine CPU time per
// operation stays meaningful where wall-clock time does not.
func processCPU() time.Duration { return cputime.Process() }
