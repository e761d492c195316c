package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
)

// Segment file layout (docs/format/wal.md has the full specification).
//
//	segment := header frame*
//	header  := magic[4] "TDWL" | version u8 | reserved[3] zero | index u32 LE | crc u32 LE
//	frame   := length u32 LE | count u32 LE | crc u32 LE | body[length]
//	body    := (uvarint(len(rec)) rec){count}
//
// The header CRC covers its first 12 bytes; a frame CRC covers the length and
// count fields followed by the body. All CRCs are CRC-32C (Castagnoli).
const (
	// FormatVersion is the segment format version this package writes.
	FormatVersion = 1

	// MaxRecordSize is the largest record Append accepts.
	MaxRecordSize = 16 << 20
	// MaxGroupSize is the largest total size of the records in one Append.
	MaxGroupSize = 64 << 20

	segmentMagic     = "TDWL"
	headerSize       = 16
	frameHeaderSize  = 12
	maxFrameBodySize = 2 * MaxGroupSize // bound on a decoded length field
	segmentNameWidth = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors returned by this package.
var (
	// ErrClosed is returned by operations on a closed WAL.
	ErrClosed = errors.New("wal: closed")
	// ErrRecordTooLarge is returned by Append for a record above MaxRecordSize.
	ErrRecordTooLarge = errors.New("wal: record too large")
	// ErrGroupTooLarge is returned by Append for a group above MaxGroupSize.
	ErrGroupTooLarge = errors.New("wal: record group too large")
	// ErrUnsupportedVersion is returned by Open for a segment written in a
	// format version this package cannot read. Open refuses rather than
	// repairs such a segment, because it is intact data from a newer release.
	ErrUnsupportedVersion = errors.New("wal: unsupported segment format version")

	// errTorn marks a frame or header cut short by the end of the file.
	errTorn = errors.New("wal: torn write")
	// errChecksum marks a complete frame whose CRC does not match.
	errChecksum = errors.New("wal: checksum mismatch")
	// errBadFrame marks a frame whose fields are impossible.
	errBadFrame = errors.New("wal: malformed frame")
	// errBadHeader marks a segment header that is not a TidalDB WAL header.
	errBadHeader = errors.New("wal: malformed segment header")
)

// CorruptionError reports where a segment stops being readable. Open logs it
// and repairs the log; Replay returns it if a segment changed since Open.
type CorruptionError struct {
	Segment int   // index of the segment
	Offset  int64 // byte offset of the first unreadable frame
	Err     error // what is wrong there
}

// Error implements error.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corrupt segment %d at offset %d: %v", e.Segment, e.Offset, e.Err)
}

// Unwrap returns the underlying cause.
func (e *CorruptionError) Unwrap() error { return e.Err }

// segmentName returns the file name of segment index: eight or more decimal
// digits, zero-padded, so that lexical order is numeric order.
func segmentName(index int) string {
	return fmt.Sprintf("%0*d", segmentNameWidth, index)
}

// parseSegmentName returns the index encoded in name, or false if name is not
// a segment file name.
func parseSegmentName(name string) (int, bool) {
	if len(name) < segmentNameWidth {
		return 0, false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(name, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return int(n), true
}

// appendHeader appends the header of segment index to dst.
func appendHeader(dst []byte, index int) []byte {
	var h [headerSize]byte
	copy(h[0:4], segmentMagic)
	h[4] = FormatVersion
	binary.LittleEndian.PutUint32(h[8:12], uint32(index))
	binary.LittleEndian.PutUint32(h[12:16], crc32.Checksum(h[:12], castagnoli))
	return append(dst, h[:]...)
}

// checkHeader validates a segment header read from the file of segment index.
func checkHeader(h []byte, index int) error {
	if len(h) < headerSize {
		return errTorn
	}
	if string(h[0:4]) != segmentMagic {
		return fmt.Errorf("%w: bad magic %q", errBadHeader, h[0:4])
	}
	if got, want := binary.LittleEndian.Uint32(h[12:16]), crc32.Checksum(h[:12], castagnoli); got != want {
		return fmt.Errorf("%w: header crc %08x, want %08x", errChecksum, got, want)
	}
	if h[4] != FormatVersion {
		return fmt.Errorf("%w: version %d", ErrUnsupportedVersion, h[4])
	}
	if got := binary.LittleEndian.Uint32(h[8:12]); got != uint32(index) {
		return fmt.Errorf("%w: header names segment %d", errBadHeader, got)
	}
	return nil
}

// checkGroup validates the sizes of a record group for Append and returns the
// encoded body length.
func checkGroup(recs [][]byte) (int, error) {
	total, body := 0, 0
	for i, r := range recs {
		if len(r) > MaxRecordSize {
			return 0, fmt.Errorf("%w: record %d is %d bytes, limit %d", ErrRecordTooLarge, i, len(r), MaxRecordSize)
		}
		total += len(r)
		body += uvarintLen(uint64(len(r))) + len(r)
	}
	if total > MaxGroupSize || body > maxFrameBodySize {
		return 0, fmt.Errorf("%w: %d records of %d bytes, limit %d", ErrGroupTooLarge, len(recs), total, MaxGroupSize)
	}
	return body, nil
}

// appendFrame appends one frame holding recs to dst. The caller has checked
// the group with checkGroup and passes its body length.
func appendFrame(dst []byte, recs [][]byte, bodyLen int) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(bodyLen))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(recs)))
	dst = append(dst, 0, 0, 0, 0) // crc, filled below
	for _, r := range recs {
		dst = binary.AppendUvarint(dst, uint64(len(r)))
		dst = append(dst, r...)
	}
	crc := crc32.Update(0, castagnoli, dst[start:start+8])
	crc = crc32.Update(crc, castagnoli, dst[start+frameHeaderSize:])
	binary.LittleEndian.PutUint32(dst[start+8:start+12], crc)
	return dst
}

