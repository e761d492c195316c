package bench

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progress draws one status line on a terminal ("\r", no escape codes, no
// dependency): done/total, rate and ETA, refreshed a few times a second
// until Stop.
type progress struct {
	w     io.Writer
	label string
	unit  string
	total int64
	start time.Time
	done  atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
}

// progressEvery is the refresh period of the progress line.
const progressEvery = 250 * time.Millisecond

// startProgress starts drawing on w; a nil w draws nothing.
func startProgress(w io.Writer, label, unit string, total int64) *progress {
	p := &progress{w: w, label: label, unit: unit, total: total, start: time.Now(), stop: make(chan struct{})}
	if w == nil {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw(false)
			}
		}
	}()
	return p
}

// Add records n more units done. It is safe for concurrent use.
func (p *progress) Add(n int64) { p.done.Add(n) }

// Stop draws the final line, ends it with a newline and stops the drawer.
func (p *progress) Stop() {
	close(p.stop)
	p.wg.Wait()
	if p.w != nil {
		p.draw(true)
	}
}

func (p *progress) draw(final bool) {
	_, _ = io.WriteString(p.w, progressLine(p.label, p.unit, p.done.Load(), p.total, time.Since(p.start), final))
}

// progressLine formats one status line: "\r" + label, done/total with
// percentage, rate per second and ETA (or the elapsed time when final).
func progressLine(label, unit string, done, total int64, elapsed time.Duration, final bool) string {
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	tail := "ETA --   "
	switch {
	case final:
		tail = "in " + elapsed.Round(10*time.Millisecond).String() + "\n"
	case rate > 0 && total >= done:
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		tail = "ETA " + eta.Round(time.Second).String() + "   "
	}
	return fmt.Sprintf("\r%-30s %s/%s %s (%5.1f%%)  %s/s  %s", label, humanCount(float64(done)), humanCount(float64(total)), unit, pct, humanCount(rate), tail)
}

// humanCount writes n with a K/M/G suffix.
func humanCount(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fK", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}
