package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrInvalidSize is wrapped by every ParseSize error.
var ErrInvalidSize = errors.New("config: invalid size")

// unitMultiplier returns the multiplier of a lowercase unit: SI units are
// powers of 1000, IEC units (with an i) powers of 1024.
func unitMultiplier(unit string) (int64, bool) {
	switch unit {
	case "", "b":
		return 1, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	case "kib":
		return 1 << 10, true
	case "mib":
		return 1 << 20, true
	case "gib":
		return 1 << 30, true
	case "tib":
		return 1 << 40, true
	}
	return 0, false
}

// ParseSize parses a byte count: a non-negative integer with an optional
// unit, case-insensitive, optionally separated by one space: B, KB, MB, GB,
// TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).
// Examples: "1048576", "512KB", "64MiB", "1 GiB". Errors wrap ErrInvalidSize.
func ParseSize(s string) (Size, error) {
	v, reason := parseSize(s)
	if reason != "" {
		return 0, fmt.Errorf("%w %q: %s", ErrInvalidSize, s, reason)
	}
	return v, nil
}

// parseSize implements ParseSize, returning why s is invalid instead of an
// error so that callers can phrase their own.
func parseSize(s string) (Size, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, "want an integer with an optional unit such as 512KB, 64MiB or 1GiB"
	}
	unit := strings.TrimPrefix(s[i:], " ")
	mult, ok := unitMultiplier(strings.ToLower(unit))
	if !ok {
		return 0, fmt.Sprintf("unknown unit %q (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", unit)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, "too large"
	}
	return Size(n * mult), ""
}

// String formats s with the largest IEC unit that divides it exactly, or as
// a plain integer; ParseSize reads the result back unchanged.
func (s Size) String() string {
	if s > 0 {
		for _, u := range []struct {
			mult Size
			name string
		}{{TiB, "TiB"}, {GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}} {
			if s%u.mult == 0 {
				return strconv.FormatInt(int64(s/u.mult), 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// UnmarshalYAML reads an integer byte count or a string for ParseSize.
// Errors wrap ErrInvalidSize.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, reason := sizeFromNode(n)
	if reason != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidSize, n.Value, reason)
	}
	*s = v
	return nil
}

// sizeFromNode decodes a YAML scalar holding a size, or says why it cannot.
func sizeFromNode(n *yaml.Node) (Size, string) {
	if n.Kind != yaml.ScalarNode {
		return 0, "want an integer or a string such as 64MiB"
	}
	switch n.ShortTag() {
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil {
			return 0, "too large"
		}
		if v < 0 {
			return 0, "negative"
		}
		return Size(v), ""
	case "!!str":
		return parseSize(n.Value)
	}
	return 0, "want an integer or a string such as 64MiB"
}

// MarshalYAML writes s as String does.
func (s Size) MarshalYAML() (any, error) {
	return s.String(), nil
}
