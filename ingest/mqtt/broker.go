// Package mqtt owns TidalDB's embedded MQTT broker (mochi-mqtt): devices
// publish to it directly and messages on configured topic patterns are
// stored as records.
//
// The broker is an ordinary MQTT 3.1.1 and 5 broker (subscriptions,
// retained messages and sessions as mochi-mqtt provides them); a hook sees
// every publish before the broker acknowledges it. A publish whose topic
// matches a configured pattern is decoded (JSON or line protocol), the
// pattern's named segments becoming dimensions, and appended; the QoS 1
// PUBACK (QoS 2 PUBREC) is written only after Append returned, so an
// acknowledged message is durable. Concurrent publishes share Appends (see
// batcher), each publisher waiting for the one holding its records. When
// Append fails the publish is not
// acknowledged and the client resends it. A payload that cannot be decoded
// is logged and counted, then acknowledged (resending it cannot help) once
// its dead letter, when a dead-letter table is configured, is stored; an
// MQTT 5 client gets the reason code "payload format invalid" instead when
// nothing of the payload was stored.
//
// The listener speaks TLS with the server's certificate when the server
// has one. Credentials are the server's: user name and password are an access key
// id and secret, or any user name with a bearer token as password. Role
// write may publish, read may subscribe, admin both. With no credentials
// configured the broker is open, as the HTTP router is.
package mqtt

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/auth"
)

// Options configures a Broker.
type Options struct {
	// Listen is the TCP HOST:PORT of the broker.
	Listen string
	// Topics maps topic patterns to tables; the first matching pattern
	// wins. Messages on other topics are only relayed to subscribers.
	Topics []Topic
	// Auth checks credentials; nil or without credentials, the broker is
	// open.
	Auth   *auth.Authenticator
	Logger *slog.Logger
	// Now is the arrival time of messages; nil means time.Now.
	Now func() time.Time
	// TLS, when set, makes the listener MQTT over TLS (the server's
	// certificate settings).
	TLS *tls.Config
	// DeadLetter, when set, receives a record for every message with a
	// refused payload or records.
	DeadLetter *DeadLetter
}

// DeadLetter is the table refused messages are recorded in: one
// multi-measure record per message, dimensions source (mqtt) and topic,
// measures reason, refused (how many parts) and payload (the first 1 KiB,
// base64 when not UTF-8).
type DeadLetter struct {
	Database, Table string
}

// Stats counts what the broker stored.
type Stats struct {
	Messages   atomic.Int64 // publishes matching a pattern
	Records    atomic.Int64 // records stored
	BadPayload atomic.Int64 // records or payloads refused
	Failed     atomic.Int64 // publishes not acknowledged (Append failed)
}

// Broker is the embedded MQTT broker.
type Broker struct {
	opts   Options
	routes []*route
	srv    *mochi.Server
	tcp    *listeners.TCP
	log    *slog.Logger
	roles  sync.Map // *mochi.Client → auth.Role
	batch  *batcher
	Stats  Stats
}

// New returns a Broker storing through app; Run starts it.
func New(app ingest.Appender, opts Options) (*Broker, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Broker{opts: opts, log: opts.Logger, batch: newBatcher(app)}
	for _, t := range opts.Topics {
		r, err := compile(t)
		if err != nil {
			return nil, fmt.Errorf("configure mqtt: %w", err)
		}
		b.routes = append(b.routes, r)
	}
	b.srv = mochi.New(&mochi.Options{
		Logger:       slog.New(minLevel{opts.Logger.Handler(), slog.LevelError}).With("component", "mqtt"),
		Capabilities: mochi.NewDefaultServerCapabilities(),
	})
	if err := b.srv.AddHook(&hook{b: b}, nil); err != nil {
		return nil, fmt.Errorf("add mqtt hook: %w", err)
	}
	return b, nil
}

