package encoding

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var (
	tenth      = 0.1 // a variable, so 0.1+0.2 is computed at run time
	negZero    = math.Copysign(0, -1)
	nanPayload = math.Float64frombits(0x7ff8_0000_dead_beef)
	sigNaN     = math.Float64frombits(0x7ff0_0000_0000_0001)
	negNaN     = math.Float64frombits(0xfff8_0000_0000_0000)
)

// prefix is what each decode is appended to, proving append semantics.
var prefixInts = []int64{42, -7}

func checkTimestamps(t *testing.T, ts []int64) []byte {
	t.Helper()
	b := AppendTimestamps([]byte{0xAA}, ts)
	if b[0] != 0xAA {
		t.Fatalf("AppendTimestamps overwrote dst")
	}
	b = b[1:]
	got, err := DecodeTimestamps(slices.Clone(prefixInts), b)
	if err != nil {
		t.Fatalf("DecodeTimestamps: %v", err)
	}
	if !slices.Equal(got[:2], prefixInts) || !slices.Equal(got[2:], ts) {
		t.Fatalf("timestamps round trip mismatch: got %v want %v", head(got[2:]), head(ts))
	}
	return b
}

func checkInts(t *testing.T, vs []int64) []byte {
	t.Helper()
	b := AppendInts(nil, vs)
	got, err := DecodeInts(slices.Clone(prefixInts), b)
	if err != nil {
		t.Fatalf("DecodeInts: %v", err)
	}
	if !slices.Equal(got[:2], prefixInts) || !slices.Equal(got[2:], vs) {
		t.Fatalf("ints round trip mismatch: got %v want %v", head(got[2:]), head(vs))
	}
	return b
}

func checkFloats(t *testing.T, vs []float64) []byte {
	t.Helper()
	b := AppendFloats(nil, vs)
	got, err := DecodeFloats([]float64{1.5}, b)
	if err != nil {
		t.Fatalf("DecodeFloats (%s): %v", Kind(b[0]), err)
	}
	if len(got) != len(vs)+1 || got[0] != 1.5 {
		t.Fatalf("DecodeFloats returned %d values, want %d", len(got)-1, len(vs))
	}
	for i, v := range vs {
		if math.Float64bits(got[i+1]) != math.Float64bits(v) {
			t.Fatalf("%s value %d: got bits %#x want %#x", Kind(b[0]), i, math.Float64bits(got[i+1]), math.Float64bits(v))
		}
	}
	return b
}

func checkStrings(t *testing.T, vs []string) []byte {
	t.Helper()
	b := AppendStrings(nil, vs)
	got, err := DecodeStrings([]string{"x"}, b)
	if err != nil {
		t.Fatalf("DecodeStrings (%s): %v", Kind(b[0]), err)
	}
	if len(got) != len(vs)+1 || got[0] != "x" || !slices.Equal(got[1:], vs) {
		t.Fatalf("strings round trip mismatch (%s): got %q want %q", Kind(b[0]), head(got[1:]), head(vs))
	}
	return b
}

func checkBools(t *testing.T, vs []bool) []byte {
	t.Helper()
	b := AppendBools(nil, vs)
	got, err := DecodeBools([]bool{true}, b)
	if err != nil {
		t.Fatalf("DecodeBools (%s): %v", Kind(b[0]), err)
	}
	if len(got) != len(vs)+1 || !got[0] || !slices.Equal(got[1:], vs) {
		t.Fatalf("bools round trip mismatch (%s)", Kind(b[0]))
	}
	return b
}

