package memstore

import (
	"github.com/tidaldb/tidal/internal/fileutil"

	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/golang/snappy"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/chunkenc"
	"github.com/tidaldb/tidal/memstore/wal"
)

// WAL payload: one WAL record per Append call (or per checkpoint chunk).
// Byte 0 says whether the rest is raw (0) or snappy-compressed (1). The rest
// is a sequence of entries:
//
//	series: 0x01 tableID:uvarint ref:uvarint measure:str ndims:uvarint (name:str value:str)*
//	row:    0x02 ref:uvarint time:zigzag-varint-delta version:uvarint ncols:uvarint values
//
// where str is uvarint length + bytes, time is the delta from the previous
// row of the same WAL record (the first from 0), and values is, for ncols ==
// 0, one single-measure value (type byte + payload), else ncols times (name:str
// type byte + payload). Payloads: DOUBLE 8 bytes little-endian IEEE 754;
// BIGINT and TIMESTAMP zigzag varint; BOOLEAN one byte; VARCHAR str; a NULL
// attribute is written as type 0 with no payload.
//
// Checkpoints also hold sealed chunks as their encoded bytes (no decoding
// and re-encoding of every row):
//
//	chunk:  0x10 ref:uvarint n:uvarint minT:zigzag-varint span:uvarint times:bytes versions:bytes
//	        ncols:uvarint (name:str type:byte values:bytes nulls:bytes)*
//
// where bytes is uvarint length + bytes, span is maxT - minT, an empty
// versions means every version is 1 and an empty nulls no NULL. A chunk
// entry leaves the row time delta as it was.
const (
	walRaw    = 0
	walSnappy = 1

	entrySeries = 1
	entryRow    = 2
	entryChunk  = 0x10

	// maxEntryChunkRows bounds the rows of a chunk entry; chunks are at
	// most 2*maxChunkRows rows, larger ones go as rows.
	maxEntryChunkRows = 1 << 12

	// compressing below this size costs more than it saves.
	walCompressMin = 512
)

type walEncoder struct {
	buf   []byte
	out   []byte
	rows  int
	lastT int64
}

var walEncoders = sync.Pool{New: func() any { return &walEncoder{} }}

func getWALEncoder() *walEncoder {
	e := walEncoders.Get().(*walEncoder)
	e.buf = append(e.buf[:0], walRaw)
	e.rows, e.lastT = 0, 0
	return e
}

