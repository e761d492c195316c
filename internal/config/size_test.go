package config

import (
	"errors"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		err  string
	}{
		{in: "0", want: 0},
		{in: "1048576", want: MiB},
		{in: "1B", want: 1},
		{in: "512KB", want: 512_000},
		{in: "512KiB", want: 512 * KiB},
		{in: "64MiB", want: 64 * MiB},
		{in: "64mib", want: 64 * MiB},
		{in: "64 MiB", want: 64 * MiB},
		{in: "2MB", want: 2_000_000},
		{in: "1GiB", want: GiB},
		{in: "3GB", want: 3_000_000_000},
		{in: "2TiB", want: 2 * TiB},
		{in: "1TB", want: 1_000_000_000_000},
		{in: "8388607TiB", want: 8388607 * TiB},
		{in: "", err: `config: invalid size "": want an integer with an optional unit such as 512KB, 64MiB or 1GiB`},
		{in: "MiB", err: `config: invalid size "MiB": want an integer with an optional unit such as 512KB, 64MiB or 1GiB`},
		{in: "-1", err: `config: invalid size "-1": want an integer with an optional unit such as 512KB, 64MiB or 1GiB`},
		{in: "1.5GiB", err: `config: invalid size "1.5GiB": unknown unit ".5GiB" (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`},
		{in: "64  MiB", err: `config: invalid size "64  MiB": unknown unit " MiB" (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`},
		{in: "10PB", err: `config: invalid size "10PB": unknown unit "PB" (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`},
		{in: "8388608TiB", err: `config: invalid size "8388608TiB": too large`},
		{in: "99999999999999999999", err: `config: invalid size "99999999999999999999": too large`},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalidSize) {
				t.Errorf("ParseSize(%q) = %d, %v; want error %s", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		in   Size
		want string
	}{
		{0, "0"}, {1, "1"}, {1000, "1000"}, {KiB, "1KiB"}, {1536, "1536"}, {3 * KiB, "3KiB"},
		{128 * MiB, "128MiB"}, {1024 * MiB, "1GiB"}, {GiB + KiB, "1048577KiB"}, {5 * TiB, "5TiB"}, {-2048, "-2048"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
}

func TestSizeYAML(t *testing.T) {
	tests := []struct {
		doc  string
		want Size
		err  string
	}{
		{doc: "v: 4096", want: 4 * KiB},
		{doc: "v: 0x1000", want: 4 * KiB},
		{doc: "v: 64MiB", want: 64 * MiB},
		{doc: `v: "1 GiB"`, want: GiB},
		{doc: "v: -5", err: `config: invalid size "-5": negative`},
		{doc: "v: 2.5", err: `config: invalid size "2.5": want an integer or a string such as 64MiB`},
		{doc: "v: [1]", err: `config: invalid size "": want an integer or a string such as 64MiB`},
	}
	for _, tt := range tests {
		var out struct{ V Size }
		err := yaml.Unmarshal([]byte(tt.doc), &out)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalidSize) {
				t.Errorf("Unmarshal(%q) = %d, %v; want error %s", tt.doc, out.V, err, tt.err)
			}
			continue
		}
		if err != nil || out.V != tt.want {
			t.Errorf("Unmarshal(%q) = %d, %v; want %d", tt.doc, out.V, err, tt.want)
		}
		b, err := yaml.Marshal(out)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back struct{ V Size }
		if err := yaml.Unmarshal(b, &back); err != nil || back.V != out.V {
			t.Errorf("round trip of %d via %q = %d, %v", out.V, b, back.V, err)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "1", "512KB", "64MiB", "64 mib", "1GiB", "8388607TiB", "1.5GiB", "", "-1", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSize) {
				t.Fatalf("ParseSize(%q) error %v does not wrap ErrInvalidSize", s, err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", s, v)
		}
		back, err := ParseSize(v.String())
		if err != nil || back != v {
			t.Fatalf("ParseSize(%q) = %d; String %q parses to %d, %v", s, v, v.String(), back, err)
		}
	})
}
