// Package pipeline owns stream ingestion's middle: a pipeline takes the
// messages a source (Kafka, Kinesis, Firehose) delivered, decodes each with
// the pipeline's format (JSON with a field mapping, Prometheus remote-write
// protobuf, Timestream WriteRecords JSON, or a format plugged in through
// Options.Formats), and hands the records to one ingest.Appender.
//
// Bad messages never stop a pipeline: a message that cannot be decoded, or
// whose records the appender rejects, goes to the dead-letter table
// (<database>._dead_letters unless configured) with its source, partition,
// offset, the reason and its first bytes, and is counted; it is not retried.
// The good records of a batch are kept.
//
// Process returns only once every record of the batch (and every dead
// letter) is durable; a source commits its offsets or checkpoints after
// Process returned nil, and redelivers otherwise. Redelivered messages are
// idempotent: records upsert to the same values, and a dead letter's time
// and dimensions come from the message, so a redelivered poison message
// rewrites the same dead-letter row.
package pipeline

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/ingest"
)

// Dead-letter sizes: the raw bytes kept (base64 in the row) and the reason,
// so that the row stays within ingest.MaxRecordBytes.
const (
	deadRawBytes    = 768
	deadReasonBytes = 400
	// DefaultDeadLetterTable is the dead-letter table in the target database.
	DefaultDeadLetterTable = "_dead_letters"
)

// Message is one message a source delivered.
type Message struct {
	// Partition names the partition or shard ("telemetry/3").
	Partition string
	// Offset is its offset or sequence number within Partition.
	Offset string
	// OffsetNum, when Offset is empty and HasOffsetNum is set, is a
	// numeric offset (Kafka's), formatted only if the message is
	// dead-lettered.
	OffsetNum    int64
	HasOffsetNum bool
	// Time is the broker's time for the message; it is the dead-letter
	// row's time.
	Time time.Time
	// Value is the payload; the pipeline does not retain it after Process.
	Value []byte
}

// Options configures a Pipeline.
type Options struct {
	// Name identifies the pipeline in metrics and listings.
	Name string
	// Source is the kind of source ("kafka", "kinesis", "firehose").
	Source string
	// Format names the decoder.
	Format  string
	Mapping Mapping
	// Formats adds decoders (the line-protocol hook).
	Formats map[string]DecoderFunc
	// Metrics are shared by the pipelines of a server (NewMetrics); nil
	// means unregistered metrics of its own.
	Metrics *Metrics
}

// Pipeline decodes messages and appends their records. Process may be
// called by several goroutines (one decoder per call is taken from a pool).
type Pipeline struct {
	opts     Options
	app      ingest.Appender
	deadName string
	// decoders are the idle decoders with their buffers and caches; kept
	// in a list, not a sync.Pool, so that a GC does not drop the series
	// caches.
	decoders decoderList
	metrics  *Metrics
	// targets resolves templated databases and tables (nil: the mapping's
	// fixed target, targetList[0]).
	targets *targets

	mu sync.Mutex
	// targetList are the targets written to, targetIx their indexes.
	targetList []target
	targetIx   map[target]int
	lastErr    string
	lastAt     time.Time
	state      string
	messages   int64
	dead       int64
	records    int64
	lag        map[string]int64
	// rate window: the counts at the start of the last full window.
	rateAt      time.Time
	rateRecords int64
	prevAt      time.Time
	prevRecords int64
}

