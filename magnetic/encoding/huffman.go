package encoding

import (
	"sync"

	"github.com/klauspost/compress/fse"
	"github.com/klauspost/compress/huff0"
)

// IntDeltaHuffman: when every delta of an integer block fits a byte after
// zigzag (-128..127), the deltas are written one byte each and entropy coded
// with canonical Huffman (klauspost/compress huff0, "1X" stream, table
// included). Random walks such as TSBS cpu fields have deltas of entropy
// around 2 bits, which frame-of-reference packing can only bring down to 3.

// minHuffmanDeltas is the smallest delta count worth a Huffman table.
const minHuffmanDeltas = 64

// maxHuffmanDeltas is the largest stream huff0 accepts in one block.
const maxHuffmanDeltas = huff0.BlockSizeMax

// huffScratch is pooled encoder/decoder state; get and put it in the same
// function. A huff0.Scratch is not safe for concurrent use.
type huffScratch struct {
	s    huff0.Scratch
	f    fse.Scratch
	buf  []byte // zigzag delta bytes (encode) or decoded bytes (decode)
	fout []byte // FSE output (encode)
}

var huffPool sync.Pool

func getHuffScratch() *huffScratch {
	h, _ := huffPool.Get().(*huffScratch)
	if h == nil {
		h = &huffScratch{}
	}
	return h
}

func putHuffScratch(h *huffScratch) {
	if cap(h.buf) > maxHuffmanDeltas+1 {
		h.buf = nil
	}
	if cap(h.fout) > 2*maxHuffmanDeltas {
		h.fout = nil
	}
	h.f.Out = nil
	huffPool.Put(h)
}

// deltaBytes fills h.buf with the zigzag deltas of vs, one byte each, and
// reports false when a delta does not fit a byte or there are too few or
// too many deltas for an entropy-coded block.
func deltaBytes(h *huffScratch, vs []int64) bool {
	m := len(vs) - 1
	if m < minHuffmanDeltas || m > maxHuffmanDeltas {
		return false
	}
	h.buf = h.buf[:0]
	for i := 1; i < len(vs); i++ {
		z := zigzag(vs[i] - vs[i-1])
		if z > 0xff {
			return false
		}
		h.buf = append(h.buf, byte(z))
	}
	return true
}

// huffmanDeltas returns the Huffman-coded zigzag deltas in h.buf (filled
// by deltaBytes), or ok = false when Huffman does not pay. The result
// aliases h and is valid until h is reused.
func huffmanDeltas(h *huffScratch) ([]byte, bool) {
	h.s.Reuse = huff0.ReusePolicyNone // every block carries its own table
	h.s.MaxDecodedSize = 0
	out, _, err := huff0.Compress1X(h.buf, &h.s)
	if err != nil { // incompressible, or a single repeated byte
		return nil, false
	}
	return out, true
}

// decodeHuffmanDeltas appends n values (first, then n-1 Huffman-coded
// zigzag deltas) decoded from src and returns the bytes after the stream.
func decodeHuffmanDeltas(dst []int64, src []byte, n int) ([]int64, []byte, error) {
	const k = IntDeltaHuffman
	first, rest, ok := readZvarint(src)
	if !ok {
		return dst, nil, corrupt(k, "bad first value")
	}
	hlen, rest, ok := readUvarint(rest)
	if !ok || hlen > uint64(len(rest)) {
		return dst, nil, corrupt(k, "bad stream length")
	}
	m := n - 1
	if m < 1 || m > maxHuffmanDeltas {
		return dst, nil, corrupt(k, "delta count out of range")
	}
	h := getHuffScratch()
	defer putHuffScratch(h)
	s, stream, err := huff0.ReadTable(rest[:hlen], &h.s)
	if err != nil {
		return dst, nil, corrupt(k, "bad huffman table: "+err.Error())
	}
	if cap(h.buf) < m {
		h.buf = make([]byte, 0, m)
	}
	out, err := s.Decoder().Decompress1X(h.buf[:0:m], stream)
	if err != nil || len(out) != m {
		return dst, nil, corrupt(k, "bad huffman stream")
	}
	base := len(dst)
	dst = append(dst, first)
	for _, z := range out {
		dst = append(dst, unzigzag(uint64(z)))
	}
	integrate(dst[base:])
	return dst, rest[hlen:], nil
}
