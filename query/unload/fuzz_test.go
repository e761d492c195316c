package unload_test

import (
	"errors"
	"strings"
	"testing"

	qexec "github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/parser"
	"github.com/tidaldb/tidal/query/unload"
)

// FuzzParse checks that unload.Parse never panics, fails only with
// validation errors, and that what it accepts is sane: an inner query that
// parses again, a TO prefix with no "." or ".." that ends in "/", options
// in their ranges.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`UNLOAD (SELECT 1 AS a) TO 's3://b/p'`,
		`UNLOAD (SELECT a, b FROM db.t WHERE time > ago(1h)) TO 's3://b/p/' WITH (format = 'CSV', compression = 'NONE', include_header = 'true', field_delimiter = ';', escaped_by = '#', partitioned_by = ARRAY['b'], max_file_size = '100MB')`,
		`UNLOAD (SELECT 1) TO 'file:///a/../b'`,
		`UNLOAD (SELECT 1) TO 'file://host/a' WITH (max_file_size = '1e3GB')`,
		`/* x */ UNLOAD (SELECT 1) TO 's3://b' WITH (partitioned_by = ARRAY[1])`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := unload.Parse(s)
		if err != nil {
			var ee *qexec.Error
			if !errors.As(err, &ee) || ee.Kind != qexec.ErrValidation {
				t.Fatalf("Parse(%q) error %v is not a validation error", s, err)
			}
			return
		}
		if !unload.IsUnload(s) {
			t.Fatalf("Parse accepted %q but IsUnload is false", s)
		}
		if _, err := parser.Parse(spec.Query); err != nil {
			t.Fatalf("inner query %q does not parse: %v", spec.Query, err)
		}
		if p := spec.To.Path; p != "" && !strings.HasSuffix(p, "/") || strings.HasPrefix(p, "/") {
			t.Fatalf("prefix %q", p)
		}
		for _, seg := range strings.Split(spec.To.Path, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("prefix %q has %q", spec.To.Path, seg)
			}
		}
		if spec.MaxFileSize < unload.MinFileSize || spec.MaxFileSize > unload.MaxFileSize {
			t.Fatalf("max file size %d", spec.MaxFileSize)
		}
	})
}
