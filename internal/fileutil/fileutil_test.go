package fileutil

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestWriteFileAtomic(t *testing.T) {
	cases := []struct {
		name  string
		fault *Fault
		want  string // content of the target afterwards
	}{
		{"ok", nil, "new"},
		{"ENOSPC on write", &Fault{Op: OpWrite, Err: syscall.ENOSPC, Short: true}, "old"},
		{"EIO on fsync", &Fault{Op: OpSync, Err: syscall.EIO}, "old"},
		{"rename fails", &Fault{Op: OpRename, Err: syscall.EIO}, "old"},
		{"create fails", &Fault{Op: OpCreate, Err: syscall.ENOSPC}, "old"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			fsys := NewFaultFS(OS)
			if tc.fault != nil {
				fsys.Inject(*tc.fault)
			}
			err := WriteFileAtomic(fsys, path, []byte("new"), 0o644)
			if (err != nil) != (tc.fault != nil) || (tc.fault != nil && !errors.Is(err, tc.fault.Err)) {
				t.Fatalf("WriteFileAtomic = %v, want fault %v", err, tc.fault)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.want {
				t.Fatalf("target holds %q, want %q", got, tc.want)
			}
			if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("temporary file left behind: %v", err)
			}
		})
	}
}

func TestFaultCounting(t *testing.T) {
	dir := t.TempDir()
	fsys := NewFaultFS(OS, Fault{Op: OpWrite, Path: "x", After: 2, Times: 1, Err: syscall.EIO})
	f, err := fsys.OpenFile(filepath.Join(dir, "x"), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var errs []bool
	for range 5 {
		_, err := f.Write([]byte("a"))
		errs = append(errs, err != nil)
	}
	if want := []bool{false, false, true, false, false}; !equalBools(errs, want) {
		t.Fatalf("write failures %v, want %v (two pass, one fails, then heal)", errs, want)
	}
	other, err := fsys.OpenFile(filepath.Join(dir, "y"), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Write([]byte("b")); err != nil {
		t.Fatalf("a path the fault does not match failed: %v", err)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseFaults(t *testing.T) {
	got, err := ParseFaults("sync:/wal/:delay=200ms; write:/wal/:err=ENOSPC:after=10:times=3:short=true")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Op != OpSync || got[0].Delay != 200*time.Millisecond || got[0].Path != "/wal/" ||
		got[1].Op != OpWrite || !errors.Is(got[1].Err, syscall.ENOSPC) || got[1].After != 10 || got[1].Times != 3 || !got[1].Short {
		t.Fatalf("parsed %+v", got)
	}
	for _, bad := range []string{"write", "fly:/x:err=EIO", "write:/x", "write:/x:err=EFOO", "write:/x:after=z:err=EIO", "write:/x:color=red"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) succeeded, want an error", bad)
		}
	}
}

func FuzzParseFaults(f *testing.F) {
	f.Add("sync:/wal/:delay=200ms;write:/wal/:err=ENOSPC:after=10:times=3")
	f.Add("rename::err=EIO:short=true")
	f.Fuzz(func(t *testing.T, spec string) {
		faults, err := ParseFaults(spec)
		if err != nil {
			return
		}
		for _, ft := range faults {
			if ft.Op == 0 || (ft.Err == nil && ft.Delay == 0) {
				t.Fatalf("accepted a fault that does nothing: %+v from %q", ft, spec)
			}
		}
	})
}
