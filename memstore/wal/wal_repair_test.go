package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repairFixture is a closed two-segment WAL whose second (last) segment
// holds three groups; the first segment holds three records of its own.
type repairFixture struct {
	seg1, seg2 []byte
	head       []string   // records of segment 1
	groups     [][]string // groups of segment 2
	frameEnds  []int      // end offset of each group's frame in seg2
}

func newRepairFixture(t *testing.T) repairFixture {
	t.Helper()
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir, Sync: SyncNever})
	fx := repairFixture{}
	for i := range 3 {
		rec := testRecord(i, 20)
		appendT(t, w, rec)
		fx.head = append(fx.head, string(rec))
	}
	if _, err := w.Cut(); err != nil {
		t.Fatal(err)
	}
	end := headerSize
	for g, n := range []int{1, 2, 3} {
		var recs [][]byte
		var strs []string
		for k := range n {
			rec := testRecord(100+10*g+k, 12)
			recs = append(recs, rec)
			strs = append(strs, string(rec))
		}
		appendT(t, w, recs...)
		body, err := checkGroup(recs)
		if err != nil {
			t.Fatal(err)
		}
		end += frameHeaderSize + body
		fx.groups = append(fx.groups, strs)
		fx.frameEnds = append(fx.frameEnds, end)
	}
	closeT(t, w)
	var err error
	if fx.seg1, err = os.ReadFile(filepath.Join(dir, segmentName(1))); err != nil {
		t.Fatal(err)
	}
	if fx.seg2, err = os.ReadFile(filepath.Join(dir, segmentName(2))); err != nil {
		t.Fatal(err)
	}
	if len(fx.seg2) != end {
		t.Fatalf("segment 2 is %d bytes, want %d", len(fx.seg2), end)
	}
	return fx
}

// survivors returns the records expected when segment 2 is intact only up
// to byte intact.
func (fx repairFixture) survivors(intact int) []string {
	want := slices.Clone(fx.head)
	for g, end := range fx.frameEnds {
		if end <= intact {
			want = append(want, fx.groups[g]...)
		}
	}
	return want
}

// write stores segment 1 and the given segment 2 image in a fresh directory.
func (fx repairFixture) write(t *testing.T, seg2 []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, segmentName(1)), fx.seg1, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, segmentName(2)), seg2, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTornTail cuts the last segment at every byte offset and checks that
// Open keeps exactly the complete groups before the cut and warns about the
// rest.
func TestTornTail(t *testing.T) {
	fx := newRepairFixture(t)
	for cut := 0; cut <= len(fx.seg2); cut++ {
		dir := fx.write(t, fx.seg2[:cut])
		var log logBuffer
		got := reopenRecordsFast(t, dir, &log)
		want := fx.survivors(cut)
		if !slices.Equal(got, want) {
			t.Fatalf("cut at %d: replayed %q, want %q", cut, got, want)
		}
		clean := cut == 0 || cut == headerSize || slices.Contains(fx.frameEnds, cut)
		warned := strings.Contains(log.String(), "level=WARN")
		if warned == clean {
			t.Fatalf("cut at %d: warned=%v, want %v; log: %s", cut, warned, !clean, log.String())
		}
		if warned && !strings.Contains(log.String(), "segment=2") {
			t.Fatalf("cut at %d: warning does not name the segment: %s", cut, log.String())
		}
		// The repair is durable: a second open finds nothing to do and the
		// same records.
		var again logBuffer
		if got := reopenRecordsFast(t, dir, &again); !slices.Equal(got, want) || strings.Contains(again.String(), "level=WARN") {
			t.Fatalf("cut at %d: second open replayed %q, log %q", cut, got, again.String())
		}
	}
}

