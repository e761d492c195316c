package mqtt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tidaldb/tidal/ingest"
)

// rejectingAppender refuses records whose measure "v" is negative and
// fails every Append to table "broken"; it counts Appends and records.
type rejectingAppender struct {
	mu      sync.Mutex
	appends int
	stored  map[string]int // table → records
}

func (a *rejectingAppender) Append(_ context.Context, _, table string, recs []ingest.Record, _ ingest.AppendOptions) (ingest.Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.appends++
	if table == "broken" {
		return ingest.Result{}, errors.New("disk full")
	}
	var res ingest.Result
	for i, r := range recs {
		if r.Measures[0].Value.Float() < 0 {
			res.Rejected = append(res.Rejected, ingest.Rejection{Index: i, Reason: fmt.Sprintf("negative %v", r.Measures[0].Value.Float())})
			continue
		}
		res.MemoryStore++
		a.stored[table]++
	}
	return res, nil
}

func TestBatcher(t *testing.T) {
	app := &rejectingAppender{stored: map[string]int{}}
	b := newBatcher(app)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(b.run)
	}
	rec := func(v float64) ingest.Record {
		return ingest.Record{Measures: []ingest.Measure{{Name: "v", Value: ingest.Float(v)}}}
	}
	const publishers = 200
	var pubs sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		pubs.Go(func() {
			table := []string{"a", "b", "broken"}[p%3]
			// Record 1 of every publisher is refused.
			n, rejected, err := b.append("db", table, []ingest.Record{rec(1), rec(-float64(p + 1)), rec(2)})
			switch {
			case table == "broken":
				if err == nil {
					errs <- fmt.Errorf("publisher %d: no error from a failing Append", p)
				}
			case err != nil || n != 2 || len(rejected) != 1 || rejected[0].Index != 1 || rejected[0].Reason != fmt.Sprintf("negative %v", -float64(p+1)):
				errs <- fmt.Errorf("publisher %d: stored %d rejected %+v err %w", p, n, rejected, err)
			}
		})
	}
	pubs.Wait()
	close(b.stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantA, wantB := 2*67, 2*67 // p%3 == 0: 67 publishers, p%3 == 1: 67
	if app.stored["a"] != wantA || app.stored["b"] != wantB {
		t.Errorf("stored %v, want a=%d b=%d", app.stored, wantA, wantB)
	}
	t.Logf("%d publishes in %d Appends", publishers, app.appends)
	if _, _, err := b.append("db", "a", []ingest.Record{rec(1)}); !errors.Is(err, errStopped) {
		t.Errorf("append after stop: %v", err)
	}
}
