package timestreamapi

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	tsq "github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
)

// onlyCursor returns the one cursor the store holds.
func onlyCursor(t *testing.T, e *testEnv) *cursor {
	t.Helper()
	s := e.api.cursors
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) != 1 {
		t.Fatalf("%d cursors, want 1", len(s.byID))
	}
	for _, c := range s.byID {
		return c
	}
	return nil
}

// waitPaused polls until c's query waits for room in its window.
func waitPaused(t *testing.T, c *cursor) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !c.st.isPaused(); {
		if time.Now().After(deadline) {
			t.Fatal("the streamed query never paused")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStreamedPaging pages a scan of 20,000 rows that does not fit the
// stream window (small pages): every row once, in scan order, with the
// query pausing between pages instead of materialising the result.
func TestStreamedPaging(t *testing.T) {
	const hosts, steps = 4, 5000
	e := newTestEnv(t, newEngine(t, hosts, steps, nil), Options{MaxPageBytes: 8 << 10})
	sql := "SELECT hostname, time, usage_user FROM devops.cpu"
	p := tsq.NewQueryPaginator(e.client, &tsq.QueryInput{QueryString: aws.String(sql), MaxRows: aws.Int32(500)})
	n, pages, maxWindow := 0, 0, int64(0)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		if pages == 2 {
			cur := onlyCursor(t, e)
			cur.st.mu.Lock()
			maxWindow = max(maxWindow, cur.st.bytes)
			cur.st.mu.Unlock()
		}
		for _, r := range out.Rows {
			h, s := n/steps, n%steps
			want := fmt.Sprintf("host_%d %s", h, engineStart.Add(time.Duration(s)*10*time.Second).Format(TimestampLayout))
			if got := aws.ToString(r.Data[0].ScalarValue) + " " + aws.ToString(r.Data[1].ScalarValue); got != want {
				t.Fatalf("row %d = %s, want %s", n, got, want)
			}
			n++
		}
	}
	if n != hosts*steps {
		t.Fatalf("%d rows, want %d", n, hosts*steps)
	}
	if lim := e.api.streamWindowBytes(); maxWindow > lim+1024 {
		t.Errorf("window held %d bytes, over its %d limit", maxWindow, lim)
	}
	if pages < n/500 {
		t.Errorf("%d pages for %d rows", pages, n)
	}
}

// TestAbandonedStream: a client that reads one page and goes away leaves a
// paused query holding a bounded window; it is evicted when another query
// needs its slot, and expires when idle. Its tokens are then invalid.
func TestAbandonedStream(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newTestEnv(t, newEngine(t, 4, 5000, nil), Options{MaxPageBytes: 8 << 10, MaxConcurrentQueries: 1, Now: clock})
	ctx := context.Background()
	sql := "SELECT hostname, time, usage_user FROM devops.cpu"
	first, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql), MaxRows: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Rows) == 0 || first.NextToken == nil {
		t.Fatalf("first page: %d rows, token %v", len(first.Rows), first.NextToken)
	}
	c := onlyCursor(t, e)
	waitPaused(t, c)
	c.st.mu.Lock()
	held := c.st.bytes
	c.st.mu.Unlock()
	if lim := e.api.streamWindowBytes(); held > lim+1024 {
		t.Fatalf("paused query holds %d bytes, over its %d window", held, lim)
	}
	// The slot is needed: the paused query goes, the new one runs.
	if _, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String("SELECT count(*) FROM devops.cpu")}); err != nil {
		t.Fatalf("query while a stream is paused: %v", err)
	}
	_, err = e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql), MaxRows: aws.Int32(100), NextToken: first.NextToken})
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token")

	// Idle expiry.
	second, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql), MaxRows: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	waitPaused(t, onlyCursor(t, e))
	mu.Lock()
	now = now.Add(DefaultStreamIdle + time.Second)
	mu.Unlock()
	_, err = e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql), MaxRows: aws.Int32(100), NextToken: second.NextToken})
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token")
}

// TestCancelPausedStream: CancelQuery stops a streamed query paused
// between pages; its next poll is a ConflictException.
func TestCancelPausedStream(t *testing.T) {
	e := newTestEnv(t, newEngine(t, 4, 5000, nil), Options{MaxPageBytes: 8 << 10})
	ctx := context.Background()
	sql := "SELECT hostname, time, usage_user FROM devops.cpu"
	first, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql), MaxRows: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	c := onlyCursor(t, e)
	waitPaused(t, c)
	if _, err := e.client.CancelQuery(ctx, &tsq.CancelQueryInput{QueryId: first.QueryId}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !c.st.isDone(); {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled query is still running")
		}
		time.Sleep(time.Millisecond)
	}
	_, err = e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(sql), MaxRows: aws.Int32(100), NextToken: first.NextToken})
	wantAPIError[*types.ConflictException](t, err, "")
}

// runningQueries is how many query goroutines have not ended.
func runningQueries(e *testEnv) int {
	s := e.api.cursors
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// TestAbandonedRunningQuery: a client that got a NextToken for a running
// query and left without polling again (or CancelQuery) does not leave the
// query running: it is cancelled once no call has waited on it for
// AbandonAfter. A client that keeps polling keeps its query.
func TestAbandonedRunningQuery(t *testing.T) {
	const endless = "SELECT count(*) FROM unnest(sequence(1, 10000)) a CROSS JOIN unnest(sequence(1, 10000)) b CROSS JOIN unnest(sequence(1, 10000)) c"
	e := newTestEnv(t, newEngine(t, 1, 1, nil), Options{WaitTime: 50 * time.Millisecond, AbandonAfter: 500 * time.Millisecond})
	ctx := context.Background()
	out, err := e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(endless)})
	if err != nil {
		t.Fatal(err)
	}
	if out.NextToken == nil || len(out.Rows) != 0 {
		t.Fatalf("first call: %d rows, token %v; want a running query's token", len(out.Rows), out.NextToken)
	}
	for deadline := time.Now().Add(30 * time.Second); runningQueries(e) != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("abandoned query still running after 30s")
		}
	}
	_, err = e.client.Query(ctx, &tsq.QueryInput{QueryString: aws.String(endless), NextToken: out.NextToken})
	wantAPIError[*types.ValidationException](t, err, "Invalid pagination token")

	// 10^7 rows: many polls of 50ms each, none abandoned.
	p := tsq.NewQueryPaginator(e.client, &tsq.QueryInput{QueryString: aws.String("SELECT count(*) FROM unnest(sequence(1, 10000)) a CROSS JOIN unnest(sequence(1, 1000)) b")})
	var got []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("polled query: %v", err)
		}
		for _, r := range page.Rows {
			got = append(got, aws.ToString(r.Data[0].ScalarValue))
		}
	}
	if len(got) != 1 || got[0] != "10000000" {
		t.Fatalf("polled query rows %q, want [10000000]", got)
	}
}
