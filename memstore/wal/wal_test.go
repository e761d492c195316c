package wal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRoundTripAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir, SegmentSize: 4 << 10, Sync: SyncNever})
	first, last, err := w.Segments()
	if err != nil || first != 1 || last != 1 {
		t.Fatalf("fresh Segments() = %d, %d, %v; want 1, 1, nil", first, last, err)
	}
	var want []string
	n := 0
	for g := 0; g < 300; g++ {
		var group [][]byte
		for range g%3 + 1 {
			rec := testRecord(n, 200)
			n++
			group = append(group, rec)
			want = append(want, string(rec))
		}
		appendT(t, w, group...)
	}
	_, last, err = w.Segments()
	if err != nil {
		t.Fatal(err)
	}
	closeT(t, w)
	files := segmentFiles(t, dir)
	if len(files) < 5 || files[0] != 1 || files[len(files)-1] != last {
		t.Fatalf("segment files %v, want >= 5 files from 1 to %d", files, last)
	}
	for _, idx := range files[:len(files)-1] {
		st, err := os.Stat(filepath.Join(dir, segmentName(idx)))
		if err != nil {
			t.Fatal(err)
		}
		// A group only overflows SegmentSize when it is alone in the segment.
		if st.Size() > 4<<10 {
			t.Errorf("segment %d is %d bytes, over the 4096 segment size", idx, st.Size())
		}
	}

	w = openT(t, Options{Dir: dir, Sync: SyncNever})
	got := replayT(t, w, 0)
	if _, l, _ := w.Segments(); l != last+1 {
		t.Errorf("after reopen active segment = %d, want %d", l, last+1)
	}
	closeT(t, w)
	if !slices.Equal(recordsOf(got), want) {
		t.Fatalf("replayed %d records, want %d; first mismatch at %d", len(got), len(want), firstDiff(recordsOf(got), want))
	}
	for i := 1; i < len(got); i++ {
		if got[i].seg < got[i-1].seg {
			t.Fatalf("record %d in segment %d after segment %d", i, got[i].seg, got[i-1].seg)
		}
	}
	if got[0].seg != 1 || got[len(got)-1].seg != last {
		t.Errorf("records span segments %d..%d, want 1..%d", got[0].seg, got[len(got)-1].seg, last)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestReplayFrom(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir, Sync: SyncNever})
	appendT(t, w, []byte("a1"), []byte("a2"))
	seg2, err := w.Cut()
	if err != nil || seg2 != 2 {
		t.Fatalf("Cut() = %d, %v; want 2, nil", seg2, err)
	}
	appendT(t, w, []byte("b1"))
	seg3, err := w.Cut()
	if err != nil || seg3 != 3 {
		t.Fatalf("Cut() = %d, %v; want 3, nil", seg3, err)
	}
	appendT(t, w, []byte("c1"))
	closeT(t, w)

	w = openT(t, Options{Dir: dir, Sync: SyncNever})
	defer closeT(t, w)
	tests := []struct {
		from int
		want []replayed
	}{
		{0, []replayed{{1, "a1"}, {1, "a2"}, {2, "b1"}, {3, "c1"}}},
		{2, []replayed{{2, "b1"}, {3, "c1"}}},
		{3, []replayed{{3, "c1"}}},
		{4, nil},
	}
	for _, tt := range tests {
		if got := replayT(t, w, tt.from); !slices.Equal(got, tt.want) {
			t.Errorf("Replay(%d) = %v, want %v", tt.from, got, tt.want)
		}
	}
}

func TestReplayCallbackError(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir, Sync: SyncNever})
	appendT(t, w, []byte("x"), []byte("y"), []byte("z"))
	closeT(t, w)
	w = openT(t, Options{Dir: dir, Sync: SyncNever})
	defer closeT(t, w)
	stop := errors.New("stop here")
	var seen []string
	err := w.Replay(0, func(_ int, rec []byte) error {
		seen = append(seen, string(rec))
		if string(rec) == "y" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Replay error = %v, want wrapping %v", err, stop)
	}
	if !slices.Equal(seen, []string{"x", "y"}) {
		t.Errorf("saw %q before the error, want [x y]", seen)
	}
}

