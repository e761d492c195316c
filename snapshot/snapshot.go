// Package snapshot owns TidalDB's point-in-time copies of a data
// directory: creating them in a target (a local directory, file://, or an
// S3-compatible bucket, s3://), listing them and restoring one into an
// empty data directory.
//
// A target holds the parts of every snapshot once, under
// "parts/<table>/<partition>/<part name>" (parts are immutable, so a part
// already there is not copied again: snapshots are incremental), and per
// snapshot "snapshots/<id>/catalog.json" and "snapshots/<id>/manifest.json",
// the list of the snapshot's parts. The manifest is written last: a
// snapshot exists once its manifest does. Local targets hard-link parts
// where they can. One target serves one server: part names are unique
// within a server only. The layout is in docs/snapshots.md.
//
// Consistency: Create reads the catalog, then flushes every row in memory
// into parts (so every write acknowledged before Create began is in a
// part), then holds and copies every live part. A restored data directory
// has no WAL and no memstore checkpoint: all its rows are in parts.
package snapshot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/internal/fileutil"
	"github.com/tidaldb/tidal/internal/objstore"
	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/magnetic"
)

// ErrNotFound reports a snapshot the target does not hold.
var ErrNotFound = errors.New("snapshot: not found")

// Target is where snapshots are kept. Keys are slash-separated.
type Target interface {
	// List returns every key below prefix with its size.
	List(ctx context.Context, prefix string) ([]objstore.Object, error)
	// Put stores size bytes of r under key.
	Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error
	// PutFile stores the immutable local file path under key (a hard
	// link where possible).
	PutFile(ctx context.Context, key, path string, size int64) error
	// GetFile writes key to the new local file path (a hard link where
	// possible), durably.
	GetFile(ctx context.Context, key, path string) error
	// Get opens key.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	String() string
}

// Manifest describes one snapshot.
type Manifest struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// Catalog is the key of the snapshot's catalog file; "" for a server
	// that had no catalog file yet.
	Catalog string `json:"catalog"`
	// Tombstones is the key of the snapshot's copy of the deletions'
	// file; "" when the server had none.
	Tombstones string `json:"tombstones,omitempty"`
	Parts      []Part `json:"parts"`
	// Bytes is the size of all the snapshot's parts.
	Bytes int64 `json:"bytes"`
}

// Part is one part of a snapshot.
type Part struct {
	Key       string    `json:"key"`
	TableID   uint64    `json:"table_id"`
	Partition time.Time `json:"partition"`
	// WidthNS is the partition width in nanoseconds.
	WidthNS int64  `json:"width_ns"`
	Name    string `json:"name"`
	Size    int64  `json:"size"`
}

// Source is what Create copies: the server's catalog, memstore and
// magnetic tier.
type Source struct {
	// CatalogFile is the path of the catalog's file.
	CatalogFile string
	// TombstoneFile is the path of the deletions' file
	// (internal/tombstone); "" or a missing file: no deletions. It is
	// copied with the catalog, because parts not yet rewritten still hold
	// deleted rows that only the tombstones hide.
	TombstoneFile string
	// Flush moves every row in memory into parts; nil flushes nothing.
	Flush func(ctx context.Context) error
	// Parts holds and lists the live parts (magnetic.Store.SnapshotParts).
	Parts func() ([]magnetic.SnapshotPart, func() error, error)
	// Now is the clock naming the snapshot; default time.Now.
	Now func() time.Time
}

// Result reports a created snapshot.
type Result struct {
	Manifest
	Target string `json:"target"`
	// PartCount is len(Parts), kept when a summary drops the list.
	PartCount int `json:"part_count"`
	// PartsCopied and BytesCopied count the parts the target did not
	// hold yet.
	PartsCopied int   `json:"parts_copied"`
	BytesCopied int64 `json:"bytes_copied"`
	// DurationMS is the wall time of Create.
	DurationMS float64 `json:"duration_ms"`
}

