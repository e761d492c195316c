package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest/promrw"
	"github.com/tidaldb/tidal/ingest/timestreamwrite"
	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/internal/config"
	"github.com/tidaldb/tidal/internal/sigv4"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/promapi"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/timestreamapi"
)

func serverCmd(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "directory for the WAL, catalog and parts (default ./tidal-data)")
	listen := fs.String("listen", "", "HTTP address for every API (default 127.0.0.1:7490)")
	cfgPath := fs.String("config", "", "YAML configuration file (see docs/config.md)")
	insecure := fs.Bool("insecure", false, "allow listening on a non-loopback address without access keys")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			fmt.Fprintf(stderr, "tidal: %v\n", err)
			return 1
		}
	}
	if *dataDir != "" {
		cfg.Server.DataDir = *dataDir
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if *insecure {
		cfg.Server.Insecure = true
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "tidal: %v\n", err)
		return 1
	}
	logger := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, cfg, logger); err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server until ctx is done, then shuts down cleanly.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	creds := sigv4.Credentials(cfg.Auth.Credentials())
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := os.MkdirAll(cfg.Server.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	cat, err := catalog.Open(catalog.Options{
		Dir:              cfg.Server.DataDir,
		DefaultRetention: catalog.Retention{MemoryHours: int64(cfg.Retention.MemoryHours), MagneticDays: int64(cfg.Retention.MagneticDays)},
		Region:           cfg.Auth.Region,
	})
	if err != nil {
		return fmt.Errorf("open catalog: %w", err)
	}
	mag, err := magnetic.Open(magnetic.Options{
		Dir:           filepath.Join(cfg.Server.DataDir, "magnetic"),
		Catalog:       cat,
		Logger:        logger,
		Registerer:    reg,
		MergeInterval: 30 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("open magnetic tier: %w", err)
	}
	defer func() {
		if err := mag.Close(); err != nil {
			logger.Error("close magnetic tier", "err", err)
		}
	}()
	mopts := memstore.DefaultOptions(filepath.Join(cfg.Server.DataDir, "memstore"))
	mopts.PartWriter = partWriter{mag}
	mopts.CheckpointInterval = cfg.Memstore.CheckpointInterval
	mopts.MaxSeries = cfg.Memstore.MaxSeries
	mopts.Logger = logger
	mopts.Registerer = reg
	mopts.WAL = wal.Options{
		Sync:         walSync(cfg.WAL.Sync),
		SyncInterval: cfg.WAL.SyncInterval,
		SegmentSize:  int64(cfg.WAL.SegmentSize),
	}
	mem, err := memstore.Open(cat, mopts)
	if err != nil {
		return fmt.Errorf("open memstore: %w", err)
	}
	defer func() {
		if err := mem.Close(); err != nil {
			logger.Error("close memstore", "err", err)
		}
	}()

	// Every reader goes through one scan.Source: both tiers merged, the
	// memstore last so that it wins ties.
	source := scan.Merge(mag, mem)
	engine := exec.New(cat, source, exec.Options{
		MaxMemoryBytes: int64(cfg.Query.MaxMemoryBytes), Timeout: cfg.Query.Timeout, Logger: logger,
	})

	// The Timestream Write and Query APIs share POST / and are told apart
	// by operation name; the operations both define (DescribeEndpoints,
	// tagging) are served by the write API with the same answers.
	tw := timestreamwrite.New(cat, mem, timestreamwrite.Options{Logger: logger, Registerer: reg})
	tq := timestreamapi.New(engine, timestreamapi.Options{Logger: logger, Registerer: reg, QueryTimeout: cfg.Query.Timeout})
	defer func() {
		if err := tq.Close(); err != nil {
			logger.Error("close query api", "err", err)
		}
	}()
	router := &awsRouter{logger: logger, maxBody: int64(cfg.Server.MaxRequestBytes), ops: map[string]awsOp{}}
	for _, op := range tq.Operations() {
		router.ops[op] = tq.Serve
	}
	for _, op := range tw.Operations() {
		router.ops[op] = tw.Serve
	}
	if cfg.VerifySignatures() {
		router.verifier = &sigv4.Verifier{Creds: creds, Service: "timestream"}
	}

	rw := promrw.New(mem, promrw.Options{
		Database: cfg.Prometheus.Database, Table: cfg.Prometheus.Table, TenantHeader: cfg.Prometheus.TenantHeader,
		MaxBodyBytes: int64(cfg.Server.MaxRequestBytes), Logger: logger, Registerer: reg,
	})

	promQ := &promapi.Queryable{Source: source, Database: cfg.Prometheus.Database, Table: cfg.Prometheus.Table}
	promAPI := promapi.New(promQ, promapi.Options{
		MaxSamples: int(cfg.Query.MaxSamples), Timeout: cfg.Query.Timeout, Version: version,
		Logger: logger, Registerer: reg,
	})

	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/write", rw)
	mux.Handle("POST /api/v1/read", promapi.NewReadHandler(promQ))
	promAPI.Register(mux)
	adm := &admin{mem: mem, mag: mag, cat: cat}
	mux.HandleFunc("POST /api/v1/admin/flush", adm.flush)
	mux.HandleFunc("GET /api/v1/admin/parts", adm.parts)
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("POST /{$}", router)
	mux.HandleFunc("GET /{$}", index)

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("tidal listening", "addr", ln.Addr().String(), "data_dir", cfg.Server.DataDir,
		"auth", len(creds) > 0, "version", version)

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("tidal shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

func walSync(s config.SyncMode) wal.SyncPolicy {
	switch s {
	case config.SyncInterval:
		return wal.SyncInterval
	case config.SyncNever:
		return wal.SyncNever
	}
	return wal.SyncBatch
}

// awsOp serves one AWS JSON operation.
type awsOp func(w http.ResponseWriter, r *http.Request, op string, body []byte)

// awsRouter serves POST / for the AWS JSON 1.0 APIs: it checks the size and
// the signature, then dispatches on the X-Amz-Target operation.
type awsRouter struct {
	logger   *slog.Logger
	maxBody  int64
	verifier *sigv4.Verifier
	ops      map[string]awsOp
}

func (ar *awsRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := awsjson.NewRequestID()
	op, aerr := awsjson.Operation(r, "Timestream_20181101")
	if aerr != nil {
		awsjson.WriteError(w, reqID, aerr)
		return
	}
	body, aerr := awsjson.ReadBody(r, ar.maxBody)
	if aerr != nil {
		awsjson.WriteError(w, reqID, aerr)
		return
	}
	if ar.verifier != nil {
		if _, err := ar.verifier.Verify(r, body); err != nil {
			code, msg := "AccessDeniedException", err.Error()
			var se *sigv4.Error
			if errors.As(err, &se) {
				code, msg = se.Code, se.Message
			}
			awsjson.WriteError(w, reqID, &awsjson.Error{Type: code, Status: http.StatusForbidden, Message: msg})
			return
		}
	}
	h := ar.ops[op]
	if h == nil {
		awsjson.WriteError(w, reqID, awsjson.UnknownOperation(op))
		return
	}
	h(w, r, op, body)
}

// partWriter adapts the magnetic tier to the memstore's flush interface.
type partWriter struct{ s *magnetic.Store }

func (p partWriter) WritePart(ctx context.Context, tableID uint64, src scan.Batches) error {
	_, err := p.s.WritePart(ctx, tableID, src)
	return err
}
