package magnetic

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidaldb/tidal/magnetic/encoding"
	"github.com/tidaldb/tidal/query/scan"
)

func goldenPart(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenV1Dir, "1", "20261125", "0000000000000008.part"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodePartErrors(t *testing.T) {
	good := goldenPart(t)
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	refooter := func(b []byte) []byte { // recompute the footer CRC after an edit
		foot := b[len(b)-footerSize:]
		binary.LittleEndian.PutUint32(foot[20:], encoding.Checksum(foot[:20]))
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"truncated", good[:len(good)-1], ErrCorrupt},
		{"bad header magic", mutate(func(b []byte) []byte { b[0] = 'X'; return b }), ErrCorrupt},
		{"header version 3", mutate(func(b []byte) []byte { b[8] = 3; return b }), ErrUnsupportedVersion},
		{"footer version 3", mutate(func(b []byte) []byte { b[len(b)-footerSize+16] = 3; return refooter(b) }), ErrUnsupportedVersion},
		{"header version 2 in a version 1 part", mutate(func(b []byte) []byte { b[8] = 2; return b }), ErrCorrupt},
		{"footer version 2 in a version 1 part", mutate(func(b []byte) []byte { b[len(b)-footerSize+16] = 2; return refooter(b) }), ErrCorrupt},
		{"footer checksum", mutate(func(b []byte) []byte { b[len(b)-footerSize+20] ^= 1; return b }), ErrCorrupt},
		{"index checksum", mutate(func(b []byte) []byte { b[len(b)-footerSize-1] ^= 1; return b }), ErrCorrupt},
		{"index offset", mutate(func(b []byte) []byte { b[len(b)-footerSize] ^= 1; return refooter(b) }), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newMemPart(tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	p, err := newMemPart(good)
	if err != nil {
		t.Fatal(err)
	}
	if p.meta.rows != 17880 || len(p.meta.series) != 8 || p.meta.level != 1 || p.meta.creator != "merge" || len(p.meta.replaces) != 2 {
		t.Errorf("golden part index: rows %d series %d level %d creator %q replaces %v",
			p.meta.rows, len(p.meta.series), p.meta.level, p.meta.creator, p.meta.replaces)
	}
	// A flipped bit inside a chunk is caught by its CRC when read.
	bad := append([]byte(nil), good...)
	bad[headerSize+2] ^= 0x10
	p, err = newMemPart(bad)
	if err != nil {
		t.Fatal(err)
	}
	cur := newPartCursor(context.Background(), p, all())
	for cur.Next() {
	}
	if !errors.Is(cur.Err(), ErrCorrupt) {
		t.Errorf("scan of a corrupted chunk: %v, want ErrCorrupt", cur.Err())
	}
}

func TestStoreErrors(t *testing.T) {
	cat, _ := newCatalog(t)
	dir := t.TempDir()
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Scan(context.Background(), &scan.Request{Database: "testdb", Table: "nope"}); !errors.Is(err, ErrUnknownTable) {
		t.Errorf("scan of an unknown table: %v", err)
	}
	bad := all2()
	bad.Where = []scan.Matcher{{Name: "host", Op: scan.MatchEqual}}
	if _, err := s.Scan(context.Background(), bad); !errors.Is(err, ErrBadMatcher) {
		t.Errorf("scan with an empty equality matcher: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Scan(context.Background(), all2()); !errors.Is(err, ErrClosed) {
		t.Errorf("scan after close: %v", err)
	}
	if _, err := s.WritePart(context.Background(), 1, scan.NewSlice(nil)); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if _, err := s.Merge(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("merge after close: %v", err)
	}
	// A part file that is complete but corrupt stops Open.
	pdir := filepath.Join(dir, "1", "20261125")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pdir, partName(1)), []byte("not a part"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("open with a corrupt part: %v", err)
	}
	if _, err := Open(Options{}); err == nil {
		t.Error("open without a directory succeeded")
	}
}
