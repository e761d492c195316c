package exec

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCancelExpandingJoins: a cancelled query stops even when one input
// row expands to very many (a lateral unnest over another, a cross join):
// each query here would run for hours (10^12 rows) if the context were
// checked only per input row.
func TestCancelExpandingJoins(t *testing.T) {
	const seq = "unnest(sequence(1, 10000))"
	for _, tc := range []struct{ name, sql string }{
		{"lateral unnest", "SELECT count(*) FROM " + seq + " a CROSS JOIN " + seq + " b CROSS JOIN " + seq + " c"},
		{"join node", "SELECT count(*) FROM (SELECT x FROM " + seq + " AS t(x)) a CROSS JOIN (SELECT y FROM " + seq + " AS t(y)) b CROSS JOIN (SELECT z FROM " + seq + " AS t(z)) c"},
		{"join with residual", "SELECT count(*) FROM (SELECT x FROM " + seq + " AS t(x)) a JOIN (SELECT y FROM " + seq + " AS t(y)) b ON a.x + b.y > 0 JOIN (SELECT z FROM " + seq + " AS t(z)) c ON c.z <> b.y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newTestDB(t)
			e := New(db.cat, db, Options{})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			done := make(chan error, 1)
			go func() {
				_, err := e.Query(ctx, tc.sql, nil)
				done <- err
			}()
			select {
			case err := <-done:
				var qe *Error
				if !errors.As(err, &qe) || qe.Kind != ErrCanceled {
					t.Fatalf("Query = %v, want the engine's cancellation error", err)
				}
			case <-time.After(2 * time.Minute):
				t.Fatal("cancelled query still running after 2 minutes")
			}
		})
	}
}