func putWALEncoder(e *walEncoder) {
	if cap(e.buf) > 4<<20 || cap(e.out) > 4<<20 {
		return
	}
	walEncoders.Put(e)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (e *walEncoder) series(s *memSeries) {
	e.buf = append(e.buf, entrySeries)
	e.buf = binary.AppendUvarint(e.buf, s.tableID)
	e.buf = binary.AppendUvarint(e.buf, s.ref)
	e.buf = appendStr(e.buf, s.measure())
	e.buf = binary.AppendUvarint(e.buf, uint64(keyNumDims(s.key)))
	for rest := keyDimsRest(s.key); rest != ""; {
		var d ingest.Dimension
		d, rest = nextKeyDim(rest)
		e.buf = appendStr(e.buf, d.Name)
		e.buf = appendStr(e.buf, d.Value)
	}
}

func (e *walEncoder) row(ref uint64, t, ver int64, names []string, vals []ingest.Value) {
	e.buf = append(e.buf, entryRow)
	e.buf = binary.AppendUvarint(e.buf, ref)
	e.buf = binary.AppendVarint(e.buf, t-e.lastT)
	e.lastT = t
	e.buf = binary.AppendUvarint(e.buf, uint64(ver))
	if len(names) == 1 && names[0] == measureValueCol {
		e.buf = binary.AppendUvarint(e.buf, 0)
		e.buf = appendValue(e.buf, vals[0])
	} else {
		e.buf = binary.AppendUvarint(e.buf, uint64(len(names)))
		for i, n := range names {
			e.buf = appendStr(e.buf, n)
			e.buf = appendValue(e.buf, vals[i])
		}
	}
	e.rows++
}

// chunk writes sealed chunk c of series ref as its encoded bytes.
func (e *walEncoder) chunk(ref uint64, c *chunk) {
	e.buf = append(e.buf, entryChunk)
	e.buf = binary.AppendUvarint(e.buf, ref)
	e.buf = binary.AppendUvarint(e.buf, uint64(c.n))
	e.buf = binary.AppendVarint(e.buf, c.minT)
	e.buf = binary.AppendUvarint(e.buf, uint64(c.maxT-c.minT))
	e.buf = appendBytes(e.buf, c.timeBytes())
	e.buf = appendBytes(e.buf, c.versionBytes())
	e.buf = binary.AppendUvarint(e.buf, uint64(len(c.cols)))
	for _, cl := range c.cols {
		e.buf = appendStr(e.buf, cl.name)
		e.buf = append(e.buf, byte(cl.typ))
		e.buf = appendBytes(e.buf, cl.valueBytes())
		e.buf = appendBytes(e.buf, cl.nullBytes())
	}
	e.rows += c.n
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendValue(b []byte, v ingest.Value) []byte {
	b = append(b, byte(v.Type))
	switch v.Type {
	case ingest.TypeDouble:
		b = binary.LittleEndian.AppendUint64(b, v.Bits)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		b = binary.AppendVarint(b, int64(v.Bits))
	case ingest.TypeBoolean:
		b = append(b, byte(v.Bits&1))
	case ingest.TypeVarchar:
		b = appendStr(b, v.Str)
	}
	return b
}

// finish returns the WAL record, compressed when that pays.
func (e *walEncoder) finish() []byte {
	if len(e.buf) < walCompressMin {
		return e.buf
	}
	need := 1 + snappy.MaxEncodedLen(len(e.buf)-1)
	if cap(e.out) < need {
		e.out = make([]byte, need)
	}
	e.out = e.out[:need]
	e.out[0] = walSnappy
	n := len(snappy.Encode(e.out[1:], e.buf[1:]))
	if 1+n >= len(e.buf) {
		return e.buf
	}
	return e.out[:1+n]
}

// walEntry is one decoded entry; fields are valid until the next call to
// the decoder.
type walEntry struct {
	kind uint8
	// series
	tableID     uint64
	measureName string
	dims        []ingest.Dimension
	// row
	ref   uint64
	t     int64
	ver   int64
	names []string
	vals  []ingest.Value
	// chunk (a new sealed chunk, owned by the receiver)
	chunk *chunk
}

var errWALEntry = errors.New("memstore: malformed wal entry")

// decodeWALRecord calls fn for every entry of a WAL record. Strings in the
// entry are copies, safe to retain.
func decodeWALRecord(rec []byte, fn func(*walEntry) error) error {
	if len(rec) == 0 {
		return fmt.Errorf("%w: empty record", errWALEntry)
	}
	body := rec[1:]
	switch rec[0] {
	case walRaw:
	case walSnappy:
		n, err := snappy.DecodedLen(body)
		if err != nil || n > 256<<20 {
			return fmt.Errorf("%w: bad snappy length", errWALEntry)
		}
		if body, err = snappy.Decode(nil, body); err != nil {
			return fmt.Errorf("%w: %w", errWALEntry, err)
		}
	default:
		return fmt.Errorf("%w: unknown record format %d", errWALEntry, rec[0])
	}
	d := walDecoder{b: body}
	var e walEntry
	var lastT int64
	for len(d.b) > 0 && d.err == nil {
		e.kind = d.b[0]
		d.b = d.b[1:]
		switch e.kind {
		case entrySeries:
			e.tableID = d.uvarint()
			e.ref = d.uvarint()
			e.measureName = d.str()
			n := d.count()
			e.dims = e.dims[:0]
			for range n {
				e.dims = append(e.dims, ingest.Dimension{Name: d.str(), Value: d.str()})
			}
		case entryRow:
			e.ref = d.uvarint()
			lastT += d.varint()
			e.t = lastT
			e.ver = int64(d.uvarint())
			n := d.count()
			e.names, e.vals = e.names[:0], e.vals[:0]
			if n == 0 {
				e.names = append(e.names, measureValueCol)
				e.vals = append(e.vals, d.value())
			}
			for range n {
				e.names = append(e.names, d.str())
				e.vals = append(e.vals, d.value())
			}
		case entryChunk:
			e.ref = d.uvarint()
			e.chunk = d.chunk()
		default:
			return fmt.Errorf("%w: unknown entry kind %d", errWALEntry, e.kind)
		}
		if d.err != nil {
			break
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if d.err != nil {
		return fmt.Errorf("%w: %w", errWALEntry, d.err)
	}
	return nil
}

type walDecoder struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated")

func (d *walDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *walDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must be satisfiable by the remaining bytes.
func (d *walDecoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("count %d exceeds remaining %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *walDecoder) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// bytes reads a length-prefixed byte string; the result aliases the input.
func (d *walDecoder) bytes() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// chunk reads the rest of a chunk entry into a new sealed chunk, checking
// that every part of it decodes to n rows in ascending time from minT to
// maxT, so that a bad entry fails the load instead of a later scan.
func (d *walDecoder) chunk() *chunk {
	n := d.uvarint()
	minT := d.varint()
	span := d.uvarint()
	tb, vb := d.bytes(), d.bytes()
	nc := d.count()
	if d.err != nil {
		return nil
	}
	if n == 0 || n > maxEntryChunkRows || span > math.MaxInt64 || minT+int64(span) < minT {
		d.err = fmt.Errorf("bad chunk: %d rows over %d ns", n, span)
		return nil
	}
	c := &chunk{minT: minT, maxT: minT + int64(span), n: int(n), sealed: true, verAt: -1}
	ts, err := chunkenc.DecodeTimes(nil, tb, c.n)
	if err == nil && (len(ts) != c.n || ts[0] != c.minT || ts[c.n-1] != c.maxT) {
		err = fmt.Errorf("times do not span [%d, %d]", c.minT, c.maxT)
	}
	for i := 1; err == nil && i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			err = fmt.Errorf("times not ascending at row %d", i)
		}
	}
	if err == nil && len(vb) > 0 {
		_, err = chunkenc.DecodeInts(nil, vb, c.n)
		c.verAt = int32(len(tb))
	}
	if err != nil {
		d.err = fmt.Errorf("bad chunk: %w", err)
		return nil
	}
	c.frozen = append(append(make([]byte, 0, len(tb)+len(vb)), tb...), vb...)
	for range nc {
		name := d.str()
		if len(d.b) == 0 {
			d.err = errTruncated
			return nil
		}
		typ := ingest.ValueType(d.b[0])
		d.b = d.b[1:]
		vals, nulls := d.bytes(), d.bytes()
		if d.err != nil {
			return nil
		}
		switch typ {
		case ingest.TypeDouble, ingest.TypeBigint, ingest.TypeTimestamp, ingest.TypeVarchar, ingest.TypeBoolean:
		default:
			d.err = fmt.Errorf("bad chunk: column %q of type %d", name, typ)
			return nil
		}
		if c.col(name) >= 0 {
			d.err = fmt.Errorf("bad chunk: column %q twice", name)
			return nil
		}
		cl := &column{name: name, typ: typ, frozen: append(append(make([]byte, 0, len(vals)+len(nulls)), vals...), nulls...)}
		if len(nulls) > 0 {
			cl.hasNulls, cl.nullAt = true, uint32(len(vals))
		}
		if _, err := cl.decode(c.n); err != nil {
			d.err = fmt.Errorf("bad chunk: %w", err)
			return nil
		}
		c.cols = append(c.cols, cl)
	}
	return c
}

func (d *walDecoder) value() ingest.Value {
	if d.err != nil {
		return ingest.Value{}
	}
	if len(d.b) == 0 {
		d.err = errTruncated
		return ingest.Value{}
	}
	typ := ingest.ValueType(d.b[0])
	d.b = d.b[1:]
	switch typ {
	case ingest.TypeUnknown:
		return ingest.Value{}
	case ingest.TypeDouble:
		if len(d.b) < 8 {
			d.err = errTruncated
			return ingest.Value{}
		}
		v := ingest.Value{Type: typ, Bits: binary.LittleEndian.Uint64(d.b)}
		d.b = d.b[8:]
		return v
	case ingest.TypeBigint, ingest.TypeTimestamp:
		return ingest.Value{Type: typ, Bits: uint64(d.varint())}
	case ingest.TypeBoolean:
		if len(d.b) < 1 {
			d.err = errTruncated
			return ingest.Value{}
		}
		v := ingest.Value{Type: typ, Bits: uint64(d.b[0] & 1)}
		d.b = d.b[1:]
		return v
	case ingest.TypeVarchar:
		return ingest.Value{Type: typ, Str: d.str()}
	}
	d.err = fmt.Errorf("unknown value type %d", typ)
	return ingest.Value{}
}

// replayer applies WAL entries to the DB at start-up.
type replayer struct {
	db *DB
	// alias maps refs defined in the log to the live series (nil when the
	// table no longer exists).
	alias map[uint64]*memSeries
	n     int
}

func (rp *replayer) apply(e *walEntry) error {
	db := rp.db
	switch e.kind {
	case entrySeries:
		if cur := db.nextRef.Load(); e.ref > cur {
			db.nextRef.Store(e.ref)
		}
		t := db.tableByID(e.tableID)
		if t == nil {
			rp.alias[e.ref] = nil
			return nil
		}
		dims := make([]ingest.Dimension, len(e.dims))
		copy(dims, e.dims)
		sortDims(dims)
		key := string(seriesKey(nil, e.measureName, dims))
		t.mu.Lock()
		s := t.series[key]
		if s == nil {
			s = &memSeries{ref: e.ref, tableID: t.id, key: key, walLogged: true}
			t.addSeries(s)
			db.nseries.Add(1)
		}
		t.mu.Unlock()
		rp.alias[e.ref] = s
	case entryChunk:
		s, ok := rp.alias[e.ref]
		if !ok {
			return fmt.Errorf("%w: chunk for undefined series %d", errWALEntry, e.ref)
		}
		if s == nil {
			return nil
		}
		s.mu.Lock()
		err := s.loadChunk(e.chunk, &db.oooBuffered)
		s.mu.Unlock()
		if err != nil {
			return err
		}
		rp.n += e.chunk.n
	case entryRow:
		s, ok := rp.alias[e.ref]
		if !ok {
			return fmt.Errorf("%w: row for undefined series %d", errWALEntry, e.ref)
		}
		if s == nil {
			return nil
		}
		s.mu.Lock()
		err := s.apply(e.t, e.ver, e.names, e.vals, &db.oooBuffered)
		s.mu.Unlock()
		if err != nil {
			return err
		}
		rp.n++
	}
	return nil
}

const checkpointPrefix = "checkpoint."

// loadCheckpoint applies the newest complete checkpoint and returns the WAL
// segment replay continues from (0 without a checkpoint).
func (db *DB) loadCheckpoint() (int, error) {
	ents, err := os.ReadDir(db.opts.Dir)
	if err != nil {
		return 0, fmt.Errorf("memstore: read dir: %w", err)
	}
	best := -1
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, checkpointPrefix) {
			continue
		}
		if strings.HasSuffix(name, ".tmp") {
			// An interrupted checkpoint: the WAL still has its data.
			if err := os.RemoveAll(filepath.Join(db.opts.Dir, name)); err != nil {
				return 0, fmt.Errorf("memstore: remove stale %s: %w", name, err)
			}
			continue
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(name, checkpointPrefix)); err == nil && n > best {
			best = n
		}
	}
	if best < 0 {
		return 0, nil
	}
	dir := filepath.Join(db.opts.Dir, checkpointName(best))
	w, err := wal.Open(wal.Options{Dir: dir, Sync: wal.SyncNever, Logger: db.logger})
	if err != nil {
		return 0, fmt.Errorf("memstore: open checkpoint %d: %w", best, err)
	}
	rp := &replayer{db: db, alias: map[uint64]*memSeries{}}
	err = w.Replay(0, func(_ int, rec []byte) error { return decodeWALRecord(rec, rp.apply) })
	if err = errors.Join(err, w.Close()); err != nil {
		return 0, fmt.Errorf("memstore: load checkpoint %d: %w", best, err)
	}
	db.m.replayed.Add(float64(rp.n))
	return best, nil
}

func checkpointName(seg int) string { return fmt.Sprintf("%s%08d", checkpointPrefix, seg) }

// replayWAL applies WAL segments from seg on. A record that does not decode
// is skipped with a warning (its checksum matched, so it is a bug, not a
// torn write); replay goes on.
func (db *DB) replayWAL(from int) (int, error) {
	rp := &replayer{db: db, alias: map[uint64]*memSeries{}}
	// Series defined in the checkpoint are live already.
	db.eachSeries(func(s *memSeries) { rp.alias[s.ref] = s })
	err := db.wal.Replay(from, func(seg int, rec []byte) error {
		if err := decodeWALRecord(rec, rp.apply); err != nil {
			if errors.Is(err, errWALEntry) {
				db.logger.Warn("memstore skipped undecodable wal record", "segment", seg, "err", err)
				return nil
			}
			return err
		}
		return nil
	})
	if err != nil {
		return rp.n, fmt.Errorf("memstore: replay wal: %w", err)
	}
	db.m.replayed.Add(float64(rp.n))
	return rp.n, nil
}

// Checkpoint writes every series in memory to a checkpoint and drops the
// WAL segments it covers, so that start-up replays a bounded log.
func (db *DB) Checkpoint() error { return db.checkpoint(context.Background()) }

// checkpoint is Checkpoint, abandoned when ctx ends: a checkpoint of a
// large memory tier takes minutes on a busy machine, and shutdown must
// not wait for it. An abandoned checkpoint leaves the WAL and the previous
// checkpoint as they were, so nothing is lost; its temporary directory is
// removed by the next one.
func (db *DB) checkpoint(ctx context.Context) error {
	db.checkpointMu.Lock()
	defer db.checkpointMu.Unlock()
	db.commitMu.Lock()
	seg, err := db.wal.Cut()
	db.commitMu.Unlock()
	if err != nil {
		return fmt.Errorf("memstore: checkpoint: cut wal: %w", err)
	}
	final := filepath.Join(db.opts.Dir, checkpointName(seg))
	tmp := final + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("memstore: checkpoint: %w", err)
	}
	w, err := wal.Open(wal.Options{Dir: tmp, Sync: wal.SyncNever, Logger: db.logger, FS: db.opts.WAL.FS})
	if err != nil {
		return fmt.Errorf("memstore: checkpoint: open: %w", err)
	}
	if err := db.writeCheckpoint(ctx, w); err != nil {
		return errors.Join(fmt.Errorf("memstore: checkpoint: %w", err), w.Close())
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("memstore: checkpoint: close: %w", err)
	}
	if err := fileutil.Rename(db.fs(), tmp, final); err != nil {
		return fmt.Errorf("memstore: checkpoint: %w", err)
	}
	if err := db.wal.Truncate(seg); err != nil {
		return fmt.Errorf("memstore: checkpoint: truncate wal: %w", err)
	}
	ents, err := os.ReadDir(db.opts.Dir)
	if err != nil {
		return fmt.Errorf("memstore: checkpoint: %w", err)
	}
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, checkpointPrefix) && n < checkpointName(seg) {
			if err := os.RemoveAll(filepath.Join(db.opts.Dir, n)); err != nil {
				return fmt.Errorf("memstore: checkpoint: remove old: %w", err)
			}
		}
	}
	db.m.checkpoints.Inc()
	db.logger.Info("memstore checkpoint written", "segment", seg)
	return nil
}

