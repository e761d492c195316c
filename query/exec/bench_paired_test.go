package exec

import (
	"slices"
	"testing"
	"time"
)

// benchPaired runs each of paths once per iteration, rotating their order,
// and reports each path's mean wall time (<name>-ms), CPU time
// (<name>-cpu-ms) and the median per-iteration ratio of every path's
// wall time to the first path's (<name>/<first>). The paths share the
// machine's load, so the ratio holds where absolute times do not.
func benchPaired(b *testing.B, names []string, paths []func()) {
	b.Helper()
	total := make([]time.Duration, len(paths))
	cpu := make([]int64, len(paths))
	ratio := make([][]float64, len(paths))
	round := 0
	for b.Loop() {
		took := make([]time.Duration, len(paths))
		for k := range paths {
			i := (k + round) % len(paths)
			start, c0 := time.Now(), processCPU()
			paths[i]()
			took[i] = time.Since(start)
			cpu[i] += processCPU() - c0
		}
		for i := range paths {
			total[i] += took[i]
			ratio[i] = append(ratio[i], float64(took[i])/float64(max(took[0], 1)))
		}
		round++
	}
	for i, n := range names {
		b.ReportMetric(total[i].Seconds()*1e3/float64(round), n+"-ms")
		b.ReportMetric(float64(cpu[i])/1e6/float64(round), n+"-cpu-ms")
		if i > 0 {
			r := ratio[i]
			slices.Sort(r)
			b.ReportMetric(r[len(r)/2], n+"/"+names[0])
		}
	}
}
