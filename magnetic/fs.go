package magnetic

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// syncDir fsyncs a directory so that entries created, renamed or removed in
// it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	err = d.Sync()
	// Some file systems cannot fsync directories; the rename is then as
	// durable as the platform allows.
	if err != nil && (errors.Is(err, os.ErrInvalid) || strings.Contains(err.Error(), "not supported")) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return errors.Join(err, d.Close())
}

// ensureDir creates dir and any missing parents below root, fsyncing each
// parent whose entries changed.
func ensureDir(root, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	var created []string
	for d := dir; d != root && len(d) > len(root); d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		created = append(created, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	for _, d := range created {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}
