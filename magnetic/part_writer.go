package magnetic

import (
	"github.com/tidaldb/tidal/internal/fileutil"

	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic/encoding"
)

// partWriter streams one part file: series in ascending key order, each cut
// into blocks as it arrives; only the index is held in memory until finish.
type partWriter struct {
	dir, name, tmp string
	fsys           fileutil.FS
	f              fileutil.File
	w              *bufio.Writer
	off            uint64
	meta           partMeta
	lastKey        string
	hasKey         bool
	cur            seriesMeta // series being written

	// Scratch buffers reused across blocks.
	enc, env []byte
	fs       []float64
	is       []int64
	ss       []string
	bs       []bool
	present  []bool
}

// createPart starts writing part name in dir; meta carries everything of
// the index but the series, rows and time bounds.
func createPart(fsys fileutil.FS, dir, name string, meta partMeta) (*partWriter, error) {
	tmp := filepath.Join(dir, name+tmpSuffix)
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create part %s: %w", name, err)
	}
	w := &partWriter{fsys: fsys, dir: dir, name: name, tmp: tmp, f: f, w: bufio.NewWriterSize(f, 256<<10), meta: meta}
	w.meta.series, w.meta.rows = nil, 0
	var hdr [headerSize]byte
	copy(hdr[:], headerMagic)
	binary.LittleEndian.PutUint32(hdr[8:], FormatVersion)
	if err := w.write(hdr[:]); err != nil {
		w.abort()
		return nil, err
	}
	return w, nil
}

func (w *partWriter) write(b []byte) error {
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("write part %s: %w", w.name, err)
	}
	w.off += uint64(len(b))
	return nil
}

// writeChunk compresses an encoded block and writes it with its CRC.
func (w *partWriter) writeChunk(enc []byte) (chunkRef, error) {
	w.env = encoding.Compress(w.env[:0], enc, encoding.Auto)
	w.env = binary.LittleEndian.AppendUint32(w.env, encoding.Checksum(w.env))
	ref := chunkRef{off: w.off, n: uint64(len(w.env))}
	return ref, w.write(w.env)
}

// addSeries writes rows [lo, hi) of buf, which must be sorted by time
// without duplicates, as series key. Keys must come in ascending order.
func (w *partWriter) addSeries(key string, buf *rowBuffer, lo, hi int) error {
	if err := w.beginSeries(key); err != nil {
		return err
	}
	if err := w.writeRows(buf, lo, hi); err != nil {
		return err
	}
	w.endSeries()
	return nil
}

// beginSeries starts series key; keys must come in ascending order.
func (w *partWriter) beginSeries(key string) error {
	if w.hasKey && key <= w.lastKey {
		return fmt.Errorf("write part %s: series key %q not after %q", w.name, key, w.lastKey)
	}
	w.lastKey, w.hasKey = key, true
	w.cur = seriesMeta{seriesIdent: &seriesIdent{key: key}}
	return nil
}

// writeRows writes rows [lo, hi) of buf as blocks of the current series,
// in as few blocks of nearly equal size as BlockRows allows. Rows must be
// sorted by time, after every row written before for the series.
func (w *partWriter) writeRows(buf *rowBuffer, lo, hi int) error {
	if hi <= lo {
		return nil
	}
	if n := len(w.cur.blocks); n > 0 && buf.time[lo] <= w.cur.blocks[n-1].maxT {
		return fmt.Errorf("write part %s: series %q: time %d not after %d", w.name, w.cur.key, buf.time[lo], w.cur.blocks[n-1].maxT)
	}
	cols := slices.Clone(buf.cols)
	slices.SortFunc(cols, func(a, b *colBuf) int { return strings.Compare(a.name, b.name) })
	nb := (hi - lo + BlockRows - 1) / BlockRows
	per := (hi - lo + nb - 1) / nb
	for b0 := lo; b0 < hi; b0 += per {
		b1 := min(b0+per, hi)
		bm, err := w.writeBlock(buf, cols, b0, b1)
		if err != nil {
			return err
		}
		w.cur.blocks = append(w.cur.blocks, bm)
	}
	return nil
}

// endSeries adds the current series to the index, unless it is empty.
func (w *partWriter) endSeries() {
	s := w.cur
	w.cur = seriesMeta{}
	if len(s.blocks) == 0 {
		return
	}
	s.minT, s.maxT = s.blocks[0].minT, s.blocks[len(s.blocks)-1].maxT
	for _, b := range s.blocks {
		s.rows += b.rows
	}
	if s.minT < w.meta.minT || len(w.meta.series) == 0 {
		w.meta.minT = s.minT
	}
	if s.maxT > w.meta.maxT || len(w.meta.series) == 0 {
		w.meta.maxT = s.maxT
	}
	w.meta.rows += uint64(s.rows)
	w.meta.series = append(w.meta.series, s)
}

