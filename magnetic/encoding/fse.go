package encoding

import (
	"slices"

	"github.com/klauspost/compress/fse"
)

// IntDeltaFSE: the byte-sized zigzag deltas of IntDeltaHuffman, coded with
// finite state entropy (tANS, klauspost/compress fse: zstd's FSE with its
// normalized-count table header) instead of Huffman. FSE spends fractional
// bits per symbol: on random walks whose most common delta has a
// probability far from a power of two (TSBS cpu fields: 0 at 36%, +-1 at 24%
// each) it comes within 1-2% of the deltas' entropy, where Huffman, with
// whole bits per symbol, stays about 3% above it and its table is larger.

// fseDeltas returns the FSE-coded zigzag deltas in h.buf (filled by
// deltaBytes), or ok = false when FSE does not apply. The result aliases h
// and is valid until h is reused.
func fseDeltas(h *huffScratch) ([]byte, bool) {
	h.f.Out = h.fout[:0]
	out, err := fse.Compress(h.buf, &h.f)
	if err != nil { // incompressible, or a single repeated byte
		return nil, false
	}
	h.fout = out
	return out, true
}

// decodeFSEDeltas appends n values (first, then n-1 FSE-coded zigzag
// deltas) decoded from src and returns the bytes after the stream.
func decodeFSEDeltas(dst []int64, src []byte, n int) ([]int64, []byte, error) {
	const k = IntDeltaFSE
	first, rest, ok := readZvarint(src)
	if !ok {
		return dst, nil, corrupt(k, "bad first value")
	}
	flen, rest, ok := readUvarint(rest)
	if !ok || flen > uint64(len(rest)) {
		return dst, nil, corrupt(k, "bad stream length")
	}
	dst, err := decodeFSEStream(dst, first, rest[:flen], n, k)
	if err != nil {
		return dst, nil, err
	}
	return dst, rest[flen:], nil
}

// decodeFSEStream appends n values, first and then the n-1 FSE-coded
// zigzag deltas of stream, to dst; k names the block kind in errors. On
// error dst keeps its length.
func decodeFSEStream(dst []int64, first int64, stream []byte, n int, k Kind) ([]int64, error) {
	h := getHuffScratch()
	defer putHuffScratch(h)
	out, err := fseBytes(h, stream, n-1, k)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, n)
	base := len(dst)
	dst = append(dst, first)
	for _, z := range out {
		dst = append(dst, unzigzag(uint64(z)))
	}
	integrate(dst[base:])
	return dst, nil
}

// fseBytes decodes an FSE stream of exactly m bytes; the result aliases h.
func fseBytes(h *huffScratch, stream []byte, m int, k Kind) ([]byte, error) {
	if m < 1 || m > maxHuffmanDeltas {
		return nil, corrupt(k, "delta count out of range")
	}
	// The decoder stops with an error once its output reaches the limit,
	// so m+1 admits exactly m bytes and bounds what a corrupt stream can
	// make it allocate.
	h.f.DecompressLimit = m + 1
	h.f.Out = h.buf[:0]
	out, err := fse.Decompress(stream, &h.f)
	if err != nil || len(out) != m {
		return nil, corrupt(k, "bad fse stream")
	}
	h.buf = out
	return out, nil
}
