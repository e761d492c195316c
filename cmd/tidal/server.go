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
	"github.com/tidaldb/tidal/cmd/tidal/console"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/lineproto"
	"github.com/tidaldb/tidal/ingest/mqtt"
	"github.com/tidaldb/tidal/ingest/pipeline"
	"github.com/tidaldb/tidal/ingest/promrw"
	"github.com/tidaldb/tidal/ingest/timestreamwrite"
	"github.com/tidaldb/tidal/internal/auth"
	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/internal/config"
	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/deletes"
	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/promapi"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/timestreamapi"
	"github.com/tidaldb/tidal/query/unload"
	"github.com/tidaldb/tidal/scheduled"
	"github.com/tidaldb/tidal/snapshot"
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
	applyRuntimeLimits(cfg.Server, logger)
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

// serve runs the server until ctx is done, then shuts down cleanly: it
// opens the catalog and the tiers, builds the APIs, and runs the long-running
// components in a runGroup, which stops them in stage order (intake, work,
// storage) and then closes the tiers (the memstore flushes its WAL first).
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	g := newRunGroup(logger)
	defer func() { _ = g.close() }() // on an error before run; logged there
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := os.MkdirAll(cfg.Server.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	cat, err := catalog.Open(catalog.Options{
		Dir:                    cfg.Server.DataDir,
		DefaultRetention:       catalog.Retention{MemoryHours: int64(cfg.Retention.MemoryHours), MagneticDays: int64(cfg.Retention.MagneticDays)},
		ImplicitMagneticWrites: cfg.Retention.MagneticWrites,
		Region:                 cfg.Auth.Region,
		Limits: catalog.Limits{Databases: cfg.Limits.Databases, Tables: cfg.Limits.Tables,
			DimensionsPerTable: cfg.Limits.DimensionsPerTable, MeasureNames: cfg.Limits.MeasureNames,
			AttributesPerTable: cfg.Limits.AttributesPerTable},
	})
	if err != nil {
		return fmt.Errorf("open catalog: %w", err)
	}
	// Deletions: tombstones every scan and every written part honour.
	tombs, err := tombstone.Open(tombstone.Options{Dir: filepath.Join(cfg.Server.DataDir, snapshot.TombstoneDir)})
	if err != nil {
		return fmt.Errorf("open tombstones: %w", err)
	}
	magOpts := magnetic.Options{
		Deletes:       tombs,
		Dir:           filepath.Join(cfg.Server.DataDir, "magnetic"),
		Catalog:       cat,
		Logger:        logger,
		Registerer:    reg,
		MergeInterval: 30 * time.Second,
	}
	if err := objectStorage(cfg.Storage.Object, &magOpts); err != nil {
		return err
	}
	mag, err := magnetic.Open(magOpts)
	if err != nil {
		return fmt.Errorf("open magnetic tier: %w", err)
	}
	g.onClose("magnetic tier", mag.Close)
	mopts := memstore.DefaultOptions(filepath.Join(cfg.Server.DataDir, "memstore"))
	mopts.PartWriter = partWriter{mag}
	mopts.CheckpointInterval = cfg.Memstore.CheckpointInterval
	mopts.MaxSeries = cfg.Memstore.MaxSeries
	mopts.Logger = logger
	mopts.Registerer = reg
	walFS, err := faultFS(logger)
	if err != nil {
		return err
	}
	mopts.WAL = wal.Options{
		Sync:         walSync(cfg.WAL.Sync),
		SyncInterval: cfg.WAL.SyncInterval,
		SegmentSize:  int64(cfg.WAL.SegmentSize),
		FS:           walFS,
	}
	mem, err := memstore.Open(cat, mopts)
	if err != nil {
		return fmt.Errorf("open memstore: %w", err)
	}
	g.onClose("memstore", mem.Close)

	// Every reader goes through one scan.Source: both tiers merged, the
	// memstore last so that it wins ties, and deleted rows hidden.
	source := tombs.Source(scan.Merge(mag, mem), cat)
	engine := exec.New(cat, source, exec.Options{
		MaxMemoryBytes: int64(cfg.Query.MaxMemoryBytes), Timeout: cfg.Query.Timeout, Logger: logger,
	})

	// The Timestream Write and Query APIs share POST / and are told apart
	// by operation name; the operations both define (DescribeEndpoints,
	// tagging) are served by the write API with the same answers.
	tw := timestreamwrite.New(cat, mem, timestreamwrite.Options{Logger: logger, Registerer: reg})
	// UNLOAD wraps the engine: it streams the inner SELECT into files on
	// the configured targets; every other statement passes through.
	uopts := unload.Options{FileRoot: cfg.Unload.FileRoot}
	if s3c := cfg.Unload.S3; s3c.Endpoint != "" {
		uopts.S3 = &unload.S3Config{Endpoint: s3c.Endpoint, Region: s3c.Region, AccessKeyID: s3c.AccessKeyID,
			SecretAccessKey: s3c.SecretAccessKey, PathStyle: s3c.PathStyle}
	}
	// DELETE wraps both: it adds a tombstone (admin role, see timestreamapi).
	dels := deletes.New(unload.New(engine, uopts), tombs, cat, source)
	tq := timestreamapi.New(dels, timestreamapi.Options{Logger: logger, Registerer: reg, QueryTimeout: cfg.Query.Timeout})
	g.onClose("query api", tq.Close)
	// Running queries stop as soon as shutdown starts, with the HTTP
	// server's drain: a Query call waiting for its first page answers
	// at once (503) instead of holding the shutdown.
	g.add(stageIntake, "query api", func(ctx context.Context) error { <-ctx.Done(); return tq.Close() })
	sched, err := scheduled.Open(scheduled.Options{Dir: filepath.Join(cfg.Server.DataDir, "scheduled"),
		Querier: scheduled.EngineQuerier{Engine: engine}, Appender: mem, Tables: cat, Region: cfg.Auth.Region,
		MissedRuns: cfg.Scheduled.MissedRuns, MaxCatchUp: cfg.Scheduled.MaxCatchUp,
		NotificationURL: cfg.Scheduled.NotificationURL, Logger: logger, Registerer: reg})
	if err != nil {
		return fmt.Errorf("open scheduled queries: %w", err)
	}
	for _, op := range sched.Operations() {
		tq.Handle(op, sched.Serve)
	}
	router := &awsjson.Dispatcher{Prefix: timestreamTarget, MaxBody: int64(cfg.Server.MaxRequestBytes), Logger: logger}
	for _, op := range tq.Operations() {
		router.Handle(op, tq.Serve)
	}
	for _, op := range tw.Operations() {
		router.Handle(op, tw.Serve)
	}
	for _, op := range scheduled.TagOperations { // Scheduled-query ARNs; the rest go on to the write API.
		router.Handle(op, sched.TagHandler(router.Handler(op)))
	}

	rw := promrw.New(mem, promrw.Options{
		Database: cfg.Prometheus.Database, Table: cfg.Prometheus.Table, TenantHeader: cfg.Prometheus.TenantHeader,
		Tenants: cat, MaxTenants: cfg.Prometheus.MaxTenants, MaxBodyBytes: int64(cfg.Server.MaxRequestBytes), Logger: logger, Registerer: reg,
	})

	promQ := &promapi.Queryable{Source: source, Database: cfg.Prometheus.Database, Table: cfg.Prometheus.Table, Logger: logger}
	promAPI := promapi.New(promQ, promapi.Options{
		MaxSamples: int(cfg.Query.MaxSamples), Timeout: cfg.Query.Timeout, Version: version,
		TenantHeader: cfg.Prometheus.TenantHeader, Logger: logger, Registerer: reg,
	})
	influx := lineproto.NewHandler(mem, lineproto.HTTPOptions{MaxBodyBytes: int64(cfg.Server.MaxRequestBytes), Version: version, Logger: logger, Registerer: reg, Databases: lineproto.CatalogDatabases{Catalog: cat},
		MayCreate: func(r *http.Request) bool { // CREATE DATABASE needs write, SHOW DATABASES read
			p, ok := auth.PrincipalFrom(r.Context())
			return !ok || p.Role == auth.Write || p.Role == auth.Admin
		}})
	promRead := promapi.NewReadHandler(promQ)
	promRead.TenantHeader = cfg.Prometheus.TenantHeader

	streams, err := newStreams(cfg.Ingest.Pipelines, cfg.Server.DataDir, mem, reg, logger)
	if err != nil {
		return err
	}

	cleanTombstones := func(ctx context.Context) (int, error) { return tombs.Clean(ctx, mag, mem, cat) }
	promDel := &deletes.PromAPI{Set: tombs, Catalog: cat, Source: source, Database: cfg.Prometheus.Database,
		Table: cfg.Prometheus.Table, TenantHeader: cfg.Prometheus.TenantHeader, Clean: cleanTombstones, Logger: logger}

	authn, err := newAuthenticator(cfg)
	if err != nil {
		return err
	}
	rt := auth.NewRouter(authn, logger)
	adm := &admin{mem: mem, mag: mag, cat: cat}
	snaps := &snapshots{cfg: cfg, mem: mem, mag: mag}
	con := console.New(console.Options{Catalog: cat, Memory: mem, Magnetic: mag, Engine: engine, Version: version, Logger: logger})
	registerRoutes(rt, cfg, routeHandlers{
		remoteWrite:    rw,
		remoteRead:     promRead,
		influxV1:       http.HandlerFunc(influx.WriteV1),
		influxV2:       http.HandlerFunc(influx.WriteV2),
		influxQuery:    http.HandlerFunc(influx.Query),
		ping:           influx.Ping,
		health:         influx.Health,
		promAPI:        promAPI.Register,
		aws:            router,
		awsOps:         append(tq.Operations(), tw.Operations()...),
		flush:          adm.flush,
		parts:          adm.parts,
		pipelines:      streams.listPipelines,
		snapshotCreate: snaps.create,
		snapshotList:   snaps.list,
		metrics:        promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		pprofIndex:     pprof.Index, pprofProfile: pprof.Profile, pprofTrace: pprof.Trace,
		index:          index,
		healthz:        healthz(mem),
		scheduledAdmin: sched.AdminHandler(),
		firehose:       streams.firehose,
		deleteSeries:   promDel.DeleteSeries,
		cleanTombstone: promDel.CleanTombstones,
		tombstones:     listTombstones(tombs),
		console: consoleHandlers{page: con.Page, static: con.Static, meta: con.Meta, schema: con.Schema, download: con.Download,
			signIn: authn.SignIn, session: authn.Session, signOut: authn.SignOut},
	})

	// The long-running components: one line each.
	g.add(stageIntake, "http", func(ctx context.Context) error { return listenAndServe(ctx, cfg, logger, rt) })
	if cfg.MQTT.Listen != "" {
		broker, err := newMQTTBroker(cfg, mem, authn, logger)
		if err != nil {
			return err
		}
		reg.MustRegister(broker.Stats.Collectors("broker")...)
		g.add(stageIntake, "mqtt", broker.Run)
	}
	for _, sub := range cfg.MQTT.Subscribe {
		topics, err := mqttTopics(sub.Topics)
		if err != nil {
			return err
		}
		opts := mqtt.SourceOptions{Broker: sub.Broker, ClientID: sub.ClientID, Username: sub.Username, Password: sub.Password,
			ShareGroup: sub.ShareGroup, Topics: topics, Logger: logger, DeadLetter: mqttDeadLetter(cfg)}
		src, err := mqtt.NewSource(mem, opts)
		if err != nil {
			return err
		}
		reg.MustRegister(src.Stats.Collectors(sub.Broker)...)
		g.add(stageIntake, "mqtt source "+sub.Broker, src.Run)
	}
	g.add(stageWork, "scheduled queries", sched.Run)
	for _, c := range streams.consumers {
		g.add(stageIntake, c.name, c.run) // Kafka and Kinesis consumers
	}
	g.add(stageStorage, "memstore", mem.Run)
	g.add(stageStorage, "magnetic", mag.Run)
	g.add(stageStorage, "tombstones", func(ctx context.Context) error { return runTombstoneCleaner(ctx, cleanTombstones, logger) })
	return g.run(ctx)
}

