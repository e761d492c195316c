package wal

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const (
	helperEnv       = "TIDAL_WAL_HELPER_DIR"
	helperPolicyEnv = "TIDAL_WAL_HELPER_SYNC"
	helperWorkers   = 4
	helperMaxGroups = 200000 // the helper stops by itself if never killed
)

// TestHelperProcess is not a test: TestKill9 runs the test binary again with
// helperEnv set, and this function then appends groups until it is killed,
// printing the id of each group once Append has acknowledged it.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestKill9")
	}
	policy := SyncBatch
	if os.Getenv(helperPolicyEnv) == SyncNever.String() {
		policy = SyncNever
	}
	w, err := Open(Options{Dir: dir, Sync: policy, SegmentSize: 32 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range helperWorkers {
		wg.Go(func() {
			for i := range helperMaxGroups / helperWorkers {
				id := fmt.Sprintf("w%d-%d", g, i)
				recs := [][]byte{[]byte(id + "/a"), []byte(id + "/b" + strings.Repeat("#", i%200))}
				if err := w.Append(context.Background(), recs...); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(out, id)
				err := out.Flush()
				mu.Unlock()
				if err != nil {
					os.Exit(4)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		os.Exit(5)
	}
	os.Exit(0)
}

// TestKill9 kills a process that is appending with SIGKILL and checks that
// every group it acknowledged is replayed, whole.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	for _, policy := range []SyncPolicy{SyncBatch, SyncNever} {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			acked := runAndKill(t, dir, policy, 1500)

			var log logBuffer
			got := reopenRecords(t, dir, &log)
			present := map[string]int{}
			for _, rec := range got {
				id, part, _ := strings.Cut(rec, "/")
				present[id]++
				if part != "a" && !strings.HasPrefix(part, "b") {
					t.Fatalf("unexpected record %q", rec)
				}
			}
			for _, id := range acked {
				if present[id] != 2 {
					t.Errorf("acknowledged group %s has %d of 2 records after replay", id, present[id])
				}
			}
			for id, n := range present {
				if n != 2 {
					t.Errorf("group %s replayed with %d of 2 records", id, n)
				}
			}
			if len(present) < len(acked) {
				t.Errorf("%d groups replayed, fewer than the %d acknowledged", len(present), len(acked))
			}
			t.Logf("%d groups acknowledged, %d replayed; repair log: %s", len(acked), len(present), log.String())
		})
	}
}

// runAndKill starts the helper on dir, kills it with SIGKILL once it has
// acknowledged n groups, and returns every group id it printed.
func runAndKill(t *testing.T, dir string, policy SyncPolicy, n int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir, helperPolicyEnv+"="+policy.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	rd := bufio.NewReader(stdout)
	killed := false
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			break // EOF after the kill; a last line without '\n' is torn
		}
		if strings.HasPrefix(line, "w") {
			acked = append(acked, strings.TrimSuffix(line, "\n"))
		}
		if !killed && len(acked) >= n {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	// Lines still in the pipe were acknowledged before the kill; a torn
	// last line is not counted.
	err = cmd.Wait()
	if !killed {
		t.Fatalf("helper exited before %d acknowledgements (%d): %v; stderr: %s", n, len(acked), err, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, want SIGKILL; stderr: %s", err, stderr.String())
	}
	return acked
}
