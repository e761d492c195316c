package mqtt

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tidaldb/tidal/ingest"
)

// FormatSparkplug is Sparkplug B: topics spBv1.0/{group}/{type}/{edge}[/{device}]
// with protobuf payloads.
const FormatSparkplug = "sparkplug"

// Sparkplug B metric data types (the specification's DataType enum).
const (
	spInt8     = 1
	spInt16    = 2
	spInt32    = 3
	spInt64    = 4
	spUInt8    = 5
	spUInt16   = 6
	spUInt32   = 7
	spUInt64   = 8
	spFloat    = 9
	spDouble   = 10
	spBoolean  = 11
	spString   = 12
	spDateTime = 13
	spText     = 14
	spUUID     = 15
)

// spPayload is the part of a Sparkplug B Payload TidalDB reads.
type spPayload struct {
	timestamp uint64 // ms
	hasSeq    bool
	seq       uint64
	metrics   []spMetric
}

// spMetric is one Sparkplug B Metric. Datasets, templates, properties and
// metadata are skipped.
type spMetric struct {
	name      string
	alias     uint64
	hasAlias  bool
	timestamp uint64
	datatype  uint32
	isNull    bool
	value     ingest.Value
	hasValue  bool
}

// decodeSparkplug parses a Sparkplug B Payload protobuf.
func decodeSparkplug(b []byte) (spPayload, error) {
	var p spPayload
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return p, fmt.Errorf("decode sparkplug payload: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			p.timestamp, n = protowire.ConsumeVarint(b)
		case num == 3 && typ == protowire.VarintType:
			p.seq, n = protowire.ConsumeVarint(b)
			p.hasSeq = true
		case num == 2 && typ == protowire.BytesType:
			var m []byte
			m, n = protowire.ConsumeBytes(b)
			if n >= 0 {
				mt, err := decodeMetric(m)
				if err != nil {
					return p, err
				}
				p.metrics = append(p.metrics, mt)
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return p, fmt.Errorf("decode sparkplug payload: %w", protowire.ParseError(n))
		}
		b = b[n:]
	}
	return p, nil
}

func decodeMetric(b []byte) (spMetric, error) {
	var m spMetric
	var raw struct {
		u64    uint64
		f64    float64
		str    string
		has    byte // 'u' varint, 'f' float, 'd' double, 's' string
		isBool bool
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return m, fmt.Errorf("decode sparkplug metric: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			var s []byte
			s, n = protowire.ConsumeBytes(b)
			m.name = string(s)
		case num == 2 && typ == protowire.VarintType:
			m.alias, n = protowire.ConsumeVarint(b)
			m.hasAlias = true
		case num == 3 && typ == protowire.VarintType:
			m.timestamp, n = protowire.ConsumeVarint(b)
		case num == 4 && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			m.datatype = uint32(v)
		case num == 7 && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			m.isNull = v != 0
		case (num == 10 || num == 11 || num == 14) && typ == protowire.VarintType:
			raw.u64, n = protowire.ConsumeVarint(b)
			raw.has, raw.isBool = 'u', num == 14
		case num == 12 && typ == protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			raw.f64, raw.has = float64(math.Float32frombits(v)), 'f'
		case num == 13 && typ == protowire.Fixed64Type:
			var v uint64
			v, n = protowire.ConsumeFixed64(b)
			raw.f64, raw.has = math.Float64frombits(v), 'd'
		case num == 15 && typ == protowire.BytesType:
			var s []byte
			s, n = protowire.ConsumeBytes(b)
			raw.str, raw.has = string(s), 's'
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return m, fmt.Errorf("decode sparkplug metric: %w", protowire.ParseError(n))
		}
		b = b[n:]
	}
	if m.isNull || raw.has == 0 {
		return m, nil
	}
	m.hasValue = true
	switch m.datatype {
	case spInt8, spInt16, spInt32:
		// int_value holds the two's complement in 32 bits.
		m.value = ingest.Int(int64(int32(uint32(raw.u64))))
	case spInt64:
		m.value = ingest.Int(int64(raw.u64))
	case spUInt8, spUInt16, spUInt32:
		m.value = ingest.Int(int64(uint32(raw.u64)))
	case spUInt64:
		if raw.u64 > math.MaxInt64 {
			return m, fmt.Errorf("metric %q: UInt64 value %d is above the BIGINT range", m.name, raw.u64)
		}
		m.value = ingest.Int(int64(raw.u64))
	case spFloat, spDouble:
		if raw.has != 'f' && raw.has != 'd' || math.IsNaN(raw.f64) || math.IsInf(raw.f64, 0) {
			m.hasValue = false // NaN and infinities cannot be stored
			return m, nil
		}
		m.value = ingest.Float(raw.f64)
	case spBoolean:
		m.value = ingest.Bool(raw.u64 != 0)
	case spString, spText, spUUID:
		m.value = ingest.String(raw.str)
	case spDateTime:
		t, ok := ingest.TimeFromUnits(int64(raw.u64), 1e6)
		if !ok || raw.u64 > math.MaxInt64 {
			return m, fmt.Errorf("metric %q: DateTime %d out of range", m.name, raw.u64)
		}
		m.value = ingest.Timestamp(t)
	default:
		m.hasValue = false // datasets, templates, bytes, files: not stored
	}
	return m, nil
}

// sparkplug keeps the per-edge-node state Sparkplug B needs: metric names
// by alias (from NBIRTH and DBIRTH) and the last sequence number.
type sparkplug struct {
	mu    sync.Mutex
	nodes map[string]*spNode // "group/edge"
	// SeqGaps counts messages whose seq did not follow the previous one.
	seqGaps int64
	// staleDeaths counts NDEATHs ignored because their bdSeq was not the
	// current session's.
	staleDeaths int64
}

