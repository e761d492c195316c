package wal

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// logBuffer is a concurrency-safe sink for a test logger.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func openT(t testing.TB, opts Options) *WAL {
	t.Helper()
	w, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", opts.Dir, err)
	}
	return w
}

func closeT(t testing.TB, w *WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func appendT(t testing.TB, w *WAL, recs ...[]byte) {
	t.Helper()
	if err := w.Append(context.Background(), recs...); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

// replayed is one record seen by Replay.
type replayed struct {
	seg int
	rec string
}

func replayT(t testing.TB, w *WAL, from int) []replayed {
	t.Helper()
	var out []replayed
	err := w.Replay(from, func(seg int, rec []byte) error {
		out = append(out, replayed{seg: seg, rec: string(rec)})
		return nil
	})
	if err != nil {
		t.Fatalf("Replay(%d): %v", from, err)
	}
	return out
}

func recordsOf(rs []replayed) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.rec
	}
	return out
}

// reopenRecords opens dir, replays everything and closes it again.
func reopenRecords(t testing.TB, dir string, log *logBuffer) []string {
	t.Helper()
	return reopenRecordsOpts(t, Options{Dir: dir, Sync: SyncNever}, log)
}

// reopenRecordsFast is reopenRecords without fsyncs, for loops over many
// damaged copies of a WAL.
func reopenRecordsFast(t testing.TB, dir string, log *logBuffer) []string {
	t.Helper()
	return reopenRecordsOpts(t, Options{Dir: dir, Sync: SyncNever, noSync: true}, log)
}

func reopenRecordsOpts(t testing.TB, opts Options, log *logBuffer) []string {
	t.Helper()
	if log != nil {
		opts.Logger = log.logger()
	}
	w := openT(t, opts)
	defer closeT(t, w)
	return recordsOf(replayT(t, w, 0))
}

// testRecord returns the i-th test record: a sequence number and a
// pseudo-random payload of 0 to maxPad bytes, fixed for i.
func testRecord(i, maxPad int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	pad := r.IntN(maxPad + 1)
	b := fmt.Appendf(nil, "rec-%08d:", i)
	for range pad {
		b = append(b, byte('a'+r.IntN(26)))
	}
	return b
}

// segmentFiles returns the segment indexes present in dir.
func segmentFiles(t testing.TB, dir string) []int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		if n, ok := parseSegmentName(e.Name()); ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func dirSize(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	for _, idx := range segmentFiles(t, dir) {
		st, err := os.Stat(filepath.Join(dir, segmentName(idx)))
		if err != nil {
			t.Fatal(err)
		}
		n += st.Size()
	}
	return n
}
