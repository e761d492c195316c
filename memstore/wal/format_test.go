package wal

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var updateFormat = flag.Bool("update-format-v1", false, "rewrite testdata/format_v1 (only when the version 1 writer is known good)")

const formatV1Dir = "testdata/format_v1"

// formatV1Segments returns the groups stored in testdata/format_v1, segment by
// segment (segments 1 and 2).
func formatV1Segments() [][][][]byte {
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	return [][][][]byte{
		{
			{[]byte("first record")},
			{[]byte("a"), {}, []byte("c")},
			{bin},
			{bytes.Repeat([]byte("tidal"), 300)},
		},
		{
			{[]byte("cpu,hostname=host_0 usage_user=58.1,usage_system=2.3 1451606400000000000"), []byte("cpu,hostname=host_1 usage_user=12.9,usage_system=7.7 1451606400000000000"), []byte{0xff, 0x00, 0x80, 0x7f}},
			{[]byte("last record")},
		},
	}
}

// TestFormatV1 reads a WAL written by format version 1, so that later
// versions of this package keep reading it, and checks that the writer still
// produces the same bytes.
func TestFormatV1(t *testing.T) {
	segs := formatV1Segments()
	if *updateFormat {
		writeFormatV1(t, segs)
	}
	dir := t.TempDir()
	for i := range segs {
		name := segmentName(i + 1)
		b, err := os.ReadFile(filepath.Join(formatV1Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		img := appendHeader(nil, i+1)
		for _, g := range segs[i] {
			n, err := checkGroup(g)
			if err != nil {
				t.Fatal(err)
			}
			img = appendFrame(img, g, n)
		}
		if !bytes.Equal(img, b) {
			t.Errorf("the writer no longer produces %s byte for byte", name)
		}
	}

	var log logBuffer
	w := openT(t, Options{Dir: dir, Sync: SyncNever, Logger: log.logger()})
	defer closeT(t, w)
	got := replayT(t, w, 0)
	var want []replayed
	for i, seg := range segs {
		for _, g := range seg {
			for _, rec := range g {
				want = append(want, replayed{seg: i + 1, rec: string(rec)})
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("replayed %d records, want %d", len(got), len(want))
	}
	if log.String() != "" {
		t.Errorf("open logged %q, want nothing", log.String())
	}
}

func writeFormatV1(t *testing.T, segs [][][][]byte) {
	t.Helper()
	tmp := t.TempDir()
	w := openT(t, Options{Dir: tmp})
	for i, seg := range segs {
		for _, g := range seg {
			if err := w.Append(context.Background(), g...); err != nil {
				t.Fatal(err)
			}
		}
		if i < len(segs)-1 {
			if _, err := w.Cut(); err != nil {
				t.Fatal(err)
			}
		}
	}
	closeT(t, w)
	if err := os.MkdirAll(formatV1Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range segs {
		name := segmentName(i + 1)
		b, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(formatV1Dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
