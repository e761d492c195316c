package exec

import (
	"maps"
	"slices"
)

// FunctionNames returns the names of every SQL function the engine knows,
// scalar, aggregate and window, sorted; editors complete them.
func FunctionNames() []string {
	names := slices.Collect(maps.Keys(funcs))
	names = append(names, slices.Collect(maps.Keys(aggDefs))...)
	names = append(names, slices.Collect(maps.Keys(rankFuncs))...)
	slices.Sort(names)
	return slices.Compact(names)
}
