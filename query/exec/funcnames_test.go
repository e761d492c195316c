package exec

import (
	"slices"
	"testing"
)

func TestFunctionNames(t *testing.T) {
	names := FunctionNames()
	for _, want := range []string{"bin", "ago", "avg", "approx_percentile", "row_number", "interpolate_linear", "date_trunc"} {
		if !slices.Contains(names, want) {
			t.Errorf("FunctionNames lacks %s", want)
		}
	}
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("FunctionNames not sorted or repeats: %v", names)
	}
}
