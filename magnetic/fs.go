package magnetic

import "github.com/tidaldb/tidal/internal/fileutil"

// syncDir fsyncs a directory so that entries created, renamed or removed in
// it are durable (fileutil's one policy).
func syncDir(fsys fileutil.FS, dir string) error { return fileutil.SyncDir(fsys, dir) }

// ensureDir creates dir and any missing parents, fsyncing each parent whose
// entries changed.
func ensureDir(fsys fileutil.FS, dir string) error { return fileutil.MkdirAll(fsys, dir, 0o755) }