// New returns a pipeline writing through app.
func New(app ingest.Appender, opts Options) (*Pipeline, error) {
	if err := opts.Mapping.Validate(opts.Format); err != nil {
		return nil, fmt.Errorf("create pipeline %s: %w", opts.Name, err)
	}
	tg, dm, err := newTargets(opts.Mapping, opts.Format)
	if err != nil {
		return nil, fmt.Errorf("create pipeline %s: %w", opts.Name, err)
	}
	if _, err := NewDecoder(opts.Format, dm, opts.Formats); err != nil {
		return nil, fmt.Errorf("create pipeline %s: %w", opts.Name, err)
	}
	p := &Pipeline{opts: opts, app: app, deadName: opts.Mapping.DeadLetterTable, state: "starting", targets: tg,
		targetIx: map[target]int{}}
	if p.deadName == "" {
		p.deadName = DefaultDeadLetterTable
	}
	if tg == nil {
		fixed := target{opts.Mapping.Database, opts.Mapping.Table}
		p.targetList, p.targetIx[fixed] = []target{fixed}, 0
	}
	p.decoders.new = func() *decodeState {
		d, _ := NewDecoder(opts.Format, dm, opts.Formats) // checked above
		st := &decodeState{dec: d}
		if jd, ok := d.(*jsonDecoder); ok {
			st.batch = jd
			jd.share()
			if tg == nil {
				// A fixed target: no template rewrites a record between
				// decoding and its check, so the decoder checks.
				jd.check()
				st.checker = jd
			} else {
				// Templated: the targets and checks of a series are
				// resolved once (resolveCached).
				st.series = jd
				st.resolved = map[resolveKey]*resolved{}
			}
		}
		return st
	}
	p.metrics = opts.Metrics
	if p.metrics == nil {
		p.metrics = NewMetrics(nil)
	}
	return p, nil
}

// Name is the pipeline's name.
func (p *Pipeline) Name() string { return p.opts.Name }

// Metrics returns the metrics the sources update (lag).
func (p *Pipeline) Metrics() *Metrics { return p.metrics }

// decoderList holds idle decodeStates.
type decoderList struct {
	new  func() *decodeState
	mu   sync.Mutex
	idle []*decodeState
}

// maxIdleDecoders bounds the idle decoders kept (one per concurrent
// Decode is enough).
const maxIdleDecoders = 16

func (l *decoderList) get() *decodeState {
	l.mu.Lock()
	if n := len(l.idle); n > 0 {
		st := l.idle[n-1]
		l.idle = l.idle[:n-1]
		l.mu.Unlock()
		return st
	}
	l.mu.Unlock()
	return l.new()
}

func (l *decoderList) put(st *decodeState) {
	l.mu.Lock()
	if len(l.idle) < maxIdleDecoders {
		l.idle = append(l.idle, st)
	}
	l.mu.Unlock()
}

// decodeState is one decoder with its buffers.
type decodeState struct {
	dec Decoder
	// batch, if set, is told when a batch starts (its records' buffers
	// are reused).
	batch interface{ resetBatch() }
	// checker, if set, applied ingest.ValidateRecord to each record it
	// decoded (checked: the verdicts of the last Decode call, nil if all
	// passed).
	checker interface{ checked() []string }
	// series and resolved: a templated target's resolution and series
	// check per series (decoder's dimension slice) and measure name;
	// tverdicts are the verdicts on the current message's records.
	series interface {
		ordered(*ingest.Dimension) []ingest.Dimension
	}
	resolved  map[resolveKey]*resolved
	tverdicts []string
	recs      []ingest.Record
	owner     []int // message index of each record
	tix       []int // target index of each record
	// per-target batches when a batch has several targets
	grecs  []ingest.Record
	gowner []int
}

// Outcome reports what Process did with a batch.
type Outcome struct {
	// Records counts the records stored.
	Records int
	// DeadLetters counts the messages sent to the dead-letter table.
	DeadLetters int
}

// Process decodes msgs and appends their records. It returns nil once the
// records and the dead letters are durable; an error means nothing may be
// assumed stored, and the source must redeliver the batch.
func (p *Pipeline) Process(ctx context.Context, msgs []Message) (Outcome, error) {
	d := p.Decode(msgs)
	defer d.Release()
	return p.Store(ctx, d)
}

// Decoded is a batch of messages decoded and checked by Decode, ready for
// Store. Sources that pipeline decode the next batch while Store appends
// this one. It holds msgs (not copied) until Release.
type Decoded struct {
	st   *decodeState
	msgs []Message
	dead []deadLetter
	pool *decoderList
}

// Records is the number of records decoded.
func (d *Decoded) Records() int { return len(d.st.recs) }

// Release returns the batch's buffers; d must not be used after.
func (d *Decoded) Release() {
	if d.st != nil {
		d.pool.put(d.st)
		d.st = nil
	}
}

