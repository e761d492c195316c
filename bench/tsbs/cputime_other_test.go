//go:build !unix

package tsbs

import "testing"

type cpuMeter struct{}

func startCPU(*testing.B) cpuMeter { return cpuMeter{} }

func (cpuMeter) report(*testing.B, float64, string) {}
