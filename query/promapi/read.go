package promapi

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"
)

// ReadHandler serves Prometheus remote-read (POST /api/v1/read) with both
// response types: SAMPLES (one snappy ReadResponse) and STREAMED_XOR_CHUNKS
// (framed ChunkedReadResponse messages of Prometheus XOR chunks).
type ReadHandler struct {
	q storage.Queryable
	// SampleLimit bounds the samples of one SAMPLES response (0: 50M).
	SampleLimit int
	// MaxBytesInFrame bounds one streamed frame (0: 1 MiB).
	MaxBytesInFrame int
	// TenantHeader, when set, names a request header whose value chooses
	// the database read (see Options.TenantHeader).
	TenantHeader string
	marshalPool  sync.Pool
}

// NewReadHandler returns a remote-read handler over q.
func NewReadHandler(q storage.Queryable) *ReadHandler {
	return &ReadHandler{q: q, SampleLimit: 50_000_000, MaxBytesInFrame: 1 << 20}
}

func (h *ReadHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := remote.DecodeReadRequest(r)
	if err != nil {
		http.Error(w, "decode read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	typ, err := remote.NegotiateResponseType(req.AcceptedResponseTypes)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if typ == prompb.ReadRequest_STREAMED_XOR_CHUNKS {
		h.streamed(w, r, req)
		return
	}
	resp := &prompb.ReadResponse{Results: make([]*prompb.QueryResult, len(req.Queries))}
	for i, qry := range req.Queries {
		ss, q, err := h.selectQuery(r, qry)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, _, err := remote.ToQueryResult(ss, h.SampleLimit)
		err = errors.Join(err, q.Close())
		if err != nil {
			http.Error(w, "read query "+fmt.Sprint(i)+": "+err.Error(), http.StatusBadRequest)
			return
		}
		resp.Results[i] = res
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Header().Set("Content-Encoding", "snappy")
	if err := remote.EncodeReadResponse(resp, w); err != nil {
		http.Error(w, "encode read response: "+err.Error(), http.StatusInternalServerError)
	}
}

// selectQuery starts one query's Select; the caller closes the querier
// after reading the set.
func (h *ReadHandler) selectQuery(r *http.Request, qry *prompb.Query) (storage.SeriesSet, storage.Querier, error) {
	ms, err := remote.FromLabelMatchers(qry.Matchers)
	if err != nil {
		return nil, nil, fmt.Errorf("read matchers: %w", err)
	}
	qa, aerr := forTenant(h.q, h.TenantHeader, r)
	if aerr != nil {
		return nil, nil, aerr.err
	}
	q, err := qa.Querier(qry.StartTimestampMs, qry.EndTimestampMs)
	if err != nil {
		return nil, nil, fmt.Errorf("read querier: %w", err)
	}
	hints := &storage.SelectHints{Start: qry.StartTimestampMs, End: qry.EndTimestampMs}
	if qry.Hints != nil {
		hints.Step, hints.Func = qry.Hints.StepMs, qry.Hints.Func
	}
	return q.Select(r.Context(), true, hints, ms...), q, nil
}

func (h *ReadHandler) streamed(w http.ResponseWriter, r *http.Request, req *prompb.ReadRequest) {
	f, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming not supported by this connection", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse")
	for i, qry := range req.Queries {
		ss, q, err := h.selectQuery(r, qry)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, err = remote.StreamChunkedReadResponses(remote.NewChunkedWriter(w, f), int64(i),
			storage.NewSeriesSetToChunkSet(ss), nil, h.MaxBytesInFrame, &h.marshalPool)
		if err = errors.Join(err, q.Close()); err != nil {
			// Headers are gone: the client sees a truncated stream.
			return
		}
	}
}
