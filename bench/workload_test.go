package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

func TestFileWorkloadShiftsAndDescribesTSBSFile(t *testing.T) {
	pts := genPoints(t, 3, 6) // 18 cpu points from testStart, 10 s apart
	var buf []byte
	for i := range pts {
		buf = pts[i].AppendInflux(buf)
		buf = append(buf, '\n')
	}
	path := filepath.Join(t.TempDir(), "cpu.lp")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w, err := fileWorkload(path, FormatInflux, start)
	if err != nil {
		t.Fatal(err)
	}
	if w.hosts != 3 || w.samples != 180 || w.queriedSamples != 180 || w.interval != 10*time.Second || !w.start.Equal(start) ||
		!w.end.Equal(start.Add(time.Minute)) || !slices.Equal(w.measurements, []string{"cpu"}) {
		t.Fatalf("workload %+v", w)
	}
	shift := start.Sub(testStart).Nanoseconds()
	i := 0
	err = w.each(func(p *tsbs.Point) error {
		want := pts[i].Clone()
		want.Time += shift
		if !p.Equal(want) {
			t.Errorf("point %d = %+v, want %+v", i, p, want)
		}
		i++
		return nil
	})
	if err != nil || i != len(pts) {
		t.Fatalf("each: %d points, %v", i, err)
	}
}

func TestFileWorkloadErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.lp")
	bad := filepath.Join(dir, "bad.lp")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("cpu,hostname=h usage_user=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, format, want string }{
		{empty, FormatInflux, "no cpu points"},
		{bad, FormatInflux, "read workload file"},
		{filepath.Join(dir, "missing"), FormatInflux, "open workload file"},
		{empty, "csv", `unknown file format "csv"`},
	}
	for _, tc := range tests {
		if _, err := fileWorkload(tc.path, tc.format, testStart); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fileWorkload(%s, %s) err = %v, want %q", filepath.Base(tc.path), tc.format, err, tc.want)
		}
	}
}

func TestGeneratedWorkloadCounts(t *testing.T) {
	p, _ := LookupPreset("smoke")
	w, err := generatedWorkload(p, tsbs.UseCaseCPUOnly, testStart, 1)
	if err != nil {
		t.Fatal(err)
	}
	var n, samples int64
	hosts := map[string]bool{}
	err = w.each(func(pt *tsbs.Point) error {
		n++
		samples += int64(len(pt.Fields))
		hosts[pt.Tags[0].Value] = true
		if pt.Time < testStart.UnixNano() || pt.Time >= w.end.UnixNano() {
			t.Errorf("point time %d outside [%v, %v)", pt.Time, w.start, w.end)
		}
		return nil
	})
	if err != nil || n != 600 || samples != w.samples || samples != 6000 || len(hosts) != 10 {
		t.Fatalf("points %d, samples %d (workload says %d), hosts %d, err %v", n, samples, w.samples, len(hosts), err)
	}
}

func TestGeneratedIoTWorkloadShape(t *testing.T) {
	p, _ := LookupPreset("smoke")
	w, err := generatedWorkload(p, tsbs.UseCaseIoT, testStart, 1)
	if err != nil {
		t.Fatal(err)
	}
	if w.family != familyIoT || w.hosts != 10 || !slices.Equal(w.measurements, []string{"diagnostics", "readings"}) ||
		!slices.Equal(w.queried(), []string{"diagnostics", "readings"}) {
		t.Fatalf("workload %+v", w)
	}
	if !slices.Equal(w.fields["diagnostics"], []string{"fuel_state", "load", "status"}) || len(w.fields["readings"]) != 7 {
		t.Errorf("fields %v", w.fields)
	}
	if len(w.fleets) == 0 || len(w.fleets) > 4 {
		t.Errorf("fleets %v", w.fleets)
	}
	for _, f := range w.fleets {
		if !slices.Contains(tsbs.Fleets(), f) {
			t.Errorf("fleet %q is not a TSBS fleet", f)
		}
	}
	// 10 trucks x 60 ticks x 10 fields, less the missing points and null
	// fields (about 1% each), all queried.
	if w.samples != w.queriedSamples || w.samples >= 6000 || w.samples < 5600 {
		t.Errorf("samples %d, queried %d", w.samples, w.queriedSamples)
	}
	// Late points arrive after later ones: the stream is not in time order.
	var last int64
	late := 0
	err = w.each(func(pt *tsbs.Point) error {
		if pt.Time < last {
			late++
		}
		last = max(last, pt.Time)
		return nil
	})
	if err != nil || late == 0 {
		t.Errorf("%d late points, err %v", late, err)
	}
}

func TestFileWorkloadDetectsIoT(t *testing.T) {
	g, err := tsbs.New(tsbs.Config{UseCase: tsbs.UseCaseIoT, Scale: 3, Start: testStart, End: testStart.Add(10 * time.Minute), Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	var pt tsbs.Point
	var samples int64
	for g.Next(&pt) {
		buf = pt.AppendInflux(buf)
		buf = append(buf, '\n')
		samples += int64(len(pt.Fields))
	}
	path := filepath.Join(t.TempDir(), "iot.lp")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := fileWorkload(path, FormatInflux, testStart)
	if err != nil {
		t.Fatal(err)
	}
	if w.family != familyIoT || w.hosts != 3 || w.samples != samples || w.queriedSamples != samples || !strings.Contains(w.desc, "iot queries") {
		t.Fatalf("workload %+v (want %d samples)", w, samples)
	}
}