// TombstoneDir and TombstoneName place the deletions' file in a data
// directory (internal/tombstone.FileName under "tombstones").
const (
	TombstoneDir  = "tombstones"
	TombstoneName = tombstone.FileName
)

const (
	partsPrefix     = "parts/"
	snapshotsPrefix = "snapshots/"
	manifestName    = "manifest.json"
)

// Create takes a snapshot of src into t.
func Create(ctx context.Context, t Target, src Source) (Result, error) {
	start := time.Now()
	now := src.Now
	if now == nil {
		now = time.Now
	}
	created := now().UTC()
	m := Manifest{ID: created.Format("20060102T150405.000000000Z"), Created: created}
	cat, err := os.ReadFile(src.CatalogFile)
	noCatalog := errors.Is(err, os.ErrNotExist) // a server that never had a table
	if err != nil && !noCatalog {
		return Result{}, fmt.Errorf("create snapshot: read catalog: %w", err)
	}
	var tombs []byte
	if src.TombstoneFile != "" {
		tombs, err = os.ReadFile(src.TombstoneFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return Result{}, fmt.Errorf("create snapshot: read tombstones: %w", err)
		}
	}
	if src.Flush != nil {
		if err := src.Flush(ctx); err != nil {
			return Result{}, fmt.Errorf("create snapshot: flush: %w", err)
		}
	}
	parts, release, err := src.Parts()
	if err != nil {
		return Result{}, fmt.Errorf("create snapshot: %w", err)
	}
	res, err := copyParts(ctx, t, &m, parts)
	err = errors.Join(err, release())
	if err != nil {
		return Result{}, fmt.Errorf("create snapshot: %w", err)
	}
	if !noCatalog {
		m.Catalog = snapshotsPrefix + m.ID + "/" + catalog.FileName
		if err := t.Put(ctx, m.Catalog, strings.NewReader(string(cat)), int64(len(cat))); err != nil {
			return Result{}, fmt.Errorf("create snapshot: %w", err)
		}
	}
	if len(tombs) > 0 {
		m.Tombstones = snapshotsPrefix + m.ID + "/" + TombstoneName
		if err := t.Put(ctx, m.Tombstones, strings.NewReader(string(tombs)), int64(len(tombs))); err != nil {
			return Result{}, fmt.Errorf("create snapshot: %w", err)
		}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Result{}, fmt.Errorf("create snapshot: %w", err)
	}
	if err := t.Put(ctx, snapshotsPrefix+m.ID+"/"+manifestName, strings.NewReader(string(mb)), int64(len(mb))); err != nil {
		return Result{}, fmt.Errorf("create snapshot: %w", err)
	}
	res.Manifest, res.Target, res.PartCount = m, t.String(), len(m.Parts)
	res.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

func copyParts(ctx context.Context, t Target, m *Manifest, parts []magnetic.SnapshotPart) (Result, error) {
	var res Result
	have := map[string]int64{}
	objs, err := t.List(ctx, partsPrefix)
	if err != nil {
		return res, err
	}
	for _, o := range objs {
		have[o.Key] = o.Size
	}
	slices.SortFunc(parts, func(a, b magnetic.SnapshotPart) int {
		return cmp.Or(cmp.Compare(a.TableID, b.TableID), cmp.Compare(a.Partition, b.Partition), strings.Compare(a.Name, b.Name))
	})
	for _, p := range parts {
		key := partsPrefix + path.Join(strconv.FormatUint(p.TableID, 10), strconv.FormatInt(p.Partition, 10)+"-"+strconv.FormatInt(int64(p.Width), 10), p.Name)
		m.Parts = append(m.Parts, Part{Key: key, TableID: p.TableID, Partition: time.Unix(0, p.Partition).UTC(), WidthNS: int64(p.Width), Name: p.Name, Size: p.Size})
		m.Bytes += p.Size
		if sz, ok := have[key]; ok && sz == p.Size {
			continue
		}
		if p.Path != "" {
			err = t.PutFile(ctx, key, p.Path, p.Size)
		} else {
			err = t.Put(ctx, key, io.NewSectionReader(p.Reader, 0, p.Size), p.Size)
		}
		if err != nil {
			return res, err
		}
		res.PartsCopied++
		res.BytesCopied += p.Size
	}
	return res, nil
}

// List returns the snapshots in t, oldest first.
func List(ctx context.Context, t Target) ([]Manifest, error) {
	objs, err := t.List(ctx, snapshotsPrefix)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var out []Manifest
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, snapshotsPrefix)
		id, name, ok := strings.Cut(rest, "/")
		if !ok || name != manifestName {
			continue
		}
		m, err := read(ctx, t, id)
		if err != nil {
			return nil, fmt.Errorf("list snapshots: %w", err)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Manifest) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func read(ctx context.Context, t Target, id string) (Manifest, error) {
	r, err := t.Get(ctx, snapshotsPrefix+id+"/"+manifestName)
	if err != nil {
		if errors.Is(err, objstore.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return Manifest{}, fmt.Errorf("%w: %s in %s", ErrNotFound, id, t)
		}
		return Manifest{}, err
	}
	defer r.Close()
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(r, 1<<30)).Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("read manifest %s: %w", id, err)
	}
	if m.ID != id {
		return Manifest{}, fmt.Errorf("read manifest %s: it names snapshot %q", id, m.ID)
	}
	return m, nil
}

