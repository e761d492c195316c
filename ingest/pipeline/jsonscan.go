package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON decoder's scanner: it walks a message once, validating the whole
// syntax, and captures only the fields the mapping names (a trie of paths);
// every other value is skipped without being built. Decoded strings follow
// encoding/json: escapes resolved, each invalid UTF-8 byte replaced by
// U+FFFD.

// valueKind is the JSON type of a captured value.
type valueKind uint8

const (
	kindMissing valueKind = iota
	kindNull
	kindString
	kindNumber
	kindBool
	kindOther // object or array
)

// captured is one mapped field of the current object. It holds no
// pointer (storing it costs no write barrier): its text is the scanner's
// raw(c).
type captured struct {
	kind valueKind
	b    bool
	// inScratch: the text is scratch[lo:hi] (a string with escapes or
	// invalid UTF-8, decoded), else the input's b[lo:hi].
	inScratch bool
	lo, hi    int
}

// pathNode is a trie node of mapped paths.
type pathNode struct {
	children map[string]*pathNode
	slot     int // index in the captured values, -1 if this is no field
	// below lists the slots of the fields under this node: a repeated key
	// replaces what its earlier value captured, as encoding/json does.
	below []int
	// order predicts the keys of this node's objects from the last
	// object's: producers write their fields in one order, so a key is
	// usually matched by one comparison instead of a map lookup. misses
	// counts wrong predictions; past maxOrderMisses the node stops
	// learning (the keys come in no stable order).
	order  []orderedKey
	misses int
}

// orderedKey is a key seen at one position of an object, and its child.
type orderedKey struct {
	key   string
	child *pathNode
}

const (
	maxOrderKeys   = 64
	maxOrderMisses = 1 << 12
)

// child returns the child for the key at position k of an object.
func (n *pathNode) child(k int, key []byte) *pathNode {
	if k < len(n.order) && n.order[k].key == string(key) {
		return n.order[k].child
	}
	c := n.children[string(key)]
	if n.misses < maxOrderMisses && k < maxOrderKeys {
		n.misses++
		ok := orderedKey{key: string(key), child: c}
		switch {
		case k < len(n.order):
			n.order[k] = ok
		case k == len(n.order):
			n.order = append(n.order, ok)
		}
	}
	return c
}

func (n *pathNode) add(path []string, slot int) {
	for _, k := range path {
		n.below = append(n.below, slot)
		if n.children == nil {
			n.children = map[string]*pathNode{}
		}
		c := n.children[k]
		if c == nil {
			c = &pathNode{slot: -1}
			n.children[k] = c
		}
		n = c
	}
	n.slot = slot
}

const maxJSONDepth = 10000

var errSyntax = errors.New("invalid JSON")

type scanner struct {
	b     []byte
	i     int
	depth int
	vals  []captured
	// scratch holds the decoded strings of the current message; the last
	// one starts at slowFrom.
	scratch  []byte
	slowFrom int
}

// raw returns a captured value's text: a string's contents (unescaped) or
// a number's text.
func (s *scanner) raw(c captured) []byte {
	if c.inScratch {
		return s.scratch[c.lo:c.hi]
	}
	return s.b[c.lo:c.hi]
}

func (s *scanner) syntax(what string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("%w: unexpected end of input (%s)", errSyntax, what)
	}
	return fmt.Errorf("%w: unexpected %q at offset %d (%s)", errSyntax, s.b[s.i], s.i, what)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object scans an object at s.i, capturing the fields under node.
func (s *scanner) object(node *pathNode) error {
	s.i++ // '{'
	s.depth++
	if s.depth > maxJSONDepth {
		return fmt.Errorf("%w: nested too deep", errSyntax)
	}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	for k := 0; ; k++ {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.syntax("want a key")
		}
		key, _, err := s.str()
		if err != nil {
			return err
		}
		var child *pathNode
		if node != nil {
			child = node.child(k, key)
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.syntax("want ':'")
		}
		s.i++
		s.ws()
		if err := s.value(child); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.syntax("want ',' or '}'")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.syntax("want ',' or '}'")
		}
	}
}