// routeHandlers are the handlers behind the server's HTTP routes.
type routeHandlers struct {
	remoteWrite, remoteRead              http.Handler
	influxV1, influxV2                   http.Handler     // InfluxDB /write, /api/v2/write
	influxQuery                          http.Handler     // InfluxDB 1.x /query: CREATE DATABASE, SHOW DATABASES
	ping, health                         http.HandlerFunc // InfluxDB's probes
	promAPI                              func(promapi.Mux)
	aws                                  http.Handler
	awsOps                               []string         // the operations aws serves
	flush, parts, pipelines              http.HandlerFunc // the admin API
	snapshotCreate, snapshotList         http.HandlerFunc // the snapshot admin API
	pprofIndex, pprofProfile, pprofTrace http.HandlerFunc
	firehose                             http.Handler     // POST /firehose/{pipeline}; nil: none configured
	index                                http.HandlerFunc // GET /
	healthz                              http.HandlerFunc // GET /healthz
	metrics                              http.Handler
	scheduledAdmin                       http.Handler // the scheduled-query admin listing

	// Deletes: Prometheus's TSDB admin API and the tombstone listing.
	deleteSeries, cleanTombstone, tombstones http.HandlerFunc
	console                                  consoleHandlers
}

// consoleHandlers are the web console's routes (package console and the
// auth layer's sign-in); a nil page leaves the console out.
type consoleHandlers struct {
	page, static, meta, schema, download http.HandlerFunc
	signIn, session, signOut             http.HandlerFunc
}

