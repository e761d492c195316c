package scheduled

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/awsjson"
)

// Missed-run policies.
const (
	// MissedCatchUp runs missed invocations in order, at most MaxCatchUp
	// of them (the most recent); older ones are skipped.
	MissedCatchUp = "catch-up"
	// MissedSkip runs only the most recent due invocation.
	MissedSkip = "skip"
)

// Defaults of Options.
const (
	DefaultMaxCatchUp     = 100
	DefaultRecentFailures = 5
	DefaultBatchSize      = 1000
	DefaultNotifyTimeout  = 10 * time.Second
	// DefaultMaxWait bounds how long Run sleeps between checks, so a
	// wall-clock jump is noticed.
	DefaultMaxWait = time.Minute
	// TokenWindow is how long a CreateScheduledQuery ClientToken is
	// remembered (Timestream: 8 hours).
	TokenWindow = 8 * time.Hour
)

// Tables looks up target tables; *catalog.Catalog satisfies it.
type Tables interface {
	Table(db, name string) (catalog.Table, error)
}

// Options configures a Scheduler.
type Options struct {
	// Dir holds the state file and the error reports; required.
	Dir string
	// Querier runs the queries; required.
	Querier Querier
	// Appender receives the results; required.
	Appender ingest.Appender
	// Tables, when set, is used to reject targets that do not exist.
	Tables Tables
	// Region and Account appear in ARNs; defaults us-east-1 and
	// 000000000000.
	Region, Account string
	// Now is the clock for schedules and run summaries; default time.Now.
	Now func() time.Time
	// After is the timer Run waits on; default time.After. Tests pair it
	// with Now.
	After func(time.Duration) <-chan time.Time
	// MissedRuns is MissedCatchUp (default) or MissedSkip.
	MissedRuns string
	// MaxCatchUp bounds the missed invocations run per query after
	// downtime (default 100).
	MaxCatchUp int
	// RecentFailures is how many failed runs are kept (Timestream: 5).
	RecentFailures int
	// BatchSize is the records per Append call (default 1000).
	BatchSize int
	// NotificationURL, when set, receives every notification as a
	// webhook POST, in addition to a TopicArn that is an http(s) URL.
	NotificationURL string
	// HTTPClient delivers notifications; default a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Validate reports the first invalid option.
func (o *Options) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("scheduled: options: Dir is empty")
	case o.Querier == nil:
		return errors.New("scheduled: options: Querier is nil")
	case o.Appender == nil:
		return errors.New("scheduled: options: Appender is nil")
	case o.MissedRuns != "" && o.MissedRuns != MissedCatchUp && o.MissedRuns != MissedSkip:
		return fmt.Errorf("scheduled: options: MissedRuns %q is neither %q nor %q", o.MissedRuns, MissedCatchUp, MissedSkip)
	case o.MaxCatchUp < 0:
		return errors.New("scheduled: options: MaxCatchUp is negative")
	}
	return nil
}

func (o *Options) setDefaults() {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.MissedRuns == "" {
		o.MissedRuns = MissedCatchUp
	}
	if o.MaxCatchUp == 0 {
		o.MaxCatchUp = DefaultMaxCatchUp
	}
	if o.MissedRuns == MissedSkip {
		o.MaxCatchUp = 1
	}
	if o.RecentFailures <= 0 {
		o.RecentFailures = DefaultRecentFailures
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: DefaultNotifyTimeout}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Scheduler owns the scheduled queries: it serves their API operations,
// keeps their state in Options.Dir, and runs them when due.
type Scheduler struct {
	opts Options
	log  *slog.Logger

	// runMu serialises runs: Run's loop and RunDue callers.
	runMu sync.Mutex

	mu     sync.Mutex // Guards st and scheds, and orders state file writes.
	st     *state
	scheds map[string]Schedule // by ARN

	kick chan struct{} // Wakes Run after a change; buffered 1.
	m    *metrics
}

// Open loads the state in opts.Dir (creating the directory) and returns a
// Scheduler. Nothing runs until Run or RunDue is called.
func Open(opts Options) (*Scheduler, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.setDefaults()
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create scheduled query dir: %w", err)
	}
	st, err := loadState(opts.Dir)
	if err != nil {
		return nil, err
	}
	s := &Scheduler{opts: opts, log: opts.Logger, st: st, scheds: map[string]Schedule{},
		kick: make(chan struct{}, 1), m: newMetrics(opts.Registerer, opts.Logger)}
	for arn, e := range st.Queries {
		sc, err := ParseSchedule(e.ScheduleConfiguration.ScheduleExpression, time.Time(e.CreationTime))
		if err != nil {
			return nil, fmt.Errorf("load scheduled query %s: %w", arn, err)
		}
		s.scheds[arn] = sc
	}
	return s, nil
}

