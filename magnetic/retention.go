package magnetic

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tidaldb/tidal/catalog"
)

// ApplyRetention drops every partition that lies entirely before now minus
// its table's magnetic retention, and all partitions of tables the catalog
// no longer has (or is deleting). It reads retention from the catalog on
// every call, so UpdateTable takes effect at the next call; the background
// loop calls it on every tick and after every catalog change. Parts still
// read by a scan are deleted when the scan closes.
func (s *Store) ApplyRetention(now time.Time) error {
	s.maintMu.Lock()
	defer s.maintMu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	cat := s.opts.Catalog
	if cat == nil {
		return nil
	}
	var drop []*partition
	var gone []uint64
	s.mu.Lock()
	for id, pts := range s.tables {
		t, ok := cat.TableByID(id)
		if !ok || t.Status == catalog.StatusDeleting {
			for _, pt := range pts {
				drop = append(drop, pt)
			}
			delete(s.tables, id)
			delete(s.widths, id)
			gone = append(gone, id)
			continue
		}
		if t.Retention.MagneticDays <= 0 {
			continue
		}
		cutoff := now.Add(-time.Duration(t.Retention.MagneticDays) * 24 * time.Hour).UnixNano()
		for start, pt := range pts {
			if partitionLast(start, pt.width) < cutoff {
				drop = append(drop, pt)
				delete(pts, start)
			}
		}
		if len(pts) == 0 {
			delete(s.tables, id)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, pt := range drop {
		for _, p := range pt.parts {
			p.removed.Store(true)
			errs = append(errs, p.decRef())
		}
		s.m.partitionsDropped.Inc()
		s.log.Info("dropped partition", s.tableAttrs(pt.tableID, "partition", partitionName(pt.start, pt.width), "parts", len(pt.parts))...)
	}
	for _, id := range gone {
		removeTableDir(filepath.Join(s.opts.Dir, strconv.FormatUint(id, 10)))
	}
	if len(drop) > 0 {
		errs = append(errs, syncDir(s.fs, s.opts.Dir))
	}
	return errors.Join(errs...)
}

// removeTableDir removes the directory of a deleted table once it holds
// nothing but its layout file. While scans still hold parts of the table
// the directory and the layout stay, so that Open can still read the
// partitions' names; the next ApplyRetention after Open removes them.
func removeTableDir(tdir string) {
	ents, err := os.ReadDir(tdir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.Name() != layoutFile && e.Name() != layoutFile+tmpSuffix {
			return
		}
	}
	for _, e := range ents {
		_ = os.Remove(filepath.Join(tdir, e.Name()))
	}
	_ = os.Remove(tdir)
}
