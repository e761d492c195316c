//go:build !race

package scantest

// scans is how many random scans Run checks (fewer under the race detector:
// see race.go).
const scans = 200