// Restore writes snapshot id of t (the latest if id is "") into dataDir,
// which must be empty or missing: the catalog, and every part with its
// table's layout under dataDir/magnetic.
func Restore(ctx context.Context, t Target, id, dataDir string) (Manifest, error) {
	if id == "" {
		all, err := List(ctx, t)
		if err != nil {
			return Manifest{}, err
		}
		if len(all) == 0 {
			return Manifest{}, fmt.Errorf("restore snapshot: %w: %s holds no snapshot", ErrNotFound, t)
		}
		id = all[len(all)-1].ID
	}
	m, err := read(ctx, t, id)
	if err != nil {
		return Manifest{}, fmt.Errorf("restore snapshot: %w", err)
	}
	if ents, err := os.ReadDir(dataDir); err == nil && len(ents) > 0 {
		return Manifest{}, fmt.Errorf("restore snapshot: data directory %s is not empty", dataDir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Manifest{}, fmt.Errorf("restore snapshot: %w", err)
	}
	if err := fileutil.MkdirAll(fileutil.OS, dataDir, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("restore snapshot: %w", err)
	}
	magDir := filepath.Join(dataDir, "magnetic")
	for _, p := range m.Parts {
		dst, err := magnetic.RestorePath(magDir, p.TableID, p.Partition.UnixNano(), time.Duration(p.WidthNS), p.Name)
		if err != nil {
			return Manifest{}, fmt.Errorf("restore snapshot: %w", err)
		}
		if err := t.GetFile(ctx, p.Key, dst); err != nil {
			return Manifest{}, fmt.Errorf("restore snapshot: %w", err)
		}
	}
	if m.Tombstones != "" {
		dir := filepath.Join(dataDir, TombstoneDir)
		if err := fileutil.MkdirAll(fileutil.OS, dir, 0o755); err != nil {
			return Manifest{}, fmt.Errorf("restore snapshot: %w", err)
		}
		if err := t.GetFile(ctx, m.Tombstones, filepath.Join(dir, TombstoneName)); err != nil {
			return Manifest{}, fmt.Errorf("restore snapshot: %w", err)
		}
	}
	// The catalog last: a data directory with a catalog is a restored one.
	if m.Catalog != "" {
		if err := t.GetFile(ctx, m.Catalog, filepath.Join(dataDir, catalog.FileName)); err != nil {
			return Manifest{}, fmt.Errorf("restore snapshot: %w", err)
		}
	}
	return m, nil
}