func head[T any](s []T) []T {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func randInts(seed uint64, n int) []int64 {
	r := rand.New(rand.NewPCG(seed, 1))
	vs := make([]int64, n)
	for i := range vs {
		vs[i] = int64(r.Uint64())
	}
	return vs
}

func TestTimestampsRoundTrip(t *testing.T) {
	counter := make([]int64, 1000)
	for i := range counter {
		counter[i] = int64(i * i)
	}
	tests := []struct {
		name string
		ts   []int64
		want Kind
	}{
		{"empty", nil, TimestampConst},
		{"one", []int64{tsbsStart}, TimestampConst},
		{"two", []int64{5, 3}, TimestampConst},
		{"regular 10s", regularTimestamps(blockLen), TimestampConst},
		{"extremes", []int64{math.MinInt64, math.MaxInt64, 0, math.MinInt64, -1, math.MaxInt64}, TimestampDelta},
		{"jitter ms", jitteredTimestamps(3, blockLen, 5), TimestampDeltaOfDelta},
		{"one gap", append(regularTimestamps(100), tsbsStart+1000*tsbsStep), TimestampDeltaOfDelta},
		{"quadratic", counter, TimestampDeltaOfDelta},
		{"random", randInts(1, 1000), TimestampDeltaOfDelta},
		{"unsorted small", []int64{10, 3, 99, -4, 7}, TimestampDelta},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := checkTimestamps(t, tc.ts)
			if got := Kind(b[0]); got != tc.want {
				t.Errorf("kind = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTimestampsConstantIsTiny(t *testing.T) {
	b := AppendTimestamps(nil, regularTimestamps(blockLen))
	// kind + count(2) + first(9) + interval(5)
	if len(b) != 17 {
		t.Fatalf("constant-interval block is %d bytes, want 17", len(b))
	}
}

func TestIntsRoundTrip(t *testing.T) {
	counter := make([]int64, 5000)
	for i := range counter {
		counter[i] = 1_000_000 + int64(i)*37 + int64(i%3)
	}
	r := rand.New(rand.NewPCG(3, 3))
	wide := make([]int64, 2000)
	walk := make([]int64, 2000)
	for i := 1; i < len(wide); i++ {
		wide[i] = wide[i-1] + 1000 + r.Int64N(500)
		walk[i] = walk[i-1] + int64(r.NormFloat64()*3)
	}
	versions := make([]int64, 300)
	for i := range versions {
		versions[i] = int64(i + 1)
	}
	tests := []struct {
		name string
		vs   []int64
		want Kind
	}{
		{"empty", nil, IntConst},
		{"one", []int64{-5}, IntConst},
		{"constant", slices.Repeat([]int64{math.MaxInt64}, 100), IntConst},
		{"min max", []int64{math.MinInt64, math.MaxInt64, math.MinInt64, 0, math.MaxInt64}, IntDeltaOfDelta},
		{"random", randInts(2, 1000), IntRaw},
		{"counter", counter, IntDeltaFSE},
		{"wide deltas", wide, IntDelta},
		{"walk", walk, IntDeltaHuffman}, // FSE is smaller by less than 1/64
		{"versions", versions, IntDelta},
		{"quadratic", []int64{0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225, 256}, IntDeltaOfDelta},
		{"small walk", []int64{3, 4, 4, 5, 3, 2, 2, 2, 3}, IntDelta},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := checkInts(t, tc.vs)
			if got := Kind(b[0]); got != tc.want {
				t.Errorf("kind = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestIntsMiniBlockWidths(t *testing.T) {
	// Every bit width 0..64 in consecutive mini-blocks.
	var vs []int64
	var acc int64
	for w := 0; w <= 64; w++ {
		for i := range miniBlock {
			d := int64(0)
			if w > 0 && i%2 == 1 {
				d = int64(widthMask(w))
			}
			acc += d
			vs = append(vs, acc)
		}
	}
	checkInts(t, vs)
	checkTimestamps(t, vs)
}

func TestFloatsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	random := make([]float64, 1000)
	for i := range random {
		random[i] = r.NormFloat64() * 1e6
	}
	randomBits := make([]float64, 1000)
	for i := range randomBits {
		randomBits[i] = math.Float64frombits(r.Uint64())
	}
	repeating := make([]float64, 1000)
	for i := range repeating {
		repeating[i] = float64(i/50) * math.Pi
	}
	tenths := make([]float64, 500)
	for i := range tenths {
		tenths[i] = float64(i%37) / 10 // 0.1 .. 3.6, decimal
	}
	tests := []struct {
		name string
		vs   []float64
		want Kind
	}{
		{"empty", nil, FloatConst},
		{"one", []float64{0.1}, FloatConst},
		{"constant", slices.Repeat([]float64{99.5}, 1000), FloatConst},
		{"constant NaN payload", slices.Repeat([]float64{nanPayload}, 10), FloatConst},
		{"zero and negative zero", []float64{0, negZero, 0, negZero}, FloatXOR},
		{"specials", []float64{math.Inf(1), math.Inf(-1), math.NaN(), nanPayload, sigNaN, negNaN, negZero, math.MaxFloat64, math.SmallestNonzeroFloat64, -math.MaxFloat64}, FloatXOR},
		{"decimal with NaN", []float64{1.5, 2.5, nanPayload, 3.5}, FloatXOR},
		{"tsbs integers", cpuBlocks(1, 1, 0)[0], FloatDecimalFSE},
		{"tsbs 2 decimals", cpuBlocks(1, 1, 2)[0], FloatDecimal},
		{"tenths", tenths, FloatDecimalFSE},
		{"point one", []float64{0.1, 0.2, 0.3, 0.1, 0.7}, FloatDecimal},
		{"needs 17 digits", []float64{tenth + 2*tenth, 0.1, 0.2, 0.5}, FloatXOR},
		{"large round", []float64{5e6, 7e6, 1.2e7, 5e6, 3e6, 9e6}, FloatDecimal},
		{"huge", []float64{1e300, 2e300, 1e299}, FloatXOR},
		{"round then fraction", []float64{5e22, 0.5, 1}, FloatRaw},
		{"random normal", random, FloatRaw},
		{"repeating irrational", repeating, FloatXOR},
		{"random bits", randomBits, FloatRaw},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := checkFloats(t, tc.vs)
			if got := Kind(b[0]); got != tc.want {
				t.Errorf("kind = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestFloatsDecimalExactBits(t *testing.T) {
	// Every two-decimal value in [0, 100] must decode to the bits that
	// strconv-style parsing of the decimal gives (the float64 literal).
	vs := make([]float64, 10001)
	for i := range vs {
		vs[i] = float64(i) / 100
	}
	b := checkFloats(t, vs)
	if Kind(b[0]) != FloatDecimal {
		t.Fatalf("kind = %s, want %s", Kind(b[0]), FloatDecimal)
	}
	got, err := DecodeFloats(nil, AppendFloats(nil, []float64{0.1, 0.7, 99.99}))
	if err != nil || got[0] != 0.1 || got[1] != 0.7 || got[2] != 99.99 {
		t.Fatalf("decoded %v, %v", got, err)
	}
}

func TestDecimalRescale(t *testing.T) {
	vs := []float64{3e6, 2e6, 0.25, 1.5, 4e6, 7, 0}
	ms := getInt64s(len(vs))
	defer putInt64s(ms)
	e, ok := decimalMantissas(ms, vs)
	want := []int64{3e8, 2e8, 25, 150, 4e8, 700, 0}
	if !ok || e != 2 || !slices.Equal(ms.s, want) {
		t.Fatalf("decimalMantissas = %d %v %v, want 2 %v true", e, ms.s, ok, want)
	}
	b := forceFloats(vs, FloatDecimal)
	got, err := DecodeFloats(nil, b)
	if err != nil || !sameBits(got, vs) {
		t.Fatalf("decimal round trip: %v %v", got, err)
	}
	// Version 1 writers embedded FSE-capable integer blocks; a FloatDecimal
	// block with IntDeltaFSE mantissas still decodes.
	walk := cpuBlocks(1, 1, 0)[0]
	b = forceFloats(walk, FloatDecimal)
	if l := blockLabel(b); l != "float-decimal(int-delta-fse)" {
		t.Fatalf("forced decimal block is %s, want float-decimal(int-delta-fse)", l)
	}
	got, err = DecodeFloats(nil, b)
	if err != nil || !sameBits(got, walk) {
		t.Fatalf("decimal with embedded FSE round trip: %v", err)
	}
	if _, ok := decimalMantissas(ms, []float64{5e22, 0.5}); ok {
		t.Fatalf("5e22 and 0.5 share no exponent within 2^53 mantissas")
	}
}

func TestStringsRoundTrip(t *testing.T) {
	hosts := make([]string, 2000)
	for i := range hosts {
		hosts[i] = "host_" + string(rune('a'+i/500))
	}
	unique := make([]string, 300)
	for i := range unique {
		unique[i] = strings.Repeat("u", i%7) + string(rune('A'+i%26)) + string(rune('0'+i/26))
	}
	alternating := make([]string, 1000)
	for i := range alternating {
		alternating[i] = []string{"usage_user", "usage_system", "usage_idle"}[i%3]
	}
	tests := []struct {
		name string
		vs   []string
		want Kind
	}{
		{"empty", nil, StringPlain},
		{"one", []string{"eu-west-1"}, StringPlain},
		{"one empty string", []string{""}, StringPlain},
		{"runs", hosts, StringDictRLE},
		{"alternating", alternating, StringDict},
		{"unique", unique, StringPlain},
		{"utf8 and binary", []string{"ζ", "\x00\xff", "ζ", "ζ", "\x00\xff", ""}, StringDict},
		{"constant", slices.Repeat([]string{"production"}, 500), StringDict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := checkStrings(t, tc.vs)
			if got := Kind(b[0]); got != tc.want {
				t.Errorf("kind = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBoolsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	random := make([]bool, 1001)
	for i := range random {
		random[i] = r.IntN(2) == 1
	}
	mostlyPresent := slices.Repeat([]bool{true}, 8192)
	mostlyPresent[4000] = false
	tests := []struct {
		name string
		vs   []bool
		want Kind
	}{
		{"empty", nil, BoolBitmap},
		{"one true", []bool{true}, BoolBitmap},
		{"nine", []bool{true, false, true, true, false, false, true, false, true}, BoolBitmap},
		{"random", random, BoolBitmap},
		{"all true", slices.Repeat([]bool{true}, 8192), BoolRLE},
		{"null bitmap one null", mostlyPresent, BoolRLE},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := checkBools(t, tc.vs)
			if got := Kind(b[0]); got != tc.want {
				t.Errorf("kind = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	tests := map[Kind]string{
		TimestampConst:  "timestamp-const",
		FloatDecimal:    "float-decimal",
		FloatDecimalFSE: "float-decimal-fse",
		IntDeltaFSE:     "int-delta-fse",
		IntDeltaOfDelta: "int-delta-of-delta",
		StringDictRLE:   "string-dict-rle",
		BoolRLE:         "bool-rle",
		0:               "kind(0)",
		200:             "kind(200)",
	}
	for k, want := range tests {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

func TestBlockKind(t *testing.T) {
	tests := []struct {
		src     []byte
		want    Kind
		wantErr error
	}{
		{AppendTimestamps(nil, regularTimestamps(3)), TimestampConst, nil},
		{AppendFloats(nil, []float64{0.5, 0.25}), FloatDecimal, nil},
		{AppendBools(nil, []bool{true}), BoolBitmap, nil},
		{nil, 0, ErrCorrupt},
		{[]byte{0, 0}, 0, ErrUnknownKind},
		{[]byte{77}, 77, ErrUnknownKind},
	}
	for _, tc := range tests {
		got, err := BlockKind(tc.src)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("BlockKind(%x) = %s, %v; want %s, %v", tc.src, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestDecodeRejectsBadInput(t *testing.T) {
	ts := AppendTimestamps(nil, jitteredTimestamps(1, 300, 5))
	fl := AppendFloats(nil, cpuBlocks(1, 1, 2)[0][:300])
	tests := []struct {
		name   string
		decode func([]byte) error
		src    []byte
		want   error
	}{
		{"empty input", decodeTS, nil, ErrCorrupt},
		{"wrong type", decodeTS, AppendFloats(nil, []float64{1}), ErrUnknownKind},
		{"unknown kind", decodeIntsErr, []byte{99, 1, 0}, ErrUnknownKind},
		{"count over max", decodeIntsErr, []byte{byte(IntConst), 0x81, 0x80, 0x40, 0}, ErrCorrupt},
		{"truncated count", decodeIntsErr, []byte{byte(IntConst), 0x80}, ErrCorrupt},
		{"truncated dod", decodeTS, ts[:len(ts)/2], ErrCorrupt},
		{"trailing byte", decodeTS, append(slices.Clone(ts), 0), ErrCorrupt},
		{"truncated decimal", decodeFloats, fl[:len(fl)-3], ErrCorrupt},
		{"raw short", decodeFloats, []byte{byte(FloatRaw), 2, 1, 2, 3, 4, 5, 6, 7, 8}, ErrCorrupt},
		{"xor reuse before window", decodeFloats, []byte{byte(FloatXOR), 2, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}, ErrCorrupt},
		{"bool runs mismatch", decodeBools, []byte{byte(BoolRLE), 5, 1, 2, 2, 2}, ErrCorrupt},
		{"bool bitmap short", decodeBools, []byte{byte(BoolBitmap), 9, 0xff}, ErrCorrupt},
		{"dict index out of range", decodeStrings, []byte{byte(StringDict), 2, 1, 1, 'a', 0x03}, ErrCorrupt},
		{"string too long", decodeStrings, []byte{byte(StringPlain), 1, 5, 'a'}, ErrCorrupt},
		{"string lengths wrap", decodeStrings, []byte{byte(StringPlain), 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 2, 'a', 'b'}, ErrCorrupt},
		{"string runs wrap", decodeStrings, []byte{byte(StringDictRLE), 5, 1, 1, 'a', 2, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 8, 0}, ErrCorrupt},
		{"bool runs wrap", decodeBools, []byte{byte(BoolRLE), 5, 1, 2, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 8}, ErrCorrupt},
		{"bit width over 64", decodeIntsErr, []byte{byte(IntDelta), 3, 0, 0, 65}, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode(tc.src)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}
}

func decodeTS(b []byte) error      { _, err := DecodeTimestamps(nil, b); return err }
func decodeIntsErr(b []byte) error { _, err := DecodeInts(nil, b); return err }
func decodeFloats(b []byte) error  { _, err := DecodeFloats(nil, b); return err }
func decodeBools(b []byte) error   { _, err := DecodeBools(nil, b); return err }
func decodeStrings(b []byte) error { _, err := DecodeStrings(nil, b); return err }

func TestDecodeErrorKeepsDst(t *testing.T) {
	ts := AppendTimestamps(nil, jitteredTimestamps(1, 300, 5))
	got, err := DecodeTimestamps([]int64{1, 2, 3}, ts[:len(ts)-4])
	if err == nil || !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("got %v, %v; want dst unchanged and an error", head(got), err)
	}
	if !strings.Contains(err.Error(), "timestamp-delta-of-delta") {
		t.Fatalf("error %q does not name the kind", err)
	}
}

func TestMaxCountBoundary(t *testing.T) {
	block := func(n uint64) []byte {
		b := appendUvarint([]byte{byte(IntConst)}, n)
		return appendZvarint(b, -9)
	}
	got, err := DecodeInts(nil, block(MaxCount))
	if err != nil || len(got) != MaxCount || got[0] != -9 || got[MaxCount-1] != -9 {
		t.Fatalf("MaxCount block: %d values, %v", len(got), err)
	}
	if _, err := DecodeInts(nil, block(MaxCount+1)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("MaxCount+1 block: error %v, want ErrCorrupt", err)
	}
}
