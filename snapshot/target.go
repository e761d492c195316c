package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/tidaldb/tidal/internal/fileutil"
	"github.com/tidaldb/tidal/internal/objstore"
)

// Open returns the target of a URL: file:///abs/dir or s3://bucket/prefix.
// bucket connects to an S3 bucket (with the server's endpoint and
// credentials); nil refuses s3:// targets.
func Open(u string, bucket func(name, prefix string) (*objstore.Bucket, error)) (Target, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("snapshot target %q: %w", u, err)
	}
	switch pu.Scheme {
	case "file":
		if pu.Host != "" || !filepath.IsAbs(pu.Path) || strings.Contains(pu.Path, "//") {
			return nil, fmt.Errorf("snapshot target %q: want file:///absolute/path", u)
		}
		return &FileTarget{Root: filepath.Clean(pu.Path)}, nil
	case "s3":
		if pu.Host == "" {
			return nil, fmt.Errorf("snapshot target %q: want s3://bucket/prefix", u)
		}
		if bucket == nil {
			return nil, fmt.Errorf("snapshot target %q: no S3 endpoint configured (storage.object or unload.s3)", u)
		}
		b, err := bucket(pu.Host, strings.TrimPrefix(pu.Path, "/"))
		if err != nil {
			return nil, fmt.Errorf("snapshot target %q: %w", u, err)
		}
		return BucketTarget{b}, nil
	}
	return nil, fmt.Errorf("snapshot target %q: want file:// or s3://", u)
}

// FileTarget keeps snapshots in a local directory; parts are hard links to
// the data directory's parts when both are on one file system.
type FileTarget struct{ Root string }

func (f *FileTarget) String() string { return "file://" + f.Root }

func (f *FileTarget) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("snapshot: bad key %q", key)
	}
	return filepath.Join(f.Root, filepath.FromSlash(key)), nil
}

// List walks Root/prefix.
func (f *FileTarget) List(_ context.Context, prefix string) ([]objstore.Object, error) {
	var out []objstore.Object
	dir := filepath.Join(f.Root, filepath.FromSlash(prefix))
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(p, ".tmp") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(f.Root, p)
		if err != nil {
			return err
		}
		out = append(out, objstore.Object{Key: filepath.ToSlash(rel), Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return out, nil
}

// Put writes the file atomically and durably.
func (f *FileTarget) Put(_ context.Context, key string, r io.ReadSeeker, size int64) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	return writeFile(r, p)
}

// PutFile hard-links path to key, or copies it across file systems.
func (f *FileTarget) PutFile(_ context.Context, key, path string, _ int64) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	return linkOrCopy(path, p)
}

// GetFile hard-links key to path, or copies it across file systems.
func (f *FileTarget) GetFile(_ context.Context, key, path string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	return linkOrCopy(p, path)
}

// Get opens key.
func (f *FileTarget) Get(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

func linkOrCopy(src, dst string) error {
	if err := fileutil.MkdirAll(fileutil.OS, filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	_ = os.Remove(dst) // a leftover of an interrupted snapshot
	if err := os.Link(src, dst); err == nil {
		return fileutil.SyncDir(fileutil.OS, filepath.Dir(dst))
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	return writeFile(in, dst)
}

// writeFile writes r to dst through a temporary file, fsynced, renamed
// and its directory fsynced.
func writeFile(r io.Reader, dst string) error {
	if err := fileutil.MkdirAll(fileutil.OS, filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	_, err = io.Copy(out, r)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return fileutil.Rename(fileutil.OS, tmp, dst)
}

// BucketTarget keeps snapshots in an S3-compatible bucket.
type BucketTarget struct{ *objstore.Bucket }

// PutFile uploads the file.
func (b BucketTarget) PutFile(ctx context.Context, key, path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	defer f.Close()
	return b.Put(ctx, key, f, size)
}

// GetFile downloads key to path.
func (b BucketTarget) GetFile(ctx context.Context, key, path string) error {
	r, err := b.Get(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	return writeFile(r, path)
}