// TestFlippedBits flips one bit in every byte of the last segment: the group
// holding the byte and everything after it are dropped with a warning.
func TestFlippedBits(t *testing.T) {
	fx := newRepairFixture(t)
	for i := range fx.seg2 {
		dir := fx.write(t, flip(fx.seg2, i, i%8))
		var log logBuffer
		got := reopenRecordsFast(t, dir, &log)
		intact := 0 // a damaged header loses the whole segment
		if i >= headerSize {
			intact = headerSize
			for _, end := range fx.frameEnds {
				if end <= i {
					intact = end
				}
			}
		}
		want := fx.survivors(intact)
		if !slices.Equal(got, want) {
			t.Fatalf("bit flip at %d: replayed %q, want %q", i, got, want)
		}
		wantLog := fmt.Sprintf("offset=%d", intact)
		if l := log.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, wantLog) {
			t.Fatalf("bit flip at %d: log %q, want a warning with %s", i, l, wantLog)
		}
	}
}

// TestCorruptEarlierSegment damages the middle segment of three: replay
// stops there and the later segment is dropped, with a warning.
func TestCorruptEarlierSegment(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir, Sync: SyncNever})
	var want []string
	for seg := 1; seg <= 3; seg++ {
		for k := range 3 {
			rec := testRecord(seg*10+k, 30)
			appendT(t, w, rec)
			if seg == 1 || (seg == 2 && k == 0) {
				want = append(want, string(rec))
			}
		}
		if seg < 3 {
			if _, err := w.Cut(); err != nil {
				t.Fatal(err)
			}
		}
	}
	closeT(t, w)
	path := filepath.Join(dir, segmentName(2))
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := checkGroup([][]byte{testRecord(20, 30)})
	if err != nil {
		t.Fatal(err)
	}
	second := headerSize + frameHeaderSize + first
	if err := os.WriteFile(path, flip(img, second+frameHeaderSize+2, 5), 0o644); err != nil {
		t.Fatal(err)
	}

	var log logBuffer
	w = openT(t, Options{Dir: dir, Sync: SyncNever, Logger: log.logger()})
	got := recordsOf(replayT(t, w, 0))
	_, last, _ := w.Segments()
	closeT(t, w)
	if !slices.Equal(got, want) {
		t.Errorf("replayed %q, want %q", got, want)
	}
	l := log.String()
	for _, s := range []string{"level=WARN", "segment=2", fmt.Sprintf("offset=%d", second), "dropped=1"} {
		if !strings.Contains(l, s) {
			t.Errorf("log %q lacks %q", l, s)
		}
	}
	if last != 3 {
		t.Errorf("active segment after repair = %d, want 3", last)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != int64(second) {
		t.Errorf("segment 2 after repair: %v, %v; want %d bytes", st, err, second)
	}
}

func TestMissingSegment(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir, Sync: SyncNever})
	for i := range 3 {
		appendT(t, w, testRecord(i, 10))
		if _, err := w.Cut(); err != nil {
			t.Fatal(err)
		}
	}
	closeT(t, w) // segments 1..4, the last one empty
	if err := os.Remove(filepath.Join(dir, segmentName(2))); err != nil {
		t.Fatal(err)
	}
	var log logBuffer
	got := reopenRecords(t, dir, &log)
	if want := []string{string(testRecord(0, 10))}; !slices.Equal(got, want) {
		t.Errorf("replayed %q, want %q", got, want)
	}
	if l := log.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "segment=2") {
		t.Errorf("log %q lacks a warning about segment 2", l)
	}
	if files := segmentFiles(t, dir); !slices.Equal(files, []int{1, 2}) {
		t.Errorf("files after repair %v, want [1 2] (2 is the new active segment)", files)
	}
}

func TestIgnoresForeignFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"notes.txt", "0000001", "00000002.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var log logBuffer
	if got := reopenRecords(t, dir, &log); len(got) != 0 || strings.Contains(log.String(), "WARN") {
		t.Errorf("replayed %q with log %q, want nothing", got, log.String())
	}
	if b, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(b) != "junk" {
		t.Errorf("foreign file changed: %q, %v", b, err)
	}
}
