package main

import (
	"fmt"
	"go/token"
	"os"
	"regexp"

	"github.com/golangci/misspell"
	"github.com/kisielk/errcheck/errcheck"
	"golang.org/x/tools/go/analysis"
	"honnef.co/go/tools/unused"
)

// unusedAnalyzer reports staticcheck's unused objects (U1000), which the
// unused analyzer returns as a result rather than as diagnostics.
var unusedAnalyzer = &analysis.Analyzer{
	Name:     "U1000",
	Doc:      "reports unused code",
	Requires: []*analysis.Analyzer{unused.Analyzer.Analyzer},
	Run: func(pass *analysis.Pass) (any, error) {
		res := pass.ResultOf[unused.Analyzer.Analyzer].(unused.Result)
		for _, obj := range res.Unused {
			pos := position(pass, obj.Position)
			if pos.IsValid() {
				pass.Reportf(pos, "%s %s is unused", obj.Kind, obj.Name)
			}
		}
		return nil, nil
	},
}

// errcheckExcluded matches the calls whose error a program commonly drops,
// by the called function or by the selector as written.
var errcheckExcluded = regexp.MustCompile(`^((os\.)?std(out|err)\..*|.*Close|.*Flush|os\.Remove(All)?|.*print(f|ln)?|os\.(Un)?Setenv)$`)

// errcheckSkip lists functions whose errors are checked elsewhere:
// bufio.Writer errors are sticky and surface at Flush, which is checked.
var errcheckSkip = map[string]bool{
	"(*bufio.Writer).WriteByte":   true,
	"(*bufio.Writer).WriteString": true,
	"(*bufio.Writer).WriteRune":   true,
	"(*bufio.Writer).Write":       true,
}

// errcheckAnalyzer reports unchecked errors found by errcheck, less the
// exclusions above.
var errcheckAnalyzer = &analysis.Analyzer{
	Name:     "errcheck",
	Doc:      "reports unchecked errors",
	Requires: []*analysis.Analyzer{errcheck.Analyzer},
	Run: func(pass *analysis.Pass) (any, error) {
		res := pass.ResultOf[errcheck.Analyzer].(errcheck.Result)
		for _, e := range res.UncheckedErrors {
			if errcheckSkip[e.FuncName] || errcheckExcluded.MatchString(e.FuncName) ||
				(e.SelectorName != "" && errcheckExcluded.MatchString(e.SelectorName)) {
				continue
			}
			pos := position(pass, e.Pos)
			if pos.IsValid() {
				name := e.FuncName
				if e.SelectorName != "" {
					name = e.SelectorName
				}
				pass.Reportf(pos, "error return value of %s is not checked", name)
			}
		}
		return nil, nil
	},
}

// position maps a resolved position back to a token.Pos in the pass.
func position(pass *analysis.Pass, p token.Position) token.Pos {
	for _, f := range pass.Files {
		tf := pass.Fset.File(f.Pos())
		if tf.Name() != p.Filename {
			continue
		}
		if p.Offset > 0 && p.Offset <= tf.Size() {
			return tf.Pos(p.Offset)
		}
		if p.Line >= 1 && p.Line <= tf.LineCount() {
			return tf.LineStart(p.Line) + token.Pos(max(p.Column-1, 0))
		}
	}
	return token.NoPos
}

var misspeller = misspell.New()

// misspellAnalyzer reports commonly misspelled English words in comments.
var misspellAnalyzer = &analysis.Analyzer{
	Name: "misspell",
	Doc:  "reports commonly misspelled English words in comments",
	Run: func(pass *analysis.Pass) (any, error) {
		for _, f := range pass.Files {
			name := pass.Fset.File(f.Pos()).Name()
			src, err := os.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", name, err)
			}
			_, diffs := misspeller.ReplaceGo(string(src))
			for _, d := range diffs {
				pos := position(pass, token.Position{Filename: name, Line: d.Line, Column: d.Column + 1})
				if pos.IsValid() {
					pass.Reportf(pos, "%q is a misspelling of %q", d.Original, d.Corrected)
				}
			}
		}
		return nil, nil
	},
}
