//go:build race

package scantest

// scans is how many random scans Run checks. Under the race detector, which
// makes every scan several times slower, Run checks fewer: the race run is
// there for the concurrency inside each scan, which the first scans exercise
// as well as the last; the plain run checks all of them.
const scans = 40