// Decode decodes msgs into records, resolves their targets and checks them
// against the record limits; the messages that fail are noted as dead
// letters for Store. Decode is CPU only and may run concurrently with
// Store of another batch.
func (p *Pipeline) Decode(msgs []Message) *Decoded {
	st := p.decoders.get()
	st.recs, st.owner, st.tix = st.recs[:0], st.owner[:0], st.tix[:0]
	if st.batch != nil {
		st.batch.resetBatch()
	}
	var dead []deadLetter
	for i := range msgs {
		n := len(st.recs)
		var err error
		st.recs, err = st.dec.Decode(msgs[i].Value, st.recs)
		if err != nil {
			st.recs = st.recs[:n]
			dead = append(dead, deadLetter{msg: i, reason: err.Error()})
			continue
		}
		if reason := p.resolveTargets(st, n); reason != "" {
			st.recs, st.tix = st.recs[:n], st.tix[:n]
			dead = append(dead, deadLetter{msg: i, reason: reason})
			continue
		}
		// Records failing the shared limits are dropped here (the
		// appender does not check them); their message is dead-lettered
		// and its other records kept.
		var verdicts []string
		switch {
		case st.checker != nil:
			verdicts = st.checker.checked()
		case st.resolved != nil:
			verdicts = st.tverdicts
		}
		reason, k := "", n
		for j := n; j < len(st.recs); j++ {
			var r string
			switch {
			case st.checker == nil && st.resolved == nil:
				r = ingest.ValidateRecord(&st.recs[j])
			case j-n < len(verdicts):
				r = verdicts[j-n]
			}
			if r != "" {
				if reason == "" {
					reason = r
				}
				continue
			}
			st.recs[k], st.tix[k] = st.recs[j], st.tix[j]
			k++
			st.owner = append(st.owner, i)
		}
		st.recs, st.tix = st.recs[:k], st.tix[:k]
		if reason != "" {
			dead = append(dead, deadLetter{msg: i, db: p.targetOf(st.tix, n).db, reason: "record rejected: " + reason})
		}
	}
	return &Decoded{st: st, msgs: msgs, dead: dead, pool: &p.decoders}
}

// Store appends a decoded batch and its dead letters. It returns nil once
// they are durable; after an error nothing may be assumed stored and Store
// may be called again with the same d.
func (p *Pipeline) Store(ctx context.Context, d *Decoded) (Outcome, error) {
	var out Outcome
	st, msgs := d.st, d.msgs
	dead := slices.Clone(d.dead)
	if len(st.recs) > 0 {
		var err error
		if dead, err = p.appendGroups(ctx, st, &out, dead); err != nil {
			p.fail(err)
			return out, err
		}
	}
	if len(dead) > 0 {
		if err := p.writeDead(ctx, msgs, dead); err != nil {
			p.fail(err)
			return out, err
		}
		out.DeadLetters = len(dead)
	}
	p.metrics.messages.WithLabelValues(p.opts.Name, "ok").Add(float64(len(msgs) - len(dead)))
	p.metrics.messages.WithLabelValues(p.opts.Name, "dead_letter").Add(float64(len(dead)))
	p.metrics.records.WithLabelValues(p.opts.Name).Add(float64(out.Records))
	p.mu.Lock()
	p.state = "running"
	p.messages += int64(len(msgs))
	p.dead += int64(len(dead))
	p.records += int64(out.Records)
	if now := time.Now(); now.Sub(p.rateAt) >= rateWindow {
		p.prevAt, p.prevRecords = p.rateAt, p.rateRecords
		p.rateAt, p.rateRecords = now, p.records
	}
	if len(dead) > 0 {
		p.lastErr, p.lastAt = dead[len(dead)-1].reason, time.Now()
	}
	p.mu.Unlock()
	return out, nil
}

// resolveTargets sets the target index of the records st.recs[n:] of one
// message; a non-empty reason dead-letters the message.
func (p *Pipeline) resolveTargets(st *decodeState, n int) string {
	if p.targets == nil {
		for range len(st.recs) - n {
			st.tix = append(st.tix, 0)
		}
		return ""
	}
	if st.resolved != nil {
		return p.resolveCached(st, n)
	}
	for j := n; j < len(st.recs); j++ {
		tg, err := p.targets.resolve(&st.recs[j])
		if err != nil {
			return err.Error()
		}
		ix, err := p.admit(tg)
		if err != nil {
			return err.Error()
		}
		st.tix = append(st.tix, ix)
	}
	return ""
}

