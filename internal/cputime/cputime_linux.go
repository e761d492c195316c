//go:build linux

package cputime

import (
	"syscall"
	"time"
)

// Thread returns the user plus system CPU time of the calling OS thread
// (lock the goroutine to it with runtime.LockOSThread); 0 when it cannot
// be read.
func Thread() time.Duration { return usage(syscall.RUSAGE_THREAD) }