// checkpointRows makes checkpoints write sealed chunks as rows, as they
// did before chunk entries (benchmarks compare; loads read both).
var checkpointRows = false

func (db *DB) writeCheckpoint(ctx context.Context, w *wal.WAL) error {
	var all []*memSeries
	db.eachSeries(func(s *memSeries) { all = append(all, s) })
	sort.Slice(all, func(i, j int) bool { return all[i].ref < all[j].ref })
	enc := getWALEncoder()
	defer putWALEncoder(enc)
	flush := func() error {
		if len(enc.buf) <= 1 {
			return nil
		}
		if err := w.Append(context.Background(), enc.finish()); err != nil {
			return err
		}
		enc.buf = append(enc.buf[:0], walRaw)
		enc.rows, enc.lastT = 0, 0
		return nil
	}
	for i, s := range all {
		if i&255 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("abandoned: %w", err)
			}
		}
		if db.tableByID(s.tableID) == nil {
			continue
		}
		s.mu.Lock()
		if err := s.mergeOOO(&db.oooBuffered); err != nil {
			s.mu.Unlock()
			return err
		}
		enc.series(s)
		for _, c := range s.chunks {
			if c.sealed && c.n > 0 && c.n <= maxEntryChunkRows && !checkpointRows {
				// Sealed chunks go as they are; the head goes as rows, so
				// that it stays the head after a load.
				enc.chunk(s.ref, c)
				continue
			}
			names, rows, err := c.decodeRows()
			if err != nil {
				s.mu.Unlock()
				return fmt.Errorf("series %d: %w", s.ref, err)
			}
			for _, r := range rows {
				enc.row(s.ref, r.t, r.ver, names, r.vals)
			}
		}
		s.mu.Unlock()
		if len(enc.buf) > 1<<20 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// fs is the file system the memstore writes through (the WAL's).
func (db *DB) fs() fileutil.FS {
	if db.opts.WAL.FS != nil {
		return db.opts.WAL.FS
	}
	return fileutil.OS
}
