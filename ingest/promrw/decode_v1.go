package promrw

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tidaldb/tidal/ingest"
)

// Field numbers of prometheus.WriteRequest and its parts (prompb/types.proto
// and remote.proto).
const (
	fieldWriteTimeseries = 1 // WriteRequest.timeseries
	fieldWriteMetadata   = 3 // WriteRequest.metadata
	fieldTSLabels        = 1 // TimeSeries.labels
	fieldTSSamples       = 2 // TimeSeries.samples
	fieldTSExemplars     = 3 // TimeSeries.exemplars
	fieldTSHistograms    = 4 // TimeSeries.histograms
	fieldLabelName       = 1 // Label.name
	fieldLabelValue      = 2 // Label.value
	fieldSampleValue     = 1 // Sample.value (double)
	fieldSampleTimestamp = 2 // Sample.timestamp (int64)
)

// labelTag is the one-byte tag of TimeSeries.labels (field 1, bytes).
const labelTag = fieldTSLabels<<3 | byte(protowire.BytesType)

// errProto is wrapped by every malformed-protobuf error of the v1 parser.
var errProto = errors.New("promrw: malformed protobuf")

// errGroup is wrapped when a field uses the deprecated group encoding or a
// field number beyond the protobuf limit, which no remote-write sender uses:
// the parser refuses them where the generated code would skip them.
var errGroup = errors.New("promrw: protobuf groups and out-of-range field numbers are not supported")

// consumeTag is protowire.ConsumeTag returning an error.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n >= 0 {
		return num, typ, n, nil
	}
	if v, m := protowire.ConsumeVarint(b); m > 0 && v>>3 > uint64(protowire.MaxValidNumber) {
		return 0, 0, 0, fmt.Errorf("field number %d: %w", v>>3, errGroup)
	}
	return 0, 0, 0, fmt.Errorf("%w: %w", errProto, protowire.ParseError(n))
}

// skipField returns the length of the value of an unknown field, or an error.
func skipField(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
	if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
		return 0, fmt.Errorf("field %d: %w", num, errGroup)
	}
	n := protowire.ConsumeFieldValue(num, typ, b)
	if n < 0 {
		return 0, fmt.Errorf("field %d: %w: %w", num, errProto, protowire.ParseError(n))
	}
	return n, nil
}

// maxInterned bounds the strings an interner keeps; past it the table starts
// over, so that a stream of ever-new label values cannot grow it unbounded.
const maxInterned = 1 << 18

// interner hands out one string per distinct label name or value, so that
// decoding the labels of a series seen before allocates nothing. The strings
// are ordinary heap strings: the write path may keep them.
type interner struct {
	m map[string]string
}

func (in *interner) get(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if in.m == nil || len(in.m) >= maxInterned {
		in.m = make(map[string]string, 1024)
	}
	s := string(b)
	in.m[s] = s
	return s
}

// decodeV1 parses the prometheus.WriteRequest in st.raw into st.recs by
// hand: a single pass over the buffer without building the gogo message, with
// label strings interned. Metadata, exemplars and histograms, which are not
// stored, are skipped without checking their contents (st.unchecked counts
// them); unknown fields are skipped.
func (st *decodeState) decodeV1(res *result) error {
	st.reset()
	st.unchecked = 0
	b := st.raw
	for len(b) > 0 {
		num, typ, n, err := consumeTag(b)
		if err != nil {
			return fmt.Errorf("decode prometheus.WriteRequest: %w", err)
		}
		b = b[n:]
		if num == fieldWriteMetadata {
			st.unchecked++
		}
		if num == fieldWriteTimeseries {
			ts, n, err := consumeBytes(b, typ)
			if err != nil {
				return fmt.Errorf("decode prometheus.WriteRequest: timeseries: %w", err)
			}
			b = b[n:]
			if err := st.decodeSeriesV1(ts, res); err != nil {
				return fmt.Errorf("decode prometheus.WriteRequest: %w", err)
			}
			continue
		}
		n, err = skipField(num, typ, b)
		if err != nil {
			return fmt.Errorf("decode prometheus.WriteRequest: %w", err)
		}
		b = b[n:]
	}
	return nil
}

// consumeBytes reads a length-delimited field value of wire type typ.
func consumeBytes(b []byte, typ protowire.Type) ([]byte, int, error) {
	if typ != protowire.BytesType {
		return nil, 0, fmt.Errorf("%w: wire type %d, want bytes", errProto, typ)
	}
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, 0, fmt.Errorf("%w: %w", errProto, protowire.ParseError(n))
	}
	return v, n, nil
}

// maxCachedSeries bounds the label sets a Handler remembers; past it the
// cache starts over.
const maxCachedSeries = 1 << 15

