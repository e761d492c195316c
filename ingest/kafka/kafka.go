// Package kafka owns the Kafka source of stream pipelines: a franz-go
// consumer-group member that hands each poll's records to a
// pipeline.Pipeline and commits their offsets only after the pipeline
// returned, that is after the records (and the dead letters) are durable.
//
// Delivery is at-least-once: a crash, a failed append or a rebalance
// redelivers from the last commit, and redelivered records upsert to the
// same values, so rows are exactly-once in effect. Rebalances are blocked
// while a batch is being processed (BlockRebalanceOnPoll), so a partition
// is never revoked between an append and its commit. Fetching pauses while
// the append blocks: the consumer buffers at most one poll's fetches. The
// partitions of a poll are decoded and appended concurrently (one Append
// per partition, in offset order), so their WAL fsyncs are shared.
package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/tidaldb/tidal/ingest/pipeline"
)

// Options configures a Source.
type Options struct {
	Brokers []string
	Topics  []string
	Group   string
	// Start is where a group without committed offsets starts: "earliest"
	// (the default) or "latest".
	Start string
	// ClientID names the consumer (default "tidal").
	ClientID string
	// TLS dials the brokers with TLS (nil: clear text).
	TLS *tls.Config
	// SASLMechanism is "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	SASLMechanism, Username, Password string
	// SessionTimeout overrides the group session timeout (0: franz-go's).
	SessionTimeout time.Duration
	// MaxPollRecords bounds one poll, committed at once (default 10,000).
	MaxPollRecords int
	// Parallel bounds the partitions of a poll decoded and appended at
	// once (default 4; 1 processes them one after the other).
	Parallel int
	Logger   *slog.Logger
	// ClientOpts are extra franz-go options (tests shorten timeouts).
	ClientOpts []kgo.Opt
}

// Source consumes Kafka topics into a pipeline.
type Source struct {
	p    *pipeline.Pipeline
	opts Options
	kopt []kgo.Opt
}