// resolveKey is a series of a shared-mode JSON decoder: its dimension
// slice (the map key keeps it alive, so an address is never another
// series') and its measure name.
type resolveKey struct {
	dims    *ingest.Dimension
	ndims   int
	measure string
}

// resolved is what targets.resolve and admit gave a series, with the
// ValidateSeries verdict on the record they leave.
type resolved struct {
	err     string
	tix     int
	dims    []ingest.Dimension
	measure string
	verdict string
}

// maxResolved bounds a decoder's resolved series (emptied when full).
const maxResolved = 1 << 16

// resolveCached is resolveTargets for a shared-mode JSON decoder: each
// series is resolved and checked once, and its records share the result;
// st.tverdicts gets ingest.ValidateRecord's verdict on each record as the
// uncached path checks it (on the dimensions in mapping order).
func (p *Pipeline) resolveCached(st *decodeState, n int) string {
	st.tverdicts = st.tverdicts[:0]
	for j := n; j < len(st.recs); j++ {
		r := &st.recs[j]
		if len(r.Dimensions) == 0 {
			// No series to key on: the uncached way.
			tg, err := p.targets.resolve(r)
			if err != nil {
				return err.Error()
			}
			ix, err := p.admit(tg)
			if err != nil {
				return err.Error()
			}
			st.tix = append(st.tix, ix)
			st.tverdicts = append(st.tverdicts, ingest.ValidateRecord(r))
			continue
		}
		key := resolveKey{&r.Dimensions[0], len(r.Dimensions), r.MeasureName}
		res := st.resolved[key]
		if res == nil {
			res = p.resolveSeries(st, r)
			if len(st.resolved) >= maxResolved {
				clear(st.resolved)
			}
			st.resolved[key] = res
		}
		if res.err != "" {
			return res.err
		}
		r.Dimensions, r.MeasureName = res.dims, res.measure
		st.tix = append(st.tix, res.tix)
		v := res.verdict
		if v == "" {
			v = ingest.ValidateSample(r)
		}
		st.tverdicts = append(st.tverdicts, v)
	}
	return ""
}

// resolveSeries resolves the target of r's series and checks the record
// the resolution leaves, on its dimensions in mapping order.
func (p *Pipeline) resolveSeries(st *decodeState, r *ingest.Record) *resolved {
	c := *r
	tg, err := p.targets.resolve(&c)
	if err != nil {
		return &resolved{err: err.Error()}
	}
	ix, err := p.admit(tg)
	if err != nil {
		return &resolved{err: err.Error()}
	}
	o := ingest.Record{MeasureName: r.MeasureName, Dimensions: st.series.ordered(&r.Dimensions[0])}
	if _, err := p.targets.resolve(&o); err != nil {
		return &resolved{err: err.Error()}
	}
	return &resolved{tix: ix, dims: c.Dimensions, measure: c.MeasureName, verdict: ingest.ValidateSeries(o.MeasureName, o.Dimensions)}
}

// admit returns tg's index, adding it if the bound allows.
func (p *Pipeline) admit(tg target) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ix, ok := p.targetIx[tg]; ok {
		return ix, nil
	}
	if len(p.targetList) >= p.targets.max {
		return 0, fmt.Errorf("target %s.%s refused: the pipeline already writes to %d tables (mapping.max_tables)", tg.db, tg.table, p.targets.max)
	}
	p.targetIx[tg] = len(p.targetList)
	p.targetList = append(p.targetList, tg)
	return len(p.targetList) - 1, nil
}

// targetOf is the target of the record at index i of tix (the fixed
// target if there is none).
func (p *Pipeline) targetOf(tix []int, i int) target {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i < len(tix) {
		return p.targetList[tix[i]]
	}
	if p.targets == nil {
		return p.targetList[0]
	}
	return target{}
}