// Run serves MQTT on opts.Listen until ctx is done.
func (b *Broker) Run(ctx context.Context) error {
	b.tcp = listeners.NewTCP(listeners.Config{ID: "tcp", Address: b.opts.Listen, TLSConfig: b.opts.TLS})
	if err := b.srv.AddListener(b.tcp); err != nil {
		return fmt.Errorf("listen mqtt %s: %w", b.opts.Listen, err)
	}
	// Two appenders: one Append runs while the next batch gathers.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(b.batch.run)
	}
	defer wg.Wait()
	defer close(b.batch.stop)
	if err := b.srv.Serve(); err != nil {
		return fmt.Errorf("serve mqtt: %w", err)
	}
	b.log.Info("mqtt broker listening", "addr", b.tcp.Address(), "topics", len(b.routes), "auth", !b.opts.Auth.Open(), "tls", b.opts.TLS != nil)
	<-ctx.Done()
	if err := b.srv.Close(); err != nil {
		return fmt.Errorf("close mqtt broker: %w", err)
	}
	return nil
}

// Addr returns the address the broker listens on, once Run has started.
func (b *Broker) Addr() string {
	if b.tcp == nil {
		return ""
	}
	return b.tcp.Address()
}

// hook connects mochi-mqtt to TidalDB's credentials and write path.
type hook struct {
	mochi.HookBase
	b *Broker
}

func (h *hook) ID() string { return "tidal" }

func (h *hook) Provides(b byte) bool {
	switch b {
	case mochi.OnConnectAuthenticate, mochi.OnACLCheck, mochi.OnDisconnect, mochi.OnPublish, mochi.OnWillSent:
		return true
	}
	return false
}

func (h *hook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	a := h.b.opts.Auth
	if a.Open() {
		h.b.roles.Store(cl, auth.Admin)
		return true
	}
	if _, blocked := a.Throttled(cl.Net.Remote); blocked {
		h.b.log.Info("mqtt connection throttled: too many failed authentication attempts", "client", cl.ID, "remote", cl.Net.Remote)
		return false
	}
	p, ok := a.CheckPassword(string(pk.Connect.Username), string(pk.Connect.Password))
	if !ok {
		a.Failed(cl.Net.Remote)
		h.b.log.Info("mqtt connection refused", "client", cl.ID, "remote", cl.Net.Remote, "user", string(pk.Connect.Username))
		return false
	}
	h.b.roles.Store(cl, p.Role)
	return true
}

func (h *hook) OnACLCheck(cl *mochi.Client, _ string, write bool) bool {
	v, ok := h.b.roles.Load(cl)
	if !ok {
		return false
	}
	need := auth.Read
	if write {
		need = auth.Write
	}
	return v.(auth.Role).Allows(need)
}

func (h *hook) OnDisconnect(cl *mochi.Client, _ error, _ bool) { h.b.roles.Delete(cl) }

// OnPublish stores a matching publish before the broker acknowledges it.
func (h *hook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	return pk, h.b.store(cl, pk)
}

// OnWillSent stores a will message the broker published for a client that
// went away (Sparkplug B's NDEATH and DDEATH are wills).
func (h *hook) OnWillSent(cl *mochi.Client, pk packets.Packet) {
	_ = h.b.store(cl, pk)
}

// store decodes and appends a publish on a configured topic. It returns
// packets.ErrRejectPacket when the store failed (no acknowledgement),
// packets.ErrPayloadFormatInvalid for an MQTT 5 QoS > 0 publish none of
// whose payload could be stored, and nil otherwise.
func (b *Broker) store(cl *mochi.Client, pk packets.Packet) error {
	var dims []ingest.Dimension
	var r *route
	for _, rt := range b.routes {
		var ok bool
		if dims, ok = rt.pattern.Match(pk.TopicName, dims[:0]); ok {
			r = rt
			break
		}
	}
	if r == nil {
		return nil
	}
	stored, bad, err := storeMessage(b.batch, &b.Stats, b.log, b.opts.DeadLetter, r, dims, pk.TopicName, pk.Payload, b.opts.Now(), cl.ID)
	if err != nil {
		return packets.ErrRejectPacket // not acknowledged: the client resends
	}
	if bad && stored == 0 && cl.Properties.ProtocolVersion == 5 && pk.FixedHeader.Qos > 0 {
		return packets.ErrPayloadFormatInvalid
	}
	return nil
}