// seriesCache holds the label sets a Handler has decoded, by the bytes of
// their label fields (v1) or their resolved strings (v2), shared by its
// requests: unlike a cache per pooled decodeState it survives garbage
// collections, holds each series once, and gives every request of a series
// the same entry, so that the write path's hint of the series is resolved
// once. Requests read it under mu shared for the whole decode, keep the
// series they add in their decodeState, and merge them after.
type seriesCache struct {
	mu sync.RWMutex
	m  map[string]*seriesEntry
}

// cached returns the entry of the label set with key, from the Handler's
// cache or from those this request added, or nil.
func (st *decodeState) cached(key []byte) *seriesEntry {
	if st.cache != nil {
		if e := st.cache.m[string(key)]; e != nil {
			return e
		}
	}
	return st.added[string(key)]
}

// remember keeps a new entry for this request and, after merge, for the
// Handler's next requests.
func (st *decodeState) remember(key []byte, e *seriesEntry) {
	if st.added == nil {
		st.added = make(map[string]*seriesEntry)
	}
	if len(st.added) < maxCachedSeries {
		st.added[string(key)] = e
	}
}

// merge adds the entries st added to the cache. The caller holds no lock.
func (c *seriesCache) merge(st *decodeState) {
	if len(st.added) == 0 {
		return
	}
	c.mu.Lock()
	if c.m == nil || len(c.m)+len(st.added) > maxCachedSeries {
		c.m = make(map[string]*seriesEntry, min(2*len(c.m)+len(st.added), maxCachedSeries))
	}
	for k, e := range st.added {
		if _, ok := c.m[k]; !ok {
			c.m[k] = e
		}
	}
	c.mu.Unlock()
	if len(st.added) > 1024 {
		st.added = nil // do not pin a large map in the pool
	} else {
		clear(st.added)
	}
}

// seriesEntry is the decoded label set of one series, cached by the bytes of
// its label fields: the next sample of the series costs one map lookup
// instead of a lookup per label string.
type seriesEntry struct {
	metric string
	dims   []ingest.Dimension // owned by the entry, shared by its records
	reason string             // why the series cannot be stored, or ""
	// hint is the write path's handle of the series, kept from request
	// to request with dims (see ingest.SeriesHint).
	hint ingest.SeriesHint
}

// accept records what cannot be stored of series e (its nhist native
// histograms, or the whole series when e.reason is set) and reports whether
// its float samples can be stored.
func (res *result) accept(e *seriesEntry, nhist, nsamples int) bool {
	if nhist > 0 {
		res.histograms += nhist
		res.addBad(func() string {
			return fmt.Sprintf("series %s: native histograms are not supported yet (%d dropped)", seriesString(e.metric, e.dims), nhist)
		})
	}
	if e.reason != "" {
		res.rejected += nsamples
		res.addBad(func() string { return fmt.Sprintf("series %s: %s", seriesString(e.metric, e.dims), e.reason) })
		return false
	}
	return true
}

