//go:build !linux

package magnetic

import "time"

// processCPU returns 0 where CPU time is not measured.
func processCPU() time.Duration { return 0 }
