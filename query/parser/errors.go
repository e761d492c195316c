package parser

import (
	"errors"
	"fmt"
)

// ErrSyntax is matched by every *Error: errors.Is(err, ErrSyntax) reports
// whether a parse failed on the query text (a Timestream ValidationException)
// rather than for some other reason.
var ErrSyntax = errors.New("parser: syntax error")

// maxDepth bounds the nesting of expressions, queries and relations so that
// hostile input returns an error instead of exhausting the stack.
const maxDepth = 300

// Error is a syntax error at a 1-based line and column of the query text.
type Error struct {
	Line, Col int
	Msg       string
}

// Error formats the error as Trino does: "line 1:15: mismatched input ...".
func (e *Error) Error() string {
	return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg)
}

// Is reports whether target is ErrSyntax.
func (e *Error) Is(target error) bool { return target == ErrSyntax }

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