// New checks opts and returns a Source; Run connects.
func New(p *pipeline.Pipeline, opts Options) (*Source, error) {
	if len(opts.Brokers) == 0 || len(opts.Topics) == 0 || opts.Group == "" {
		return nil, errors.New("create kafka source: brokers, topics and group are required")
	}
	if opts.MaxPollRecords <= 0 {
		opts.MaxPollRecords = 10_000
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.ClientID == "" {
		opts.ClientID = "tidal"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	reset := kgo.NewOffset().AtStart()
	switch opts.Start {
	case "", "earliest":
	case "latest":
		reset = kgo.NewOffset().AtEnd()
	default:
		return nil, fmt.Errorf("create kafka source: unknown start %q (want earliest or latest)", opts.Start)
	}
	kopt := []kgo.Opt{
		kgo.SeedBrokers(opts.Brokers...),
		kgo.ClientID(opts.ClientID),
		kgo.ConsumerGroup(opts.Group),
		kgo.ConsumeTopics(opts.Topics...),
		kgo.ConsumeResetOffset(reset),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
	}
	if opts.SessionTimeout > 0 {
		kopt = append(kopt, kgo.SessionTimeout(opts.SessionTimeout))
	}
	if opts.TLS != nil {
		kopt = append(kopt, kgo.DialTLSConfig(opts.TLS))
	}
	switch opts.SASLMechanism {
	case "":
	case "PLAIN":
		kopt = append(kopt, kgo.SASL(plain.Auth{User: opts.Username, Pass: opts.Password}.AsMechanism()))
	case "SCRAM-SHA-256":
		kopt = append(kopt, kgo.SASL(scram.Auth{User: opts.Username, Pass: opts.Password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		kopt = append(kopt, kgo.SASL(scram.Auth{User: opts.Username, Pass: opts.Password}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("create kafka source: unknown SASL mechanism %q", opts.SASLMechanism)
	}
	kopt = append(kopt, opts.ClientOpts...)
	return &Source{p: p, opts: opts, kopt: kopt}, nil
}

// Run consumes until ctx ends. Only a client that cannot be created is an
// error; broker and append failures are logged and retried.
func (s *Source) Run(ctx context.Context) error {
	cl, err := kgo.NewClient(s.kopt...)
	if err != nil {
		return fmt.Errorf("create kafka client: %w", err)
	}
	// Close leaves the group without committing: what was not committed
	// after a durable append is redelivered.
	defer cl.Close()
	// A poll blocks rebalances until AllowRebalance; leaving the group on
	// Close is one, so unblock it first (defers run last first).
	defer cl.AllowRebalance()
	name := s.p.Name()
	s.p.SetState("running")
	defer s.p.SetState("stopped")
	for {
		fetches := cl.PollRecords(ctx, s.opts.MaxPollRecords)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			s.opts.Logger.Warn("kafka fetch failed", "pipeline", name, "topic", topic, "partition", partition, "err", err)
		})
		recs := fetches.Records()
		if len(recs) == 0 {
			cl.AllowRebalance()
			continue
		}
		if !s.processPartitions(ctx, fetches) {
			return nil // stopping: nothing committed, the batch is redelivered
		}
		// The batch is durable: commit it, even if ctx just ended.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := cl.CommitRecords(cctx, recs...); err != nil {
			s.opts.Logger.Warn("kafka commit failed; the batch may be redelivered", "pipeline", name, "err", err)
		}
		cancel()
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if n := len(p.Records); n > 0 {
				last := p.Records[n-1].Offset
				s.p.SetLag(pipeline.PartitionName(p.Topic, p.Partition), max(p.HighWatermark-last-1, 0))
			}
		})
		cl.AllowRebalance()
	}
}

// processPartitions stores a poll's records: the records of each
// partition are decoded and appended (one Append, in offset order) by a
// goroutine of their own, at most Parallel at once. Decoding one partition
// overlaps another's append, and concurrent appends share a WAL fsync
// (group commit). It reports false if ctx ended before every partition was
// stored; what was stored is redelivered and rewrites the same rows.
func (s *Source) processPartitions(ctx context.Context, fetches kgo.Fetches) bool {
	var parts [][]*kgo.Record
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) > 0 {
			parts = append(parts, p.Records)
		}
	})
	if len(parts) == 1 || s.opts.Parallel == 1 {
		for _, recs := range parts {
			if !s.storeRecords(ctx, recs) {
				return false
			}
		}
		return true
	}
	ok := make([]bool, len(parts))
	sem := make(chan struct{}, s.opts.Parallel)
	var wg sync.WaitGroup
	for i, recs := range parts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok[i] = s.storeRecords(ctx, recs)
		}()
	}
	wg.Wait()
	return !slices.Contains(ok, false)
}

// storeRecords decodes and appends one partition's records.
func (s *Source) storeRecords(ctx context.Context, recs []*kgo.Record) bool {
	msgs := make([]pipeline.Message, len(recs))
	part := ""
	for j, r := range recs {
		if j == 0 || r.Topic != recs[j-1].Topic || r.Partition != recs[j-1].Partition {
			part = pipeline.PartitionName(r.Topic, r.Partition)
		}
		msgs[j] = pipeline.Message{
			Partition:    part,
			OffsetNum:    r.Offset,
			HasOffsetNum: true,
			Time:         r.Timestamp,
			Value:        r.Value,
		}
	}
	d := s.p.Decode(msgs)
	defer d.Release()
	return s.store(ctx, d)
}

// store appends a decoded batch, retrying failed appends with jittered
// backoff. It reports false if ctx ended before the batch was stored.
func (s *Source) store(ctx context.Context, d *pipeline.Decoded) bool {
	backoff := 100 * time.Millisecond
	for {
		_, err := s.p.Store(ctx, d)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.opts.Logger.Warn("pipeline append failed; retrying", "pipeline", s.p.Name(), "records", d.Records(), "err", err, "backoff", backoff)
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}