// appendGroups appends st's records, one Append per target, and adds a
// dead letter per message with a rejected record.
func (p *Pipeline) appendGroups(ctx context.Context, st *decodeState, out *Outcome, dead []deadLetter) ([]deadLetter, error) {
	single := true
	for _, ix := range st.tix {
		if ix != st.tix[0] {
			single = false
			break
		}
	}
	p.mu.Lock()
	list := p.targetList
	p.mu.Unlock()
	appendOne := func(tg target, recs []ingest.Record, owner []int) error {
		res, err := p.app.Append(ctx, tg.db, tg.table, recs, ingest.AppendOptions{CreateTable: true, IdempotentRewrite: true})
		if err != nil {
			return fmt.Errorf("append %d records to %s.%s: %w", len(recs), tg.db, tg.table, err)
		}
		out.Records += res.Total()
		// A message with a rejected record is dead-lettered (its other
		// records are kept): one letter per message, the first reason.
		lastMsg := -1
		for _, rj := range res.Rejected {
			if rj.Index < 0 || rj.Index >= len(owner) {
				return fmt.Errorf("append to %s.%s: rejection index %d out of range", tg.db, tg.table, rj.Index)
			}
			if mi := owner[rj.Index]; mi != lastMsg {
				dead = append(dead, deadLetter{msg: mi, db: tg.db, reason: "record rejected: " + rj.Reason})
				lastMsg = mi
			}
		}
		return nil
	}
	if single {
		return dead, appendOne(list[st.tix[0]], st.recs, st.owner)
	}
	done := map[int]bool{}
	for _, ix := range st.tix {
		if done[ix] {
			continue
		}
		done[ix] = true
		st.grecs, st.gowner = st.grecs[:0], st.gowner[:0]
		for j, jx := range st.tix {
			if jx == ix {
				st.grecs = append(st.grecs, st.recs[j])
				st.gowner = append(st.gowner, st.owner[j])
			}
		}
		if err := appendOne(list[ix], st.grecs, st.gowner); err != nil {
			return dead, err
		}
	}
	return dead, nil
}

type deadLetter struct {
	msg int
	// db is the database the message's records went to ("": the
	// configured one).
	db     string
	reason string
}

// writeDead appends one row per dead letter to the dead-letter table of
// its database.
func (p *Pipeline) writeDead(ctx context.Context, msgs []Message, dead []deadLetter) error {
	byDB := map[string][]deadLetter{}
	var dbs []string
	for _, d := range dead {
		db := d.db
		if db == "" || p.opts.Mapping.DeadLetterDatabase != "" {
			db = p.opts.Mapping.DeadLetterDatabase
		}
		if db == "" {
			db = p.opts.Mapping.Database
		}
		if byDB[db] == nil {
			dbs = append(dbs, db)
		}
		byDB[db] = append(byDB[db], d)
	}
	for _, db := range dbs {
		if err := p.writeDeadTo(ctx, db, msgs, byDB[db]); err != nil {
			return err
		}
	}
	return nil
}

// writeDeadTo appends dead to db's dead-letter table.
func (p *Pipeline) writeDeadTo(ctx context.Context, db string, msgs []Message, dead []deadLetter) error {
	recs := make([]ingest.Record, 0, len(dead))
	for _, d := range dead {
		msg := &msgs[d.msg]
		raw := msg.Value
		if len(raw) > deadRawBytes {
			raw = raw[:deadRawBytes]
		}
		t := msg.Time
		if t.IsZero() || t.Before(time.Unix(0, 0)) {
			t = time.Now()
		}
		dims := []ingest.Dimension{{Name: "pipeline", Value: p.opts.Name}}
		if p.opts.Source != "" {
			dims = append(dims, ingest.Dimension{Name: "source", Value: p.opts.Source})
		}
		if msg.Partition != "" {
			dims = append(dims, ingest.Dimension{Name: "partition", Value: msg.Partition})
		}
		if off := msg.Offset; off != "" || msg.HasOffsetNum {
			if off == "" {
				off = strconv.FormatInt(msg.OffsetNum, 10)
			}
			dims = append(dims, ingest.Dimension{Name: "offset", Value: off})
		}
		reason := strings.ToValidUTF8(d.reason, "?")
		if len(reason) > deadReasonBytes {
			reason = strings.ToValidUTF8(reason[:deadReasonBytes], "") + "..."
		}
		recs = append(recs, ingest.Record{
			Time: t.UnixNano(), Dimensions: dims, MeasureName: "dead_letter",
			Measures: []ingest.Measure{
				{Name: "reason", Value: ingest.String(reason)},
				{Name: "raw_base64", Value: ingest.String(base64.StdEncoding.EncodeToString(raw))},
				{Name: "raw_bytes", Value: ingest.Int(int64(len(msg.Value)))},
			},
		})
	}
	res, err := p.app.Append(ctx, db, p.deadName, recs, ingest.AppendOptions{CreateTable: true, IdempotentRewrite: true})
	if err != nil {
		return fmt.Errorf("append %d dead letters to %s.%s: %w", len(recs), db, p.deadName, err)
	}
	if len(res.Rejected) > 0 {
		// A dead letter the table refuses (a partition name too long...)
		// is dropped and counted, never retried.
		p.metrics.deadDropped.WithLabelValues(p.opts.Name).Add(float64(len(res.Rejected)))
	}
	return nil
}

