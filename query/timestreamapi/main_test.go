package timestreamapi

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no query goroutine outlives its test. The SDK's HTTP
// keep-alive connections are not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}
