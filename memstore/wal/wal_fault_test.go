package wal

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/tidaldb/tidal/internal/fileutil"
)

// TestFaultsFailTheirRoundAndRepair injects each kind of disk fault into
// the WAL's segment file: the Append it hits fails and is not replayed, the
// WAL reports itself failed, and once the fault is gone the next Append is
// written and everything acknowledged replays, with no torn frame between.
func TestFaultsFailTheirRoundAndRepair(t *testing.T) {
	cases := []struct {
		name   string
		policy SyncPolicy
		fault  fileutil.Fault
	}{
		{"ENOSPC write/batch", SyncBatch, fileutil.Fault{Op: fileutil.OpWrite, Err: syscall.ENOSPC}},
		{"short write/batch", SyncBatch, fileutil.Fault{Op: fileutil.OpWrite, Err: syscall.ENOSPC, Short: true}},
		{"EIO fsync/batch", SyncBatch, fileutil.Fault{Op: fileutil.OpSync, Err: syscall.EIO}},
		{"ENOSPC write/interval", SyncInterval, fileutil.Fault{Op: fileutil.OpWrite, Err: syscall.ENOSPC, Short: true}},
		{"ENOSPC write/never", SyncNever, fileutil.Fault{Op: fileutil.OpWrite, Err: syscall.ENOSPC}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			segs := filepath.Join(dir, "0000")
			tc.fault.Path = segs
			ffs := fileutil.NewFaultFS(fileutil.OS)
			w := openT(t, Options{Dir: dir, Sync: tc.policy, FS: ffs})
			appendT(t, w, []byte("before-1"), []byte("before-2"))

			ffs.Inject(tc.fault)
			err := w.Append(context.Background(), []byte("lost-1"), []byte("lost-2"))
			if !errors.Is(err, tc.fault.Err) {
				t.Fatalf("Append under fault = %v, want %v", err, tc.fault.Err)
			}
			if w.Err() == nil {
				t.Fatal("Err() = nil after a failed round, want the failure")
			}
			// Still failing: the next Append fails too, and is not kept.
			if err := w.Append(context.Background(), []byte("lost-3")); err == nil {
				t.Fatal("Append while the fault persists succeeded")
			}

			ffs.Clear()
			appendT(t, w, []byte("after"))
			if err := w.Err(); err != nil {
				t.Fatalf("Err() after repair = %v, want nil", err)
			}
			closeT(t, w)
			got := reopenRecords(t, dir, nil)
			want := []string{"before-1", "before-2", "after"}
			if !slices.Equal(got, want) {
				t.Fatalf("replayed %q, want %q", got, want)
			}
		})
	}
}

// TestIntervalFsyncErrorRewritesAcknowledged: under SyncInterval an Append
// is acknowledged after write(2). When the periodic fsync then fails, the
// WAL must not trust the page cache: repair rewrites the acknowledged bytes
// from its own copy and fsyncs them.
func TestIntervalFsyncErrorRewritesAcknowledged(t *testing.T) {
	dir := t.TempDir()
	segs := filepath.Join(dir, "0000")
	ffs := fileutil.NewFaultFS(fileutil.OS)
	w := openT(t, Options{Dir: dir, Sync: SyncInterval, FS: ffs})
	appendT(t, w, []byte("acked-1"))
	ffs.Inject(fileutil.Fault{Op: fileutil.OpSync, Path: segs, Err: syscall.EIO, Times: 1})
	appendT(t, w, []byte("acked-2")) // written, not yet fsynced
	// Cut fsyncs: the injected EIO fails it and the WAL fails.
	if _, err := w.Cut(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Cut with a failing fsync = %v, want EIO", err)
	}
	// The fault fired once: the next Append repairs (rewrite + fsync) first.
	appendT(t, w, []byte("after"))
	if w.Err() != nil {
		t.Fatalf("Err() = %v after repair", w.Err())
	}
	closeT(t, w)
	got := reopenRecords(t, dir, nil)
	if want := []string{"acked-1", "acked-2", "after"}; !slices.Equal(got, want) {
		t.Fatalf("replayed %q, want %q", got, want)
	}
}

// TestFailedRotationRecovers: a full disk at segment creation loses the
// active segment; the WAL creates it again once space returns.
func TestFailedRotationRecovers(t *testing.T) {
	dir := t.TempDir()
	segs := filepath.Join(dir, "0000")
	ffs := fileutil.NewFaultFS(fileutil.OS)
	w := openT(t, Options{Dir: dir, FS: ffs, SegmentSize: 1 << 10})
	appendT(t, w, make([]byte, 600))
	ffs.Inject(fileutil.Fault{Op: fileutil.OpCreate, Path: segs, Err: syscall.ENOSPC})
	if err := w.Append(context.Background(), make([]byte, 600)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append needing a new segment on a full disk = %v, want ENOSPC", err)
	}
	ffs.Clear()
	appendT(t, w, []byte("after"))
	closeT(t, w)
	got := reopenRecords(t, dir, nil)
	if len(got) != 2 || got[1] != "after" || len(got[0]) != 600 {
		t.Fatalf("replayed %d records (last %q), want the 600-byte one and after", len(got), got[len(got)-1])
	}
}
