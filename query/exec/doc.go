// Package exec is TidalDB's SQL engine for Amazon Timestream's dialect: it
// binds a parsed statement against the catalog (names, Trino types and
// coercions), plans it (pushing time ranges, measure_name and dimension
// predicates and column projection into a scan.Request) and executes it over
// scan.Source, returning a Result of typed rows.
//
// The package owns query semantics only: parsing belongs to query/parser,
// storage to the tiers behind scan.Source, and wire encodings to the API
// packages. Rows flow through a push pipeline: the table scan decodes one
// scan.Batch at a time, evaluates series-level predicates once per batch and
// row-level predicates per row; GROUP BY aggregates partially per worker and
// merges, so scans with aggregation use Options.Parallelism goroutines.
//
// An Engine is safe for concurrent use; each Query call runs independently
// with its own memory budget (Options.MaxMemoryBytes), deadline
// (Options.Timeout) and the caller's context for cancellation.
//
// # Streaming results
//
// Engine.Stream is the entry point for consumers that must not hold a
// whole result: the Query API's pager, and UNLOAD, scheduled write-back
// and console export. Its contract:
//
//   - The Sink sees Columns once, then Row per result row in result
//     order, from one goroutine at a time.
//   - A row is valid only during the Row call; keep it with CloneRow.
//   - Row may block. The query waits (its scan cursors and the operators'
//     state held) until Row returns: that is the back-pressure, and it
//     bounds what is in flight to what the sink buffers. Nothing else
//     runs ahead except operators that consume their input whole (ORDER
//     BY, GROUP BY, a join's build side, windows), as under Query.
//   - ctx is the only bound: Stream applies no Options.Timeout, since a
//     paused stream may legitimately wait on a slow consumer. Cancel ctx
//     to stop (an *Error of kind ErrCanceled or ErrTimeout comes back), or
//     return an error from Row (it comes back as is). A consumer that
//     abandons a stream must cancel it, or its goroutine and scans stay.
//   - Rows kept by the sink are not charged to Options.MaxMemoryBytes;
//     operator state is, as under Query.
//
// Query is Stream with a collecting sink under Options.Timeout; its
// behaviour is what it was before streaming existed.
package exec