func (p *Pipeline) fail(err error) {
	p.mu.Lock()
	p.state, p.lastErr, p.lastAt = "retrying", err.Error(), time.Now()
	p.mu.Unlock()
	p.metrics.errors.WithLabelValues(p.opts.Name).Inc()
}

// SetState records the source's state ("running", "stopped", ...).
func (p *Pipeline) SetState(s string) {
	p.mu.Lock()
	p.state = s
	p.mu.Unlock()
}

// rateWindow is the shortest span RecordsPerSecond is measured over.
const rateWindow = 10 * time.Second

// SetLag records a source's lag for one partition or shard (messages for
// Kafka) in the listing and in /metrics.
func (p *Pipeline) SetLag(partition string, lag int64) {
	p.metrics.Lag.WithLabelValues(p.opts.Name, partition).Set(float64(lag))
	p.mu.Lock()
	if p.lag == nil {
		p.lag = map[string]int64{}
	}
	p.lag[partition] = lag
	p.mu.Unlock()
}

// Status is a pipeline's state for listings.
type Status struct {
	Name, Source, Format, Target string
	State                        string
	// Counts since the server started.
	Messages, DeadLetters, Records int64
	// RecordsPerSecond over the last 10 to 20 seconds of processing.
	RecordsPerSecond float64
	// Lag sums the partitions' lag.
	Lag         int64
	LastError   string    `json:",omitempty"`
	LastErrorAt time.Time `json:",omitzero"`
}

// Status reports the pipeline's state, counts, lag and last error.
func (p *Pipeline) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{
		Name: p.opts.Name, Source: p.opts.Source, Format: p.opts.Format,
		Target: p.opts.Mapping.Database + "." + p.opts.Mapping.Table,
		State:  p.state, LastError: p.lastErr, LastErrorAt: p.lastAt,
		Messages: p.messages, DeadLetters: p.dead, Records: p.records,
	}
	for _, l := range p.lag {
		st.Lag += l
	}
	if !p.prevAt.IsZero() {
		if d := time.Since(p.prevAt).Seconds(); d > 0 {
			st.RecordsPerSecond = float64(p.records-p.prevRecords) / d
		}
	}
	return st
}

// Metrics are the pipeline metrics, labelled by pipeline name.
type Metrics struct {
	messages    *prometheus.CounterVec
	records     *prometheus.CounterVec
	errors      *prometheus.CounterVec
	deadDropped *prometheus.CounterVec
	// Lag is the consumer lag per partition or shard, in messages (Kafka)
	// or milliseconds behind latest (Kinesis).
	Lag *prometheus.GaugeVec
}

// NewMetrics creates the pipeline metrics and registers them with reg (if
// not nil). Every pipeline of a server shares one set, labelled by name.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidal_pipeline_messages_total", Help: "Messages processed by a pipeline, by outcome (ok, dead_letter).",
		}, []string{"pipeline", "outcome"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidal_pipeline_records_total", Help: "Records a pipeline stored.",
		}, []string{"pipeline"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidal_pipeline_append_errors_total", Help: "Batches whose append failed and will be redelivered.",
		}, []string{"pipeline"}),
		deadDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidal_pipeline_dead_letters_dropped_total", Help: "Dead letters the dead-letter table refused.",
		}, []string{"pipeline"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tidal_pipeline_lag", Help: "Consumer lag per partition or shard (Kafka: messages; Kinesis: milliseconds behind latest).",
		}, []string{"pipeline", "partition"}),
	}
	if reg != nil {
		reg.MustRegister(m.messages, m.records, m.errors, m.deadDropped, m.Lag)
	}
	return m
}

// PartitionName is the partition label of a topic partition.
func PartitionName(topic string, partition int32) string {
	return topic + "/" + strconv.Itoa(int(partition))
}
