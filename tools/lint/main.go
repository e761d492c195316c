// Command tidal-lint is TidalDB's linter: one vet tool that bundles the
// checks the project lints with, run by `go vet -vettool`, so the go command
// drives it package by package, in parallel, with facts and results in the
// build cache.
//
// It replaces golangci-lint, which took about ten minutes to build from
// source on a fresh two-core machine; this module builds in a fraction of
// that from the Go module proxy. It keeps the golangci-lint set the project
// had enabled:
//
//   - staticcheck: every SA, S, ST and QF check but ST1000, ST1003, ST1016,
//     ST1020, ST1021, ST1022, QF1001 and QF1002; and U1000 (unused code)
//   - errcheck, without the errors a program commonly drops (Close, Flush,
//     os.Remove, printing, os.Setenv) and without bufio.Writer writes, whose
//     errors are sticky and surface at Flush
//   - errorlint (comparisons, type assertions, and fmt.Errorf without %w)
//   - bodyclose, nilerr, ineffassign, misspell (comments)
//   - depguard: the layering rules in rules.go
//
// go vet's own analyzers are run by `go vet` itself (see the Makefile).
// A `//nolint` or `//nolint:name` comment on the reported line silences a
// check; errcheck, bodyclose and depguard do not look at _test.go files.
//
// Usage: go build -o bin/tidal-lint ./tools/lint (from this module's
// directory) and then `go vet -vettool=bin/tidal-lint ./...`.
package main

import (
	"go/ast"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/gordonklaus/ineffassign/pkg/ineffassign"
	"github.com/gostaticanalysis/nilerr"
	"github.com/polyfloyd/go-errorlint/errorlint"
	"github.com/timakin/bodyclose/passes/bodyclose"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/unitchecker"
	"honnef.co/go/tools/analysis/lint"
	"honnef.co/go/tools/quickfix"
	"honnef.co/go/tools/simple"
	"honnef.co/go/tools/staticcheck"
	"honnef.co/go/tools/stylecheck"
)

// disabled lists the staticcheck checks the project does not want: package
// comments and naming conventions it decided against, and quick fixes that
// are a matter of taste.
var disabled = map[string]bool{
	"ST1000": true, "ST1003": true, "ST1016": true, "ST1020": true, "ST1021": true, "ST1022": true,
	"QF1001": true, "QF1002": true,
}

func main() {
	var analyzers []*analysis.Analyzer
	for _, set := range [][]*lint.Analyzer{staticcheck.Analyzers, simple.Analyzers, stylecheck.Analyzers, quickfix.Analyzers} {
		for _, a := range set {
			if !disabled[a.Analyzer.Name] {
				analyzers = append(analyzers, guard(a.Analyzer, "staticcheck"))
			}
		}
	}
	errorf := errorlint.NewAnalyzer()
	if err := errorf.Flags.Set("errorf", "true"); err != nil {
		panic(err)
	}
	analyzers = append(analyzers,
		guard(unusedAnalyzer, "unused"),
		guard(errcheckAnalyzer, "errcheck"),
		guard(errorf, "errorlint"),
		guard(bodyclose.Analyzer, "bodyclose"),
		guard(nilerr.Analyzer, "nilerr"),
		guard(ineffassign.Analyzer, "ineffassign"),
		guard(misspellAnalyzer, "misspell"),
		guard(depguardAnalyzer, "depguard"),
	)
	unitchecker.Main(analyzers...)
}

// skipTests names the linters that do not look at test files.
var skipTests = map[string]bool{"errcheck": true, "bodyclose": true, "depguard": true}

// guard wraps an analyzer so that its findings name the linter, skip
// generated files, honour //nolint comments and skip test files for the
// linters in skipTests. The wrapper keeps the analyzer's requirements and
// facts, so it runs exactly as the analyzer would.
func guard(a *analysis.Analyzer, linter string) *analysis.Analyzer {
	w := *a
	w.Run = func(pass *analysis.Pass) (any, error) {
		files := newFileInfo(pass)
		p := *pass
		p.Report = func(d analysis.Diagnostic) {
			pos := pass.Fset.Position(d.Pos)
			if skipTests[linter] && strings.HasSuffix(pos.Filename, "_test.go") {
				return
			}
			if files.generated(pos.Filename) || files.nolint(pos.Filename, pos.Line, linter) {
				return
			}
			name := a.Name
			if name != linter {
				name = linter + " " + name
			}
			d.Message = name + ": " + d.Message
			pass.Report(d)
		}
		return a.Run(&p)
	}
	return &w
}

// fileInfo answers, for the files of one pass, which are generated and which
// lines carry a //nolint comment.
type fileInfo struct {
	pass  *analysis.Pass
	mu    sync.Mutex
	lines map[string][]string
}

func newFileInfo(pass *analysis.Pass) *fileInfo {
	return &fileInfo{pass: pass, lines: map[string][]string{}}
}

func (fi *fileInfo) generated(name string) bool {
	for _, f := range fi.pass.Files {
		if fi.pass.Fset.File(f.Pos()).Name() == name {
			return ast.IsGenerated(f)
		}
	}
	return false
}

var nolintRE = regexp.MustCompile(`//\s*nolint(:([\w,-]+))?`)

func (fi *fileInfo) nolint(name string, line int, linter string) bool {
	fi.mu.Lock()
	lines, ok := fi.lines[name]
	if !ok {
		if src, err := os.ReadFile(name); err == nil {
			lines = strings.Split(string(src), "\n")
		}
		fi.lines[name] = lines
	}
	fi.mu.Unlock()
	if line < 1 || line > len(lines) {
		return false
	}
	m := nolintRE.FindStringSubmatch(lines[line-1])
	if m == nil {
		return false
	}
	if m[2] == "" {
		return true
	}
	for _, n := range strings.Split(m[2], ",") {
		if n == linter || n == "all" {
			return true
		}
	}
	return false
}
