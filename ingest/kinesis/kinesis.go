// Package kinesis owns the Kinesis Data Streams source of stream pipelines:
// a consumer on the AWS SDK for Go v2 with the Kinesis Client Library's
// semantics and no DynamoDB.
//
// Each shard is read by one goroutine holding the shard's lease in a
// LeaseStore (by default a file in the data dir). A batch of GetRecords is
// handed to a pipeline.Pipeline, and the shard's checkpoint (the last
// sequence number) is written only after the pipeline returned, that is
// after the records and dead letters are durable: a crash replays from the
// checkpoint, and replayed records upsert to the same values.
//
// Resharding: a child shard (of a SplitShard or MergeShards) is read only
// once every parent is checkpointed at ShardEnd, so records of one
// partition key are appended in order. KPL-aggregated records are split
// into their user records (Deaggregate). Throttling
// (ProvisionedThroughputExceeded, LimitExceeded, KMS throttling) is backed
// off with jitter, and an expired shard iterator is renewed from the
// checkpoint. MillisBehindLatest is published per shard as the pipeline's
// lag.
package kinesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tidaldb/tidal/ingest/pipeline"
)

// Start policies for a shard without a checkpoint.
const (
	StartTrimHorizon = "TRIM_HORIZON"
	StartLatest      = "LATEST"
	StartAtTimestamp = "AT_TIMESTAMP"
)

// Options configures a Source.
type Options struct {
	Stream string
	// Endpoint overrides the AWS endpoint (kinesalite, LocalStack, a VPC
	// endpoint); Region is required by the SDK (default us-east-1).
	Endpoint, Region string
	// AccessKeyID and SecretAccessKey are static credentials; without
	// them the SDK's default chain is used, and with a custom Endpoint a
	// chain that finds nothing falls back to placeholder credentials
	// (local emulators check that a request is signed, not by whom).
	AccessKeyID, SecretAccessKey string
	// Start is where a shard without a checkpoint starts: TRIM_HORIZON
	// (the default), LATEST or AT_TIMESTAMP (from Timestamp). Children of
	// resharded shards always start at TRIM_HORIZON.
	Start     string
	Timestamp time.Time
	// Leases stores the leases and checkpoints (required).
	Leases LeaseStore
	// Owner names this consumer in the leases (default "tidal").
	Owner string
	// MaxRecords bounds one GetRecords (default 10,000, Kinesis' limit).
	MaxRecords int32
	// IdleWait is the pause after an empty GetRecords (default 1s; a shard
	// allows 5 GetRecords a second).
	IdleWait time.Duration
	// ShardSync is how often the shard list is re-read to find new shards
	// (default 10s; a shard that ends triggers one at once).
	ShardSync time.Duration
	// MaxBackoff caps the throttling backoff (default 10s).
	MaxBackoff time.Duration
	Logger     *slog.Logger
	// Client replaces the client built from the fields above.
	Client *kinesis.Client
}

// Source consumes one Kinesis stream into a pipeline.
type Source struct {
	p    *pipeline.Pipeline
	opts Options
	cl   *kinesis.Client
}

