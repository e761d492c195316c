package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadStatusBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	if err := os.WriteFile(path, []byte("Name:\ttidal\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nVmSwap:\tx kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key     string
		want    int64
		wantErr bool
	}{
		{"VmRSS:", 1024 * 1024, false},
		{"VmHWM:", 2048 * 1024, false},
		{"VmSwap:", 0, true},
		{"VmData:", 0, true},
	}
	for _, tc := range tests {
		got, err := readStatusBytes(path, tc.key)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("readStatusBytes(%s) = %d, %v; want %d (error %v)", tc.key, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestScaleDefaults(t *testing.T) {
	o := scaleDefaults(ScaleOptions{Series: 5})
	if o.Series != 5 || o.Metrics != 10 || o.Points != 2 || o.Clients != 4 || o.QueryTimeout.Seconds() != 60 {
		t.Fatalf("defaults: %+v", o)
	}
}
