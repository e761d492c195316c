// Package fileutil owns how TidalDB makes files durable: the FS seam every
// durable write goes through, and the three operations built on it with one
// policy: SyncDir (fsync a directory so that created, renamed and removed
// entries survive a crash), WriteFileAtomic (write a temporary file, fsync
// it, rename it over the target, fsync the directory) and Rename (rename and
// fsync the directories involved).
//
// The policy on fsync errors is PostgreSQL's lesson: an fsync that fails is
// reported, never retried as if the data were safe. Only a file system that
// cannot fsync directories at all (EINVAL, ENOTSUP: some FUSE and network
// file systems) is tolerated by SyncDir, because there the rename is as
// durable as the platform allows.
//
// FS is a small interface so that tests can inject faults (FaultFS: ENOSPC,
// EIO on fsync, short writes, slow fsyncs) and so that later storage
// back-ends can stand in for the local disk. OS is the real file system.
package fileutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// File is the part of *os.File that durable writers use.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Seeker
	io.Closer
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Name() string
}

// FS is the file system seam. Paths are operating-system paths.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Remove(name string) error
	Rename(oldpath, newpath string) error
	MkdirAll(path string, perm fs.FileMode) error
	ReadDir(name string) ([]fs.DirEntry, error)
	Stat(name string) (fs.FileInfo, error)
}

// OS is the operating system's file system.
var OS FS = osFS{}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // a nil *os.File must not become a non-nil File
	}
	return f, nil
}
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error)   { return os.ReadDir(name) }
func (osFS) Stat(name string) (fs.FileInfo, error)        { return os.Stat(name) }

// Open opens name read-only.
func Open(fsys FS, name string) (File, error) { return fsys.OpenFile(name, os.O_RDONLY, 0) }

// ReadFile reads the whole file name.
func ReadFile(fsys FS, name string) ([]byte, error) {
	f, err := Open(fsys, name)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	return b, errors.Join(err, f.Close())
}

// SyncDir fsyncs directory dir so that entries created, renamed or removed
// in it are durable.
func SyncDir(fsys FS, dir string) error {
	d, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, os.ErrInvalid) {
		err = nil // the file system cannot fsync directories
	}
	if err != nil {
		err = fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return errors.Join(err, d.Close())
}

// WriteFileAtomic replaces path with data so that after a crash path holds
// either its old content or data, never a mix: it writes a temporary file
// beside path, fsyncs it, renames it over path and fsyncs the directory. On
// error the temporary file is removed and path is unchanged.
func WriteFileAtomic(fsys FS, path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", tmp, err), removeIfExists(fsys, tmp))
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return errors.Join(fmt.Errorf("rename %s: %w", tmp, err), removeIfExists(fsys, tmp))
	}
	return SyncDir(fsys, filepath.Dir(path))
}

// Rename renames oldpath to newpath and fsyncs the directory of newpath, and
// that of oldpath when it differs.
func Rename(fsys FS, oldpath, newpath string) error {
	if err := fsys.Rename(oldpath, newpath); err != nil {
		return fmt.Errorf("rename %s: %w", oldpath, err)
	}
	if err := SyncDir(fsys, filepath.Dir(newpath)); err != nil {
		return err
	}
	if od := filepath.Dir(oldpath); od != filepath.Dir(newpath) {
		return SyncDir(fsys, od)
	}
	return nil
}

// Remove removes name and fsyncs its directory. A missing file is not an
// error.
func Remove(fsys FS, name string) error {
	if err := removeIfExists(fsys, name); err != nil {
		return err
	}
	return SyncDir(fsys, filepath.Dir(name))
}

// MkdirAll creates dir and any missing parents, fsyncing the parent of each
// directory it created so that the new entries are durable.
func MkdirAll(fsys FS, dir string, perm fs.FileMode) error {
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := fsys.Stat(d); err == nil {
			break
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(created) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	for _, d := range created {
		if err := SyncDir(fsys, filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

func removeIfExists(fsys FS, name string) error {
	if err := fsys.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// IsNoSpace reports whether err says the disk is full (ENOSPC or EDQUOT).
func IsNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
