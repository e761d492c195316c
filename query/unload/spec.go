package unload

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/parser"
)

// Format is the file format of an UNLOAD.
type Format string

// The formats Timestream accepts.
const (
	FormatParquet Format = "PARQUET"
	FormatCSV     Format = "CSV"
)

// Size limits of max_file_size, as Timestream documents them.
const (
	MinFileSize     int64 = 16 << 20
	MaxFileSize     int64 = 78 << 30
	DefaultFileSize       = MaxFileSize
)

// Spec is a validated UNLOAD statement.
type Spec struct {
	// Query is the inner SELECT, formatted back to SQL for exec.
	Query string
	// To is the parsed TO location: Scheme "s3" or "file", Host the
	// bucket (s3) and Path the prefix, always ending in "/".
	To *url.URL
	// Format defaults to PARQUET.
	Format Format
	// Gzip is compression = 'GZIP' (the default); for Parquet it is the
	// column chunk codec, for CSV the whole file is gzipped.
	Gzip bool
	// PartitionedBy names result columns whose values become
	// col=value folders; they are left out of the files.
	PartitionedBy []string
	// MaxFileSize is the size after which a new file is started.
	MaxFileSize int64
	// IncludeHeader writes a CSV header line.
	IncludeHeader bool
	// Delimiter and Escape are CSV's field_delimiter and escaped_by.
	Delimiter, Escape rune
}

// IsUnload reports whether sql starts with the UNLOAD keyword after any
// whitespace and comments: a cheap test before parsing twice.
func IsUnload(sql string) bool {
	s := sql
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return false
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return false
			}
			s = s[i+4:]
		default:
			if len(s) < 6 || !strings.EqualFold(s[:6], "UNLOAD") {
				return false
			}
			if len(s) == 6 {
				return true
			}
			c := s[6]
			return !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80)
		}
	}
}

// Parse parses sql and validates it as an UNLOAD. Errors are *exec.Error
// of kind ErrValidation, with the position of the offending part.
func Parse(sql string) (*Spec, error) {
	st, err := parser.Parse(sql)
	if err != nil {
		var pe *parser.Error
		if errors.As(err, &pe) {
			return nil, &exec.Error{Kind: exec.ErrValidation, Msg: pe.Msg, Line: pe.Line, Col: pe.Col}
		}
		return nil, &exec.Error{Kind: exec.ErrValidation, Msg: err.Error()}
	}
	u, ok := st.(*parser.Unload)
	if !ok {
		p := st.Position()
		return nil, invalid(p, "not an UNLOAD statement")
	}
	return FromStatement(u)
}

func invalid(p parser.Pos, format string, args ...any) *exec.Error {
	return &exec.Error{Kind: exec.ErrValidation, Msg: fmt.Sprintf(format, args...), Line: p.Line, Col: p.Col}
}

