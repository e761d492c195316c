package encoding

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the shared zstd encoder and decoder leave no
// goroutines behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
