package wal

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// These golden bytes pin format version 1. Changing them breaks every WAL on
// disk: add a version instead.
func TestGoldenHeader(t *testing.T) {
	got := hex.EncodeToString(appendHeader(nil, 1))
	if want := "5444574c" + "01000000" + "01000000" + "d0de5e5e"; got != want {
		t.Errorf("header(1) = %s, want %s", got, want)
	}
}

func TestGoldenFrame(t *testing.T) {
	recs := [][]byte{[]byte("hi"), {}, []byte("abc")}
	n, err := checkGroup(recs)
	if err != nil || n != 8 {
		t.Fatalf("checkGroup = %d, %v; want 8, nil", n, err)
	}
	got := hex.EncodeToString(appendFrame([]byte{0xff}, recs, n))
	want := "ff" + "08000000" + "03000000" + "d3617533" + "02" + "6869" + "00" + "03" + "616263"
	if got != want {
		t.Errorf("frame = %s, want %s", got, want)
	}
}

// crcBytes returns the little-endian CRC-32C of b.
func crcBytes(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(nil, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// refParse is an independent reading of docs/format/wal.md: it returns the
// groups of the intact frames at the start of a segment image, and the end of
// that intact prefix (0 if the header is not intact).
func refParse(img []byte, index uint32) (groups [][]string, end int) {
	if len(img) < 16 || string(img[:4]) != "TDWL" || img[4] != 1 ||
		binary.LittleEndian.Uint32(img[8:12]) != index ||
		!bytes.Equal(img[12:16], crcBytes(img[:12])) {
		return nil, 0
	}
	off := 16
	for len(img)-off >= 12 {
		length := int(binary.LittleEndian.Uint32(img[off:]))
		count := int(binary.LittleEndian.Uint32(img[off+4:]))
		if length > len(img)-off-12 {
			break
		}
		h := img[off : off+8]
		body := img[off+12 : off+12+length]
		if !bytes.Equal(img[off+8:off+12], crcBytes(append(slices.Clone(h), body...))) {
			break
		}
		var g []string
		for len(body) > 0 && len(g) < count {
			n, k := binary.Uvarint(body)
			if k <= 0 || n > uint64(len(body)-k) {
				break
			}
			g = append(g, string(body[k:k+int(n)]))
			body = body[k+int(n):]
		}
		if count == 0 || len(g) != count || len(body) != 0 {
			break
		}
		groups = append(groups, g)
		off += 12 + length
	}
	return groups, off
}

func TestSegmentReaderErrors(t *testing.T) {
	img := appendHeader(nil, 1)
	recs := [][]byte{[]byte("hello"), []byte("world")}
	n, _ := checkGroup(recs)
	img = appendFrame(img, recs, n)
	frameEnd := len(img)

	badCount := slices.Clone(img)
	binary.LittleEndian.PutUint32(badCount[16+4:], 3) // claims 3 records; crc now wrong too
	copy(badCount[16+8:], crcBytes(append(slices.Clone(badCount[16:24]), badCount[28:]...)))

	hugeLen := slices.Clone(img)
	binary.LittleEndian.PutUint32(hugeLen[16:], 0xffffffff)

	tests := []struct {
		name string
		img  []byte
		want error
		off  int64
	}{
		{"intact", img, io.EOF, int64(frameEnd)},
		{"torn frame header", img[:frameEnd-len(recs[1])-12], errTorn, 16},
		{"torn body", img[:frameEnd-1], errTorn, 16},
		{"flipped body bit", flip(img, frameEnd-1, 0), errChecksum, 16},
		{"flipped count", flip(img, 16+4, 1), errChecksum, 16},
		{"count mismatch with good crc", badCount, errBadFrame, 16},
		{"huge length", hugeLen, errBadFrame, 16},
		{"trailing garbage", append(slices.Clone(img), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), errChecksum, int64(frameEnd)},
	}
	for _, tt := range tests {
		r := newSegmentReader(bytes.NewReader(tt.img), int64(len(tt.img)), 1, nil)
		if err := r.readHeader(); err != nil {
			t.Fatalf("%s: readHeader: %v", tt.name, err)
		}
		var err error
		for err == nil {
			_, _, err = r.next()
		}
		if !errors.Is(err, tt.want) || r.off != tt.off {
			t.Errorf("%s: stopped with %v at %d, want %v at %d", tt.name, err, r.off, tt.want, tt.off)
		}
	}

	headers := []struct {
		name string
		img  []byte
		want error
	}{
		{"short", img[:10], errTorn},
		{"magic", flip(img, 0, 0), errBadHeader},
		{"header crc", flip(img, 13, 0), errChecksum},
		{"other index", appendHeader(nil, 2), errBadHeader},
	}
	for _, tt := range headers {
		r := newSegmentReader(bytes.NewReader(tt.img), int64(len(tt.img)), 1, nil)
		if err := r.readHeader(); !errors.Is(err, tt.want) {
			t.Errorf("header %s: readHeader = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// flip returns a copy of b with bit bit of byte i flipped.
func flip(b []byte, i, bit int) []byte {
	c := slices.Clone(b)
	c[i] ^= 1 << bit
	return c
}

// FuzzFrame checks that any group of records survives encoding and decoding
// bit for bit, and agrees with the reference parser.
func FuzzFrame(f *testing.F) {
	f.Add([]byte{}, uint8(1))
	f.Add([]byte("hello world"), uint8(3))
	f.Add(bytes.Repeat([]byte{0x80}, 300), uint8(7))
	f.Add([]byte{0, 0, 0}, uint8(255))
	f.Fuzz(func(t *testing.T, data []byte, parts uint8) {
		// Split data into parts records at positions derived from data.
		var recs [][]byte
		rest := data
		for i := 0; i < int(parts)%16; i++ {
			n := 0
			if len(rest) > 0 {
				n = int(rest[0]) % (len(rest) + 1)
			}
			recs = append(recs, rest[:n])
			rest = rest[n:]
		}
		recs = append(recs, rest)
		n, err := checkGroup(recs)
		if err != nil {
			t.Fatalf("checkGroup: %v", err)
		}
		img := appendFrame(appendHeader(nil, 9), recs, n)
		r := newSegmentReader(bytes.NewReader(img), int64(len(img)), 9, nil)
		if err := r.readHeader(); err != nil {
			t.Fatal(err)
		}
		body, count, err := r.next()
		if err != nil || count != len(recs) {
			t.Fatalf("next = %d records, %v; want %d", count, err, len(recs))
		}
		var got [][]byte
		if err := decodeBody(body, count, func(rec []byte) error {
			got = append(got, slices.Clone(rec))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, recs, bytes.Equal) {
			t.Fatalf("decoded %q, want %q", got, recs)
		}
		if _, _, err := r.next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the frame next = %v, want io.EOF", err)
		}
		groups, end := refParse(img, 9)
		if end != len(img) || len(groups) != 1 || len(groups[0]) != len(recs) {
			t.Fatalf("reference parser saw %d groups ending at %d of %d", len(groups), end, len(img))
		}
	})
}

// FuzzReplay writes arbitrary bytes as a segment, opens the WAL and replays
// it. Open must succeed (bar a future format version), Replay must return
// exactly the records of the intact frames, and a second Open must find
// nothing left to repair.
func FuzzReplay(f *testing.F) {
	valid := appendHeader(nil, 1)
	for i, g := range [][][]byte{{[]byte("a")}, {[]byte("bb"), []byte("ccc")}, {{}}, {testRecord(7, 300)}} {
		n, _ := checkGroup(g)
		valid = appendFrame(valid, g, n)
		if i == 1 {
			f.Add(slices.Clone(valid), false)
		}
	}
	f.Add(valid, false)
	f.Add(valid[:len(valid)-5], false)
	f.Add(flip(valid, 40, 3), false)
	f.Add(valid[16:], true)
	f.Add([]byte{}, true)
	f.Add([]byte{}, false)
	f.Add([]byte("TDWL"), false)
	f.Add(make([]byte, 64), true)
	f.Fuzz(func(t *testing.T, data []byte, withHeader bool) {
		img := data
		if withHeader {
			img = append(appendHeader(nil, 1), data...)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segmentName(1)), img, 0o644); err != nil {
			t.Fatal(err)
		}
		groups, end := refParse(img, 1)
		var want []string
		for _, g := range groups {
			want = append(want, g...)
		}

		var log logBuffer
		w, err := Open(Options{Dir: dir, Sync: SyncNever, Logger: log.logger(), noSync: true})
		if errors.Is(err, ErrUnsupportedVersion) {
			return
		}
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		got := recordsOf(replayT(t, w, 0))
		closeT(t, w)
		if !slices.Equal(got, want) {
			t.Fatalf("replayed %q, reference parser %q", got, want)
		}
		if damaged := end != len(img) && len(img) > 0; damaged != strings.Contains(log.String(), "level=WARN") {
			t.Fatalf("intact prefix %d of %d bytes, but log = %q", end, len(img), log.String())
		}

		var again logBuffer
		if got := reopenRecordsFast(t, dir, &again); !slices.Equal(got, want) {
			t.Fatalf("second replay %q, want %q", got, want)
		}
		if strings.Contains(again.String(), "level=WARN") {
			t.Fatalf("second Open repaired again: %s", again.String())
		}
	})
}
