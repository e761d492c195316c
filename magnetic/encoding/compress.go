package encoding

import (
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

// Compression names the general-purpose compressor applied to an encoded
// block. The value is written as the first byte of the compressed form.
type Compression uint8

// Compressions. Auto is an encoder-side choice only and is never written.
const (
	// None stores the bytes as they are.
	None Compression = 0
	// Snappy uses the snappy block format.
	Snappy Compression = 1
	// Zstd uses one zstd frame.
	Zstd Compression = 2
	// Auto tries Snappy and Zstd and keeps the smaller one if it saves at
	// least 10%, else writes None.
	Auto Compression = 255
)

// MaxDecompressedLen bounds the decompressed size Decompress accepts.
const MaxDecompressedLen = 64 << 20

// String returns the compression's name.
func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Snappy:
		return "snappy"
	case Zstd:
		return "zstd"
	case Auto:
		return "auto"
	}
	return fmt.Sprintf("compression(%d)", uint8(c))
}

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
	zstdErr  error
)

// zstdCodec returns the shared encoder and decoder, creating them on first
// use. Both are safe for concurrent EncodeAll/DecodeAll calls.
func zstdCodec() (*zstd.Encoder, *zstd.Decoder, error) {
	zstdOnce.Do(func() {
		zstdEnc, zstdErr = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderCRC(false),
			zstd.WithEncoderConcurrency(1),
			zstd.WithLowerEncoderMem(true))
		if zstdErr != nil {
			zstdErr = fmt.Errorf("create zstd encoder: %w", zstdErr)
			return
		}
		zstdDec, zstdErr = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(MaxDecompressedLen),
			zstd.WithDecoderMaxWindow(MaxDecompressedLen))
		if zstdErr != nil {
			zstdErr = fmt.Errorf("create zstd decoder: %w", zstdErr)
		}
	})
	return zstdEnc, zstdDec, zstdErr
}

// Compress appends src compressed with c to dst, behind a one-byte
// compression header (and, unless None, the uvarint decompressed length).
// Auto picks per call; an unknown c or a zstd setup failure falls back to
// None, so Compress always produces a valid block.
func Compress(dst, src []byte, c Compression) []byte {
	switch c {
	case Snappy:
		return appendSnappy(dst, src)
	case Zstd:
		if out, ok := appendZstd(dst, src); ok {
			return out
		}
	case Auto:
		return compressAuto(dst, src)
	}
	dst = append(dst, byte(None))
	return append(dst, src...)
}

func appendSnappy(dst, src []byte) []byte {
	dst = append(dst, byte(Snappy))
	dst = appendUvarint(dst, uint64(len(src)))
	start := len(dst)
	dst = growBytes(dst, snappy.MaxEncodedLen(len(src)))
	enc := snappy.Encode(dst[start:start+snappy.MaxEncodedLen(len(src))], src)
	return dst[:start+len(enc)]
}

func appendZstd(dst, src []byte) ([]byte, bool) {
	enc, _, err := zstdCodec()
	if err != nil {
		return dst, false
	}
	dst = append(dst, byte(Zstd))
	dst = appendUvarint(dst, uint64(len(src)))
	return enc.EncodeAll(src, dst), true
}

// compressAuto writes the smaller of snappy and zstd when it saves >= 10%.
func compressAuto(dst, src []byte) []byte {
	start := len(dst)
	limit := len(src) + 1 - (len(src)+1)/10 // None costs len(src)+1 bytes
	dst = appendSnappy(dst, src)
	best := dst[start:]
	if out, ok := appendZstd(dst, src); ok {
		z := out[len(dst):]
		if len(z) < len(best) {
			dst = append(dst[:start], z...)
			best = dst[start:]
		} else {
			dst = out[:len(dst)]
		}
	}
	if len(best) <= limit {
		return dst[:start+len(best)]
	}
	dst = append(dst[:start], byte(None))
	return append(dst, src...)
}

func growBytes(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}

// ErrCompression reports a compressed block that cannot be decompressed.
var ErrCompression = errors.New("encoding: corrupt compressed block")

// Decompress appends the decompressed content of src (written by Compress)
// to dst. It never allocates more than MaxDecompressedLen beyond dst.
func Decompress(dst, src []byte) ([]byte, error) {
	if len(src) == 0 {
		return dst, fmt.Errorf("decompress block: %w: empty input", ErrCompression)
	}
	c := Compression(src[0])
	if c == None {
		return append(dst, src[1:]...), nil
	}
	if c != Snappy && c != Zstd {
		return dst, fmt.Errorf("decompress block: %w: unknown compression %d", ErrCompression, src[0])
	}
	n, payload, ok := readUvarint(src[1:])
	if !ok || n > MaxDecompressedLen {
		return dst, fmt.Errorf("decompress %s block: %w: bad length", c, ErrCompression)
	}
	start := len(dst)
	if c == Snappy {
		dl, err := snappy.DecodedLen(payload)
		if err != nil || uint64(dl) != n {
			return dst, fmt.Errorf("decompress %s block: %w: length mismatch", c, ErrCompression)
		}
		dst = growBytes(dst, dl)
		out, err := snappy.Decode(dst[start:start+dl], payload)
		if err != nil {
			return dst[:start], fmt.Errorf("decompress %s block: %w: %w", c, ErrCompression, err)
		}
		return dst[:start+len(out)], nil
	}
	_, dec, err := zstdCodec()
	if err != nil {
		return dst, fmt.Errorf("decompress %s block: %w", c, err)
	}
	dst = growBytes(dst, int(n))
	out, err := dec.DecodeAll(payload, dst[:start])
	if err != nil {
		return dst[:start], fmt.Errorf("decompress %s block: %w: %w", c, ErrCompression, err)
	}
	if uint64(len(out)-start) != n {
		return dst[:start], fmt.Errorf("decompress %s block: %w: length mismatch", c, ErrCompression)
	}
	return out, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of b, used for block trailers.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
