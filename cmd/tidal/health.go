package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/tidaldb/tidal/internal/fileutil"
)

// healthChecker is what /healthz asks: nil when writes can be acknowledged.
type healthChecker interface{ Health() error }

// healthz answers 200 "ok" while every checker is healthy, and 503 with the
// reasons otherwise (a failed WAL: the disk is full or failing).
func healthz(checks ...healthChecker) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		var bad []error
		for _, c := range checks {
			if err := c.Health(); err != nil {
				bad = append(bad, err)
			}
		}
		if len(bad) == 0 {
			_, _ = io.WriteString(w, "ok\n")
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, err := range bad {
			fmt.Fprintf(w, "unhealthy: %v\n", err)
		}
	}
}

// faultFS returns the file system the WAL writes through: the real one, or,
// when the TIDAL_FAULTS environment variable is set, one that injects the
// faults it describes (fileutil.ParseFaults). It exists for the end-to-end
// tests that must fill a disk or stall an fsync under the real binary; the
// server logs a warning when it is on.
func faultFS(logger *slog.Logger) (fileutil.FS, error) {
	spec := os.Getenv("TIDAL_FAULTS")
	if spec == "" {
		return fileutil.OS, nil
	}
	faults, err := fileutil.ParseFaults(spec)
	if err != nil {
		return nil, fmt.Errorf("TIDAL_FAULTS: %w", err)
	}
	logger.Warn("TIDAL_FAULTS is set: the WAL runs on a fault-injecting file system (tests only)", "faults", spec)
	return fileutil.NewFaultFS(fileutil.OS, faults...), nil
}
