package fileutil

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Op names a file operation a Fault can hit.
type Op uint8

// The operations a Fault can hit.
const (
	OpWrite Op = iota + 1
	OpSync
	OpCreate // OpenFile with O_CREATE
	OpRename
	OpTruncate
	OpRemove
)

var opNames = map[Op]string{OpWrite: "write", OpSync: "sync", OpCreate: "create",
	OpRename: "rename", OpTruncate: "truncate", OpRemove: "remove"}

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Fault is one rule of a FaultFS: operations Op on paths containing Path
// let After calls pass, then fail (Err) or stall (Delay) the next Times
// calls (all later calls when Times is 0).
type Fault struct {
	Op    Op
	Path  string        // substring of the path; "" matches every path
	After int           // matching calls that pass before the fault fires
	Times int           // calls the fault hits; 0 means every later call
	Err   error         // returned by a hit call; nil with Delay only stalls
	Short bool          // a hit write writes half its bytes before failing
	Delay time.Duration // a hit call waits this long first
	// Notify, if set, is called when the fault fires, before the delay:
	// tests use it to act while a call is stalled.
	Notify func()

	seen, hits int
}

// FaultFS wraps an FS and injects the faults its rules describe. It is safe
// for concurrent use; rules can be added and cleared while files are open.
type FaultFS struct {
	Base FS

	mu     sync.Mutex
	faults []*Fault
}

// NewFaultFS returns a FaultFS over base with the given rules.
func NewFaultFS(base FS, faults ...Fault) *FaultFS {
	f := &FaultFS{Base: base}
	for _, ft := range faults {
		f.Inject(ft)
	}
	return f
}

// Inject adds a rule.
func (f *FaultFS) Inject(ft Fault) {
	f.mu.Lock()
	f.faults = append(f.faults, &ft)
	f.mu.Unlock()
}

// Clear removes every rule: the disk has "recovered".
func (f *FaultFS) Clear() {
	f.mu.Lock()
	f.faults = nil
	f.mu.Unlock()
}

// hit finds the first rule that fires for op on path and counts the call.
func (f *FaultFS) hit(op Op, path string) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ft := range f.faults {
		if ft.Op != op || !strings.Contains(path, ft.Path) {
			continue
		}
		ft.seen++
		if ft.seen <= ft.After || (ft.Times > 0 && ft.hits >= ft.Times) {
			continue
		}
		ft.hits++
		c := *ft
		return &c
	}
	return nil
}

// apply stalls for a hit rule's delay and returns its error.
func (ft *Fault) apply(op Op, path string) error {
	if ft == nil {
		return nil
	}
	if ft.Notify != nil {
		ft.Notify()
	}
	if ft.Delay > 0 {
		time.Sleep(ft.Delay)
	}
	if ft.Err == nil {
		return nil
	}
	return &fs.PathError{Op: op.String(), Path: path, Err: ft.Err}
}

// OpenFile implements FS.
func (f *FaultFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if flag&syscall.O_CREAT != 0 {
		if err := f.hit(OpCreate, name).apply(OpCreate, name); err != nil {
			return nil, err
		}
	}
	file, err := f.Base.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

// Remove implements FS.
func (f *FaultFS) Remove(name string) error {
	if err := f.hit(OpRemove, name).apply(OpRemove, name); err != nil {
		return err
	}
	return f.Base.Remove(name)
}

// Rename implements FS.
func (f *FaultFS) Rename(oldpath, newpath string) error {
	if err := f.hit(OpRename, newpath).apply(OpRename, newpath); err != nil {
		return err
	}
	return f.Base.Rename(oldpath, newpath)
}

// MkdirAll implements FS.
func (f *FaultFS) MkdirAll(path string, perm fs.FileMode) error { return f.Base.MkdirAll(path, perm) }

// ReadDir implements FS.
func (f *FaultFS) ReadDir(name string) ([]fs.DirEntry, error) { return f.Base.ReadDir(name) }

// Stat implements FS.
func (f *FaultFS) Stat(name string) (fs.FileInfo, error) { return f.Base.Stat(name) }

type faultFile struct {
	File
	fs *FaultFS
}

func (ff *faultFile) Write(b []byte) (int, error) {
	ft := ff.fs.hit(OpWrite, ff.Name())
	if ft == nil || ft.Err == nil {
		if err := ft.apply(OpWrite, ff.Name()); err != nil {
			return 0, err
		}
		return ff.File.Write(b)
	}
	n := 0
	if ft.Short && len(b) > 1 {
		n, _ = ff.File.Write(b[:len(b)/2])
	}
	return n, ft.apply(OpWrite, ff.Name())
}

func (ff *faultFile) Sync() error {
	if err := ff.fs.hit(OpSync, ff.Name()).apply(OpSync, ff.Name()); err != nil {
		return err
	}
	return ff.File.Sync()
}

func (ff *faultFile) Truncate(size int64) error {
	if err := ff.fs.hit(OpTruncate, ff.Name()).apply(OpTruncate, ff.Name()); err != nil {
		return err
	}
	return ff.File.Truncate(size)
}

// ParseFaults parses a fault specification, the form the TIDAL_FAULTS
// environment variable of test servers takes: rules separated by ";", each
// "op:path[:key=value...]" with keys err (ENOSPC, EIO, EDQUOT), after,
// times, delay (a Go duration) and short (true). Example:
// "sync:/wal/:delay=200ms;write:/wal/:err=ENOSPC:after=10:times=3".
func ParseFaults(spec string) ([]Fault, error) {
	var out []Fault
	for _, rule := range strings.Split(spec, ";") {
		rule = strings.TrimSpace(rule)
		if rule == "" {
			continue
		}
		parts := strings.Split(rule, ":")
		if len(parts) < 2 {
			return nil, fmt.Errorf("fault %q: want op:path[:key=value...]", rule)
		}
		var ft Fault
		for o, name := range opNames {
			if name == parts[0] {
				ft.Op = o
			}
		}
		if ft.Op == 0 {
			return nil, fmt.Errorf("fault %q: unknown op %q", rule, parts[0])
		}
		ft.Path = parts[1]
		for _, kv := range parts[2:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("fault %q: %q is not key=value", rule, kv)
			}
			var err error
			switch k {
			case "err":
				switch v {
				case "ENOSPC":
					ft.Err = syscall.ENOSPC
				case "EIO":
					ft.Err = syscall.EIO
				case "EDQUOT":
					ft.Err = syscall.EDQUOT
				default:
					err = fmt.Errorf("unknown errno %q", v)
				}
			case "after":
				ft.After, err = strconv.Atoi(v)
			case "times":
				ft.Times, err = strconv.Atoi(v)
			case "delay":
				ft.Delay, err = time.ParseDuration(v)
			case "short":
				ft.Short, err = strconv.ParseBool(v)
			default:
				err = fmt.Errorf("unknown key %q", k)
			}
			if err != nil {
				return nil, fmt.Errorf("fault %q: %w", rule, err)
			}
		}
		if ft.Err == nil && ft.Delay == 0 {
			return nil, fmt.Errorf("fault %q: needs err or delay", rule)
		}
		out = append(out, ft)
	}
	return out, nil
}
