package mqtt

import (
	"fmt"
	"strings"

	"github.com/tidaldb/tidal/ingest"
)

// Pattern is a topic pattern: '/'-separated segments, each a literal, a
// named segment "{name}" whose value becomes the dimension name, or "+" for
// any one segment; a last segment "#" matches any rest.
type Pattern struct {
	segs []segment
	src  string
}

type segment struct {
	lit   string // literal, "+" or "#"
	dim   string // named segment
	named bool
}

// ParsePattern parses a topic pattern such as
// "factory/{site}/{line}/{device}/telemetry".
func ParsePattern(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, fmt.Errorf("parse topic pattern: empty")
	}
	p := Pattern{src: s}
	seen := map[string]bool{}
	parts := strings.Split(s, "/")
	for i, part := range parts {
		switch {
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") && len(part) > 2:
			name := part[1 : len(part)-1]
			if seen[name] || strings.ContainsAny(name, "{}+#") {
				return Pattern{}, fmt.Errorf("parse topic pattern %q: segment %q is repeated or malformed", s, part)
			}
			seen[name] = true
			p.segs = append(p.segs, segment{dim: name, named: true})
		case part == "#":
			if i != len(parts)-1 {
				return Pattern{}, fmt.Errorf("parse topic pattern %q: '#' must be the last segment", s)
			}
			p.segs = append(p.segs, segment{lit: "#"})
		case strings.ContainsAny(part, "{}#") || strings.Contains(part, "+") && part != "+":
			return Pattern{}, fmt.Errorf("parse topic pattern %q: malformed segment %q", s, part)
		default:
			p.segs = append(p.segs, segment{lit: part})
		}
	}
	return p, nil
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.src }

// Filter returns the MQTT subscription filter matching the same topics.
func (p Pattern) Filter() string {
	parts := make([]string, len(p.segs))
	for i, s := range p.segs {
		if s.named {
			parts[i] = "+"
		} else {
			parts[i] = s.lit
		}
	}
	return strings.Join(parts, "/")
}

// Match reports whether topic matches p and appends the named segments'
// values to dims.
func (p Pattern) Match(topic string, dims []ingest.Dimension) ([]ingest.Dimension, bool) {
	parts := strings.Split(topic, "/")
	for i, s := range p.segs {
		if s.lit == "#" {
			return dims, true // "a/#" matches "a" too, as MQTT filters do
		}
		if i >= len(parts) {
			return dims, false
		}
		switch {
		case s.named:
			if parts[i] == "" {
				return dims, false
			}
			dims = append(dims, ingest.Dimension{Name: s.dim, Value: parts[i]})
		case s.lit == "+":
		case s.lit != parts[i]:
			return dims, false
		}
	}
	return dims, len(parts) == len(p.segs)
}
