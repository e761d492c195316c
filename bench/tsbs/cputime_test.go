package tsbs

import (
	"testing"
	"time"

	"github.com/tidaldb/tidal/internal/cputime"
)

func processCPU() time.Duration { return cputime.Process() }

// cpuMeter reports CPU time per operation, which stays meaningful on a
// loaded machine where wall-clock ns/op does not.
type cpuMeter struct{ start time.Duration }

func startCPU(b *testing.B) cpuMeter {
	b.Helper()
	return cpuMeter{start: processCPU()}
}

// report adds cpu-ns/op and, for rate > 0 units per op, "<unit>/cpu-s".
func (m cpuMeter) report(b *testing.B, perOp float64, unit string) {
	b.Helper()
	used := processCPU() - m.start
	if used <= 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	if perOp > 0 {
		b.ReportMetric(perOp*float64(b.N)/used.Seconds(), unit+"/cpu-s")
	}
}
