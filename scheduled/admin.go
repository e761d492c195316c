package scheduled

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"
)

// AdminQuery is one scheduled query in the admin listing (GET
// /api/v1/admin/scheduled, printed by tidal admin scheduled).
type AdminQuery struct {
	Name           string     `json:"name"`
	Arn            string     `json:"arn"`
	State          string     `json:"state"`
	Schedule       string     `json:"schedule"`
	Target         string     `json:"target,omitempty"`
	Previous       *time.Time `json:"previous_invocation,omitempty"`
	Next           *time.Time `json:"next_invocation,omitempty"`
	LastStatus     string     `json:"last_status,omitempty"`
	LastMillis     int64      `json:"last_duration_ms"`
	LastRecords    int64      `json:"last_records"`
	Runs           int64      `json:"runs"`
	Failures       int64      `json:"failures"`
	RecordsWritten int64      `json:"records_written"`
	PendingManual  int        `json:"pending_manual_runs"`
	FailureReason  string     `json:"last_failure_reason,omitempty"`
}

// Admin lists every scheduled query with its run totals, sorted by name.
func (s *Scheduler) Admin() []AdminQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AdminQuery, 0, len(s.st.Queries))
	for _, e := range s.st.Queries {
		a := AdminQuery{Name: e.Name, Arn: e.Arn, State: e.State, Schedule: e.ScheduleConfiguration.ScheduleExpression,
			Runs: e.Runs, Failures: e.Failures, RecordsWritten: e.RecordsWritten, PendingManual: len(e.Pending)}
		if tc := e.TargetConfiguration; tc != nil && tc.TimestreamConfiguration != nil {
			a.Target = tc.TimestreamConfiguration.DatabaseName + "." + tc.TimestreamConfiguration.TableName
		}
		if p := e.PreviousInvocationTime; p != nil {
			t := time.Time(*p)
			a.Previous = &t
		}
		if n := e.NextInvocationTime; n != nil {
			t := time.Time(*n)
			a.Next = &t
		}
		if l := e.LastRunSummary; l != nil {
			a.LastStatus, a.FailureReason = l.RunStatus, l.FailureReason
			if st := l.ExecutionStats; st != nil {
				a.LastMillis, a.LastRecords = st.ExecutionTimeInMillis, st.RecordsIngested
			}
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AdminHandler serves Admin as JSON.
func (s *Scheduler) AdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Admin()) // The client went away; nothing useful to do.
	})
}
