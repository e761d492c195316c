package unload_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	qexec "github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/unload"
)

// countingInner counts the rows its Stream hands on.
type countingInner struct {
	*qexec.Engine
	rows atomic.Int64
}

type countingSink struct {
	qexec.Sink
	n *atomic.Int64
}

func (s countingSink) Row(r []qexec.Value) error { s.n.Add(1); return s.Sink.Row(r) }

func (c *countingInner) Stream(ctx context.Context, sql string, params map[string]qexec.Value, sink qexec.Sink) (qexec.Stats, error) {
	return c.Engine.Stream(ctx, sql, params, countingSink{Sink: sink, n: &c.rows})
}

// watchTarget records how many rows the query had produced when each data
// file saw its first byte.
type watchTarget struct {
	unload.Target
	inner *countingInner
	first []int64
}

type watchObject struct {
	unload.Object
	seen *bool
	at   func()
}

func (o watchObject) Write(p []byte) (int, error) {
	if !*o.seen {
		*o.seen = true
		o.at()
	}
	return o.Object.Write(p)
}

func (w *watchTarget) Create(ctx context.Context, bucket, key string) (unload.Object, error) {
	obj, err := w.Target.Create(ctx, bucket, key)
	if err != nil || !strings.Contains(key, "/results/") {
		return obj, err
	}
	seen := false
	return watchObject{Object: obj, seen: &seen, at: func() { w.first = append(w.first, w.inner.rows.Load()) }}, nil
}

// TestStreamed: files are written while the query still produces rows,
// not after it has been collected.
func TestStreamed(t *testing.T) {
	inner := &countingInner{Engine: newEngine(t, 10, 4000)}
	root := t.TempDir()
	wt := &watchTarget{Target: &unload.FileTarget{Root: root}, inner: inner}
	u := unload.New(inner, unload.Options{Targets: map[string]unload.Target{"file": wt}})
	for _, with := range []string{`format = 'CSV', compression = 'NONE'`, `format = 'CSV'`} {
		wt.first = nil
		inner.rows.Store(0)
		res := runUnload(t, u, `UNLOAD (SELECT hostname, time, usage_user, usage_system, note FROM devops.cpu) TO 'file:///s/' WITH (`+with+`)`)
		if res.Rows != 40000 || len(wt.first) != 1 {
			t.Fatalf("%s: %d rows, %d files", with, res.Rows, len(wt.first))
		}
		if wt.first[0] >= res.Rows/2 {
			t.Fatalf("%s: first byte written after %d of %d rows", with, wt.first[0], res.Rows)
		}
	}
}

var _ io.Writer = watchObject{}

// cancelAfter cancels the query's context once n rows have passed.
type cancelAfter struct {
	*qexec.Engine
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Stream(ctx context.Context, sql string, params map[string]qexec.Value, sink qexec.Sink) (qexec.Stats, error) {
	var seen atomic.Int64
	return c.Engine.Stream(ctx, sql, params, cancelSink{Sink: sink, f: func() {
		if seen.Add(1) == c.n {
			c.cancel()
		}
	}})
}

type cancelSink struct {
	qexec.Sink
	f func()
}

func (s cancelSink) Row(r []qexec.Value) error { s.f(); return s.Sink.Row(r) }

// TestCanceled: cancelling an UNLOAD (CancelQuery, a client gone) stops
// it with ErrCanceled and leaves no manifest and no temporary file.
func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inner := &cancelAfter{Engine: newEngine(t, 5, 2000), n: 3000, cancel: cancel}
	root := t.TempDir()
	u := unload.New(inner, unload.Options{FileRoot: root})
	_, _, err := u.Unload(ctx, `UNLOAD (SELECT hostname, time, usage_user FROM devops.cpu) TO 'file:///c/' WITH (format = 'CSV')`, nil)
	var ee *qexec.Error
	if !errors.As(err, &ee) || ee.Kind != qexec.ErrCanceled {
		t.Fatalf("err = %v", err)
	}
	matches, _ := filepath.Glob(filepath.Join(root, "c", "*"))
	for _, m := range matches {
		if filepath.Base(m) != "results" {
			t.Fatalf("left %s", m)
		}
	}
	assertNoTemp(t, root)
}
