package magnetic

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/tidaldb/tidal/internal/fileutil"
)

// TestDiskFaultsInPartWritesAndMerges injects ENOSPC, short writes and EIO
// on fsync into part writes and merges: the operation fails with the error,
// what was committed before stays readable, nothing half-written is read
// after a reopen, and the same operation succeeds once the fault is gone.
func TestDiskFaultsInPartWritesAndMerges(t *testing.T) {
	faults := []fileutil.Fault{
		{Op: fileutil.OpWrite, Path: tmpSuffix, Err: syscall.ENOSPC},
		{Op: fileutil.OpWrite, Path: tmpSuffix, Err: syscall.ENOSPC, Short: true},
		{Op: fileutil.OpSync, Path: tmpSuffix, Err: syscall.EIO},
		{Op: fileutil.OpRename, Err: syscall.EIO},
	}
	for _, ft := range faults {
		for _, what := range []string{"write", "merge"} {
			t.Run(what+"/"+ft.Op.String(), func(t *testing.T) {
				dir := t.TempDir()
				cat, id := newCatalog(t)
				ffs := fileutil.NewFaultFS(fileutil.OS)
				s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat, Now: coldNow, FS: ffs})
				if err != nil {
					t.Fatal(err)
				}
				writeRecords(t, s, id, crashBatch(0))
				writeRecords(t, s, id, crashBatch(1))
				before := len(collect(t, s, all()))
				ffs.Inject(ft)
				switch what {
				case "write":
					_, err = s.WritePart(context.Background(), id, recordBatches(crashBatch(2)))
				case "merge":
					_, err = s.Merge(context.Background())
				}
				if !errors.Is(err, ft.Err) {
					t.Fatalf("%s under %s fault = %v, want %v", what, ft.Op, err, ft.Err)
				}
				if n := len(collect(t, s, all())); n != before {
					t.Fatalf("rows after the failed %s: %d, want %d", what, n, before)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				ffs.Clear()
				s2 := openStore(t, dir, cat)
				if n := len(collect(t, s2, all())); n != before {
					t.Fatalf("rows after reopen: %d, want %d (no half-written part read)", n, before)
				}
				writeRecords(t, s2, id, crashBatch(2))
				if mergeAll(t, s2) == 0 {
					t.Fatal("nothing merged once the fault was gone")
				}
				if n := len(collect(t, s2, all())); n <= before {
					t.Fatalf("rows after recovery: %d, want more than %d", n, before)
				}
			})
		}
	}
}