// decodeBody calls fn for each of the count records in a checksummed body. It
// reports errBadFrame if the body does not hold exactly count records.
func decodeBody(body []byte, count int, fn func(rec []byte) error) error {
	for i := 0; i < count; i++ {
		n, k := binary.Uvarint(body)
		if k <= 0 || n > uint64(len(body)-k) {
			return fmt.Errorf("%w: record %d of %d overruns the body", errBadFrame, i, count)
		}
		rec := body[k : k+int(n) : k+int(n)]
		body = body[k+int(n):]
		if fn != nil {
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	if len(body) != 0 {
		return fmt.Errorf("%w: %d bytes after %d records", errBadFrame, len(body), count)
	}
	return nil
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// segmentReader reads the frames of one segment file. It never allocates
// more than the bytes left in the file, whatever a length field claims.
type segmentReader struct {
	r     *bufio.Reader
	size  int64 // bytes in the file
	off   int64 // offset of the next frame
	buf   []byte
	index int
	hdr   [frameHeaderSize]byte // kept here so that reading it does not allocate
}

func newSegmentReader(r io.Reader, size int64, index int, buf []byte) *segmentReader {
	return &segmentReader{r: bufio.NewReaderSize(r, 1<<16), size: size, index: index, buf: buf}
}

// readHeader reads and validates the segment header.
func (s *segmentReader) readHeader() error {
	if s.size < headerSize {
		return errTorn
	}
	var h [headerSize]byte
	if _, err := readFull(s.r, h[:]); err != nil {
		return fmt.Errorf("read segment header: %w", err)
	}
	if err := checkHeader(h[:], s.index); err != nil {
		return err
	}
	s.off = headerSize
	return nil
}

// next returns the body and record count of the next frame. It returns io.EOF
// at a clean end of file, errTorn for a frame cut short by the end of the
// file, and errChecksum or errBadFrame for a damaged frame; s.off then still
// points at the start of that frame. The body is valid until the next call.
func (s *segmentReader) next() ([]byte, int, error) {
	left := s.size - s.off
	if left == 0 {
		return nil, 0, io.EOF
	}
	if left < frameHeaderSize {
		return nil, 0, errTorn
	}
	h := s.hdr[:]
	if _, err := readFull(s.r, h); err != nil {
		return nil, 0, fmt.Errorf("read frame header: %w", err)
	}
	length := int64(binary.LittleEndian.Uint32(h[0:4]))
	count := binary.LittleEndian.Uint32(h[4:8])
	if length > maxFrameBodySize {
		return nil, 0, fmt.Errorf("%w: body length %d", errBadFrame, length)
	}
	if length > left-frameHeaderSize {
		return nil, 0, errTorn
	}
	if cap(s.buf) < int(length) {
		s.buf = make([]byte, length)
	}
	body := s.buf[:length]
	if _, err := readFull(s.r, body); err != nil {
		return nil, 0, fmt.Errorf("read frame body: %w", err)
	}
	crc := crc32.Update(0, castagnoli, h[0:8])
	crc = crc32.Update(crc, castagnoli, body)
	if want := binary.LittleEndian.Uint32(h[8:12]); crc != want {
		return nil, 0, fmt.Errorf("%w: crc %08x, want %08x", errChecksum, crc, want)
	}
	if count == 0 || uint64(count) > uint64(length) {
		// Every record takes at least its one-byte length prefix.
		return nil, 0, fmt.Errorf("%w: %d records in %d bytes", errBadFrame, count, length)
	}
	if err := decodeBody(body, int(count), nil); err != nil {
		return nil, 0, err
	}
	s.off += frameHeaderSize + length
	return body, int(count), nil
}

// readFull is io.ReadFull that reports a file shorter than expected as
// io.ErrUnexpectedEOF, keeping io.EOF for a clean end of segment.
func readFull(r io.Reader, b []byte) (int, error) {
	n, err := io.ReadFull(r, b)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