func (w *partWriter) writeBlock(buf *rowBuffer, cols []*colBuf, lo, hi int) (blockMeta, error) {
	bm := blockMeta{rows: hi - lo, minT: buf.time[lo], maxT: buf.time[hi-1]}
	var err error
	if !regularTimes(buf.time[lo:hi]) { // evenly spaced times need no chunk
		w.enc = encoding.AppendTimestamps(w.enc[:0], buf.time[lo:hi])
		if bm.time, err = w.writeChunk(w.enc); err != nil {
			return bm, err
		}
	}
	if buf.version != nil && slices.ContainsFunc(buf.version[lo:hi], func(v int64) bool { return v != 1 }) {
		w.enc = encoding.AppendInts(w.enc[:0], buf.version[lo:hi])
		if bm.version, err = w.writeChunk(w.enc); err != nil {
			return bm, err
		}
	}
	for _, c := range cols {
		cm := colMeta{name: c.name, typ: c.typ}
		w.present = w.present[:0]
		nulls := 0
		for i := lo; i < hi; i++ {
			p := !c.isNull(i)
			if !p {
				nulls++
			}
			w.present = append(w.present, p)
		}
		if nulls == hi-lo {
			continue
		}
		w.enc = w.encodeValues(w.enc[:0], c, lo, hi)
		if cm.values, err = w.writeChunk(w.enc); err != nil {
			return bm, err
		}
		if nulls > 0 {
			w.enc = encoding.AppendBools(w.enc[:0], w.present)
			if cm.nulls, err = w.writeChunk(w.enc); err != nil {
				return bm, err
			}
		}
		bm.cols = append(bm.cols, cm)
	}
	return bm, nil
}

// encodeValues appends the encoded non-NULL values of rows [lo, hi) of c
// (w.present marks them).
//
// It writes no zone maps: no reader uses them yet, and in format version 2
// they were half of the index of TSBS cpu parts (5.6 of 10.8 bytes per
// series). The format keeps them optional for a future value pushdown.
func (w *partWriter) encodeValues(dst []byte, c *colBuf, lo, hi int) []byte {
	switch c.typ {
	case ingest.TypeDouble:
		w.fs = w.fs[:0]
		for i := lo; i < hi; i++ {
			if w.present[i-lo] {
				w.fs = append(w.fs, c.f[i])
			}
		}
		return encoding.AppendFloats(dst, w.fs)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		w.is = w.is[:0]
		for i := lo; i < hi; i++ {
			if w.present[i-lo] {
				w.is = append(w.is, c.i[i])
			}
		}
		return encoding.AppendInts(dst, w.is)
	case ingest.TypeVarchar:
		w.ss = w.ss[:0]
		for i := lo; i < hi; i++ {
			if w.present[i-lo] {
				w.ss = append(w.ss, c.s[i])
			}
		}
		return encoding.AppendStrings(dst, w.ss)
	}
	w.bs = w.bs[:0]
	for i := lo; i < hi; i++ {
		if w.present[i-lo] {
			w.bs = append(w.bs, c.b[i])
		}
	}
	return encoding.AppendBools(dst, w.bs)
}

// finish writes the index and footer, makes the file durable and renames
// it into place. It returns the file size.
func (w *partWriter) finish() (int64, error) {
	idx := appendIndex(nil, &w.meta)
	env := encoding.Compress(nil, idx, encoding.Auto)
	indexOff := w.off
	var foot [footerSize]byte
	binary.LittleEndian.PutUint64(foot[0:], indexOff)
	binary.LittleEndian.PutUint32(foot[8:], uint32(len(env)))
	binary.LittleEndian.PutUint32(foot[12:], encoding.Checksum(env))
	binary.LittleEndian.PutUint32(foot[16:], FormatVersion)
	binary.LittleEndian.PutUint32(foot[20:], encoding.Checksum(foot[:20]))
	copy(foot[24:], footerMagic)
	err := w.write(env)
	if err == nil {
		err = w.write(foot[:])
	}
	if err == nil {
		if err = w.w.Flush(); err != nil {
			err = fmt.Errorf("write part %s: %w", w.name, err)
		}
	}
	if err == nil {
		if err = w.f.Sync(); err != nil {
			err = fmt.Errorf("sync part %s: %w", w.name, err)
		}
	}
	if err != nil {
		w.abort()
		return 0, err
	}
	if err := w.f.Close(); err != nil {
		w.f = nil
		w.abort()
		return 0, fmt.Errorf("close part %s: %w", w.name, err)
	}
	w.f = nil
	if err := w.fsys.Rename(w.tmp, filepath.Join(w.dir, w.name)); err != nil {
		w.abort()
		return 0, fmt.Errorf("rename part %s: %w", w.name, err)
	}
	if err := syncDir(w.fsys, w.dir); err != nil {
		return 0, err
	}
	return int64(w.off), nil
}

// abort closes and removes the temporary file.
func (w *partWriter) abort() {
	var errs []error
	if w.f != nil {
		errs = append(errs, w.f.Close())
		w.f = nil
	}
	if err := w.fsys.Remove(w.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	_ = errors.Join(errs...) // best effort; Open removes leftovers
}
