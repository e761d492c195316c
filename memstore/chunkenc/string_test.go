package chunkenc

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestStringsRoundTrip(t *testing.T) {
	unique := make([]string, 300)
	for i := range unique {
		unique[i] = fmt.Sprintf("req-%08x", uint32(i)*2654435761)
	}
	cycle := make([]string, 300)
	for i := range cycle {
		cycle[i] = unique[i%40] // dictionary past the linear-scan limit, reused
	}
	tests := []struct {
		name string
		in   []string
	}{
		{"empty", nil},
		{"single", []string{"x"}},
		{"single empty string", []string{""}},
		{"empty strings", []string{"", "", "a", "", "a", ""}},
		{"arbitrary bytes", []string{"\x00\xff\xfe", "日本", "\x80", "\x00\xff\xfe", string([]byte{0})}},
		{"length buckets", []string{strings.Repeat("a", 15), strings.Repeat("b", 16), strings.Repeat("c", 255), strings.Repeat("d", 256), strings.Repeat("e", 65535), strings.Repeat("f", 65536), "", strings.Repeat("b", 16)}},
		{"statuses", statuses(240, 1)},
		{"unique", unique},
		{"cycle", cycle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkRoundTrip(t, &StringAppender{}, DecodeStrings, tc.in, same[string])
		})
	}
}

func TestStringsDoNotAlias(t *testing.T) {
	var a StringAppender
	a.Append("hello")
	got, err := DecodeStrings(nil, a.Bytes(), 1)
	if err != nil || len(got) != 1 || got[0] != "hello" {
		t.Fatalf("got %q, %v", got, err)
	}
	a.Reset()
	a.Append("HELLO") // overwrites the buffer the first decode read
	if got[0] != "hello" {
		t.Fatalf("decoded string changed to %q after the appender was reused", got[0])
	}
}

func TestStringsSize(t *testing.T) {
	// Five states changing on one row in ten: literals once, then 1 bit
	// per repeat and 4 bits per change.
	if b := bitsPerValue[string](&StringAppender{}, statuses(240, 2)); b > 3 {
		t.Errorf("statuses: %.2f bits/value, want <= 3", b)
	}
	// Two values alternating cost 1 flag bit plus a 2-bit index.
	in := slices.Repeat([]string{"on", "off"}, 100)
	if b := bitsPerValue[string](&StringAppender{}, in); b > 3.3 {
		t.Errorf("alternating: %.2f bits/value, want <= 3.3", b)
	}
	var a StringAppender
	for i := range 100 {
		a.Append(fmt.Sprint(i))
	}
	if a.Size() < len(a.Bytes())+100*16 {
		t.Errorf("Size %d does not count the dictionary of 100 entries", a.Size())
	}
}

func TestStringsGolden(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		// 1, length 0 00001, pad; "a".
		{[]string{"a"}, "84" + "61"},
		// "ab": 1, length 0 0010, pad, "ab"; repeat: 0; "c": 1, index 1
		// (new, 1 bit), length 0 0001, pad, "c"; "": 1, index 2 (new, 2
		// bits), length 0 0000, no padding needed.
		{[]string{"ab", "ab", "c", ""}, "88" + "6162" + "61" + "63" + "c0"},
		// "x"; "y"; "x" again: 1, index 0 in 2 bits; repeat: 0; padding.
		{[]string{"x", "y", "x", "x"}, "84" + "78" + "c2" + "79" + "80"},
	}
	for _, tc := range tests {
		var a StringAppender
		for _, v := range tc.in {
			a.Append(v)
		}
		if got := hex.EncodeToString(a.Bytes()); got != tc.want {
			t.Errorf("%q: encoded %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeStringsErrors(t *testing.T) {
	var a StringAppender
	for _, v := range []string{"alpha", "beta", "alpha", "gamma"} {
		a.Append(v)
	}
	full := a.Bytes()
	tests := []struct {
		name string
		src  []byte
		n    int
		want error
	}{
		{"negative count", full, -1, ErrCount},
		{"empty input", nil, 1, ErrShortInput},
		{"truncated literal", full[:3], 1, ErrShortInput},
		{"truncated", full[:len(full)-1], 4, ErrShortInput},
		{"count beyond input", full, 8*len(full) + 1, ErrShortInput},
		{"repeat on first row", []byte{0x00}, 1, ErrCorrupt},
		// "a"; "b" (1, index 1 = new, length 0 0001, pad); index 3 of a
		// dictionary of 2.
		{"index beyond dictionary", []byte{0x84, 'a', 0xc2, 'b', 0xe0}, 3, ErrCorrupt},
		{"length beyond input", []byte{0b1_111_1111, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1, ErrShortInput},
	}
	for _, tc := range tests {
		got, err := DecodeStrings([]string{"z"}, tc.src, tc.n)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if !slices.Equal(got, []string{"z"}) {
			t.Errorf("%s: dst %q, want [z] untouched", tc.name, got)
		}
	}
}

// TestStringsHashCollision forces the index to point at the wrong entry, as
// a 64-bit hash collision would, and checks that lookups still find values.
func TestStringsHashCollision(t *testing.T) {
	var a StringAppender
	var in []string
	for i := range 12 {
		in = append(in, fmt.Sprint("v", i))
	}
	for _, s := range in {
		a.Append(s)
	}
	for h := range a.index {
		a.index[h] = 0 // every hash now claims entry 0
	}
	in = append(in, "v5", "v11", "v0", "new")
	for _, s := range in[12:] {
		a.Append(s)
	}
	got, err := DecodeStrings(nil, a.Bytes(), a.Len())
	if err != nil || !slices.Equal(got, in) {
		t.Fatalf("got %q, %v; want %q", got, err, in)
	}
	if len(a.dict) != 13 {
		t.Fatalf("dictionary has %d entries, want 13 (no duplicate literals)", len(a.dict))
	}
}