// storeMessage decodes one message of route r and appends its records
// through batch. bad reports refused parts (logged and counted); a non-nil
// error means the store failed and the message must not be acknowledged.
func storeMessage(batch *batcher, st *Stats, log *slog.Logger, dl *DeadLetter, r *route, dims []ingest.Dimension, topic string, payload []byte, now time.Time, client string) (stored int, bad bool, err error) {
	st.Messages.Add(1)
	batches, errs := r.decode(topic, payload, dims, now)
	for _, bt := range batches {
		n, rejected, err := batch.append(r.Database, bt.table, bt.recs)
		if err != nil {
			st.Failed.Add(1)
			log.Warn("mqtt append", "topic", topic, "table", r.Database+"."+bt.table, "err", err)
			return stored, false, fmt.Errorf("append to %s.%s: %w", r.Database, bt.table, err)
		}
		stored += n
		for _, rj := range rejected {
			errs = append(errs, fmt.Sprintf("record %d: %s", rj.Index, rj.Reason))
		}
	}
	if len(errs) > 0 && dl != nil {
		// The dead letter is as durable as the records: if it cannot be
		// appended the message is not acknowledged and comes again (its
		// good records upsert to the same values). A dead letter the
		// table refuses is only logged: resending cannot help.
		rec := deadLetterRecord(topic, errs, payload, now)
		_, rejected, err := batch.append(dl.Database, dl.Table, []ingest.Record{rec})
		if err != nil {
			st.Failed.Add(1)
			log.Warn("mqtt dead letter", "topic", topic, "table", dl.Database+"."+dl.Table, "err", err)
			return stored, true, fmt.Errorf("append dead letter to %s.%s: %w", dl.Database, dl.Table, err)
		}
		if len(rejected) > 0 {
			log.Warn("mqtt dead letter refused", "table", dl.Database+"."+dl.Table, "reason", rejected[0].Reason)
		}
	}
	st.Records.Add(int64(stored))
	if len(errs) > 0 {
		st.BadPayload.Add(int64(len(errs)))
		log.Warn("mqtt payload refused", "topic", topic, "client", client, "refused", len(errs), "stored", stored, "first", errs[0])
	}
	return stored, len(errs) > 0, nil
}

// deadLetterRecord is the dead-letter record of a message, within the
// record size limits.
func deadLetterRecord(topic string, errs []string, payload []byte, now time.Time) ingest.Record {
	trunc := func(s string, n int) string {
		s = strings.ToValidUTF8(s, "?")
		for len(s) > n {
			_, size := utf8.DecodeLastRuneInString(s)
			s = s[:len(s)-size]
		}
		return s
	}
	body := string(payload)
	if !utf8.Valid(payload) {
		body = "base64:" + base64.StdEncoding.EncodeToString(payload[:min(len(payload), 720)])
	}
	return ingest.Record{
		Time:        now.UnixNano(),
		Dimensions:  []ingest.Dimension{{Name: "source", Value: "mqtt"}, {Name: "topic", Value: trunc(topic, 400)}},
		MeasureName: "dead_letter",
		Measures: []ingest.Measure{
			{Name: "reason", Value: ingest.String(trunc(errs[0], 400))},
			{Name: "refused", Value: ingest.Int(int64(len(errs)))},
			{Name: "payload", Value: ingest.String(trunc(body, 1024))},
		},
	}
}

// minLevel drops records below min: mochi-mqtt logs every client
// disconnect as a warning.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}

// Collectors exports the counters as Prometheus metrics, labelled with
// source (the embedded broker or an external broker's URL).
func (s *Stats) Collectors(source string) []prometheus.Collector {
	c := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: prometheus.Labels{"source": source}},
			func() float64 { return float64(v.Load()) })
	}
	return []prometheus.Collector{
		c("tidal_mqtt_messages_total", "MQTT messages on a configured topic.", &s.Messages),
		c("tidal_mqtt_records_total", "Records stored from MQTT messages.", &s.Records),
		c("tidal_mqtt_refused_total", "Refused MQTT payloads and records (logged, dead-lettered).", &s.BadPayload),
		c("tidal_mqtt_append_failures_total", "MQTT messages not acknowledged because the store failed.", &s.Failed),
	}
}
