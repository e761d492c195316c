package pipeline

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore"
)

// spy records what reaches a real appender.
type spy struct {
	ingest.Appender
	mu      sync.Mutex
	batches map[string][]ingest.Record
	fail    error
}

func (s *spy) Append(ctx context.Context, db, table string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		return ingest.Result{}, fail
	}
	res, err := s.Appender.Append(ctx, db, table, recs, opts)
	if err == nil {
		s.mu.Lock()
		if s.batches == nil {
			s.batches = map[string][]ingest.Record{}
		}
		s.batches[db+"."+table] = append(s.batches[db+"."+table], recs...)
		s.mu.Unlock()
	}
	return res, err
}

// openMemstore opens a real catalog and memstore in a temporary directory.
func openMemstore(t testing.TB) *memstore.DB {
	t.Helper()
	dir := t.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := memstore.Open(cat, memstore.DefaultOptions(filepath.Join(dir, "memstore")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mem.Close() })
	return mem
}

func TestProcessDeadLetters(t *testing.T) {
	mem := openMemstore(t)
	sp := &spy{Appender: mem}
	p, err := New(sp, Options{Name: "plant", Source: "kafka", Format: FormatJSON, Mapping: plantMapping})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Millisecond)
	ms := now.UnixMilli()
	long := strings.Repeat("x", 3000)
	msgs := []Message{
		{Partition: "telemetry/0", Offset: "0", Time: now, Value: []byte(`{"ts": ` + fmtInt(ms) + `, "device": "d1", "temp": 20.5, "rpm": 1000}`)},
		{Partition: "telemetry/0", OffsetNum: 1, HasOffsetNum: true, Time: now, Value: []byte(`not json`)},
		{Partition: "telemetry/0", Offset: "2", Time: now, Value: []byte(`[{"ts": ` + fmtInt(ms+1) + `, "device": "d2", "temp": 1}, {"ts": ` + fmtInt(ms+2) + `, "device": "d2", "rpm": 5}]`)},
		// Decodes, but the appender rejects it (a dimension over the size limit).
		{Partition: "telemetry/0", Offset: "3", Time: now, Value: []byte(`{"ts": ` + fmtInt(ms) + `, "device": "` + long + `", "temp": 1}`)},
	}
	out, err := p.Process(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if out.Records != 3 || out.DeadLetters != 2 {
		t.Fatalf("outcome = %+v, want 3 records and 2 dead letters", out)
	}
	dead := sp.batches["plant._dead_letters"]
	if len(dead) != 2 {
		t.Fatalf("dead letters = %d, want 2", len(dead))
	}
	for i, want := range []struct{ offset, reason, raw string }{
		{"1", "decode json", "not json"},
		{"3", "record rejected: The dimension names and values", `{"ts": `},
	} {
		d := dead[i]
		dims := map[string]string{}
		for _, dm := range d.Dimensions {
			dims[dm.Name] = dm.Value
		}
		if dims["pipeline"] != "plant" || dims["source"] != "kafka" || dims["partition"] != "telemetry/0" || dims["offset"] != want.offset {
			t.Errorf("dead letter %d dimensions: %v", i, dims)
		}
		if d.Time != now.UnixNano() {
			t.Errorf("dead letter %d time = %d, want the message time %d", i, d.Time, now.UnixNano())
		}
		if !strings.HasPrefix(d.Measures[0].Value.Str, want.reason) {
			t.Errorf("dead letter %d reason = %q, want prefix %q", i, d.Measures[0].Value.Str, want.reason)
		}
		raw, _ := base64.StdEncoding.DecodeString(d.Measures[1].Value.Str)
		if !strings.HasPrefix(string(raw), want.raw) || len(raw) > deadRawBytes {
			t.Errorf("dead letter %d raw = %q (%d bytes)", i, raw, len(raw))
		}
		if reason := ingest.ValidateRecord(&d); reason != "" {
			t.Errorf("dead letter %d is not a valid record: %s", i, reason)
		}
	}
	rows := mem.Stats().Rows
	if rows != 5 {
		t.Fatalf("rows = %d, want 3 records + 2 dead letters", rows)
	}
	// Redelivery (a source that crashed before committing) changes nothing.
	if _, err := p.Process(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	if got := mem.Stats().Rows; got != rows {
		t.Fatalf("rows after redelivery = %d, want %d", got, rows)
	}
	p.SetLag("telemetry/0", 5)
	p.SetLag("telemetry/1", 7)
	st := p.Status()
	if st.State != "running" || !strings.Contains(st.LastError, "record rejected") || st.Target != "plant.telemetry" ||
		st.Messages != 8 || st.DeadLetters != 4 || st.Records != 6 || st.Lag != 12 {
		t.Fatalf("status = %+v", st)
	}
}

func TestProcessAppendError(t *testing.T) {
	sp := &spy{Appender: openMemstore(t), fail: context.DeadlineExceeded}
	p, err := New(sp, Options{Name: "p", Format: FormatJSON, Mapping: plantMapping})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Process(context.Background(), []Message{{Value: []byte(`{"ts": 1, "temp": 1}`)}})
	if err == nil || !strings.Contains(err.Error(), "append 1 records to plant.telemetry") {
		t.Fatalf("err = %v", err)
	}
	if st := p.Status(); st.State != "retrying" {
		t.Fatalf("state = %q, want retrying", st.State)
	}
	// A batch of poison only must fail too when the dead-letter write fails:
	// the source redelivers instead of losing the letter.
	_, err = p.Process(context.Background(), []Message{{Value: []byte(`x`)}})
	if err == nil || !strings.Contains(err.Error(), "dead letters") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(nil, Options{Name: "x", Format: FormatJSON, Mapping: Mapping{Database: "d", Table: "t"}}); err == nil {
		t.Fatal("json pipeline without time and measures accepted")
	}
	if _, err := New(nil, Options{Name: "x", Format: "nope", Mapping: Mapping{Database: "d", Table: "t"}}); err == nil {
		t.Fatal("unknown format accepted")
	}
	hook := map[string]DecoderFunc{FormatLineProtocol: func(Mapping) (Decoder, error) { return &promDecoder{}, nil }}
	if _, err := New(nil, Options{Name: "x", Format: FormatLineProtocol, Formats: hook, Mapping: Mapping{Database: "d", Table: "t"}}); err != nil {
		t.Fatalf("format from the hook: %v", err)
	}
}