func (s *Scheduler) now() time.Time { return s.opts.Now().UTC() }

func (s *Scheduler) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run runs due scheduled queries until ctx is done; it returns nil then.
// Missed invocations are handled first, as Options.MissedRuns says.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("run scheduled queries", "err", err)
		}
		wait := DefaultMaxWait
		if next := s.NextWake(); !next.IsZero() {
			wait = min(max(next.Sub(s.now()), 0), DefaultMaxWait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-s.opts.After(wait):
		}
	}
}

// NextWake returns the earliest next invocation of an enabled query, or
// the current time when a manual run is pending, or zero when nothing is
// scheduled.
func (s *Scheduler) NextWake() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, e := range s.st.Queries {
		if len(e.Pending) > 0 {
			return s.now()
		}
		if e.State != StateEnabled || e.NextInvocationTime == nil {
			continue
		}
		if t := time.Time(*e.NextInvocationTime); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// job is one run to do.
type job struct {
	arn        string
	invocation time.Time
	manual     bool
}

// RunDue runs every pending manual run and every due invocation at the
// current time, in invocation order, and returns how many runs it did. A
// failed run is recorded in its query's summaries, not returned; the error
// is for state that could not be saved.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	jobs, err := s.dueJobs()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range jobs {
		if ctx.Err() != nil {
			return n, nil
		}
		if err := s.runJob(ctx, j); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// dueJobs lists the runs due now: manual runs first, in request order,
// then scheduled invocations by time. Invocations beyond MaxCatchUp are
// skipped here, and the skip is saved.
func (s *Scheduler) dueJobs() ([]job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var manual, auto []job
	anySkipped := false
	for arn, e := range s.st.Queries {
		skipped := false
		for _, p := range e.Pending {
			manual = append(manual, job{arn: arn, invocation: time.Time(p.InvocationTime), manual: true})
		}
		if e.State != StateEnabled || e.NextInvocationTime == nil {
			continue
		}
		sc := s.scheds[arn]
		var due []time.Time
		const maxScan = 1 << 20 // Bounds the walk over a very long downtime.
		t := time.Time(*e.NextInvocationTime)
		for i := 0; !t.IsZero() && !t.After(now) && i < maxScan; i++ {
			due = append(due, t)
			if len(due) > s.opts.MaxCatchUp {
				due = due[1:]
				s.m.skipped.WithLabelValues(e.Name).Inc()
				skipped = true
			}
			t = sc.Next(t)
		}
		if skipped && len(due) > 0 {
			// Start the saved schedule at the first kept invocation.
			e.NextInvocationTime = ptrTime(due[0])
			anySkipped = true
		}
		for _, d := range due {
			auto = append(auto, job{arn: arn, invocation: d})
		}
	}
	slices.SortStableFunc(manual, func(a, b job) int { return a.invocation.Compare(b.invocation) })
	slices.SortStableFunc(auto, func(a, b job) int {
		if c := a.invocation.Compare(b.invocation); c != 0 {
			return c
		}
		return compareStrings(a.arn, b.arn)
	})
	if anySkipped {
		if err := s.st.save(s.opts.Dir); err != nil {
			return nil, err
		}
	}
	return append(manual, auto...), nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// runJob runs one job and records its summary.
func (s *Scheduler) runJob(ctx context.Context, j job) error {
	s.mu.Lock()
	e, ok := s.st.Queries[j.arn]
	var q Query
	if ok {
		q = e.Query
	}
	s.mu.Unlock()
	if !ok {
		return nil // Deleted meanwhile.
	}
	trigger := s.now()
	sum, report := s.execute(ctx, &q, j.invocation)
	if ctx.Err() != nil && sum.Failed() {
		return nil // Shutting down: the run is redone after restart.
	}
	sum.InvocationTime = ptrTime(j.invocation)
	sum.TriggerTime = ptrTime(trigger)
	switch {
	case j.manual && sum.Failed():
		sum.RunStatus = ManualTriggerFailure
	case j.manual:
		sum.RunStatus = ManualTriggerSuccess
	case sum.Failed():
		sum.RunStatus = AutoTriggerFailure
	default:
		sum.RunStatus = AutoTriggerSuccess
	}
	if report != nil {
		loc, err := s.writeReport(&q, &sum, trigger, report)
		if err != nil {
			s.log.Error("write scheduled query error report", "scheduled_query", q.Name, "err", err)
		} else {
			sum.ErrorReportLocation = loc
		}
	}
	s.m.observe(q.Name, j.manual, &sum)

	s.mu.Lock()
	e, ok = s.st.Queries[j.arn]
	if !ok {
		s.mu.Unlock()
		return nil
	}
	if j.manual {
		if i := slices.IndexFunc(e.Pending, func(p pendingRun) bool { return time.Time(p.InvocationTime).Equal(j.invocation) }); i >= 0 {
			e.Pending = slices.Delete(e.Pending, i, i+1)
		}
	} else {
		e.PreviousInvocationTime = ptrTime(j.invocation)
		if e.State == StateEnabled {
			next := s.scheds[j.arn].Next(j.invocation)
			if next.IsZero() {
				e.NextInvocationTime = nil
			} else {
				e.NextInvocationTime = ptrTime(next)
			}
		}
	}
	e.LastRunSummary = &sum
	e.Runs++
	e.RecordsWritten += sum.ExecutionStats.RecordsIngested
	if sum.Failed() {
		e.Failures++
		e.RecentlyFailedRuns = append([]RunSummary{sum}, e.RecentlyFailedRuns...)
		if len(e.RecentlyFailedRuns) > s.opts.RecentFailures {
			e.RecentlyFailedRuns = e.RecentlyFailedRuns[:s.opts.RecentFailures]
		}
	}
	next := e.NextInvocationTime
	topic := ""
	if e.NotificationConfiguration.SnsConfiguration != nil {
		topic = e.NotificationConfiguration.SnsConfiguration.TopicArn
	}
	err := s.st.save(s.opts.Dir)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.notify(ctx, topic, runNotification(q.Arn, &sum, next))
	return nil
}

func ptrTime(t time.Time) *awsjson.Timestamp {
	ts := awsjson.Timestamp(t)
	return &ts
}

// runError is one reason a run failed, kept for the error report.
type runError struct {
	Reason string          `json:"reason"`
	Record *reportedRecord `json:"record,omitempty"`
}

type reportedRecord struct {
	Time        string             `json:"time"`
	Dimensions  []ingest.Dimension `json:"dimensions,omitempty"`
	MeasureName string             `json:"measureName"`
}

// maxReportedErrors bounds the errors listed in one report.
const maxReportedErrors = 100

// execute runs q for invocation and writes its result. It returns the
// summary (RunStatus is set to AutoTriggerFailure on failure, to be
// refined by the caller) and, for a failure, the errors to report.
func (s *Scheduler) execute(ctx context.Context, q *Query, invocation time.Time) (RunSummary, []runError) {
	start := time.Now() // Elapsed time is measured on the monotonic clock.
	stats := &ExecutionStats{}
	sum := RunSummary{ExecutionStats: stats}
	fail := func(reason string, errs []runError) (RunSummary, []runError) {
		stats.ExecutionTimeInMillis = time.Since(start).Milliseconds()
		sum.RunStatus = AutoTriggerFailure
		sum.FailureReason = reason
		if len(errs) == 0 {
			errs = []runError{{Reason: reason}}
		}
		return sum, errs
	}
	rows, err := s.opts.Querier.Query(ctx, q.QueryString, invocation)
	if err != nil {
		return fail("Query failed: "+err.Error(), nil)
	}
	defer func() {
		if err := rows.Close(); err != nil {
			s.log.Warn("close scheduled query result", "scheduled_query", q.Name, "err", err)
		}
	}()
	var tc *TimestreamConfiguration
	if q.TargetConfiguration != nil {
		tc = q.TargetConfiguration.TimestreamConfiguration
	}
	var m *mapper
	if tc != nil {
		if m, err = compileMapping(tc, rows.Columns()); err != nil {
			return fail("The query result does not match the target configuration: "+err.Error(), nil)
		}
	}
	var (
		batch  []ingest.Record
		errs   []runError
		failed int // rows and records not written; errs keeps the first few
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := s.opts.Appender.Append(ctx, tc.DatabaseName, tc.TableName, batch,
			ingest.AppendOptions{IdempotentRewrite: true})
		if err != nil {
			return fmt.Errorf("write records to %s.%s: %w", tc.DatabaseName, tc.TableName, err)
		}
		stats.RecordsIngested += int64(res.Total())
		failed += len(res.Rejected)
		for _, rj := range res.Rejected {
			if len(errs) < maxReportedErrors {
				errs = append(errs, runError{Reason: rj.Reason, Record: reported(&batch[rj.Index])})
			}
		}
		next := 0 // Rejected is in index order.
		for i := range batch {
			if next < len(res.Rejected) && res.Rejected[next].Index == i {
				next++
				continue
			}
			stats.DataWrites += meteredSize(&batch[i])
		}
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		stats.QueryResultRows++
		if m == nil {
			continue
		}
		var err error
		if batch, err = m.records(batch, rows.Row()); err != nil {
			failed++
			if len(errs) < maxReportedErrors {
				errs = append(errs, runError{Reason: fmt.Sprintf("Row %d: %v", stats.QueryResultRows, err)})
			}
			continue
		}
		if len(batch) >= s.opts.BatchSize {
			if err := flush(); err != nil {
				return fail(err.Error(), errs)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fail("Query failed: "+err.Error(), errs)
	}
	if err := flush(); err != nil {
		return fail(err.Error(), errs)
	}
	stats.CumulativeBytesScanned = rows.BytesScanned()
	stats.BytesMetered = max(stats.CumulativeBytesScanned, minBytesMetered)
	stats.ExecutionTimeInMillis = time.Since(start).Milliseconds()
	if failed > 0 {
		return fail(fmt.Sprintf("Schedule encountered some errors and is not fully successful: %d result rows or records could not be written; see the error report.", failed), errs)
	}
	return sum, nil
}

// minBytesMetered is the least a query is metered for (10 MB), as the
// Query API reports it.
const minBytesMetered = 10_000_000

func reported(r *ingest.Record) *reportedRecord {
	return &reportedRecord{Time: time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano), Dimensions: r.Dimensions, MeasureName: r.MeasureName}
}

// meteredSize is Timestream's write metering of one record: 8 bytes of
// time plus the sizes of names and values (8 bytes per number, 1 per
// boolean).
func meteredSize(r *ingest.Record) int64 {
	n := int64(8 + len(r.MeasureName))
	for _, d := range r.Dimensions {
		n += int64(len(d.Name) + len(d.Value))
	}
	size := func(v ingest.Value) int64 {
		switch v.Type {
		case ingest.TypeVarchar:
			return int64(len(v.Str))
		case ingest.TypeBoolean:
			return 1
		}
		return 8
	}
	if r.IsMulti() {
		for _, m := range r.Measures {
			n += int64(len(m.Name)) + size(m.Value)
		}
	} else {
		n += size(r.Value)
	}
	return n
}