// decodeSeriesV1 parses one TimeSeries: its labels first (they may come in
// any order on the wire, though senders put them first), then its samples.
func (st *decodeState) decodeSeriesV1(b []byte, res *result) error {
	// Pass 1: validate the framing, find the span of the label fields,
	// count the rest.
	labelsFrom, labelsTo, contiguous := -1, -1, true
	nsamples, nhist := 0, 0
	for p := b; len(p) > 0; {
		at := len(b) - len(p)
		// Fast path: a label field of less than 128 bytes, the common
		// case (one-byte tag and length).
		if len(p) >= 2 && p[0] == labelTag && p[1] < 0x80 && 2+int(p[1]) <= len(p) {
			if labelsFrom < 0 {
				labelsFrom = at
			} else if labelsTo != at {
				contiguous = false
			}
			p = p[2+int(p[1]):]
			labelsTo = len(b) - len(p)
			continue
		}
		num, typ, n, err := consumeTag(p)
		if err != nil {
			return fmt.Errorf("timeseries: %w", err)
		}
		p = p[n:]
		switch num {
		case fieldTSLabels, fieldTSSamples, fieldTSExemplars, fieldTSHistograms:
			_, n, err := consumeBytes(p, typ)
			if err != nil {
				return fmt.Errorf("timeseries field %d: %w", num, err)
			}
			p = p[n:]
			switch num {
			case fieldTSLabels:
				if labelsFrom < 0 {
					labelsFrom = at
				} else if labelsTo != at {
					contiguous = false
				}
				labelsTo = len(b) - len(p)
			case fieldTSSamples:
				nsamples++
			case fieldTSExemplars:
				res.exemplars++
				st.unchecked++
			case fieldTSHistograms:
				nhist++
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
	var key []byte
	if labelsFrom >= 0 && contiguous {
		key = b[labelsFrom:labelsTo]
	}
	var e *seriesEntry
	if key != nil {
		e = st.cached(key)
	}
	if e == nil {
		var err error
		if e, err = st.decodeLabelsV1(b); err != nil {
			return err
		}
		if key != nil {
			st.remember(key, e)
		}
	}
	if !res.accept(e, nhist, nsamples) {
		// The samples are not stored, but a malformed one still fails
		// the request, as the full decode would.
		return checkSamplesV1(b)
	}
	if nsamples == 0 {
		return nil
	}
	// Pass 2: the samples, jumping over the label fields when they are
	// contiguous.
	for p := b; len(p) > 0; {
		if contiguous && labelsFrom >= 0 && len(b)-len(p) == labelsFrom {
			p = b[labelsTo:]
			continue
		}
		num, typ, n := protowire.ConsumeTag(p)
		p = p[n:] // pass 1 validated every tag and length
		if num != fieldTSSamples {
			p = p[protowire.ConsumeFieldValue(num, typ, p):]
			continue
		}
		v, n := protowire.ConsumeBytes(p)
		p = p[n:]
		ms, val, err := decodeSample(v)
		if err != nil {
			return err
		}
		st.addSample(res, e, ms, val)
	}
	return nil
}

// decodeLabelsV1 decodes the label fields of a TimeSeries whose framing
// pass 1 validated into a new seriesEntry.
func (st *decodeState) decodeLabelsV1(b []byte) (*seriesEntry, error) {
	st.dims = st.dims[:0]
	var metric, reason string
	for p := b; len(p) > 0; {
		num, typ, n := protowire.ConsumeTag(p)
		p = p[n:]
		if num != fieldTSLabels {
			p = p[protowire.ConsumeFieldValue(num, typ, p):]
			continue
		}
		v, n := protowire.ConsumeBytes(p)
		p = p[n:]
		name, value, err := st.decodeLabel(v)
		if err != nil {
			return nil, err
		}
		if reason == "" {
			reason = st.addLabel(name, value, &metric)
		}
	}
	return newSeriesEntry(metric, st.dims, reason), nil
}

// checkSamplesV1 validates the samples of a TimeSeries whose tags and
// lengths were validated already.
func checkSamplesV1(b []byte) error {
	for p := b; len(p) > 0; {
		num, typ, n := protowire.ConsumeTag(p)
		p = p[n:]
		if num != fieldTSSamples {
			p = p[protowire.ConsumeFieldValue(num, typ, p):]
			continue
		}
		v, n := protowire.ConsumeBytes(p)
		p = p[n:]
		if _, _, err := decodeSample(v); err != nil {
			return err
		}
	}
	return nil
}

// decodeLabel parses one Label into interned strings.
func (st *decodeState) decodeLabel(b []byte) (name, value string, err error) {
	for len(b) > 0 {
		num, typ, n, err := consumeTag(b)
		if err != nil {
			return "", "", fmt.Errorf("label: %w", err)
		}
		b = b[n:]
		if num != fieldLabelName && num != fieldLabelValue {
			n, err := skipField(num, typ, b)
			if err != nil {
				return "", "", fmt.Errorf("label: %w", err)
			}
			b = b[n:]
			continue
		}
		v, n, err := consumeBytes(b, typ)
		if err != nil {
			return "", "", fmt.Errorf("label field %d: %w", num, err)
		}
		b = b[n:]
		if num == fieldLabelName {
			name = st.strs.get(v)
		} else {
			value = st.strs.get(v)
		}
	}
	return name, value, nil
}

// fastSample parses a Sample in the encoding every sender uses: the value,
// then the timestamp, nothing else. ok is false for anything else, which
// decodeSample and decodeSampleV2 then parse field by field.
func fastSample(b []byte) (ms int64, v float64, ok bool) {
	const valueTag = fieldSampleValue<<3 | byte(protowire.Fixed64Type)
	const tsTag = fieldSampleTimestamp<<3 | byte(protowire.VarintType)
	if len(b) < 11 || b[0] != valueTag || b[9] != tsTag {
		return 0, 0, false
	}
	bits, _ := protowire.ConsumeFixed64(b[1:])
	x, n := protowire.ConsumeVarint(b[10:])
	if n <= 0 || 10+n != len(b) {
		return 0, 0, false
	}
	return int64(x), math.Float64frombits(bits), true
}

// decodeSample parses one Sample.
func decodeSample(b []byte) (ms int64, v float64, err error) {
	if ms, v, ok := fastSample(b); ok {
		return ms, v, nil
	}
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
