// Package firehose owns the Amazon Data Firehose HTTP endpoint destination:
// Firehose POSTs batches of base64 records as JSON
// ({"requestId", "timestamp", "records": [{"data"}]}, optionally gzipped)
// with the destination's access key in X-Amz-Firehose-Access-Key, and
// retries any answer but 200 until its retry duration runs out. Each record
// is one message of a pipeline.Pipeline.
//
// A 200 is sent only once the batch is durable. Poison records go to the
// pipeline's dead-letter table and do not fail the request (a retry would
// fail the same way); a failed append is a 500, which Firehose retries. A
// repeated requestId (Firehose keeps the id across retries) is answered
// from memory without appending again; past that memory a retry is still
// idempotent, as records upsert to the same values.
//
// The server's auth layer checks the key first (as a Write bearer token);
// the handler then checks it against the pipeline's own keys, so a key
// opens one delivery stream only.
package firehose

import (
	"compress/gzip"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tidaldb/tidal/ingest/pipeline"
)

// Header names of the HTTP endpoint delivery contract.
const (
	HeaderRequestID = "X-Amz-Firehose-Request-Id"
	HeaderAccessKey = "X-Amz-Firehose-Access-Key"
)

// Options configures a Handler.
type Options struct {
	// AccessKeys are the keys the delivery stream may send; at least one.
	AccessKeys []string
	// MaxBodyBytes bounds the (decompressed) body; Firehose sends at most
	// 64 MiB of records (default 64 MiB).
	MaxBodyBytes int64
	// RememberRequests is how many completed request ids are kept for
	// deduplication (default 4096).
	RememberRequests int
	Logger           *slog.Logger
}

// Handler serves one pipeline's Firehose endpoint.
type Handler struct {
	p    *pipeline.Pipeline
	keys [][32]byte
	opts Options

	mu    sync.Mutex
	done  map[string]struct{}
	order []string // ring of done's keys, oldest at next
	next  int
}

// New returns the endpoint of pipeline p.
func New(p *pipeline.Pipeline, opts Options) (*Handler, error) {
	if len(opts.AccessKeys) == 0 {
		return nil, errors.New("create firehose endpoint: at least one access key is required")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 20
	}
	if opts.RememberRequests <= 0 {
		opts.RememberRequests = 4096
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{p: p, opts: opts, done: map[string]struct{}{}, order: make([]string, opts.RememberRequests)}
	for _, k := range opts.AccessKeys {
		h.keys = append(h.keys, sha256.Sum256([]byte(k)))
	}
	return h, nil
}

type request struct {
	RequestID string `json:"requestId"`
	Timestamp int64  `json:"timestamp"`
	Records   []struct {
		Data string `json:"data"`
	} `json:"records"`
}

type response struct {
	RequestID    string `json:"requestId"`
	Timestamp    int64  `json:"timestamp"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// ServeHTTP handles one delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(HeaderRequestID)
	if !h.keyOK(r.Header.Get(HeaderAccessKey)) {
		h.reply(w, http.StatusUnauthorized, id, "invalid or missing "+HeaderAccessKey)
		return
	}
	body, status, err := h.readBody(r)
	if err != nil {
		h.reply(w, status, id, err.Error())
		return
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		h.reply(w, http.StatusBadRequest, id, "decode request body: "+err.Error())
		return
	}
	if id == "" {
		id = req.RequestID
	}
	if id == "" {
		h.reply(w, http.StatusBadRequest, id, "no request id")
		return
	}
	if h.seen(id) {
		h.reply(w, http.StatusOK, id, "")
		return
	}
	t := time.UnixMilli(req.Timestamp)
	if req.Timestamp <= 0 {
		t = time.Now()
	}
	msgs := make([]pipeline.Message, len(req.Records))
	for i, rec := range req.Records {
		data, err := base64.StdEncoding.DecodeString(rec.Data)
		if err != nil {
			h.reply(w, http.StatusBadRequest, id, fmt.Sprintf("record %d: data is not base64", i))
			return
		}
		msgs[i] = pipeline.Message{Partition: "firehose", Offset: id + "/" + strconv.Itoa(i), Time: t, Value: data}
	}
	if len(msgs) > 0 {
		if _, err := h.p.Process(r.Context(), msgs); err != nil {
			h.opts.Logger.Warn("firehose delivery failed; Firehose will retry", "pipeline", h.p.Name(), "request_id", id, "err", err)
			h.reply(w, http.StatusInternalServerError, id, "store records: "+err.Error())
			return
		}
	}
	h.remember(id)
	h.reply(w, http.StatusOK, id, "")
}

func (h *Handler) keyOK(key string) bool {
	got := sha256.Sum256([]byte(key))
	ok := 0
	for i := range h.keys {
		ok |= subtle.ConstantTimeCompare(got[:], h.keys[i][:])
	}
	return ok == 1 && key != ""
}

// readBody reads the body, gunzipping it if Content-Encoding says gzip,
// refusing more than MaxBodyBytes after decompression.
func (h *Handler) readBody(r *http.Request) ([]byte, int, error) {
	var src io.Reader = http.MaxBytesReader(nil, r.Body, h.opts.MaxBodyBytes)
	switch r.Header.Get("Content-Encoding") {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("read gzip body: %w", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported Content-Encoding %q", r.Header.Get("Content-Encoding"))
	}
	body, err := io.ReadAll(io.LimitReader(src, h.opts.MaxBodyBytes+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || int64(len(body)) > h.opts.MaxBodyBytes:
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes", h.opts.MaxBodyBytes)
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	return body, 0, nil
}

func (h *Handler) seen(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.done[id]
	return ok
}

// remember records a completed request id, forgetting the oldest.
func (h *Handler) remember(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.done[id]; ok {
		return
	}
	if old := h.order[h.next]; old != "" {
		delete(h.done, old)
	}
	h.order[h.next] = id
	h.next = (h.next + 1) % len(h.order)
	h.done[id] = struct{}{}
}

// reply writes the contract's response: {"requestId", "timestamp"} and,
// on failure, "errorMessage".
func (h *Handler) reply(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(response{RequestID: id, Timestamp: time.Now().UnixMilli(), ErrorMessage: msg})
	_, _ = w.Write(b)
}

// Mux serves several pipelines' endpoints at POST /firehose/{pipeline}.
type Mux map[string]*Handler

// ServeHTTP dispatches on the {pipeline} path value.
func (m Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, ok := m[r.PathValue("pipeline")]
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		b, _ := json.Marshal(response{RequestID: r.Header.Get(HeaderRequestID), Timestamp: time.Now().UnixMilli(), ErrorMessage: "no firehose pipeline named " + strconv.Quote(r.PathValue("pipeline"))})
		_, _ = w.Write(b)
		return
	}
	h.ServeHTTP(w, r)
}
