package promrw

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of io.prometheus.write.v2.Request and its parts
// (prompb/io/prometheus/write/v2/types.proto).
const (
	fieldV2Symbols              = 4 // Request.symbols
	fieldV2Timeseries           = 5 // Request.timeseries
	fieldV2TSLabelsRefs         = 1 // TimeSeries.labels_refs (packed uint32)
	fieldV2TSSamples            = 2 // TimeSeries.samples
	fieldV2TSHistograms         = 3 // TimeSeries.histograms
	fieldV2TSExemplars          = 4 // TimeSeries.exemplars
	fieldV2TSMetadata           = 5 // TimeSeries.metadata
	fieldV2SampleStartTimestamp = 3 // Sample.start_timestamp (int64)
)

// decodeV2 parses the io.prometheus.write.v2.Request in st.raw into st.recs
// by hand, like decodeV1: symbols are interned, the label set of a series is
// cached by its resolved strings, histograms, exemplars and metadata are
// counted and skipped unread (st.unchecked).
func (st *decodeState) decodeV2(res *result) error {
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
		if err := st.decodeSeriesV2(ts, res); err != nil {
			return fmt.Errorf("decode io.prometheus.write.v2.Request: %w", err)
		}
	}
	return nil
}

// decodeSeriesV2 parses one v2 TimeSeries.
func (st *decodeState) decodeSeriesV2(b []byte, res *result) error {
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
				if v[0] < 0x80 { // a one-byte varint: refs below 128
					st.refs = append(st.refs, uint32(v[0]))
					v = v[1:]
					continue
				}
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
	e, err := st.seriesV2()
	if err != nil {
		return err
	}
	if !res.accept(e, nhist, nsamples) {
		return checkSamplesV2(b)
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
		ms, val, err := decodeSampleV2(v)
		if err != nil {
			return err
		}
		st.addSample(res, e, ms, val)
	}
	return nil
}

// seriesV2 resolves st.refs into the series' label set, from the cache when
// the same strings were seen before. Keys start with 0, which no v1 key
// (a label field tag) does.
func (st *decodeState) seriesV2() (*seriesEntry, error) {
	if len(st.refs)%2 != 0 {
		return &seriesEntry{reason: "odd number of label references"}, nil
	}
	key := append(st.key[:0], 0)
	syms := st.syms
	for _, r := range st.refs {
		if int(r) >= len(syms) {
			return &seriesEntry{reason: fmt.Sprintf("label reference %d outside the %d symbols", r, len(syms))}, nil
		}
		s := syms[r]
		if len(s) < 0x80 {
			key = append(key, byte(len(s)))
		} else {
			key = protowire.AppendVarint(key, uint64(len(s)))
		}
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

// checkSamplesV2 validates the samples of a v2 TimeSeries whose framing was
// validated already.
func checkSamplesV2(b []byte) error {
	for p := b; len(p) > 0; {
		num, typ, n := protowire.ConsumeTag(p)
		p = p[n:]
		if num != fieldV2TSSamples {
			p = p[protowire.ConsumeFieldValue(num, typ, p):]
			continue
		}
		v, n := protowire.ConsumeBytes(p)
		p = p[n:]
		if _, _, err := decodeSampleV2(v); err != nil {
			return err
		}
	}
	return nil
}

// decodeSampleV2 parses one v2 Sample: v1's fields plus start_timestamp,
// which is checked and ignored. The common encoding (value, then
// timestamp, nothing else) takes a fast path; anything else goes through
// the field-by-field parse.
func decodeSampleV2(b []byte) (int64, float64, error) {
	if ms, v, ok := fastSample(b); ok {
		return ms, v, nil
	}
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
	return decodeSample(b)
}
