// Package magnetic is TidalDB's long-term tier: it stores a table's rows on
// disk as immutable, compressed, columnar parts, grouped into time
// partitions of one hour, one day or one week per table (chosen from the
// table's data rate by its first write and kept in a small layout file, see
// Options), answers scans over them (package query/scan), merges small
// parts into bigger ones in the background and drops partitions past the
// table's magnetic retention.
//
// The package owns everything under Options.Dir: the part files, their
// directories and the crash-safety protocol around them. It owns no schema:
// table IDs, names and retention come from the catalog. Column block
// encodings come from magnetic/encoding. The byte layout of a part is
// specified in docs/format/part.md (format version 2; version 1 parts are
// still read), with the directory layout and the layout file.
//
// Store is safe for concurrent use. Scans, WritePart, Merge and
// ApplyRetention may run at the same time: scans hold a reference on every
// part they read, so merges and retention never delete a file under a
// reader; Merge and ApplyRetention are serialised with each other. The
// background loop started by Open (Options.MergeInterval) is stopped and
// waited for by Close.
package magnetic
