package promrw

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tidaldb/tidal/internal/cputime"
)

// The v2 decoder and the sample parser as they were before the one-byte
// varint and single-pass sample fast paths, kept as the baseline of
// BenchmarkDecodeV2.

// decodeV2Before parses the io.prometheus.write.v2.Request in st.raw into st.recs
// by hand, like decodeV1: symbols are interned, the label set of a series is
// cached by its resolved strings, histograms, exemplars and metadata are
// counted and skipped unread (st.unchecked).
func (st *decodeState) decodeV2Before(res *result) error {
	st.reset()
	st.unchecked = 0
	st.syms, st.spans = st.syms[:0], st.spans[:0]
	for b := st.raw; len(b) > 0; {
		num, typ, n, err := consumeTag(b)
		if err != nil {
			return fmt.Errorf("decode io.prometheus.write.v2.Request: %w", err)
		}
		b = b[n:]
		if num == fieldV2Symbols || num == fieldV2Timeseries {
			v, n, err := consumeBytes(b, typ)
			if err != nil {
				return fmt.Errorf("decode io.prometheus.write.v2.Request: field %d: %w", num, err)
			}
			b = b[n:]
			if num == fieldV2Symbols {
				st.syms = append(st.syms, st.strs.get(v))
			} else {
				st.spans = append(st.spans, v)
			}
			continue
		}
		n, err = skipField(num, typ, b)
		if err != nil {
			return fmt.Errorf("decode io.prometheus.write.v2.Request: %w", err)
		}
		b = b[n:]
	}
	if len(st.syms) > 0 && st.syms[0] != "" {
		return errors.New("decode io.prometheus.write.v2.Request: symbols[0] must be the empty string")
	}
	for _, ts := range st.spans {
		if err := st.decodeSeriesV2Before(ts, res); err != nil {
			return fmt.Errorf("decode io.prometheus.write.v2.Request: %w", err)
		}
	}
	return nil
}

// decodeSeriesV2Before parses one v2 TimeSeries.
func (st *decodeState) decodeSeriesV2Before(b []byte, res *result) error {
	st.refs = st.refs[:0]
	nsamples, nhist := 0, 0
	for p := b; len(p) > 0; {
		num, typ, n, err := consumeTag(p)
		if err != nil {
			return fmt.Errorf("timeseries: %w", err)
		}
		p = p[n:]
		switch {
		case num == fieldV2TSLabelsRefs && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(p)
			if n < 0 {
				return fmt.Errorf("timeseries labels_refs: %w: %w", errProto, protowire.ParseError(n))
			}
			p = p[n:]
			st.refs = append(st.refs, uint32(v))
		case num == fieldV2TSLabelsRefs && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(p)
			if n < 0 {
				return fmt.Errorf("timeseries labels_refs: %w: %w", errProto, protowire.ParseError(n))
			}
			p = p[n:]
			for len(v) > 0 {
				x, n := protowire.ConsumeVarint(v)
				if n < 0 {
					return fmt.Errorf("timeseries labels_refs: %w: %w", errProto, protowire.ParseError(n))
				}
				v = v[n:]
				st.refs = append(st.refs, uint32(x))
			}
		case num == fieldV2TSLabelsRefs:
			return fmt.Errorf("timeseries labels_refs: %w: wire type %d", errProto, typ)
		case num >= fieldV2TSSamples && num <= fieldV2TSMetadata:
			_, n, err := consumeBytes(p, typ)
			if err != nil {
				return fmt.Errorf("timeseries field %d: %w", num, err)
			}
			p = p[n:]
			switch num {
			case fieldV2TSSamples:
				nsamples++
			case fieldV2TSHistograms:
				nhist++
				st.unchecked++
			case fieldV2TSExemplars:
				res.exemplars++
				st.unchecked++
			case fieldV2TSMetadata:
				st.unchecked++
			}
		default:
			n, err := skipField(num, typ, p)
			if err != nil {
				return fmt.Errorf("timeseries: %w", err)
			}
			p = p[n:]
		}
	}
	e, err := st.seriesV2Before()
	if err != nil {
		return err
	}
	if !res.accept(e, nhist, nsamples) {
		return checkSamplesV2Before(b)
	}
	if nsamples == 0 {
		return nil
	}
	for p := b; len(p) > 0; {
		num, typ, n := protowire.ConsumeTag(p)
		p = p[n:] // the first pass validated every tag and length
		if num != fieldV2TSSamples {
			p = p[protowire.ConsumeFieldValue(num, typ, p):]
			continue
		}
		v, n := protowire.ConsumeBytes(p)
		p = p[n:]
		ms, val, err := decodeSampleV2Before(v)
		if err != nil {
			return err
		}
		st.addSample(res, e, ms, val)
	}
	return nil
}

