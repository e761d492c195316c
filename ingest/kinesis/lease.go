package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"

	"github.com/tidaldb/tidal/internal/fileutil"
)

// ShardEnd is the checkpoint of a shard read to its end (closed by a split
// or merge, or its stream's retention): its children may start.
const ShardEnd = "SHARD_END"

// Lease is one shard's row in the lease table, after the KCL's: who reads
// the shard, a counter that fences a stale owner, and how far it got.
type Lease struct {
	Shard string
	// Parents are the shard's parent shards (one after a split, two after
	// a merge); the shard is read only once they are at ShardEnd.
	Parents []string `json:",omitempty"`
	Owner   string
	// Counter grows on every Acquire; a Checkpoint with an older counter
	// is refused (ErrLeaseLost).
	Counter int64
	// Checkpoint is the sequence number of the last record durably
	// processed, ShardEnd, or "" (nothing yet: the start policy applies).
	Checkpoint string `json:",omitempty"`
}

// ErrLeaseLost is returned by a checkpoint of a lease another owner took.
var ErrLeaseLost = errors.New("kinesis: shard lease lost to another owner")

// LeaseStore keeps a stream consumer's leases and checkpoints durably. The
// file store (FileLeaseStore) serves one node; a shared store (DynamoDB, a
// database row per shard with a compare-and-swap) can implement the same
// interface for several nodes splitting a stream's shards.
type LeaseStore interface {
	// Leases returns every lease, in shard order.
	Leases(ctx context.Context) ([]Lease, error)
	// Acquire takes the shard's lease for owner, creating it (with its
	// parents) if there is none, and returns it with its counter advanced.
	Acquire(ctx context.Context, shard string, parents []string, owner string) (Lease, error)
	// Checkpoint durably records checkpoint for the lease l (as returned by
	// Acquire); ErrLeaseLost if the lease changed hands since.
	Checkpoint(ctx context.Context, l Lease, checkpoint string) error
}

// FileLeaseStore is a LeaseStore in one JSON file, rewritten atomically
// (fsynced, renamed) on every change. It belongs to one process: Acquire
// takes a lease whatever its previous owner (on one node the previous owner
// is this process before a restart).
type FileLeaseStore struct {
	fsys fileutil.FS
	path string

	mu     sync.Mutex
	leases map[string]Lease
}

// OpenFileLeaseStore opens (or starts) the lease file at path.
func OpenFileLeaseStore(fsys fileutil.FS, path string) (*FileLeaseStore, error) {
	if fsys == nil {
		fsys = fileutil.OS
	}
	s := &FileLeaseStore{fsys: fsys, path: path, leases: map[string]Lease{}}
	b, err := fileutil.ReadFile(fsys, path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := fileutil.MkdirAll(fsys, filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("open lease store: %w", err)
		}
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("open lease store: %w", err)
	}
	var ls []Lease
	if err := json.Unmarshal(b, &ls); err != nil {
		return nil, fmt.Errorf("open lease store %s: %w", path, err)
	}
	for _, l := range ls {
		s.leases[l.Shard] = l
	}
	return s, nil
}

// Leases implements LeaseStore.
func (s *FileLeaseStore) Leases(context.Context) ([]Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sorted(), nil
}

func (s *FileLeaseStore) sorted() []Lease {
	out := make([]Lease, 0, len(s.leases))
	for _, l := range s.leases {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Lease) int {
		if a.Shard < b.Shard {
			return -1
		}
		if a.Shard > b.Shard {
			return 1
		}
		return 0
	})
	return out
}

// Acquire implements LeaseStore.
func (s *FileLeaseStore) Acquire(_ context.Context, shard string, parents []string, owner string) (Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leases[shard]
	if !ok {
		l = Lease{Shard: shard, Parents: slices.Clone(parents)}
	}
	l.Owner = owner
	l.Counter++
	if err := s.save(shard, l); err != nil {
		return Lease{}, err
	}
	return l, nil
}

// Checkpoint implements LeaseStore.
func (s *FileLeaseStore) Checkpoint(_ context.Context, l Lease, checkpoint string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.leases[l.Shard]
	if !ok || cur.Owner != l.Owner || cur.Counter != l.Counter {
		return ErrLeaseLost
	}
	cur.Checkpoint = checkpoint
	return s.save(l.Shard, cur)
}

// save writes the table with l in place of shard's lease; the memory copy
// changes only once the file did.
func (s *FileLeaseStore) save(shard string, l Lease) error {
	old, had := s.leases[shard]
	s.leases[shard] = l
	b, err := json.MarshalIndent(s.sorted(), "", " ")
	if err == nil {
		err = fileutil.WriteFileAtomic(s.fsys, s.path, b, 0o644)
	}
	if err != nil {
		if had {
			s.leases[shard] = old
		} else {
			delete(s.leases, shard)
		}
		return fmt.Errorf("save lease of %s: %w", shard, err)
	}
	return nil
}
