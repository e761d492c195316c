package magnetic

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// crashBatch returns the records of write i of the crash test: 20 series,
// 30 rows each, at times no other write uses.
func crashBatch(i int) []ingest.Record {
	var recs []ingest.Record
	for h := range 20 {
		for j := range 30 {
			recs = append(recs, ingest.Record{MeasureName: "cpu", Dimensions: []ingest.Dimension{{Name: "host", Value: "h" + strconv.Itoa(h)}},
				Time: day0 + int64(i*30+j)*1e9, Value: ingest.Float(float64(i*1000 + h*30 + j))})
		}
	}
	return recs
}

// TestCrashHelper is the child process of TestCrashRecovery: it writes
// parts and merges in a loop and prints "ack N" after write N returned,
// until it is killed.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("MAGNETIC_CRASH_DIR")
	if dir == "" {
		t.Skip("child process of TestCrashRecovery")
	}
	cat, id := newCatalog(t)
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		if _, err := s.WritePart(context.Background(), id, recordBatches(crashBatch(i))); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Printf("ack %d\n", i)
		if i%2 == 1 {
			if _, err := s.Merge(context.Background()); err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
		}
	}
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for round := range 3 {
		dir := t.TempDir()
		killAfter := 5 + rng.IntN(20)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MAGNETIC_CRASH_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := -1
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "ack "); ok {
				acked, _ = strconv.Atoi(n)
				if acked+1 >= killAfter {
					break
				}
			} else if strings.HasPrefix(line, "error") {
				t.Fatalf("child: %s", line)
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		if acked < 0 {
			t.Fatalf("round %d: child acknowledged nothing", round)
		}
		verifyCrashDir(t, dir, acked)
	}
}

// verifyCrashDir reopens dir and checks that every acknowledged row is
// present once with its value, and that no temporary file survived Open.
func verifyCrashDir(t *testing.T, dir string, acked int, obj ...ObjectStore) {
	t.Helper()
	cat, _ := newCatalog(t)
	opts := Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat}
	if len(obj) > 0 {
		opts.Object = &ObjectOptions{Store: obj[0]}
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, tmpSuffix) {
			return fmt.Errorf("temporary file %s survived Open", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, s, all())
	byKey := map[string]scantest.Row{}
	for _, r := range got {
		byKey[r.Series+"@"+strconv.FormatInt(r.Time, 10)] = r
	}
	if len(byKey) != len(got) {
		t.Fatalf("%d rows but %d distinct", len(got), len(byKey))
	}
	var want []ingest.Record
	for i := 0; i <= acked; i++ {
		want = append(want, crashBatch(i)...)
	}
	wantRows := scantest.NewModel(want).Rows(&scan.Request{MinTime: -1 << 63, MaxTime: 1<<63 - 1})
	for _, w := range wantRows {
		g, ok := byKey[w.Series+"@"+strconv.FormatInt(w.Time, 10)]
		if !ok || g != w {
			t.Fatalf("acknowledged row %+v: got %+v (present %v)", w, g, ok)
		}
	}
	// Unacknowledged writes may or may not have landed, but only whole.
	if extra := len(got) - len(wantRows); extra%600 != 0 {
		t.Errorf("%d rows beyond the acknowledged ones: not whole writes", extra)
	}
	for _, p := range s.Parts() {
		if p.Rows == 0 || p.MinTime > p.MaxTime {
			t.Errorf("part %+v", p)
		}
	}
}

func TestOpenRemovesLeftovers(t *testing.T) {
	cat, id := newCatalog(t)
	dir := t.TempDir()
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat, Now: coldNow})
	if err != nil {
		t.Fatal(err)
	}
	writeRecords(t, s, id, crashBatch(0))
	writeRecords(t, s, id, crashBatch(1))
	pdir := filepath.Join(dir, strconv.FormatUint(id, 10), "20261125")
	inputs := s.Parts()
	saved := map[string][]byte{}
	for _, p := range inputs {
		b, err := os.ReadFile(filepath.Join(pdir, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		saved[p.Name] = b
	}
	if n := mergeAll(t, s); n != 1 {
		t.Fatalf("%d merges", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash after the merged part was renamed into place but
	// before its inputs were deleted, and one during a write.
	for name, b := range saved {
		if err := os.WriteFile(filepath.Join(pdir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(pdir, partName(99)+tmpSuffix), []byte("half a part"), 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, dir, cat)
	parts := s2.Parts()
	if len(parts) != 1 || parts[0].Level != 1 || parts[0].Rows != 1200 {
		t.Fatalf("parts after reopen: %+v", parts)
	}
	ents, err := os.ReadDir(pdir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != parts[0].Name {
		t.Errorf("partition directory holds %v, want only %s", ents, parts[0].Name)
	}
	if rows := collect(t, s2, all()); len(rows) != 1200 {
		t.Errorf("%d rows, want 1200", len(rows))
	}
	// New parts get sequence numbers after every existing one.
	infos := writeRecords(t, s2, id, crashBatch(2))
	if seq, _ := parsePartName(infos[0].Name); seq <= 3 {
		t.Errorf("new part %s reuses an old sequence number", infos[0].Name)
	}
}