// registerRoutes is the server's route table: every HTTP route with the
// role it needs (see package internal/auth for the contract).
func registerRoutes(rt *auth.Router, cfg config.Config, h routeHandlers) {
	rt.Handle("POST /api/v1/write", auth.Write, h.remoteWrite)
	if h.firehose != nil {
		rt.Handle("POST /firehose/{pipeline}", auth.Write, h.firehose)
	}
	rt.Handle("POST /api/v1/read", auth.Read, h.remoteRead)
	// InfluxDB's write API, for Telegraf and the influx clients; /ping and
	// /health are their liveness probes.
	rt.HandleInflux("POST /write", auth.Write, h.influxV1)
	rt.HandleInflux("POST /api/v2/write", auth.Write, h.influxV2)
	// 1.x /query for the CREATE DATABASE and SHOW DATABASES that write
	// clients send before writing: any credential for the route and SHOW,
	// write for CREATE (the handler checks; a first write creates the
	// database anyway).
	rt.HandleInflux("POST /query", auth.Any, h.influxQuery)
	rt.HandleInflux("GET /query", auth.Any, h.influxQuery)
	rt.HandleFunc("GET /ping", auth.Public, h.ping)
	rt.HandleFunc("HEAD /ping", auth.Public, h.ping)
	rt.HandleFunc("GET /health", auth.Public, h.health)
	h.promAPI(rt.WithRole(auth.Read))
	rt.HandleFunc("POST /api/v1/admin/flush", auth.Admin, h.flush)
	rt.HandleFunc("GET /api/v1/admin/parts", auth.Admin, h.parts)
	rt.Handle("GET /api/v1/admin/scheduled", auth.Admin, h.scheduledAdmin)
	rt.HandleFunc("GET /api/v1/admin/pipelines", auth.Admin, h.pipelines)
	for _, m := range []string{"POST", "PUT"} { // Prometheus takes both
		rt.HandleFunc(m+" /api/v1/admin/tsdb/delete_series", auth.Admin, h.deleteSeries)
		rt.HandleFunc(m+" /api/v1/admin/tsdb/clean_tombstones", auth.Admin, h.cleanTombstone)
	}
	rt.HandleFunc("GET /api/v1/admin/tombstones", auth.Admin, h.tombstones)
	rt.HandleFunc("POST /api/v1/admin/snapshots", auth.Admin, h.snapshotCreate)
	rt.HandleFunc("GET /api/v1/admin/snapshots", auth.Admin, h.snapshotList)
	if cfg.Server.EnablePprof {
		rt.HandleFunc("GET /debug/pprof/", auth.Admin, h.pprofIndex)
		rt.HandleFunc("GET /debug/pprof/profile", auth.Admin, h.pprofProfile)
		rt.HandleFunc("GET /debug/pprof/trace", auth.Admin, h.pprofTrace)
	}
	rt.HandleFunc("GET /healthz", auth.Public, h.healthz)
	metricsRole := auth.Read
	if cfg.Server.MetricsPublic {
		metricsRole = auth.Public
	}
	rt.Handle("GET /metrics", metricsRole, h.metrics)
	ops := make(map[string]auth.Role, len(h.awsOps))
	for _, op := range h.awsOps {
		ops[op] = timestreamRole(op)
	}
	rt.HandleAWS("POST /{$}", timestreamTarget, ops, h.aws)
	// GET / is the console for browsers and the list of APIs for
	// everyone else; GET /api is always the list.
	rt.HandleFunc("GET /{$}", auth.Any, func(w http.ResponseWriter, r *http.Request) {
		if h.console.page != nil && console.WantsHTML(r) {
			h.console.page(w, r)
			return
		}
		h.index(w, r)
	})
	rt.HandleFunc("GET /api", auth.Any, h.index)
	if c := h.console; c.page != nil {
		// The page and its assets hold no data: they are public, so that
		// a browser without a session gets the sign-in form.
		rt.SetSignInPage("/console/signin")
		rt.HandleFunc("GET /console/signin", auth.Public, c.page)
		rt.HandleFunc("GET "+console.StaticPrefix, auth.Public, c.static)
		rt.HandleFunc("GET /console/api/session", auth.Public, c.session)
		rt.HandleFunc("POST /console/api/signin", auth.Public, c.signIn)
		rt.HandleFunc("POST /console/api/signout", auth.Any, c.signOut)
		rt.HandleFunc("GET /console/api/meta", auth.Any, c.meta)
		rt.HandleFunc("GET /console/api/schema", auth.Read, c.schema)
		rt.HandleFunc("GET /console/api/download", auth.Read, c.download)
	}
}