// New checks opts and builds the client; Run consumes.
func New(ctx context.Context, p *pipeline.Pipeline, opts Options) (*Source, error) {
	if opts.Stream == "" {
		return nil, errors.New("create kinesis source: stream is required")
	}
	if opts.Leases == nil {
		return nil, errors.New("create kinesis source: a lease store is required")
	}
	switch opts.Start {
	case "":
		opts.Start = StartTrimHorizon
	case StartTrimHorizon, StartLatest:
	case StartAtTimestamp:
		if opts.Timestamp.IsZero() {
			return nil, errors.New("create kinesis source: start AT_TIMESTAMP needs a timestamp")
		}
	default:
		return nil, fmt.Errorf("create kinesis source: unknown start %q (want TRIM_HORIZON, LATEST or AT_TIMESTAMP)", opts.Start)
	}
	if opts.Owner == "" {
		opts.Owner = "tidal"
	}
	if opts.MaxRecords <= 0 || opts.MaxRecords > 10_000 {
		opts.MaxRecords = 10_000
	}
	if opts.IdleWait <= 0 {
		opts.IdleWait = time.Second
	}
	if opts.ShardSync <= 0 {
		opts.ShardSync = 10 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Source{p: p, opts: opts, cl: opts.Client}
	if s.cl == nil {
		cl, err := NewClient(ctx, opts.Endpoint, opts.Region, opts.AccessKeyID, opts.SecretAccessKey)
		if err != nil {
			return nil, err
		}
		s.cl = cl
	}
	return s, nil
}

// NewClient builds a Kinesis client for endpoint ("" for AWS) and region,
// with static credentials if given; see Options.
func NewClient(ctx context.Context, endpoint, region, keyID, secret string) (*kinesis.Client, error) {
	if region == "" {
		region = "us-east-1"
	}
	lo := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if keyID != "" {
		lo = append(lo, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(keyID, secret, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if endpoint != "" && keyID == "" {
		chain := cfg.Credentials
		local := credentials.NewStaticCredentialsProvider("local", "local", "")
		cfg.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
			if chain != nil {
				if c, err := chain.Retrieve(ctx); err == nil {
					return c, nil
				}
			}
			return local.Retrieve(ctx)
		}))
	}
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// shard is what ListShards says of one shard.
type shard struct {
	id      string
	parents []string
}

// Run consumes until ctx ends: it lists the shards, starts a reader for
// every shard whose parents are finished, and re-lists periodically and
// whenever a shard ends. Stream and append failures are logged and
// retried; Run returns nil when ctx ends.
func (s *Source) Run(ctx context.Context) error {
	s.p.SetState("running")
	defer s.p.SetState("stopped")
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	ended := make(chan string, 16)
	running := map[string]bool{}
	done := map[string]bool{} // checkpointed at ShardEnd
	backoff := time.Second
	for {
		shards, err := s.listShards(ctx)
		if err == nil {
			err = s.startReady(ctx, shards, running, done, ended, &wg)
		}
		wait := s.opts.ShardSync
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.opts.Logger.Warn("kinesis shard discovery failed; retrying", "pipeline", s.p.Name(), "stream", s.opts.Stream, "err", err)
			wait = jitter(backoff)
			backoff = min(2*backoff, s.opts.MaxBackoff)
		} else {
			backoff = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case id := <-ended:
			t.Stop()
			delete(running, id)
			done[id] = true
		case <-t.C:
		}
	}
}

// startReady starts a reader for every shard not running, not finished,
// and whose parents in the stream are finished.
func (s *Source) startReady(ctx context.Context, shards []shard, running, done map[string]bool, ended chan<- string, wg *sync.WaitGroup) error {
	leases, err := s.opts.Leases.Leases(ctx)
	if err != nil {
		return fmt.Errorf("read leases: %w", err)
	}
	for _, l := range leases {
		if l.Checkpoint == ShardEnd {
			done[l.Shard] = true
		}
	}
	listed := map[string]bool{}
	for _, sh := range shards {
		listed[sh.id] = true
	}
	for _, sh := range shards {
		if running[sh.id] || done[sh.id] {
			continue
		}
		ready := true
		for _, p := range sh.parents {
			// A parent no longer listed has aged out of the stream's
			// retention: nothing of it is left to read first.
			if listed[p] && !done[p] {
				ready = false
			}
		}
		if !ready {
			continue
		}
		running[sh.id] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.readShard(ctx, sh) {
				select {
				case ended <- sh.id:
				case <-ctx.Done():
				}
			}
		}()
	}
	return nil
}

func (s *Source) listShards(ctx context.Context) ([]shard, error) {
	var out []shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(s.opts.Stream)}
	for {
		res, err := s.cl.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards of %s: %w", s.opts.Stream, err)
		}
		for _, sh := range res.Shards {
			x := shard{id: aws.ToString(sh.ShardId)}
			for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
				if aws.ToString(p) != "" {
					x.parents = append(x.parents, *p)
				}
			}
			out = append(out, x)
		}
		if res.NextToken == nil {
			return out, nil
		}
		in = &kinesis.ListShardsInput{NextToken: res.NextToken}
	}
}

