package magnetic

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tidaldb/tidal/internal/fileutil"
)

// SnapshotPart is one live part held for a snapshot (package snapshot).
type SnapshotPart struct {
	TableID   uint64
	Partition int64 // start, ns
	Width     time.Duration
	Name      string
	Size      int64
	// Path is the part's local file, "" for a part in the object store;
	// the file is immutable and stays until release.
	Path string
	// Reader reads the part's bytes, local or remote.
	Reader io.ReaderAt
}

// SnapshotParts takes a reference on every live part and returns them
// with the function that drops the references. Merges and retention may
// go on meanwhile: a part they replace stays readable (and its file in
// place) until release.
func (s *Store) SnapshotParts() ([]SnapshotPart, func() error, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, ErrClosed
	}
	var out []SnapshotPart
	var held []*part
	for id, pts := range s.tables {
		for start, pt := range pts {
			for _, p := range pt.parts {
				p.incRef()
				held = append(held, p)
				sp := SnapshotPart{TableID: id, Partition: start, Width: pt.width, Name: p.name, Size: p.size, Reader: p.file}
				if p.object == "" {
					sp.Path = p.path
				}
				out = append(out, sp)
			}
		}
	}
	return out, func() error { return releaseParts(held) }, nil
}

// RestorePath returns where a restored part goes under a store directory,
// and writes the table's layout file (width) if it has none yet.
func RestorePath(dir string, tableID uint64, start int64, width time.Duration, name string) (string, error) {
	if !validWidth(width) {
		return "", fmt.Errorf("restore part %s: %w: width %v", name, ErrBadLayout, width)
	}
	if _, ok := parsePartName(name); !ok {
		return "", fmt.Errorf("restore part: bad part name %q", name)
	}
	tdir := filepath.Join(dir, strconv.FormatUint(tableID, 10))
	w, err := readLayout(tdir)
	if err != nil {
		return "", err
	}
	if w == 0 {
		if err := writeLayout(fileutil.OS, tdir, width); err != nil {
			return "", err
		}
	} else if w != width {
		return "", fmt.Errorf("restore part %s: %w: table %d has width %v, part %v", name, ErrBadLayout, tableID, w, width)
	}
	pdir := filepath.Join(tdir, partitionName(start, width))
	if err := ensureDir(fileutil.OS, pdir); err != nil {
		return "", err
	}
	p := filepath.Join(pdir, name)
	if _, err := os.Stat(p); err == nil {
		return "", fmt.Errorf("restore part: %s exists", p)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("restore part: %w", err)
	}
	return p, nil
}
