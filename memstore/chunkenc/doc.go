// Package chunkenc holds the compressed, appendable column encodings of the
// in-memory tier: delta-of-delta timestamps (TimeAppender), Gorilla XOR
// doubles (XORAppender), delta-zigzag integers for BIGINT, TIMESTAMP and
// version columns (IntAppender), dictionary strings (StringAppender) and
// bit-or-run-length booleans for BOOLEAN columns and null bitmaps
// (BoolAppender). Package memstore owns the chunks; this package only turns
// one column of values into bytes and back.
//
// Every appender's zero value is ready to use. Append is O(1) and never
// re-encodes earlier values; Bytes returns the complete encoding of the
// values appended so far, aliasing the appender's storage, valid until the
// next Append or Reset. The value count is not stored in the bytes: the
// caller keeps it and passes it to the matching Decode function, which
// appends exactly that many values to dst or returns an error wrapping
// ErrShortInput, ErrCorrupt or ErrCount. Decoders never panic on bad input
// and allocate O(n) at most, whatever src claims.
//
// Appenders are not safe for concurrent use; callers serialise Append and
// Reset against everything else. Bytes, Len and Size do not modify the
// appender, so concurrent readers need only exclude writers. The Decode
// functions are pure and safe for concurrent use.
//
// # Format
//
// Each encoding is a big-endian (most significant bit first) bit stream,
// padded with zero bits to a whole byte. The exact layouts are specified in
// docs/format/chunkenc.md; they are also written into memstore checkpoints,
// so golden tests pin them.
package chunkenc

import "errors"

// Errors returned (wrapped) by the Decode functions.
var (
	// ErrShortInput means src ends before the n requested values.
	ErrShortInput = errors.New("chunkenc: input ends before the requested values")
	// ErrCorrupt means src holds a code that no appender writes.
	ErrCorrupt = errors.New("chunkenc: corrupt encoding")
	// ErrCount means the requested value count is negative.
	ErrCount = errors.New("chunkenc: negative value count")
)
