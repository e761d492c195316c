// Package wal is TidalDB's write-ahead log: it makes groups of opaque records
// durable in numbered segment files before the write that carries them is
// acknowledged, replays them at start-up, and drops the segments a checkpoint
// has made redundant. It owns the files in Options.Dir and nothing else; what a
// record means is the business of package memstore.
//
// A WAL is safe for concurrent use. Concurrent Append calls are group-committed:
// appenders enqueue encoded frames into a shared buffer and one flusher
// goroutine writes the buffer and fsyncs it once for every appender in the
// round. Replay is meant for start-up, before the first Append. Close stops the
// flusher and waits for it.
//
// Open repairs what a crash leaves behind: a torn or corrupt tail of the last
// segment is cut at the last intact frame, and corruption inside an earlier
// segment ends the log there. Both are logged as warnings and counted; neither
// stops the database from starting. The segment format is specified in
// docs/format/wal.md.
package wal