func TestClosed(t *testing.T) {
	w := openT(t, Options{Dir: t.TempDir(), Sync: SyncNever})
	closeT(t, w)
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := w.Append(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if _, err := w.Cut(); !errors.Is(err, ErrClosed) {
		t.Errorf("Cut after Close = %v, want ErrClosed", err)
	}
	if err := w.Truncate(5); !errors.Is(err, ErrClosed) {
		t.Errorf("Truncate after Close = %v, want ErrClosed", err)
	}
	if err := w.Replay(0, func(int, []byte) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Replay after Close = %v, want ErrClosed", err)
	}
}

func TestAppendLimits(t *testing.T) {
	dir := t.TempDir()
	// noSync: this test is about limits, and fsyncing 80 MiB is slow.
	w := openT(t, Options{Dir: dir, Sync: SyncNever, SegmentSize: 1 << 20, noSync: true})
	big := bytes.Repeat([]byte{0xAB}, MaxRecordSize)
	tests := []struct {
		name string
		recs [][]byte
		want error
	}{
		{"record over limit", [][]byte{make([]byte, MaxRecordSize+1)}, ErrRecordTooLarge},
		{"group over limit", [][]byte{big, big, big, big, {1}}, ErrGroupTooLarge},
		{"record at limit", [][]byte{big}, nil},
		{"group at limit", [][]byte{big, big, big, big}, nil},
		{"empty record", [][]byte{{}}, nil},
		{"no records", nil, nil},
	}
	for _, tt := range tests {
		err := w.Append(context.Background(), tt.recs...)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Append = %v, want %v", tt.name, err, tt.want)
		}
	}
	closeT(t, w)
	w = openT(t, Options{Dir: dir, Sync: SyncNever})
	defer closeT(t, w)
	var sizes []int
	err := w.Replay(0, func(_ int, rec []byte) error {
		if len(rec) > 0 && (rec[0] != 0xAB || rec[len(rec)-1] != 0xAB) {
			t.Errorf("record bytes changed")
		}
		sizes = append(sizes, len(rec))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{MaxRecordSize, MaxRecordSize, MaxRecordSize, MaxRecordSize, MaxRecordSize, 0}
	if !slices.Equal(sizes, want) {
		t.Errorf("replayed sizes %v, want %v", sizes, want)
	}
	// Each oversized group went to a segment of its own.
	if files := segmentFiles(t, dir); !slices.Equal(files, []int{1, 2, 3, 4}) {
		t.Errorf("segment files %v, want [1 2 3 4]", files)
	}
}

func TestAppendCancelledContext(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with cancelled ctx = %v, want context.Canceled", err)
	}
	closeT(t, w)
	if got := reopenRecords(t, dir, nil); len(got) != 0 {
		t.Errorf("replayed %q, want nothing", got)
	}
}

func TestCutTruncate(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir, Sync: SyncNever})
	for i := range 3 {
		appendT(t, w, testRecord(i, 50))
		if _, err := w.Cut(); err != nil {
			t.Fatal(err)
		}
	}
	appendT(t, w, testRecord(3, 50))
	if first, last, err := w.Segments(); first != 1 || last != 4 || err != nil {
		t.Fatalf("Segments() = %d, %d, %v; want 1, 4, nil", first, last, err)
	}
	if got, want := w.Size(), dirSize(t, dir); got != want {
		t.Errorf("Size() = %d, files hold %d", got, want)
	}

	if err := w.Truncate(3); err != nil {
		t.Fatal(err)
	}
	if files := segmentFiles(t, dir); !slices.Equal(files, []int{3, 4}) {
		t.Errorf("after Truncate(3) files %v, want [3 4]", files)
	}
	if first, last, _ := w.Segments(); first != 3 || last != 4 {
		t.Errorf("after Truncate(3) Segments() = %d, %d; want 3, 4", first, last)
	}
	if got, want := w.Size(), dirSize(t, dir); got != want {
		t.Errorf("after Truncate Size() = %d, files hold %d", got, want)
	}
	// The active segment survives any Truncate.
	if err := w.Truncate(100); err != nil {
		t.Fatal(err)
	}
	if files := segmentFiles(t, dir); !slices.Equal(files, []int{4}) {
		t.Errorf("after Truncate(100) files %v, want [4]", files)
	}
	appendT(t, w, testRecord(4, 50))
	if got, want := w.Size(), dirSize(t, dir); got != want {
		t.Errorf("after Append Size() = %d, files hold %d", got, want)
	}
	closeT(t, w)

	want := []string{string(testRecord(3, 50)), string(testRecord(4, 50))}
	if got := reopenRecords(t, dir, nil); !slices.Equal(got, want) {
		t.Errorf("replayed %q, want %q", got, want)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"zero dir", Options{}, false},
		{"defaults", Options{Dir: "x"}, true},
		{"unknown policy", Options{Dir: "x", Sync: SyncNever + 1}, false},
		{"negative policy", Options{Dir: "x", Sync: -1}, false},
		{"negative window", Options{Dir: "x", GroupCommitWindow: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	d := Options{Dir: "x"}.withDefaults()
	if d.SegmentSize != 128<<20 || d.SyncInterval.Seconds() != 1 || d.Sync != SyncBatch || d.Logger == nil {
		t.Errorf("defaults = %+v", d)
	}
	if got := SyncInterval.String(); got != "interval" {
		t.Errorf("SyncInterval.String() = %q", got)
	}
}

func TestSegmentNames(t *testing.T) {
	tests := []struct {
		name  string
		index int
		ok    bool
	}{
		{"00000001", 1, true},
		{"00012345", 12345, true},
		{"123456789", 123456789, true},
		{"0000001", 0, false}, // too short
		{"00000000", 0, false},
		{"0000000a", 0, false},
		{"00000001.tmp", 0, false},
		{"99999999999", 0, false}, // over uint32
	}
	for _, tt := range tests {
		idx, ok := parseSegmentName(tt.name)
		if idx != tt.index || ok != tt.ok {
			t.Errorf("parseSegmentName(%q) = %d, %v; want %d, %v", tt.name, idx, ok, tt.index, tt.ok)
		}
	}
	if got := segmentName(7); got != "00000007" {
		t.Errorf("segmentName(7) = %q", got)
	}
}

func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	w := openT(t, Options{Dir: dir, Registerer: reg})
	appendT(t, w, []byte("abc"), []byte("de"))
	appendT(t, w, []byte("f"))
	if _, err := w.Cut(); err != nil {
		t.Fatal(err)
	}
	closeT(t, w)
	m := w.m
	if got := testutil.ToFloat64(m.records); got != 3 {
		t.Errorf("records written = %v, want 3", got)
	}
	// Two frames: 12-byte headers, 1-byte length prefixes.
	if got, want := testutil.ToFloat64(m.bytes), float64(12+1+3+1+2+12+1+1); got != want {
		t.Errorf("bytes written = %v, want %v", got, want)
	}
	if got := testutil.ToFloat64(m.segments); got != 2 {
		t.Errorf("segments = %v, want 2", got)
	}
	if got := testutil.CollectAndCount(m.fsyncDuration); got != 1 {
		t.Errorf("fsync histogram series = %d, want 1", got)
	}

	// Reopening on the same registry reuses the collectors, and a torn
	// tail counts as a corruption.
	f, err := os.OpenFile(filepath.Join(dir, segmentName(2)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	w = openT(t, Options{Dir: dir, Registerer: reg})
	closeT(t, w)
	if got := testutil.ToFloat64(w.m.corruptions); got != 1 {
		t.Errorf("corruptions = %v, want 1", got)
	}
	if got := testutil.ToFloat64(w.m.records); got != 3 {
		t.Errorf("records written after reopen = %v, want 3 (shared counter)", got)
	}
	names, err := testutil.GatherAndCount(reg)
	if err != nil || names != 7 {
		t.Errorf("registry holds %d metrics (%v), want 7", names, err)
	}
}

func TestUnsupportedVersion(t *testing.T) {
	dir := t.TempDir()
	hdr := appendHeader(nil, 1)
	hdr[4] = 2
	// Recompute the header CRC so that only the version is wrong.
	fixed := appendHeader(nil, 1)
	copy(fixed[:12], hdr[:12])
	fixed = append(fixed[:12:12], crcBytes(fixed[:12])...)
	path := filepath.Join(dir, segmentName(1))
	if err := os.WriteFile(path, append(fixed, 9, 9, 9), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Dir: dir})
	if !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("Open = %v, want ErrUnsupportedVersion", err)
	}
	if b, _ := os.ReadFile(path); len(b) != headerSize+3 {
		t.Errorf("segment is %d bytes after refused Open, want it untouched (%d)", len(b), headerSize+3)
	}
	if files := segmentFiles(t, dir); !slices.Equal(files, []int{1}) {
		t.Errorf("files %v after refused Open, want [1]", files)
	}
	if !strings.Contains(err.Error(), "segment 1") {
		t.Errorf("error %q does not name the segment", err)
	}
}
