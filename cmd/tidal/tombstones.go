package main

import (
	"context"
	"log/slog"
	"time"
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
