package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tidaldb/tidal/internal/tombstone"
)

// tombstoneCleanInterval is the period of the tombstone cleaner: the
// magnetic tier's merge interval.
const tombstoneCleanInterval = 30 * time.Second

// runTombstoneCleaner applies deletions to the parts (rewriting the parts
// that hold deleted rows) and drops the tombstones that no tier needs any
// more, every tombstoneCleanInterval until ctx ends.
func runTombstoneCleaner(ctx context.Context, clean func(context.Context) (int, error), logger *slog.Logger) error {
	t := time.NewTicker(tombstoneCleanInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := clean(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("clean tombstones", "err", err)
		case n > 0:
			logger.Info("tombstones applied and dropped", "dropped", n)
		}
	}
}

// tombstoneJSON is one tombstone in GET /api/v1/admin/tombstones.
type tombstoneJSON struct {
	ID       uint64 `json:"id"`
	Database string `json:"database"`
	Table    string `json:"table"`
	// Where is the matchers, each as "name op values".
	Where   []string  `json:"where"`
	MinTime int64     `json:"min_time"`
	MaxTime int64     `json:"max_time"`
	Created time.Time `json:"created"`
}

// listTombstones serves GET /api/v1/admin/tombstones: the deletions not
// yet applied everywhere, oldest first.
func listTombstones(set *tombstone.Set) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		out := []tombstoneJSON{}
		for _, t := range set.List() {
			j := tombstoneJSON{ID: t.ID, Database: t.Database, Table: t.Table, Where: []string{},
				MinTime: t.MinTime, MaxTime: t.MaxTime, Created: time.Unix(0, t.Created).UTC()}
			for _, m := range t.Where {
				j.Where = append(j.Where, strings.TrimSpace(m.Name+" "+string(m.Op)+" "+strings.Join(m.Values, ",")))
			}
			out = append(out, j)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}
}
