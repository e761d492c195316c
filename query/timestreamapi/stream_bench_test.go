package timestreamapi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/query/exec"
)

// rowPerAlloc is stream.Row as it was: a copy of the values of every row
// (encoded when its page is served) and a new channel per row, whether or
// not anyone waited. The benchmark holds the current Row to it.
type rowPerAlloc struct {
	mu      sync.Mutex
	changed chan struct{}
	rows    [][]exec.Value
	bytes   int64
}

func (s *rowPerAlloc) Row(r []exec.Value) error {
	row := exec.CloneRow(r)
	size := int64(24)
	for i := range row {
		size += valueSize(&row[i])
	}
	s.mu.Lock()
	s.rows = append(s.rows, row)
	s.bytes += size
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return nil
}

// BenchmarkStreamRow pushes high-cpu-all's rows (15 columns) through the
// paging window's Row, as a streamed query does, dropping the window every
// page's worth of rows after encoding them as a page, as a paging client does, while a client waits for a
// page the rows do not fill, and reports the same with
// the Row before (a new channel and a wake-up of the waiting client per row) as before/after.
func BenchmarkStreamRow(b *testing.B) {
	res := devopsResult(100, 30) // 14 columns
	for i := range res.Rows {
		res.Rows[i] = append(res.Rows[i], exec.Value{Kind: exec.KindVarchar, S: "host_1"})
	}
	const page = 1500
	run := func(push func([]exec.Value), drop func()) time.Duration {
		t0 := time.Now()
		for i, r := range res.Rows {
			push(r)
			if i%page == page-1 {
				drop()
			}
		}
		drop()
		return time.Since(t0)
	}
	a := New(nil, Options{})
	defer a.Close()
	cols := res.Columns
	cols = append(cols, exec.Column{Name: "hostname_b", Type: exec.TypeVarchar})
	types := make([]exec.Type, len(cols))
	for i := range cols {
		types[i] = cols[i].Type
	}
	var now, before time.Duration
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		st := newStream(ctx, cancel, 1<<40, time.Hour)
		_ = st.Columns(cols)
		// A client waits for a page the rows do not fill.
		waiter := make(chan struct{})
		go func() {
			defer close(waiter)
			_, _ = st.wait(ctx, 0, 0, 1<<40, time.Hour)
		}()
		now += run(func(r []exec.Value) { _ = st.Row(r) }, func() {
			st.mu.Lock()
			_, n, err := a.encodedPage("q", st.colInfo, st.rows, 0)
			end := st.base + n
			st.mu.Unlock()
			if err != nil {
				b.Fatal(err)
			}
			st.release(end)
		})
		cancel()
		<-waiter
		old := &rowPerAlloc{changed: make(chan struct{})}
		ctx, cancel = context.WithCancel(context.Background())
		waiter = make(chan struct{})
		go func() {
			defer close(waiter)
			for {
				old.mu.Lock()
				ch := old.changed
				old.mu.Unlock()
				select {
				case <-ch:
				case <-ctx.Done():
					return
				}
			}
		}()
		before += run(func(r []exec.Value) { _ = old.Row(r) }, func() {
			old.mu.Lock()
			_, _, err := a.encodeRows("q", nil, types, old.rows, 0)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range old.rows {
				old.bytes -= 24
				for i := range r {
					old.bytes -= valueSize(&r[i])
				}
			}
			clear(old.rows)
			old.rows = old.rows[len(old.rows):]
			old.mu.Unlock()
		})
		cancel()
		<-waiter
	}
	n := float64(b.N * len(res.Rows))
	b.ReportMetric(float64(now.Nanoseconds())/n, "ns/row")
	b.ReportMetric(float64(before.Nanoseconds())/n, "ns/row-before")
	b.ReportMetric(float64(before)/float64(now), "before/after")
}

// BenchmarkPageBuf fills a 1 MB page in a buffer from pageBuf, given back
// once written as ServeHTTP does, and in a new buffer per page (before),
// and reports before/after. A new buffer is zeroed and adds a megabyte to
// the collector's count each page.
func BenchmarkPageBuf(b *testing.B) {
	const maxPage = DefaultMaxPageBytes
	row := []byte(`{"Data":[{"ScalarValue":"host_1"},{"ScalarValue":"2026-12-08 03:00:00.000000000"},{"ScalarValue":"91.5"}]},`)
	fill := func(buf []byte) []byte {
		for len(buf)+len(row) <= maxPage {
			buf = append(buf, row...)
		}
		return buf
	}
	var now, before time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		putPageBuf(fill(pageBuf(maxPage, maxPage)))
		t1 := time.Now()
		sink = fill(make([]byte, 0, maxPage))
		now, before = now+t1.Sub(t0), before+time.Since(t1)
	}
	b.ReportMetric(float64(now.Nanoseconds())/float64(b.N), "ns/page")
	b.ReportMetric(float64(before.Nanoseconds())/float64(b.N), "ns/page-before")
	b.ReportMetric(float64(before)/float64(now), "before/after")
}

var sink []byte