// timestreamTarget is the X-Amz-Target prefix of the Timestream APIs.
const timestreamTarget = "Timestream_20181101"

// timestreamRole is the role a Timestream operation needs: WriteRecords
// write; reads and queries read; schema and tag changes admin;
// DescribeEndpoints any credential (SDKs call it before every other
// operation). An operation not listed needs admin.
func timestreamRole(op string) auth.Role {
	switch op {
	case "WriteRecords":
		return auth.Write
	case "DescribeEndpoints":
		return auth.Any
	case "Query", "CancelQuery", "PrepareQuery",
		"DescribeDatabase", "ListDatabases", "DescribeTable", "ListTables", "ListTagsForResource":
		return auth.Read
	}
	return auth.Admin // Create/Update/Delete Database/Table, TagResource, UntagResource
}

// newMQTTBroker builds the embedded MQTT broker from the mqtt section.
func newMQTTBroker(cfg config.Config, app ingest.Appender, authn *auth.Authenticator, logger *slog.Logger) (*mqtt.Broker, error) {
	topics, err := mqttTopics(cfg.MQTT.Topics)
	if err != nil {
		return nil, err
	}
	opts := mqtt.Options{Listen: cfg.MQTT.Listen, Auth: authn, Logger: logger, Topics: topics, DeadLetter: mqttDeadLetter(cfg)}
	if cfg.Server.TLSCertFile != "" {
		certs, err := auth.NewCertReloader(cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile, logger)
		if err != nil {
			return nil, fmt.Errorf("mqtt tls: %w", err)
		}
		if opts.TLS, err = auth.TLSConfig(certs, cfg.Server.TLSClientCAFile); err != nil {
			return nil, fmt.Errorf("mqtt tls: %w", err)
		}
	}
	return mqtt.New(app, opts)
}

