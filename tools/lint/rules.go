package main

import (
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
)

const module = "github.com/tidaldb/tidal/"

// A rule forbids the packages under From (module-relative; "" is every
// package) to import Deny (module-relative paths, or standard and third-party
// paths when they hold a dot or name a standard package), except Allow.
// A path matches a pattern that equals it or is its parent; a pattern ending
// in $ matches only the path itself.
type rule struct {
	From  string
	Deny  []string
	Allow []string
	Why   string
}

// rules are the layering of the system: ingestors hand records to an
// ingest.Appender and know no tier; the magnetic tier knows nothing of the
// memory tier; queries reach the tiers only through query/scan; the scan
// interfaces name no implementation; the tiers import nothing from query but
// query/scan.
var rules = []rule{
	{From: "", Deny: []string{"github.com/pkg/errors"}, Why: "use the standard errors package with %w"},
	{From: "", Deny: []string{"io/ioutil"}, Why: "deprecated; use io and os"},
	{From: "ingest", Deny: []string{"memstore", "magnetic"}, Why: "ingestors hand records to an ingest.Appender and know no tier"},
	{From: "magnetic", Deny: []string{"memstore"}, Why: "the magnetic tier knows nothing of the memory tier"},
	{From: "query", Deny: []string{"memstore", "magnetic"}, Why: "queries reach the tiers only through query/scan"},
	{From: "query/scan", Deny: []string{""}, Allow: []string{"query/scan", "ingest"}, Why: "the scan interfaces import no implementation"},
	{From: "memstore", Deny: []string{"query"}, Allow: []string{"query/scan$"}, Why: "storage tiers import query/scan and nothing else from query"},
	{From: "magnetic", Deny: []string{"query"}, Allow: []string{"query/scan$"}, Why: "storage tiers import query/scan and nothing else from query"},
	{From: "scheduled", Deny: []string{"memstore", "magnetic"}, Why: "scheduled queries read through the query engine and write through an ingest.Appender"},
}

// under reports whether path is pattern or below it; "" is above everything.
func under(path, pattern string) bool {
	if exact, ok := strings.CutSuffix(pattern, "$"); ok {
		return path == exact
	}
	return pattern == "" || path == pattern || strings.HasPrefix(path, pattern+"/")
}

// local returns the module-relative form of an import path and whether it is
// in the module.
func local(path string) (string, bool) {
	if path == strings.TrimSuffix(module, "/") {
		return "", true
	}
	if rest, ok := strings.CutPrefix(path, module); ok {
		return rest, true
	}
	return path, false
}

// violation returns the rule that forbids package from (module-relative) to
// import path, or nil.
func violation(from, path string) *rule {
	rel, inModule := local(path)
	for i := range rules {
		r := &rules[i]
		if !under(from, r.From) {
			continue
		}
		match := func(patterns []string) bool {
			for _, p := range patterns {
				if isModulePattern(p) {
					if inModule && under(rel, p) {
						return true
					}
				} else if under(path, p) {
					return true
				}
			}
			return false
		}
		if match(r.Deny) && !match(r.Allow) {
			return r
		}
	}
	return nil
}

// isModulePattern reports whether a pattern names module packages rather
// than a standard or third-party path.
func isModulePattern(p string) bool {
	return !strings.Contains(p, ".") && p != "io/ioutil"
}

var depguardAnalyzer = &analysis.Analyzer{
	Name: "depguard",
	Doc:  "enforces the import rules between TidalDB's layers",
	Run: func(pass *analysis.Pass) (any, error) {
		from, ok := local(strings.TrimSuffix(pass.Pkg.Path(), "_test"))
		if !ok {
			return nil, nil
		}
		for _, f := range pass.Files {
			for _, imp := range f.Imports {
				path, err := strconv.Unquote(imp.Path.Value)
				if err != nil {
					continue
				}
				if r := violation(from, path); r != nil {
					pass.Reportf(imp.Pos(), "import %q is not allowed here: %s", path, r.Why)
				}
			}
		}
		return nil, nil
	},
}
