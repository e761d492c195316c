package magnetic

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tidaldb/tidal/memstore/catalog"
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
			gone = append(gone, id)
			continue
		}
		if t.Retention.MagneticDays <= 0 {
			continue
		}
		cutoff := now.Add(-time.Duration(t.Retention.MagneticDays) * 24 * time.Hour).UnixNano()
		for start, pt := range pts {
			if start+int64(PartitionWidth) <= cutoff {
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
		s.log.Info("dropped partition", "table", pt.tableID, "partition", time.Unix(0, pt.start).UTC().Format(partitionDirLayout), "parts", len(pt.parts))
	}
	for _, id := range gone {
		// Fails while scans still hold parts of the table; the directory
		// is then left empty.
		_ = os.Remove(filepath.Join(s.opts.Dir, strconv.FormatUint(id, 10)))
	}
	if len(drop) > 0 {
		errs = append(errs, syncDir(s.opts.Dir))
	}
	return errors.Join(errs...)
}
