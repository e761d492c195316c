package kinesis

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// kplMagic starts a record the Kinesis Producer Library aggregated; the
// protobuf AggregatedRecord and a 16-byte MD5 of it follow.
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// SubRecord is one user record of a KPL-aggregated Kinesis record.
type SubRecord struct {
	PartitionKey string
	Data         []byte
}

// Deaggregate splits a KPL-aggregated record into its user records. ok is
// false when data is not an aggregate (no magic, too short, or an MD5 that
// does not match): the caller then treats data as one plain record, as the
// KCL does. An aggregate whose checksum matches but whose protobuf is
// malformed is an error.
//
// The sub-records' Data alias data.
func Deaggregate(data []byte) (subs []SubRecord, ok bool, err error) {
	if len(data) < len(kplMagic)+md5.Size || !bytes.Equal(data[:len(kplMagic)], kplMagic) {
		return nil, false, nil
	}
	body := data[len(kplMagic) : len(data)-md5.Size]
	sum := md5.Sum(body)
	if !bytes.Equal(sum[:], data[len(data)-md5.Size:]) {
		return nil, false, nil
	}
	subs, err = parseAggregate(body)
	if err != nil {
		return nil, true, fmt.Errorf("decode KPL aggregated record: %w", err)
	}
	return subs, true, nil
}

// parseAggregate reads AggregatedRecord{repeated string
// partition_key_table = 1; repeated string explicit_hash_key_table = 2;
// repeated Record records = 3}.
func parseAggregate(b []byte) ([]SubRecord, error) {
	var keys []string
	type pending struct {
		key  uint64
		data []byte
	}
	var recs []pending
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			keys = append(keys, string(v))
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			key, data, err := parseSubRecord(v)
			if err != nil {
				return nil, fmt.Errorf("record %d: %w", len(recs), err)
			}
			recs = append(recs, pending{key, data})
			b = b[n:]
		default: // explicit hash keys and unknown fields
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	out := make([]SubRecord, len(recs))
	for i, r := range recs {
		if r.key >= uint64(len(keys)) {
			return nil, fmt.Errorf("record %d: partition key index %d out of a table of %d", i, r.key, len(keys))
		}
		out[i] = SubRecord{PartitionKey: keys[r.key], Data: r.data}
	}
	return out, nil
}

// parseSubRecord reads Record{required uint64 partition_key_index = 1;
// optional uint64 explicit_hash_key_index = 2; required bytes data = 3;
// repeated Tag tags = 4}.
func parseSubRecord(b []byte) (key uint64, data []byte, err error) {
	var haveKey, haveData bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, nil, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			key, haveKey, b = v, true, b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			data, haveData, b = v, true, b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	if !haveKey || !haveData {
		return 0, nil, errors.New("partition_key_index and data are required")
	}
	return key, data, nil
}

// Aggregate builds a KPL-aggregated record of subs (the producer side of
// Deaggregate, for tests and benchmarks that play the KPL): magic bytes,
// the AggregatedRecord protobuf with a deduplicated partition key table,
// and its MD5.
func Aggregate(subs []SubRecord) []byte {
	var body []byte
	index := map[string]uint64{}
	for _, s := range subs {
		if _, ok := index[s.PartitionKey]; !ok {
			index[s.PartitionKey] = uint64(len(index))
			body = protowire.AppendTag(body, 1, protowire.BytesType)
			body = protowire.AppendString(body, s.PartitionKey)
		}
	}
	for _, s := range subs {
		var rec []byte
		rec = protowire.AppendTag(rec, 1, protowire.VarintType)
		rec = protowire.AppendVarint(rec, index[s.PartitionKey])
		rec = protowire.AppendTag(rec, 3, protowire.BytesType)
		rec = protowire.AppendBytes(rec, s.Data)
		body = protowire.AppendTag(body, 3, protowire.BytesType)
		body = protowire.AppendBytes(body, rec)
	}
	sum := md5.Sum(body)
	out := append(append([]byte{}, kplMagic...), body...)
	return append(out, sum[:]...)
}
