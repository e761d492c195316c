package promapi

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

func readRequest(t testing.TB, types ...prompb.ReadRequest_ResponseType) []byte {
	t.Helper()
	req := &prompb.ReadRequest{
		Queries: []*prompb.Query{{
			StartTimestampMs: t0.UnixMilli(), EndTimestampMs: t0.Add(time.Hour).UnixMilli(),
			Matchers: []*prompb.LabelMatcher{
				{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "http_requests_total"},
				{Type: prompb.LabelMatcher_RE, Name: "job", Value: "a|c"},
			},
		}},
		AcceptedResponseTypes: types,
	}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, b)
}

// readFrames splits a streamed response into its messages, checking each
// frame's CRC.
func readFrames(t *testing.T, b []byte) []*prompb.ChunkedReadResponse {
	t.Helper()
	var out []*prompb.ChunkedReadResponse
	for len(b) > 0 {
		size, n := binary.Uvarint(b)
		if n <= 0 || len(b) < n+4+int(size) {
			t.Fatalf("truncated frame: %d bytes left", len(b))
		}
		crc := binary.BigEndian.Uint32(b[n:])
		msg := b[n+4 : n+4+int(size)]
		if got := crc32.Checksum(msg, crc32.MakeTable(crc32.Castagnoli)); got != crc {
			t.Fatalf("frame crc %08x, header says %08x", got, crc)
		}
		var m prompb.ChunkedReadResponse
		if err := m.Unmarshal(msg); err != nil {
			t.Fatal(err)
		}
		out = append(out, &m)
		b = b[n+4+int(size):]
	}
	return out
}

// TestReadHandler reads job a's counter (value i at t0 + 10s·i) through
// both response types, streamed also with frames small enough to split it.
func TestReadHandler(t *testing.T) {
	for _, tc := range []struct {
		name       string
		types      []prompb.ReadRequest_ResponseType
		frameBytes int
		minFrames  int
		samples    int
	}{
		{"samples by default", nil, 0, 0, 60},
		{"samples", []prompb.ReadRequest_ResponseType{prompb.ReadRequest_SAMPLES}, 0, 0, 60},
		{"streamed", []prompb.ReadRequest_ResponseType{prompb.ReadRequest_STREAMED_XOR_CHUNKS, prompb.ReadRequest_SAMPLES}, 0, 1, 60},
		// 300 samples are three chunks of at most 120; small frames carry one each.
		{"streamed small frames", []prompb.ReadRequest_ResponseType{prompb.ReadRequest_STREAMED_XOR_CHUNKS}, 40, 3, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := fixture()
			if tc.samples != 60 {
				var recs []ingest.Record
				for i := range tc.samples {
					recs = append(recs, ingest.Record{Time: t0.Add(time.Duration(i) * 10 * time.Second).UnixNano(), MeasureName: "http_requests_total",
						Dimensions: []ingest.Dimension{{Name: "job", Value: "a"}, {Name: "instance", Value: "h:1"}}, Value: ingest.Float(float64(i))})
				}
				q = &Queryable{Source: scantest.NewModel(recs), Database: scantest.Database, Table: scantest.Table}
			}
			h := NewReadHandler(q)
			if tc.frameBytes > 0 {
				h.MaxBytesInFrame = tc.frameBytes
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/read", bytes.NewReader(readRequest(t, tc.types...))))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			type sample struct {
				t int64
				v float64
			}
			var got []sample
			var names []string
			if tc.minFrames == 0 {
				buf, err := snappy.Decode(nil, rec.Body.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				var resp prompb.ReadResponse
				if err := resp.Unmarshal(buf); err != nil {
					t.Fatal(err)
				}
				for _, ts := range resp.Results[0].Timeseries {
					names = append(names, labelsString(ts.Labels))
					for _, s := range ts.Samples {
						got = append(got, sample{s.Timestamp, s.Value})
					}
				}
			} else {
				frames := readFrames(t, rec.Body.Bytes())
				if len(frames) < tc.minFrames {
					t.Fatalf("%d frames, want at least %d", len(frames), tc.minFrames)
				}
				for _, fr := range frames {
					for _, cs := range fr.ChunkedSeries {
						names = append(names, labelsString(cs.Labels))
						for _, c := range cs.Chunks {
							chk, err := chunkenc.FromData(chunkenc.Encoding(c.Type), c.Data)
							if err != nil {
								t.Fatal(err)
							}
							it := chk.Iterator(nil)
							for it.Next() == chunkenc.ValFloat {
								ts, v := it.At()
								got = append(got, sample{ts, v})
							}
						}
					}
				}
			}
			for _, n := range names {
				if n != `__name__="http_requests_total",instance="h:1",job="a"` {
					t.Fatalf("series %s, want only job a's counter", n)
				}
			}
			if len(got) != tc.samples {
				t.Fatalf("%d samples, want %d", len(got), tc.samples)
			}
			for i, s := range got {
				if want := (sample{t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), float64(i)}); s != want {
					t.Fatalf("sample %d = %+v, want %+v", i, s, want)
				}
			}
		})
	}
}

func labelsString(ls []prompb.Label) string {
	var b []byte
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, l.Name+"="+`"`+l.Value+`"`...)
	}
	return string(b)
}

func TestReadHandlerRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"not snappy", []byte("\xff\xff\xff\xff\xff not snappy")},
		{"not a read request", snappy.Encode(nil, []byte{0xff, 0xff, 0xff})},
		{"unknown response type", readRequest(t, 7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			NewReadHandler(fixture()).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/read", bytes.NewReader(tc.body)))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
		})
	}
}

func FuzzDecodeReadRequest(f *testing.F) {
	f.Add(readRequest(f))
	f.Add(readRequest(f, prompb.ReadRequest_STREAMED_XOR_CHUNKS))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := decodeReadRequest(bytes.NewReader(data))
		if err != nil {
			return
		}
		// What decodes re-encodes to a request that decodes the same.
		b, err := req.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeReadRequest(bytes.NewReader(snappy.Encode(nil, b)))
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Queries) != len(req.Queries) || len(again.AcceptedResponseTypes) != len(req.AcceptedResponseTypes) {
			t.Fatalf("round trip changed the request: %v -> %v", req, again)
		}
	})
}