// FromStatement validates a parsed UNLOAD.
func FromStatement(u *parser.Unload) (*Spec, error) {
	s := &Spec{
		Query:       parser.Format(u.Query),
		Format:      FormatParquet,
		Gzip:        true,
		MaxFileSize: DefaultFileSize,
		Delimiter:   ',',
		Escape:      '\\',
	}
	to, err := parseTarget(u.To.Value)
	if err != nil {
		return nil, invalid(u.To.Pos, "%s", err.Error())
	}
	s.To = to
	seen := map[string]bool{}
	csvOnly := ""
	for _, o := range u.Options {
		name := strings.ToLower(o.Name.Value)
		if seen[name] {
			return nil, invalid(o.Pos, "duplicate UNLOAD option %s", name)
		}
		seen[name] = true
		if name == "partitioned_by" {
			arr, ok := o.Value.(*parser.ArrayCtor)
			if !ok || len(arr.Elems) == 0 {
				return nil, invalid(o.Pos, "partitioned_by must be a non-empty ARRAY of column names")
			}
			for _, e := range arr.Elems {
				v, ok := stringValue(e)
				if !ok || v == "" {
					return nil, invalid(o.Pos, "partitioned_by must be a non-empty ARRAY of column names")
				}
				s.PartitionedBy = append(s.PartitionedBy, v)
			}
			continue
		}
		v, ok := stringValue(o.Value)
		if !ok {
			return nil, invalid(o.Pos, "value of UNLOAD option %s must be a string literal", name)
		}
		switch name {
		case "format":
			switch f := Format(strings.ToUpper(v)); f {
			case FormatParquet, FormatCSV:
				s.Format = f
			default:
				return nil, invalid(o.Pos, "format must be 'CSV' or 'PARQUET', not '%s'", v)
			}
		case "compression":
			switch strings.ToUpper(v) {
			case "GZIP":
				s.Gzip = true
			case "NONE":
				s.Gzip = false
			default:
				return nil, invalid(o.Pos, "compression must be 'GZIP' or 'NONE', not '%s'", v)
			}
		case "max_file_size":
			n, err := ParseSize(v)
			if err != nil {
				return nil, invalid(o.Pos, "max_file_size: %s", err.Error())
			}
			s.MaxFileSize = n
		case "include_header":
			switch strings.ToLower(v) {
			case "true":
				s.IncludeHeader = true
			case "false":
				s.IncludeHeader = false
			default:
				return nil, invalid(o.Pos, "include_header must be 'true' or 'false', not '%s'", v)
			}
			csvOnly = name
		case "field_delimiter", "escaped_by":
			r, n := utf8.DecodeRuneInString(v)
			if n == 0 || n != len(v) || r == '\n' || r == '\r' || r == '"' {
				return nil, invalid(o.Pos, "%s must be one character other than a quote or line break", name)
			}
			if name == "field_delimiter" {
				s.Delimiter = r
			} else {
				s.Escape = r
			}
			csvOnly = name
		case "encryption", "kms_key":
			return nil, invalid(o.Pos, "UNLOAD option %s is not supported: encrypt on the storage side", name)
		default:
			return nil, invalid(o.Pos, "unknown UNLOAD option %s", name)
		}
	}
	if csvOnly != "" && s.Format != FormatCSV {
		return nil, invalid(u.Pos, "UNLOAD option %s applies to format 'CSV' only", csvOnly)
	}
	if s.Format == FormatCSV && s.Delimiter == s.Escape {
		return nil, invalid(u.Pos, "field_delimiter and escaped_by must differ")
	}
	return s, nil
}

func stringValue(e parser.Expr) (string, bool) {
	l, ok := e.(*parser.Literal)
	if !ok || l.Kind != parser.LitString {
		return "", false
	}
	return l.Value, true
}

// parseTarget checks TO: s3://bucket/prefix or file:///abs/path.
func parseTarget(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid TO location '%s'", s)
	}
	switch u.Scheme {
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("TO location '%s' names no bucket", s)
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("TO location '%s' must be file:///path", s)
		}
		u.Host = ""
	default:
		return nil, fmt.Errorf("TO location '%s' must start with s3:// or file://", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("TO location '%s' must not have a query or fragment", s)
	}
	p := strings.TrimLeft(u.Path, "/")
	if strings.Contains(p, "//") {
		return nil, fmt.Errorf("TO location '%s' must not contain empty path segments", s)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return nil, fmt.Errorf("TO location '%s' must not contain '.' or '..'", s)
		}
	}
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	u.Path = p
	return u, nil
}

// ParseSize reads max_file_size: a number with an optional unit B, KB, MB
// or GB (powers of 1024), between MinFileSize and MaxFileSize.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suf)), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f != f || f <= 0 {
		return 0, fmt.Errorf("'%s' is not a size such as '1GB'", s)
	}
	n := f * float64(mult)
	if n < float64(MinFileSize) || n > float64(MaxFileSize) {
		return 0, fmt.Errorf("'%s' is outside 16MB..78GB", s)
	}
	return int64(n), nil
}