// readShard reads one shard until its end (true) or ctx ends (false).
func (s *Source) readShard(ctx context.Context, sh shard) bool {
	log := s.opts.Logger.With("pipeline", s.p.Name(), "stream", s.opts.Stream, "shard", sh.id)
	part := s.opts.Stream + "/" + sh.id
	var lease Lease
	if !s.retry(ctx, log, "acquire lease", func() (err error) {
		lease, err = s.opts.Leases.Acquire(ctx, sh.id, sh.parents, s.opts.Owner)
		return err
	}) {
		return false
	}
	if lease.Checkpoint == ShardEnd {
		return true
	}
	checkpoint := lease.Checkpoint
	var iter *string
	renew := func() bool {
		return s.retry(ctx, log, "get shard iterator", func() error {
			in := &kinesis.GetShardIteratorInput{StreamName: aws.String(s.opts.Stream), ShardId: aws.String(sh.id)}
			switch {
			case checkpoint != "":
				in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
				in.StartingSequenceNumber = aws.String(checkpoint)
			case len(sh.parents) > 0:
				// A child is read whole: its parents were.
				in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
			case s.opts.Start == StartAtTimestamp:
				in.ShardIteratorType = types.ShardIteratorTypeAtTimestamp
				in.Timestamp = aws.Time(s.opts.Timestamp)
			default:
				in.ShardIteratorType = types.ShardIteratorType(s.opts.Start)
			}
			res, err := s.cl.GetShardIterator(ctx, in)
			if err != nil {
				return fmt.Errorf("get shard iterator: %w", err)
			}
			iter = res.ShardIterator
			return nil
		})
	}
	if !renew() {
		return false
	}
	backoff := 200 * time.Millisecond
	var msgs []pipeline.Message
	for {
		if iter == nil {
			// The shard is closed and read to its end.
			if !s.retry(ctx, log, "checkpoint shard end", func() error { return s.opts.Leases.Checkpoint(ctx, lease, ShardEnd) }) {
				return false
			}
			s.p.SetLag(part, 0)
			log.Info("kinesis shard finished")
			return true
		}
		res, err := s.cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(s.opts.MaxRecords)})
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			var expired *types.ExpiredIteratorException
			if errors.As(err, &expired) {
				log.Info("kinesis shard iterator expired; renewing from the checkpoint")
				if !renew() {
					return false
				}
				continue
			}
			if isThrottle(err) {
				log.Debug("kinesis throttled; backing off", "backoff", backoff)
			} else {
				log.Warn("kinesis GetRecords failed; retrying", "err", err, "backoff", backoff)
			}
			if !sleep(ctx, jitter(backoff)) {
				return false
			}
			backoff = min(2*backoff, s.opts.MaxBackoff)
			continue
		}
		backoff = 200 * time.Millisecond
		if len(res.Records) > 0 {
			msgs = toMessages(msgs[:0], part, res.Records)
			if !s.process(ctx, log, msgs) {
				return false
			}
			last := aws.ToString(res.Records[len(res.Records)-1].SequenceNumber)
			if !s.retry(ctx, log, "checkpoint", func() error { return s.opts.Leases.Checkpoint(ctx, lease, last) }) {
				return false
			}
			checkpoint = last
		}
		if res.MillisBehindLatest != nil {
			s.p.SetLag(part, *res.MillisBehindLatest)
		}
		iter = res.NextShardIterator
		if len(res.Records) == 0 && iter != nil {
			if !sleep(ctx, s.opts.IdleWait) {
				return false
			}
		}
	}
}

// toMessages turns a GetRecords batch into pipeline messages, splitting
// KPL aggregates; a sub-record's offset is "<sequence>/<index>".
func toMessages(dst []pipeline.Message, part string, recs []types.Record) []pipeline.Message {
	for _, r := range recs {
		seq := aws.ToString(r.SequenceNumber)
		t := aws.ToTime(r.ApproximateArrivalTimestamp)
		subs, ok, err := Deaggregate(r.Data)
		if !ok || err != nil {
			// Not an aggregate, or a corrupt one: the pipeline decodes
			// (and dead-letters) the raw bytes.
			dst = append(dst, pipeline.Message{Partition: part, Offset: seq, Time: t, Value: r.Data})
			continue
		}
		for i, sub := range subs {
			dst = append(dst, pipeline.Message{Partition: part, Offset: seq + "/" + strconv.Itoa(i), Time: t, Value: sub.Data})
		}
	}
	return dst
}

// process hands msgs to the pipeline, retrying a failed append with
// jittered backoff; false if ctx ended first.
func (s *Source) process(ctx context.Context, log *slog.Logger, msgs []pipeline.Message) bool {
	return s.retry(ctx, log, "append", func() error {
		_, err := s.p.Process(ctx, msgs)
		return err
	})
}

// retry runs f until it succeeds (true), ctx ends or the shard's lease is
// lost (false), backing off with jitter between failures.
func (s *Source) retry(ctx context.Context, log *slog.Logger, what string, f func() error) bool {
	backoff := 100 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if errors.Is(err, ErrLeaseLost) {
			// Another consumer owns the shard now (a shared lease
			// store): stop reading it; what was not checkpointed is
			// the new owner's to replay.
			log.Warn("kinesis shard lease lost; this consumer stops reading the shard", "op", what)
			return false
		}
		if isThrottle(err) {
			log.Debug("kinesis throttled; backing off", "op", what, "backoff", backoff)
		} else {
			log.Warn("kinesis "+what+" failed; retrying", "err", err, "backoff", backoff)
		}
		if !sleep(ctx, jitter(backoff)) {
			return false
		}
		backoff = min(2*backoff, s.opts.MaxBackoff)
	}
}

// isThrottle reports whether err is Kinesis asking the reader to slow down.
func isThrottle(err error) bool {
	var pt *types.ProvisionedThroughputExceededException
	var le *types.LimitExceededException
	var kt *types.KMSThrottlingException
	return errors.As(err, &pt) || errors.As(err, &le) || errors.As(err, &kt)
}

// jitter returns a duration in [d/2, d].
func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
