package kinesis

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tidaldb/tidal/internal/fileutil"
)

func TestFileLeaseStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kinesis", "fleet", "leases.json")
	s, err := OpenFileLeaseStore(nil, path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Acquire(ctx, "shardId-000000000003", []string{"shardId-000000000000"}, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(ctx, a, "49590"); err != nil {
		t.Fatal(err)
	}
	// A second acquisition fences the first holder.
	b, err := s.Acquire(ctx, "shardId-000000000003", nil, "n2")
	if err != nil {
		t.Fatal(err)
	}
	if b.Counter != a.Counter+1 || b.Checkpoint != "49590" || !reflect.DeepEqual(b.Parents, []string{"shardId-000000000000"}) {
		t.Fatalf("re-acquired lease = %+v", b)
	}
	if err := s.Checkpoint(ctx, a, "49600"); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("checkpoint by the fenced owner: %v, want ErrLeaseLost", err)
	}
	if err := s.Checkpoint(ctx, b, ShardEnd); err != nil {
		t.Fatal(err)
	}

	// Everything survives a reopen.
	s2, err := OpenFileLeaseStore(nil, path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s2.Leases(ctx)
	want := []Lease{{Shard: "shardId-000000000003", Parents: []string{"shardId-000000000000"}, Owner: "n2", Counter: 2, Checkpoint: ShardEnd}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("leases after reopen = %+v, want %+v", got, want)
	}
}

// TestFileLeaseStoreWriteFails: a checkpoint the disk refuses is an error
// and is not remembered, so the old checkpoint stays in force.
func TestFileLeaseStoreWriteFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ffs := fileutil.NewFaultFS(fileutil.OS)
	path := filepath.Join(dir, "leases.json")
	s, err := OpenFileLeaseStore(ffs, path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Acquire(ctx, "s0", nil, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(ctx, l, "100"); err != nil {
		t.Fatal(err)
	}
	ffs.Inject(fileutil.Fault{Op: fileutil.OpSync, Err: errors.New("EIO")})
	if err := s.Checkpoint(ctx, l, "200"); err == nil {
		t.Fatal("checkpoint with a failing fsync succeeded")
	}
	ffs.Clear()
	got, _ := s.Leases(ctx)
	if got[0].Checkpoint != "100" {
		t.Fatalf("checkpoint after a failed write = %q, want 100", got[0].Checkpoint)
	}
	s2, err := OpenFileLeaseStore(nil, path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s2.Leases(ctx)
	if got[0].Checkpoint != "100" {
		t.Fatalf("checkpoint on disk = %q, want 100", got[0].Checkpoint)
	}
}
