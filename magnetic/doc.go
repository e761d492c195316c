// Package magnetic is TidalDB's long-term tier: it stores a table's rows on
// disk as immutable, compressed, columnar parts, grouped into one-day time
// partitions, answers scans over them (package query/scan), merges small parts
// into bigger ones in the background and drops partitions past the table's
// magnetic retention.
//
// The package owns everything under Options.Dir: the part files, their
// directories and the crash-safety protocol around them. It owns no schema:
// table IDs, names and retention come from the catalog. Column block
// encodings come from magnetic/encoding. The byte layout of a part is
// specified in docs/format/part.md (format version 1).
//
// Store is safe for concurrent use. Scans, WritePart, Merge and
// ApplyRetention may run at the same time: scans hold a reference on every
// part they read, so merges and retention never delete a file under a
// reader; Merge and ApplyRetention are serialised with each other. The
// background loop started by Open (Options.MergeInterval) is stopped and
// waited for by Close.
package magnetic
