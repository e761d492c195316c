package promapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// The remote-read protocol is implemented here on prompb's messages rather
// than with Prometheus's storage/remote package, which would bring its
// remote-write clients and their cloud SDKs (some 500 packages, more than
// half of the module's compiled code) into every build and test of TidalDB.

// maxReadRequest bounds a remote-read request, compressed and decoded.
const maxReadRequest = 32 << 20

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
}

// NewReadHandler returns a remote-read handler over q.
func NewReadHandler(q storage.Queryable) *ReadHandler {
	return &ReadHandler{q: q, SampleLimit: 50_000_000, MaxBytesInFrame: 1 << 20}
}

func (h *ReadHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := decodeReadRequest(r.Body)
	if err != nil {
		http.Error(w, "decode read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	typ, err := responseType(req.AcceptedResponseTypes)
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
		res, err := queryResult(ss, h.SampleLimit)
		err = errors.Join(err, q.Close())
		if err != nil {
			http.Error(w, "read query "+fmt.Sprint(i)+": "+err.Error(), http.StatusBadRequest)
			return
		}
		resp.Results[i] = res
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Header().Set("Content-Encoding", "snappy")
	data, err := resp.Marshal()
	if err != nil {
		http.Error(w, "encode read response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(snappy.Encode(nil, data))
}

// selectQuery starts one query's Select; the caller closes the querier
// after reading the set.
func (h *ReadHandler) selectQuery(r *http.Request, qry *prompb.Query) (storage.SeriesSet, storage.Querier, error) {
	ms, err := fromMatchers(qry.Matchers)
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
		err = h.stream(w, f, int64(i), storage.NewSeriesSetToChunkSet(ss))
		if err = errors.Join(err, q.Close()); err != nil {
			// Headers are gone: the client sees a truncated stream.
			return
		}
	}
}

// decodeReadRequest reads a snappy-compressed ReadRequest.
func decodeReadRequest(body io.Reader) (*prompb.ReadRequest, error) {
	compressed, err := io.ReadAll(io.LimitReader(body, maxReadRequest+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(compressed) > maxReadRequest {
		return nil, fmt.Errorf("request over %d bytes", maxReadRequest)
	}
	n, err := snappy.DecodedLen(compressed)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if n > maxReadRequest {
		return nil, fmt.Errorf("request decodes to %d bytes, over %d", n, maxReadRequest)
	}
	buf, err := snappy.Decode(nil, compressed)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	var req prompb.ReadRequest
	if err := req.Unmarshal(buf); err != nil {
		return nil, fmt.Errorf("unmarshal read request: %w", err)
	}
	return &req, nil
}

// responseType picks the first response type the client accepts and the
// handler serves; a client that names none gets SAMPLES.
func responseType(accepted []prompb.ReadRequest_ResponseType) (prompb.ReadRequest_ResponseType, error) {
	if len(accepted) == 0 {
		return prompb.ReadRequest_SAMPLES, nil
	}
	for _, t := range accepted {
		if t == prompb.ReadRequest_SAMPLES || t == prompb.ReadRequest_STREAMED_XOR_CHUNKS {
			return t, nil
		}
	}
	return 0, fmt.Errorf("none of the accepted response types %v is served (SAMPLES, STREAMED_XOR_CHUNKS)", accepted)
}

// fromMatchers converts remote-read matchers to label matchers.
func fromMatchers(ms []*prompb.LabelMatcher) ([]*labels.Matcher, error) {
	out := make([]*labels.Matcher, 0, len(ms))
	for _, m := range ms {
		var typ labels.MatchType
		switch m.Type {
		case prompb.LabelMatcher_EQ:
			typ = labels.MatchEqual
		case prompb.LabelMatcher_NEQ:
			typ = labels.MatchNotEqual
		case prompb.LabelMatcher_RE:
			typ = labels.MatchRegexp
		case prompb.LabelMatcher_NRE:
			typ = labels.MatchNotRegexp
		default:
			return nil, fmt.Errorf("matcher type %d unknown", m.Type)
		}
		lm, err := labels.NewMatcher(typ, m.Name, m.Value)
		if err != nil {
			return nil, fmt.Errorf("matcher %s: %w", m.Name, err)
		}
		out = append(out, lm)
	}
	return out, nil
}

// queryResult reads a series set into one SAMPLES result of at most limit
// samples (0: no limit).
func queryResult(ss storage.SeriesSet, limit int) (*prompb.QueryResult, error) {
	res := &prompb.QueryResult{}
	n := 0
	var it chunkenc.Iterator
	for ss.Next() {
		s := ss.At()
		ts := &prompb.TimeSeries{Labels: prompb.FromLabels(s.Labels(), nil)}
		it = s.Iterator(it)
		for typ := it.Next(); typ != chunkenc.ValNone; typ = it.Next() {
			if n++; limit > 0 && n > limit {
				return nil, fmt.Errorf("over the sample limit of %d", limit)
			}
			switch typ {
			case chunkenc.ValFloat:
				t, v := it.At()
				ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: t, Value: v})
			case chunkenc.ValHistogram:
				t, h := it.AtHistogram(nil)
				ts.Histograms = append(ts.Histograms, prompb.FromIntHistogram(t, h))
			case chunkenc.ValFloatHistogram:
				t, h := it.AtFloatHistogram(nil)
				ts.Histograms = append(ts.Histograms, prompb.FromFloatHistogram(t, h))
			default:
				return nil, fmt.Errorf("value type %s unknown", typ)
			}
		}
		if err := it.Err(); err != nil {
			return nil, fmt.Errorf("read series %s: %w", s.Labels(), err)
		}
		res.Timeseries = append(res.Timeseries, ts)
	}
	return res, ss.Err()
}

// stream writes the chunks of ss as ChunkedReadResponse frames, one series
// per frame, a series over several frames when its chunks exceed
// MaxBytesInFrame.
func (h *ReadHandler) stream(w io.Writer, f http.Flusher, queryIndex int64, ss storage.ChunkSeriesSet) error {
	maxBytes := h.MaxBytesInFrame
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	var (
		it   chunks.Iterator
		chks []prompb.Chunk
		buf  []byte
	)
	for ss.Next() {
		s := ss.At()
		lbls := prompb.FromLabels(s.Labels(), nil)
		room := maxBytes
		for _, l := range lbls {
			room -= l.Size()
		}
		left := room
		it = s.Iterator(it)
		for more := it.Next(); more; {
			m := it.At()
			if m.Chunk == nil {
				return fmt.Errorf("series %s: chunk without data", s.Labels())
			}
			c := prompb.Chunk{MinTimeMs: m.MinTime, MaxTimeMs: m.MaxTime, Type: prompb.Chunk_Encoding(m.Chunk.Encoding()), Data: m.Chunk.Bytes()}
			chks = append(chks, c)
			left -= c.Size()
			if more = it.Next(); more && left > 0 {
				continue
			}
			msg := prompb.ChunkedReadResponse{ChunkedSeries: []*prompb.ChunkedSeries{{Labels: lbls, Chunks: chks}}, QueryIndex: queryIndex}
			var err error
			if buf, err = appendFrame(buf[:0], &msg); err != nil {
				return err
			}
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("write frame: %w", err)
			}
			f.Flush()
			chks, left = chks[:0], room
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("read series %s: %w", s.Labels(), err)
		}
	}
	return ss.Err()
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends one frame of a streamed response to b: the message's
// size as a uvarint, the CRC-32 (Castagnoli) of the message big-endian, then
// the message.
func appendFrame(b []byte, msg *prompb.ChunkedReadResponse) ([]byte, error) {
	size := msg.Size()
	b = binary.AppendUvarint(b, uint64(size))
	crcAt := len(b)
	b = append(b, 0, 0, 0, 0)
	b = append(b, make([]byte, size)...)
	n, err := msg.MarshalToSizedBuffer(b[len(b)-size:])
	if err != nil {
		return nil, fmt.Errorf("marshal chunked read response: %w", err)
	}
	if n != size {
		return nil, fmt.Errorf("marshal chunked read response: %d of %d bytes", n, size)
	}
	binary.BigEndian.PutUint32(b[crcAt:], crc32.Checksum(b[len(b)-size:], castagnoli))
	return b, nil
}
