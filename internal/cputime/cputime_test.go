package cputime

import (
	"runtime"
	"testing"
	"time"
)

// spin burns CPU on the calling thread for at least d of wall time.
func spin(d time.Duration) uint64 {
	var x uint64
	for t0 := time.Now(); time.Since(t0) < d; {
		for i := range 10000 {
			x += uint64(i) * x
		}
	}
	return x
}

func TestCPUTimeAdvancesWithWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread CPU time is read on Linux only")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p0, t0 := Process(), Thread()
	sink := spin(50 * time.Millisecond)
	p1, t1 := Process(), Thread()
	if p0 <= 0 || t0 <= 0 || p1 <= p0 || t1 <= t0 {
		t.Fatalf("process %v -> %v, thread %v -> %v (sink %d)", p0, p1, t0, t1, sink)
	}
	// The process has used at least what this thread used.
	if p1-p0 < (t1-t0)/2 {
		t.Errorf("process CPU %v < half of thread CPU %v", p1-p0, t1-t0)
	}
}
