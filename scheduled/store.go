package scheduled

import (
	"github.com/tidaldb/tidal/internal/fileutil"

	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tidaldb/tidal/internal/awsjson"
)

// stateFile is the name of the state file in Options.Dir.
const stateFile = "scheduled.json"

// stateVersion is written in the file so that a later format can be told
// apart.
const stateVersion = 1

// state is everything the scheduler keeps across restarts: definitions,
// tags, last and next invocation, run summaries, manual runs not yet done
// and recent client tokens. It is small (one entry per scheduled query)
// and rewritten whole on every change.
type state struct {
	Version int               `json:"Version"`
	Queries map[string]*entry `json:"Queries"` // by ARN
	Tokens  []clientToken     `json:"Tokens,omitempty"`
}

// entry is one scheduled query with what only the server sees.
type entry struct {
	Query
	Tags []Tag `json:"Tags,omitempty"`
	// Pending are manual runs (ExecuteScheduledQuery) not yet done, in
	// request order.
	Pending []pendingRun `json:"Pending,omitempty"`
	// Totals over the query's life, for tidal admin scheduled.
	Runs           int64 `json:"Runs,omitempty"`
	Failures       int64 `json:"Failures,omitempty"`
	RecordsWritten int64 `json:"RecordsWritten,omitempty"`
}

type pendingRun struct {
	InvocationTime awsjson.Timestamp `json:"InvocationTime"`
	RequestTime    awsjson.Timestamp `json:"RequestTime"`
}

// clientToken remembers a CreateScheduledQuery ClientToken for the
// idempotency window.
type clientToken struct {
	Token string            `json:"Token"`
	Hash  string            `json:"Hash"`
	Arn   string            `json:"Arn"`
	Time  awsjson.Timestamp `json:"Time"`
}

func newState() *state {
	return &state{Version: stateVersion, Queries: map[string]*entry{}}
}

// loadState reads the state file in dir; a missing file is an empty
// state.
func loadState(dir string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read scheduled query state: %w", err)
	}
	st := newState()
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("decode scheduled query state %s: %w", filepath.Join(dir, stateFile), err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("decode scheduled query state: unknown version %d", st.Version)
	}
	if st.Queries == nil {
		st.Queries = map[string]*entry{}
	}
	return st, nil
}

// save writes st to the state file atomically and durably: a temporary
// file is written and fsynced, renamed over the old one, and the directory
// is fsynced.
func (st *state) save(dir string) error {
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return fmt.Errorf("encode scheduled query state: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, stateFile), data)
}

func writeFileAtomic(path string, data []byte) error {
	return fileutil.WriteFileAtomic(fileutil.OS, path, data, 0o644)
}
