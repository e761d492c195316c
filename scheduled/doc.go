// Package scheduled owns Timestream scheduled queries: the Query API
// operations that define them (Create, Describe, List, Update, Delete and
// Execute ScheduledQuery, plus tagging of scheduled-query ARNs), their
// schedules (six-field cron(...) and rate(...) expressions), a durable
// scheduler that runs them with @scheduled_runtime bound to the invocation
// time, and the write-back of results into a target table through
// ingest.Appender, mapped by the TargetConfiguration's dimension,
// multi-measure and mixed-measure mappings.
//
// Its state (definitions, tags, last and next invocation, run summaries,
// pending manual runs, client tokens) lives in one JSON file in
// Options.Dir, rewritten atomically on every change, so schedules survive
// a restart; invocations missed while the server was down are caught up in
// order (bounded by Options.MaxCatchUp) or skipped (Options.MissedRuns).
// Runs are idempotent: a record re-written for the same invocation replaces
// the earlier value. Failed runs leave an error report under Options.Dir
// (standing in for S3) and notifications go to webhook URLs (SNS is not
// available).
//
// Scheduler is safe for concurrent use. Runs are serialised: one run at a
// time, from Run's goroutine or a RunDue caller. The clock is injected
// (Options.Now, Options.After) so tests run days of schedules at once.
package scheduled
