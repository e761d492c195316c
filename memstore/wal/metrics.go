package wal

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the WAL's Prometheus collectors. They are created per WAL and
// registered only if Options.Registerer is set.
type metrics struct {
	fsyncDuration prometheus.Histogram
	bytes         prometheus.Counter
	records       prometheus.Counter
	segments      prometheus.Gauge
	corruptions   prometheus.Counter
	failures      prometheus.Counter
	failed        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		fsyncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tidal_wal_fsync_duration_seconds",
			Help:    "Duration of WAL segment fsyncs.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 100µs .. ~3.3s
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tidal_wal_bytes_written_total",
			Help: "Bytes written to WAL segments, frame headers included.",
		}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tidal_wal_records_written_total",
			Help: "Records written to the WAL.",
		}),
		segments: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tidal_wal_segments",
			Help: "WAL segment files on disk, the active one included.",
		}),
		corruptions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tidal_wal_corruptions_total",
			Help: "Torn or corrupt WAL segments found and repaired at open.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tidal_wal_failures_total",
			Help: "WAL write, fsync and rotation errors; each fails the appends of its round.",
		}),
		failed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tidal_wal_failed",
			Help: "1 while the WAL is failed and refuses appends until it is repaired, else 0.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.fsyncDuration, err = register(reg, m.fsyncDuration)
	if err != nil {
		return nil, err
	}
	if m.bytes, err = register(reg, m.bytes); err != nil {
		return nil, err
	}
	if m.records, err = register(reg, m.records); err != nil {
		return nil, err
	}
	if m.segments, err = register(reg, m.segments); err != nil {
		return nil, err
	}
	if m.corruptions, err = register(reg, m.corruptions); err != nil {
		return nil, err
	}
	if m.failures, err = register(reg, m.failures); err != nil {
		return nil, err
	}
	if m.failed, err = register(reg, m.failed); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered in its
// place, so that a WAL reopened on the same registry keeps counting.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("wal: register metrics: %w", err)
}
