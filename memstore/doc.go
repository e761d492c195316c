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
// DB is safe for concurrent use. Appends to one series are serialised by that
// series' mutex; the series index of a table is guarded by the table's lock.
// Background work (periodic WAL checkpoints) belongs to the DB and stops in
// Close.
//
// The WAL payload (series and sample entries) is specified in
// docs/format/wal.md.
package memstore
