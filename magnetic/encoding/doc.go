// Package encoding owns the column block encodings of TidalDB's magnetic tier:
// it turns one column of one or several series (timestamps, doubles,
// integers, strings, booleans and null bitmaps) into a self-describing byte
// block, picks per block and from the data the smallest of several layouts,
// and optionally wraps the result in snappy or zstd compression.
//
// The package is a leaf: it knows nothing of parts, series or files. Encoders
// are append-style (AppendXxx(dst, values) returns dst extended), decoders
// append to a caller-owned slice and never retain src. Every function is safe
// for concurrent use; the shared zstd encoder and decoder are created lazily
// on first use and are themselves safe for concurrent use.
//
// # Format
//
// Format version 2 (version 1 plus IntDeltaFSE) is specified byte for byte
// in docs/format/encoding.md. In short, a block is
//
//	byte     kind     // Kind: which layout follows; never reused
//	uvarint  count    // number of values, at most MaxCount
//	...               // kind-specific payload
//
// Timestamps use a constant interval, delta-of-delta with frame-of-reference
// bit packing, or zigzag varint deltas. Floats use a constant, decimal
// conversion (after VictoriaMetrics: float64 = mantissa * 10^-e, mantissas
// stored as an embedded integer block), Gorilla XOR (Pelkonen et al., PVLDB
// 2015) or raw IEEE-754 bits. Integers use a constant, delta or
// delta-of-delta with frame-of-reference bit packing in 128-value mini-blocks,
// byte-sized deltas Huffman coded (zstd's literal format, via klauspost
// huff0) or FSE coded (zstd's tANS, via klauspost fse), or raw. Strings use a dictionary with bit-packed or run-length indexes, or
// plain length-prefixed values. Booleans use a bitmap or run lengths.
//
// Compress adds a one-byte compression header (none, snappy, zstd) and the
// decompressed length; Decompress reverses it. Checksum is CRC-32C for block
// trailers.
//
// Decoders never panic on malformed input; they return errors wrapping
// ErrCorrupt or ErrUnknownKind (Decompress: ErrCompression) that name the
// block kind, and never allocate more than a bound derived from MaxCount (or
// MaxDecompressedLen), whatever the input says.
package encoding
