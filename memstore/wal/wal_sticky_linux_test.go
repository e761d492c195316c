package wal

import (
	"context"
	"errors"
	"os"
	"slices"
	"syscall"
	"testing"
)

// TestWriteErrorIsSticky makes the active segment's descriptor read-only
// under the WAL: the failing write must fail its Append, every later Append
// and Cut, and Close; what was acknowledged before stays replayable.
func TestWriteErrorIsSticky(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir})
	appendT(t, w, []byte("before"))

	ro, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	// The flusher is idle between rounds, and w.f was set before Open
	// returned, so reading it here does not race.
	if err := syscall.Dup3(int(ro.Fd()), int(w.f.Fd()), syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}

	first := w.Append(context.Background(), []byte("lost"))
	if !errors.Is(first, syscall.EBADF) {
		t.Fatalf("Append on a broken segment = %v, want EBADF", first)
	}
	if err := w.Append(context.Background(), []byte("after")); !errors.Is(err, syscall.EBADF) {
		t.Errorf("next Append = %v, want the sticky EBADF", err)
	}
	if _, err := w.Cut(); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Cut = %v, want the sticky EBADF", err)
	}
	if err := w.Close(); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Close = %v, want the sticky EBADF", err)
	}
	if got := reopenRecords(t, dir, nil); !slices.Equal(got, []string{"before"}) {
		t.Errorf("replayed %q, want [before]", got)
	}
}