// value scans one value; node (may be nil) says what to capture.
func (s *scanner) value(node *pathNode) error {
	if s.i >= len(s.b) {
		return s.syntax("want a value")
	}
	var c captured
	if node != nil {
		for _, sl := range node.below {
			s.vals[sl] = captured{}
		}
	}
	switch ch := s.b[s.i]; {
	case ch == '{':
		if err := s.object(node); err != nil {
			return err
		}
		c.kind = kindOther
	case ch == '[':
		if err := s.array(); err != nil {
			return err
		}
		c.kind = kindOther
	case ch == '"':
		start := s.i + 1
		_, slow, err := s.str()
		if err != nil {
			return err
		}
		if slow {
			c = captured{kind: kindString, inScratch: true, lo: s.slowFrom, hi: len(s.scratch)}
		} else {
			c = captured{kind: kindString, lo: start, hi: s.i - 1}
		}
	case ch == 't' || ch == 'f' || ch == 'n':
		switch {
		case s.literal("true"):
			c = captured{kind: kindBool, b: true}
		case s.literal("false"):
			c = captured{kind: kindBool}
		case s.literal("null"):
			c.kind = kindNull
		default:
			return s.syntax("want a value")
		}
	case ch == '-' || ch >= '0' && ch <= '9':
		start := s.i
		if err := s.number(); err != nil {
			return err
		}
		c = captured{kind: kindNumber, lo: start, hi: s.i}
	default:
		return s.syntax("want a value")
	}
	if node != nil && node.slot >= 0 {
		s.vals[node.slot] = c
	}
	return nil
}

// literal consumes lit if the input continues with it.
func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

func (s *scanner) array() error {
	s.i++ // '['
	s.depth++
	if s.depth > maxJSONDepth {
		return fmt.Errorf("%w: nested too deep", errSyntax)
	}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		if err := s.value(nil); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.syntax("want ',' or ']'")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.syntax("want ',' or ']'")
		}
	}
}

// number scans a JSON number (RFC 8259 grammar).
func (s *scanner) number() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return s.syntax("want a digit")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return s.syntax("want a digit")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return s.syntax("want a digit")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return nil
}

// str scans a string at s.i and returns its decoded contents: a slice of
// the input when it has no escapes and is valid UTF-8, else (slow) a
// decoded copy, scratch[slowFrom:].
func (s *scanner) str() (out []byte, slow bool, err error) {
	s.i++ // '"'
	start := s.i
	// Skip 8 plain bytes at a time: none is '"', '\\', a control
	// character or non-ASCII.
	for s.i+8 <= len(s.b) {
		x := binary.LittleEndian.Uint64(s.b[s.i:])
		const ones, highs = 0x0101010101010101, 0x8080808080808080
		q, bs := x^(ones*'"'), x^(ones*'\\')
		if ((x-ones*0x20)|(q-ones)|(bs-ones)|x)&highs == 0 {
			s.i += 8
			continue
		}
		break
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			return out, false, nil
		case c == '\\' || c >= utf8.RuneSelf:
			if c >= utf8.RuneSelf {
				r, n := utf8.DecodeRune(s.b[s.i:])
				if r != utf8.RuneError || n != 1 {
					s.i += n
					continue
				}
			}
			out, err := s.strSlow(start)
			return out, true, err
		case c < 0x20:
			return nil, false, s.syntax("control character in string")
		default:
			s.i++
		}
	}
	return nil, false, s.syntax("unterminated string")
}

// strSlow decodes a string with escapes or invalid UTF-8 from start.
func (s *scanner) strSlow(start int) ([]byte, error) {
	s.slowFrom = len(s.scratch)
	out := append(s.scratch, s.b[start:s.i]...)
	defer func() { s.scratch = out }()
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return out[s.slowFrom:], nil
		case c < 0x20:
			return nil, s.syntax("control character in string")
		case c == '\\':
			if s.i+1 >= len(s.b) {
				s.i++
				return nil, s.syntax("unterminated escape")
			}
			e := s.b[s.i+1]
			s.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return nil, s.syntax("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
						save := s.i
						s.i += 2
						r2, ok2 := s.hex4()
						if !ok2 {
							return nil, s.syntax("invalid \\u escape")
						}
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							continue
						}
						s.i = save // not a pair: the second escape stands alone
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				s.i--
				return nil, s.syntax("invalid escape")
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				out = append(out, "\uFFFD"...)
			} else {
				out = append(out, s.b[s.i:s.i+n]...)
			}
			s.i += n
		}
	}
	return nil, s.syntax("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(v), true
}
