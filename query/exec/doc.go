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
package exec
