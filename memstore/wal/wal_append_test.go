package wal

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestConcurrentAppend has many goroutines append groups under SyncBatch
// and checks that every acknowledged record is replayed exactly once, with
// each group's records adjacent and in order.
func TestConcurrentAppend(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir, SegmentSize: 16 << 10})
	const workers, groups = 16, 60
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for g := range workers {
		wg.Go(func() {
			for i := range groups {
				var recs [][]byte
				for k := range i%3 + 1 {
					recs = append(recs, fmt.Appendf(nil, "w%02d-g%03d-r%d-%s", g, i, k, strings.Repeat("x", (g*i+k)%90)))
				}
				if err := w.Append(context.Background(), recs...); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	appends := int64(workers * groups)
	if f := w.fsyncs.Load(); f < 1 || f > appends {
		t.Errorf("%d fsyncs for %d appends, want between 1 and %d", f, appends, appends)
	}
	if got, want := w.records.Load(), int64(workers*groups*2); got != want {
		t.Errorf("records written = %d, want %d", got, want)
	}
	closeT(t, w)

	got := reopenRecords(t, dir, nil)
	seen := map[string]bool{}
	next := make([]int, workers) // next group expected per worker
	for i := 0; i < len(got); {
		var g, grp, k int
		if _, err := fmt.Sscanf(got[i], "w%02d-g%03d-r%d-", &g, &grp, &k); err != nil {
			t.Fatalf("record %d %q: %v", i, got[i], err)
		}
		if k != 0 || grp != next[g] {
			t.Fatalf("record %d %q: want worker %d group %d record 0", i, got[i], g, next[g])
		}
		for k := range grp%3 + 1 {
			want := fmt.Sprintf("w%02d-g%03d-r%d-", g, grp, k)
			if i >= len(got) || !strings.HasPrefix(got[i], want) || seen[got[i]] {
				t.Fatalf("record %d: got %q, want unseen %s...", i, got[min(i, len(got)-1)], want)
			}
			seen[got[i]] = true
			i++
		}
		next[g]++
	}
	for g, n := range next {
		if n != groups {
			t.Errorf("worker %d: %d groups replayed, want %d", g, n, groups)
		}
	}
}

// TestSyncPolicies counts data fsyncs under each policy with a fake clock.
func TestSyncPolicies(t *testing.T) {
	tests := []struct {
		policy SyncPolicy
		// fsyncs after: one Append, a further 1.5 intervals, a second Append
		// and 1 more interval, Close.
		want [4]int64
	}{
		{SyncBatch, [4]int64{1, 1, 2, 3}},
		{SyncInterval, [4]int64{0, 1, 2, 3}},
		{SyncNever, [4]int64{0, 0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				w := openT(t, Options{Dir: dir, Sync: tt.policy, SyncInterval: time.Second})
				var got [4]int64
				appendT(t, w, []byte("one"))
				got[0] = w.fsyncs.Load()
				time.Sleep(1500 * time.Millisecond)
				synctest.Wait()
				got[1] = w.fsyncs.Load()
				appendT(t, w, []byte("two"))
				time.Sleep(time.Second)
				synctest.Wait()
				got[2] = w.fsyncs.Load()
				closeT(t, w)
				got[3] = w.fsyncs.Load()
				if got != tt.want {
					t.Errorf("fsyncs %v, want %v", got, tt.want)
				}
			})
		})
	}
}

// TestGroupCommitWindow checks that appenders arriving within the window
// share one write and one fsync.
func TestGroupCommitWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		w := openT(t, Options{Dir: dir, GroupCommitWindow: 5 * time.Millisecond})
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() { appendT(t, w, fmt.Appendf(nil, "r%d", i)) })
		}
		wg.Wait()
		if f := w.fsyncs.Load(); f != 1 {
			t.Errorf("%d fsyncs for 8 appends in one window, want 1", f)
		}
		if d := time.Since(start); d != 5*time.Millisecond {
			t.Errorf("appends took %s of fake time, want the 5ms window", d)
		}
		closeT(t, w)
		if got := reopenRecords(t, dir, nil); len(got) != 8 {
			t.Errorf("replayed %d records, want 8", len(got))
		}
	})
}

// TestCutOrdersPendingAppends checks that a group acknowledged before Cut
// lands in a segment below the one Cut returns.
func TestCutOrdersPendingAppends(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, Options{Dir: dir, Sync: SyncNever, noSync: true})
	cuts := map[string]int{}
	for i := range 20 {
		rec := fmt.Sprintf("r%02d", i)
		appendT(t, w, []byte(rec))
		seg, err := w.Cut()
		if err != nil {
			t.Fatal(err)
		}
		cuts[rec] = seg
	}
	closeT(t, w)
	w = openT(t, Options{Dir: dir, Sync: SyncNever, noSync: true})
	defer closeT(t, w)
	got := replayT(t, w, 0)
	if len(got) != 20 {
		t.Fatalf("replayed %d records, want 20", len(got))
	}
	for _, r := range got {
		if r.seg != cuts[r.rec]-1 {
			t.Errorf("%s in segment %d, want %d (Cut returned %d)", r.rec, r.seg, cuts[r.rec]-1, cuts[r.rec])
		}
	}
}
