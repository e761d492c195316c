// Package memstore is TidalDB's recent tier: it makes appended records durable
// in a write-ahead log (package memstore/wal), keeps them as per-series
// compressed in-memory chunks (package memstore/chunkenc) for the table's
// memory retention, indexes series by dimension for predicate pushdown, and
// answers scans through the scan.Source contract.
//
// DB implements ingest.Appender. Append validates each record against the
// table's ingestion window and schema (package memstore/catalog), applies
// Timestream's upsert rules on (series, time) with Version, appends the
// accepted records to the WAL and returns once they are durable. Rejected
// records are reported with Timestream's reasons; the good records of the
// same batch are kept.
//
// Rows that land at or before a series' last row (late samples, rewrites,
// backfills) wait in the series' out-of-order buffer and are merged into
// its chunks in bulk; readers merge the buffer first, so they see every
// committed row (see ooo.go). Records older than the memory window of a
// table with magnetic store writes are logged and held like the others,
// and the next flush writes them to the PartWriter in one large part.
//
// DB is safe for concurrent use. Appends to one series are serialised by that
// series' mutex; the series index of a table is guarded by the table's lock.
// Background work (periodic WAL checkpoints) belongs to the DB and stops in
// Close.
//
// The WAL payload (series and sample entries) is specified in
// docs/format/wal.md.
package memstore