// mqttDeadLetter returns the configured dead-letter table, or nil.
func mqttDeadLetter(cfg config.Config) *mqtt.DeadLetter {
	if cfg.MQTT.DeadLetter.Table == "" {
		return nil
	}
	return &mqtt.DeadLetter{Database: cfg.MQTT.DeadLetter.Database, Table: cfg.MQTT.DeadLetter.Table}
}

// mqttTopics converts configured topic mappings.
func mqttTopics(ts []config.MQTTTopic) ([]mqtt.Topic, error) {
	var out []mqtt.Topic
	for _, t := range ts {
		mt := mqtt.Topic{Pattern: t.Pattern, Database: t.Database, Table: t.Table, Format: t.Format,
			MeasureName: t.MeasureName, TimeField: t.TimeField, TimeUnit: t.TimeUnit, TimeLayout: t.TimeLayout, Dimensions: t.Dimensions}
		for _, m := range t.Measures {
			typ, err := ingest.ParseValueType(m.Type)
			if err != nil {
				return nil, fmt.Errorf("mqtt topic %q: measure %s: %w", t.Pattern, m.Field, err)
			}
			mt.Measures = append(mt.Measures, pipeline.MeasureField{Field: m.Field, Type: typ})
		}
		out = append(out, mt)
	}
	return out, nil
}

