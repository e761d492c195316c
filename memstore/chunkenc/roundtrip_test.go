package chunkenc

import (
	"math"
	"testing"
)

// appender is the method set every encoder in this package shares.
type appender[T any] interface {
	Append(v T)
	Len() int
	Bytes() []byte
	Size() int
	Reset()
}

type decodeFunc[T any] func(dst []T, src []byte, n int) ([]T, error)

// equalSlices compares element by element with eq.
func equalSlices[T any](a, b []T, eq func(x, y T) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !eq(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameFloat(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }

func same[T comparable](x, y T) bool { return x == y }

// checkRoundTrip appends in to a, checks that every prefix of up to 70
// values decodes to itself, that the whole decodes after a sentinel already
// in dst, and that Reset gives a fresh encoder producing the same bytes.
func checkRoundTrip[T any](t *testing.T, a appender[T], decode decodeFunc[T], in []T, eq func(x, y T) bool) {
	t.Helper()
	for i, v := range in {
		a.Append(v)
		if i < 70 {
			got, err := decode(nil, a.Bytes(), a.Len())
			if err != nil || !equalSlices(got, in[:i+1], eq) {
				t.Fatalf("prefix %d: got %v, %v; want %v", i+1, got, err, in[:i+1])
			}
		}
	}
	if a.Len() != len(in) {
		t.Fatalf("Len = %d, want %d", a.Len(), len(in))
	}
	if a.Size() < len(a.Bytes()) {
		t.Fatalf("Size %d < %d encoded bytes", a.Size(), len(a.Bytes()))
	}
	var sentinel T
	dst := []T{sentinel}
	got, err := decode(dst, a.Bytes(), a.Len())
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(got) != len(in)+1 || !equalSlices(got[1:], in, eq) {
		t.Fatalf("got %v, want sentinel then %v", got, in)
	}
	first := string(a.Bytes())
	a.Reset()
	if a.Len() != 0 || len(a.Bytes()) != 0 {
		t.Fatalf("after Reset: Len %d, %d bytes", a.Len(), len(a.Bytes()))
	}
	for _, v := range in {
		a.Append(v)
	}
	if string(a.Bytes()) != first {
		t.Fatalf("after Reset: encoding %x, want %x", a.Bytes(), first)
	}
}

// bitsPerValue returns the encoded size of in, in bits per value.
func bitsPerValue[T any](a appender[T], in []T) float64 {
	a.Reset()
	for _, v := range in {
		a.Append(v)
	}
	return float64(len(a.Bytes())*8) / float64(len(in))
}