type spNode struct {
	aliases map[uint64]string
	seq     uint64
	hasSeq  bool
	// bdSeq is the birth/death sequence number of the session the last
	// NBIRTH opened (hasBdSeq: the NBIRTH carried one).
	bdSeq    int64
	hasBdSeq bool
}

// bdSeqOf returns the value of the payload's bdSeq metric.
func bdSeqOf(metrics []spMetric) (int64, bool) {
	for _, m := range metrics {
		if m.name == "bdSeq" && m.hasValue && m.value.Type == ingest.TypeBigint {
			return m.value.Int(), true
		}
	}
	return 0, false
}

// decodeSparkplugMessage maps one Sparkplug B message to records. Topic:
// spBv1.0/{group}/{type}/{edge}[/{device}]. BIRTH and DATA metrics become
// single-measure records (measure name = metric name, dimensions
// group_id, edge_node_id and device_id); BIRTH, DEATH write a "status" measure (online,
// offline). STATE and commands (NCMD, DCMD) are not stored.
//
// An NDEATH whose bdSeq differs from the bdSeq of the edge node's last
// NBIRTH is the death certificate of an earlier session (a will the broker
// delivered late, after the node reconnected): it is counted and ignored,
// and the node stays online. An NDEATH without bdSeq, or for a node whose
// NBIRTH had none or was not seen, marks the node offline.
func (s *sparkplug) decode(topic string, payload []byte, now time.Time) (recs []ingest.Record, errs []string) {
	parts := strings.Split(topic, "/")
	if len(parts) < 4 || len(parts) > 5 || parts[0] != "spBv1.0" {
		return nil, []string{fmt.Sprintf("topic %q is not spBv1.0/{group}/{type}/{edge}[/{device}]", topic)}
	}
	group, typ, edge := parts[1], parts[2], parts[3]
	device := ""
	if len(parts) == 5 {
		device = parts[4]
	}
	switch typ {
	case "NBIRTH", "NDATA", "NDEATH", "DBIRTH", "DDATA", "DDEATH":
	default:
		return nil, nil // NCMD, DCMD, STATE: commands and host state
	}
	if group == "" || edge == "" || typ[0] == 'D' && device == "" || typ[0] == 'N' && device != "" {
		return nil, []string{fmt.Sprintf("topic %q: missing group, edge node or device", topic)}
	}
	p, err := decodeSparkplug(payload)
	if err != nil {
		return nil, []string{err.Error()}
	}
	dims := []ingest.Dimension{{Name: "group_id", Value: group}, {Name: "edge_node_id", Value: edge}}
	if device != "" {
		dims = append(dims, ingest.Dimension{Name: "device_id", Value: device})
	}
	ts := now.UnixNano()
	if p.timestamp > 0 {
		if t, ok := ingest.TimeFromUnits(int64(min(p.timestamp, math.MaxInt64)), 1e6); ok {
			ts = t
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nodes == nil {
		s.nodes = map[string]*spNode{}
	}
	key := group + "/" + edge
	node := s.nodes[key]
	if typ == "NBIRTH" || node == nil {
		node = &spNode{aliases: map[uint64]string{}}
		s.nodes[key] = node
		if typ == "NBIRTH" {
			node.bdSeq, node.hasBdSeq = bdSeqOf(p.metrics)
		}
	}
	if typ == "NDEATH" {
		if bd, ok := bdSeqOf(p.metrics); ok && node.hasBdSeq && bd != node.bdSeq {
			s.staleDeaths++
			return nil, nil
		}
	}
	// seq runs 0-255 over every message of the edge node but NDEATH.
	if typ != "NDEATH" && p.hasSeq {
		if node.hasSeq && typ != "NBIRTH" && p.seq != (node.seq+1)%256 {
			s.seqGaps++
			errs = append(errs, fmt.Sprintf("edge node %s: seq %d after %d (messages lost or reordered)", key, p.seq, node.seq))
		}
		node.seq, node.hasSeq = p.seq, true
	}
	status := func(v string) {
		rec := ingest.Record{Time: ts, Dimensions: dims, MeasureName: "status", Value: ingest.String(v)}
		if reason := ingest.ValidateRecord(&rec); reason != "" {
			errs = append(errs, reason)
			return
		}
		recs = append(recs, rec)
	}
	switch typ {
	case "NDEATH", "DDEATH":
		status("offline")
		return recs, errs
	case "NBIRTH", "DBIRTH":
		status("online")
	}
	for _, m := range p.metrics {
		if m.hasAlias && m.name != "" && (typ == "NBIRTH" || typ == "DBIRTH") {
			node.aliases[m.alias] = m.name
		}
		name := m.name
		if name == "" && m.hasAlias {
			name = node.aliases[m.alias]
			if name == "" {
				errs = append(errs, fmt.Sprintf("edge node %s: unknown metric alias %d (no BIRTH seen)", key, m.alias))
				continue
			}
		}
		if name == "" || !m.hasValue || strings.HasPrefix(name, "bdSeq") || name == "status" {
			continue
		}
		t := ts
		if m.timestamp > 0 {
			if mt, ok := ingest.TimeFromUnits(int64(min(m.timestamp, math.MaxInt64)), 1e6); ok {
				t = mt
			}
		}
		rec := ingest.Record{Time: t, Dimensions: dims, MeasureName: name, Value: m.value}
		if reason := ingest.ValidateRecord(&rec); reason != "" {
			errs = append(errs, fmt.Sprintf("metric %q: %s", name, reason))
			continue
		}
		recs = append(recs, rec)
	}
	return recs, errs
}