// newAuthenticator builds the credential checker from auth.access_keys and
// auth.bearer_tokens.
func newAuthenticator(cfg config.Config) (*auth.Authenticator, error) {
	opts := auth.Options{MaxBodyBytes: int64(cfg.Server.MaxRequestBytes),
		FailureBurst: cfg.Auth.FailureBurst, FailureRefill: cfg.Auth.FailureRefill}
	for _, k := range cfg.Auth.AccessKeys {
		role, err := auth.ParseRole(k.KeyRole())
		if err != nil {
			return nil, fmt.Errorf("access key %s: %w", k.AccessKeyID, err)
		}
		opts.Keys = append(opts.Keys, auth.Key{ID: k.AccessKeyID, Secret: k.SecretAccessKey, Role: role})
	}
	for i, t := range cfg.Auth.BearerTokens {
		role, err := auth.ParseRole(t.Role)
		if err != nil {
			return nil, fmt.Errorf("bearer token %d: %w", i, err)
		}
		opts.Tokens = append(opts.Tokens, auth.Token{Value: t.Token, Role: role})
	}
	a, err := auth.New(opts)
	if err != nil {
		return nil, fmt.Errorf("configure authentication: %w", err)
	}
	return a, nil
}

// listenAndServe serves h on server.listen, over TLS when a certificate is
// configured, until ctx is done, then shuts down cleanly.
func listenAndServe(ctx context.Context, cfg config.Config, logger *slog.Logger, h http.Handler) error {
	srv := newHTTPServer(h, logger)
	useTLS := cfg.Server.TLSCertFile != ""
	if useTLS {
		certs, err := auth.NewCertReloader(cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile, logger)
		if err != nil {
			return err
		}
		if srv.TLSConfig, err = auth.TLSConfig(certs, cfg.Server.TLSClientCAFile); err != nil {
			return err
		}
		// SIGHUP reloads the certificate (as does a change of the files).
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
					if err := certs.Reload(); err != nil {
						logger.Error("reload tls certificate on SIGHUP; keeping the previous one", "err", err)
					} else {
						logger.Info("tls certificate reloaded on SIGHUP", "not_after", certs.Certificate().Leaf.NotAfter)
					}
				}
			}
		}()
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() && !useTLS {
		logger.Warn("listening on a non-loopback address without TLS: credentials and data cross the network in clear text; set server.tls_cert_file and server.tls_key_file",
			"addr", ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	logger.Info("tidal listening", "addr", ln.Addr().String(), "data_dir", cfg.Server.DataDir,
		"auth", cfg.AuthEnabled(), "tls", useTLS, "client_certs", cfg.Server.TLSClientCAFile != "", "version", version)

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

// partWriter adapts the magnetic tier to the memstore's flush interface.
type partWriter struct{ s *magnetic.Store }

func (p partWriter) WritePart(ctx context.Context, tableID uint64, src scan.Batches) error {
	_, err := p.s.WritePart(ctx, tableID, src)
	return err
}