// seriesV2Before resolves st.refs into the series' label set, from the cache when
// the same strings were seen before. Keys start with 0, which no v1 key
// (a label field tag) does.
func (st *decodeState) seriesV2Before() (*seriesEntry, error) {
	if len(st.refs)%2 != 0 {
		return &seriesEntry{reason: "odd number of label references"}, nil
	}
	key := append(st.key[:0], 0)
	for _, r := range st.refs {
		if int(r) >= len(st.syms) {
			return &seriesEntry{reason: fmt.Sprintf("label reference %d outside the %d symbols", r, len(st.syms))}, nil
		}
		s := st.syms[r]
		key = protowire.AppendVarint(key, uint64(len(s)))
		key = append(key, s...)
	}
	st.key = key
	if e := st.cached(key); e != nil {
		return e, nil
	}
	st.dims = st.dims[:0]
	var metric, reason string
	for j := 0; reason == "" && j < len(st.refs); j += 2 {
		reason = st.addLabel(st.syms[st.refs[j]], st.syms[st.refs[j+1]], &metric)
	}
	e := newSeriesEntry(metric, st.dims, reason)
	st.remember(key, e)
	return e, nil
}

// checkSamplesV2Before validates the samples of a v2 TimeSeries whose framing was
// validated already.
func checkSamplesV2Before(b []byte) error {
	for p := b; len(p) > 0; {
		num, typ, n := protowire.ConsumeTag(p)
		p = p[n:]
		if num != fieldV2TSSamples {
			p = p[protowire.ConsumeFieldValue(num, typ, p):]
			continue
		}
		v, n := protowire.ConsumeBytes(p)
		p = p[n:]
		if _, _, err := decodeSampleV2Before(v); err != nil {
			return err
		}
	}
	return nil
}

// decodeSampleV2Before parses one v2 Sample: v1's fields plus start_timestamp,
// which is checked and ignored.
func decodeSampleV2Before(b []byte) (int64, float64, error) {
	for p := b; len(p) > 0; {
		num, typ, n, err := consumeTag(p)
		if err != nil {
			return 0, 0, fmt.Errorf("sample: %w", err)
		}
		p = p[n:]
		if num == fieldV2SampleStartTimestamp && typ != protowire.VarintType {
			return 0, 0, fmt.Errorf("sample start_timestamp: %w: wire type %d", errProto, typ)
		}
		n, err = skipField(num, typ, p)
		if err != nil {
			return 0, 0, fmt.Errorf("sample: %w", err)
		}
		p = p[n:]
	}
	return decodeSampleBefore(b)
}

// decodeSampleBefore parses one Sample.
func decodeSampleBefore(b []byte) (ms int64, v float64, err error) {
	for len(b) > 0 {
		num, typ, n, err := consumeTag(b)
		if err != nil {
			return 0, 0, fmt.Errorf("sample: %w", err)
		}
		b = b[n:]
		switch {
		case num == fieldSampleValue && typ == protowire.Fixed64Type:
			bits, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return 0, 0, fmt.Errorf("sample value: %w: %w", errProto, protowire.ParseError(n))
			}
			b, v = b[n:], math.Float64frombits(bits)
		case num == fieldSampleTimestamp && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, 0, fmt.Errorf("sample timestamp: %w: %w", errProto, protowire.ParseError(n))
			}
			b, ms = b[n:], int64(x)
		case num == fieldSampleValue || num == fieldSampleTimestamp:
			return 0, 0, fmt.Errorf("sample field %d: %w: wire type %d", num, errProto, typ)
		default:
			n, err := skipField(num, typ, b)
			if err != nil {
				return 0, 0, fmt.Errorf("sample: %w", err)
			}
			b = b[n:]
		}
	}
	return ms, v, nil
}

// BenchmarkDecodeV2 decodes the requests of BenchmarkHandlerMemstore's v2
// stream with the decoder before its fast paths (before) and now (after),
// alternating, with a warm series cache, and reports the ratio of the
// decoding thread's CPU time:
//
//	go test -run '^$' -bench DecodeV2 ./ingest/promrw
func BenchmarkDecodeV2(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	bodies := benchBodies(b, 20, true)[0]
	var raws [][]byte
	for _, body := range bodies {
		st := &decodeState{body: body}
		if err := st.decompress(1 << 30); err != nil {
			b.Fatal(err)
		}
		raws = append(raws, st.raw)
	}
	decoders := [2]func(*decodeState, *result) error{(*decodeState).decodeV2Before, (*decodeState).decodeV2}
	var sts [2]decodeState
	var took [2]time.Duration
	i := 0
	for b.Loop() {
		for v, decode := range decoders {
			sts[v].raw = raws[i%len(raws)]
			var res result
			t0 := cputime.Thread()
			err := decode(&sts[v], &res)
			took[v] += cputime.Thread() - t0
			if err != nil || len(sts[v].recs) != 2000 {
				b.Fatalf("decode: %d records, %v", len(sts[v].recs), err)
			}
		}
		i++
	}
	b.ReportMetric(float64(took[0])/float64(b.N*2000), "before-cpu-ns/sample")
	b.ReportMetric(float64(took[1])/float64(b.N*2000), "after-cpu-ns/sample")
	b.ReportMetric(float64(took[1])/float64(max(took[0], 1)), "after/before")
}
