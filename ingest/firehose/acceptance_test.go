package firehose

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/ingesttest"
	"github.com/tidaldb/tidal/ingest/pipeline"
)

// firehoseTarget delivers records the way a Firehose delivery stream
// does: one HTTP endpoint request of base64 JSON records. The request id
// is a hash of the body, as Firehose keeps the id of a delivery across its
// retries. Acknowledged is a 200; retryable is any other status (Firehose
// retries them all), with the response's errorMessage as the message.
//
// The endpoint contract has no per-record refusal: a poison record is
// dead-lettered and the request still gets a 200 (a retry would fail the
// same way). Refused is therefore the dead letters the pipeline wrote for
// the request, and Message its last error, which is what an operator sees
// in the pipeline listing.
type firehoseTarget struct {
	srv *httptest.Server
	p   *pipeline.Pipeline
}

func (tg *firehoseTarget) Send(t *testing.T, recs []ingest.Record, malformed bool) ingesttest.Outcome {
	t.Helper()
	var req struct {
		RequestID string `json:"requestId"`
		Timestamp int64  `json:"timestamp"`
		Records   []struct {
			Data string `json:"data"`
		} `json:"records"`
	}
	add := func(b []byte) {
		req.Records = append(req.Records, struct {
			Data string `json:"data"`
		}{base64.StdEncoding.EncodeToString(b)})
	}
	for i, r := range recs {
		if malformed && i == len(recs)/2 {
			add([]byte(`{"t": 1, "host": `)) // valid base64, bad JSON
		}
		add(fmt.Appendf(nil, `{"t": %d, "host": %q, "m": %v}`, r.Time/1e6, r.Dimensions[0].Value, r.Value.Float()))
	}
	body, err := json.Marshal(req.Records)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	req.RequestID = hex.EncodeToString(sum[:16])
	if body, err = json.Marshal(req); err != nil {
		t.Fatal(err)
	}
	hr, err := http.NewRequest(http.MethodPost, tg.srv.URL+"/firehose/acc", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(HeaderRequestID, req.RequestID)
	hr.Header.Set(HeaderAccessKey, "acc-key")
	before := tg.p.Status()
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("post delivery: %v", err)
	}
	defer resp.Body.Close()
	var res response
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	if res.RequestID != req.RequestID {
		t.Fatalf("response requestId %q, want %q", res.RequestID, req.RequestID)
	}
	if resp.StatusCode != http.StatusOK {
		if res.ErrorMessage == "" {
			t.Errorf("status %d without an errorMessage", resp.StatusCode)
		}
		// Firehose retries any status but 200; a 4xx would only be an
		// honest answer for a request no retry can fix.
		return ingesttest.Outcome{Retryable: resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests, Message: res.ErrorMessage}
	}
	if res.ErrorMessage != "" {
		t.Errorf("200 with errorMessage %q", res.ErrorMessage)
	}
	st := tg.p.Status()
	out := ingesttest.Outcome{Refused: int(st.DeadLetters - before.DeadLetters)}
	if out.Refused > 0 {
		out.Message = st.LastError
	}
	return out
}

func TestFirehoseAcceptance(t *testing.T) {
	ingesttest.Run(t, ingesttest.Harness{
		Database: "db", Table: "tbl",
		New: func(t *testing.T, app ingest.Appender) ingesttest.Target {
			p, err := pipeline.New(app, pipeline.Options{Name: "acc", Source: "firehose", Format: pipeline.FormatJSON, Mapping: pipeline.Mapping{
				Database: "db", Table: "tbl", Time: pipeline.TimeField{Field: "t", Unit: "ms"}, Dimensions: []string{"host"},
				Measures: []pipeline.MeasureField{{Field: "m", Type: ingest.TypeDouble}}, Single: true,
			}})
			if err != nil {
				t.Fatal(err)
			}
			h, err := New(p, Options{AccessKeys: []string{"acc-key"}})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("POST /firehose/{pipeline}", Mux{"acc": h})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			return &firehoseTarget{srv: srv, p: p}
		},
	})
}
