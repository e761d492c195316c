package encoding

import (
	"bytes"
	"errors"
	"testing"
)

func TestCompressRoundTrip(t *testing.T) {
	repetitive := bytes.Repeat([]byte("usage_user=58i,usage_system=2i "), 200)
	incompressible := AppendFloats(nil, cpuBlocks(5, 1, 2)[0])
	tests := []struct {
		name string
		src  []byte
		c    Compression
		want Compression
	}{
		{"none", repetitive, None, None},
		{"snappy", repetitive, Snappy, Snappy},
		{"zstd", repetitive, Zstd, Zstd},
		{"auto repetitive", repetitive, Auto, Zstd},
		{"auto incompressible", incompressible, Auto, None},
		{"auto empty", nil, Auto, None},
		{"snappy empty", nil, Snappy, Snappy},
		{"zstd empty", nil, Zstd, Zstd},
		{"unknown falls back", repetitive, Compression(9), None},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := Compress([]byte("hdr"), tc.src, tc.c)
			if string(b[:3]) != "hdr" {
				t.Fatalf("Compress overwrote dst")
			}
			b = b[3:]
			if got := Compression(b[0]); got != tc.want {
				t.Fatalf("compression = %s, want %s", got, tc.want)
			}
			out, err := Decompress([]byte("pre"), b)
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if string(out[:3]) != "pre" || !bytes.Equal(out[3:], tc.src) {
				t.Fatalf("round trip mismatch: %d bytes, want %d", len(out)-3, len(tc.src))
			}
			if tc.want != None && len(tc.src) > 1000 && len(b) >= len(tc.src)/2 {
				t.Fatalf("%s compressed %d bytes to %d", tc.want, len(tc.src), len(b))
			}
		})
	}
}

func TestDecompressRejectsBadInput(t *testing.T) {
	src := bytes.Repeat([]byte("abcdefgh"), 100)
	sn := Compress(nil, src, Snappy)
	zs := Compress(nil, src, Zstd)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"unknown compression", []byte{7, 1, 2}},
		{"length over max", []byte{byte(Snappy), 0x80, 0x80, 0x80, 0x40}},
		{"snappy length mismatch", append([]byte{byte(Snappy), 5}, sn[3:]...)},
		{"snappy truncated", sn[:len(sn)-2]},
		{"zstd truncated", zs[:len(zs)-2]},
		{"zstd length mismatch", append([]byte{byte(Zstd), 5}, zs[3:]...)},
		{"zstd garbage", []byte{byte(Zstd), 3, 1, 2, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Decompress([]byte("x"), tc.in)
			if !errors.Is(err, ErrCompression) {
				t.Fatalf("error = %v, want ErrCompression", err)
			}
			if string(out) != "x" {
				t.Fatalf("dst changed to %q", out)
			}
		})
	}
}

func TestChecksum(t *testing.T) {
	// CRC-32C check value from RFC 3720 (iSCSI) B.4: 32 bytes of zeros.
	if got := Checksum(make([]byte, 32)); got != 0x8a9136aa {
		t.Fatalf("Checksum(zeros) = %#x, want 0x8a9136aa", got)
	}
	if got := Checksum([]byte("123456789")); got != 0xe3069283 {
		t.Fatalf("Checksum(123456789) = %#x, want 0xe3069283", got)
	}
}

func TestCompressionString(t *testing.T) {
	for c, want := range map[Compression]string{None: "none", Snappy: "snappy", Zstd: "zstd", Auto: "auto", 7: "compression(7)"} {
		if got := c.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

// TestCompressConcurrent shares the lazily created zstd codec between
// goroutines; run with -race.
func TestCompressConcurrent(t *testing.T) {
	blocks := cpuBlocks(21, 1, 0)[:4]
	done := make(chan error, len(blocks))
	for _, vs := range blocks {
		go func() {
			raw := forceFloats(vs, FloatRaw)
			for _, c := range []Compression{Zstd, Auto, Snappy} {
				out, err := Decompress(nil, Compress(nil, raw, c))
				if err == nil && !bytes.Equal(out, raw) {
					err = errors.New("round trip mismatch")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range blocks {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
