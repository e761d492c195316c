package magnetic

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tidaldb/tidal/internal/objstore"
)

// TestObjectCrashHelper is the child process of TestObjectCrash: it
// writes a part, prints "ack N", prints "uploading" and uploads every
// part (merging now and then), in a loop until it is killed.
func TestObjectCrashHelper(t *testing.T) {
	dir, endpoint := os.Getenv("MAGNETIC_OBJECT_CRASH_DIR"), os.Getenv("MAGNETIC_OBJECT_CRASH_S3")
	if dir == "" {
		t.Skip("child process of TestObjectCrash")
	}
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	b, err := objstore.New(crashBucketConfig(endpoint))
	if err != nil {
		fail(err)
	}
	cat, id := newCatalog(t)
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat, Now: coldNow,
		Object: &ObjectOptions{Store: b, UploadAge: 1}})
	if err != nil {
		fail(err)
	}
	for i := 0; ; i++ {
		if _, err := s.WritePart(context.Background(), id, recordBatches(crashBatch(i))); err != nil {
			fail(err)
		}
		fmt.Printf("ack %d\n", i)
		if i%3 == 2 {
			if _, err := s.Merge(context.Background()); err != nil {
				fail(err)
			}
		}
		fmt.Println("uploading")
		if _, err := s.Upload(context.Background(), coldNow()); err != nil {
			fail(err)
		}
	}
}

func crashBucketConfig(endpoint string) objstore.Config {
	return objstore.Config{Endpoint: endpoint, Bucket: "parts", Prefix: "crash", PathStyle: true,
		AccessKeyID: "S3RVER", SecretAccessKey: "S3RVER"}
}

// TestObjectCrash kills (SIGKILL) a process while it uploads parts to
// s3rver, then reopens its directory: every acknowledged row is there
// once, and the bucket holds exactly the objects the stubs name (the
// orphans of the cut-off upload are gone).
func TestObjectCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	_, srv := newBucket(t)
	rng := rand.New(rand.NewPCG(4, 4))
	for round := range 3 {
		dir := t.TempDir()
		killAfter := 2 + rng.IntN(6)
		cmd := exec.Command(os.Args[0], "-test.run=^TestObjectCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MAGNETIC_OBJECT_CRASH_DIR="+dir, "MAGNETIC_OBJECT_CRASH_S3="+srv.Endpoint)
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
			} else if line == "uploading" && acked+1 >= killAfter {
				break
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
		b, err := objstore.New(crashBucketConfig(srv.Endpoint))
		if err != nil {
			t.Fatal(err)
		}
		verifyCrashDir(t, dir, acked, b)
		cat, _ := newCatalog(t)
		s := openObjectStore(t, dir, cat, b, 0)
		var live []string
		for _, p := range s.Parts() {
			if p.Object != "" {
				live = append(live, p.Object)
			}
		}
		slices.Sort(live)
		if got := objectKeys(t, b); !slices.Equal(got, live) {
			t.Fatalf("round %d: objects %v, stubs name %v", round, got, live)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// Clear the bucket for the next round.
		for _, k := range live {
			if err := b.Delete(context.Background(), k); err != nil {
				t.Fatal(err)
			}
		}
		b.Close()
	}
}
