package magnetic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tidaldb/tidal/magnetic/encoding"
)

const (
	partSuffix = ".part"
	tmpSuffix  = ".tmp"
)

// partName returns the file name of part seq.
func partName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, partSuffix) }

// parsePartName returns the sequence number of a part file name.
func parsePartName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, partSuffix)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(hex, 16, 64)
	return v, err == nil
}

// part is one open, immutable part file shared by the store and by scans
// and merges through a reference count.
type part struct {
	// Immutable after openPart; read without locks.
	seq   uint64
	name  string
	path  string
	dir   string
	size  int64
	meta  *partMeta
	file  io.ReaderAt
	close func() error
	cache *blockCache
	// object is the part's key in the object store, "" for a local part
	// (object.go); drop deletes that object once the part is removed.
	object string
	drop   func() error

	// refs counts the store's reference (while the part is live) and one
	// per scan or merge reading it. At zero the file is closed, and
	// deleted if the part was removed from the store.
	refs    atomic.Int64
	removed atomic.Bool
}

// openPart opens and validates a part file and loads its index.
func openPart(path string, seq uint64, cache *blockCache) (*part, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open part: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("stat part %s: %w", path, err), f.Close())
	}
	meta, err := decodePart(f, st.Size())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open part %s: %w", path, err), f.Close())
	}
	p := &part{seq: seq, path: path, size: st.Size(), meta: meta, file: f, close: f.Close, cache: cache}
	p.dir, p.name = splitPath(path)
	p.refs.Store(1)
	return p, nil
}

func splitPath(path string) (string, string) {
	i := strings.LastIndexByte(path, os.PathSeparator)
	return path[:i], path[i+1:]
}

// decodePart checks the header and footer of a part of size bytes and
// decodes its index.
func decodePart(r io.ReaderAt, size int64) (*partMeta, error) {
	if size < headerSize+footerSize {
		return nil, fmt.Errorf("read part: %w: %d bytes is too short", ErrCorrupt, size)
	}
	var hdr [headerSize]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("read part header: %w", err)
	}
	if string(hdr[:8]) != headerMagic {
		return nil, fmt.Errorf("read part header: %w: bad magic", ErrCorrupt)
	}
	version := binary.LittleEndian.Uint32(hdr[8:])
	if version != formatV1 && version != formatV2 {
		return nil, fmt.Errorf("read part header: %w: %d", ErrUnsupportedVersion, version)
	}
	var foot [footerSize]byte
	if _, err := r.ReadAt(foot[:], size-footerSize); err != nil {
		return nil, fmt.Errorf("read part footer: %w", err)
	}
	if string(foot[24:]) != footerMagic || binary.LittleEndian.Uint32(foot[20:]) != encoding.Checksum(foot[:20]) {
		return nil, fmt.Errorf("read part footer: %w: bad magic or checksum", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(foot[16:]); v != version {
		if v != formatV1 && v != formatV2 {
			return nil, fmt.Errorf("read part footer: %w: %d", ErrUnsupportedVersion, v)
		}
		return nil, fmt.Errorf("read part footer: %w: version %d, header says %d", ErrCorrupt, v, version)
	}
	indexOff := binary.LittleEndian.Uint64(foot[0:])
	indexLen := uint64(binary.LittleEndian.Uint32(foot[8:]))
	if indexOff < headerSize || indexOff > uint64(size) || indexOff+indexLen != uint64(size-footerSize) {
		return nil, fmt.Errorf("read part footer: %w: bad index location", ErrCorrupt)
	}
	env := make([]byte, indexLen)
	if _, err := r.ReadAt(env, int64(indexOff)); err != nil {
		return nil, fmt.Errorf("read part index: %w", err)
	}
	if encoding.Checksum(env) != binary.LittleEndian.Uint32(foot[12:]) {
		return nil, fmt.Errorf("read part index: %w: checksum mismatch", ErrCorrupt)
	}
	idx, err := encoding.Decompress(nil, env)
	if err != nil {
		return nil, fmt.Errorf("decompress part index: %w: %w", ErrCorrupt, err)
	}
	return decodeIndex(idx, indexOff, version)
}

// incRef takes a reference for a reader.
func (p *part) incRef() { p.refs.Add(1) }

// decRef drops a reference; the last one closes the file and, if the part
// was removed from the store, deletes it.
func (p *part) decRef() error {
	n := p.refs.Add(-1)
	if n > 0 {
		return nil
	}
	if n < 0 {
		panic("BUG: part reference count below zero")
	}
	err := p.close()
	if err != nil {
		err = fmt.Errorf("close part %s: %w", p.path, err)
	}
	if p.removed.Load() {
		if rerr := os.Remove(p.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("remove part %s: %w", p.path, rerr))
		}
		// The partition directory goes once its last part is gone.
		_ = os.Remove(p.dir)
		if p.drop != nil && err == nil {
			err = p.drop()
		}
	}
	return err
}

// readChunk returns the decompressed content of a chunk, from the cache if
// present and useCache. The result is shared and must not be modified.
func (p *part) readChunk(useCache bool, ref chunkRef) ([]byte, error) {
	key := cacheKey{seq: p.seq, off: ref.off}
	if p.cache == nil {
		useCache = false
	}
	if useCache {
		if b, ok := p.cache.get(key); ok {
			return b, nil
		}
	}
	raw := make([]byte, ref.n)
	if _, err := p.file.ReadAt(raw, int64(ref.off)); err != nil {
		return nil, fmt.Errorf("read chunk at %d of part %s: %w", ref.off, p.name, err)
	}
	body := raw[:len(raw)-4]
	if encoding.Checksum(body) != binary.LittleEndian.Uint32(raw[len(raw)-4:]) {
		return nil, fmt.Errorf("read chunk at %d of part %s: %w: checksum mismatch", ref.off, p.name, ErrCorrupt)
	}
	var out []byte
	if len(body) > 0 && body[0] == byte(encoding.None) {
		out = body[1:]
	} else {
		var err error
		if out, err = encoding.Decompress(nil, body); err != nil {
			return nil, fmt.Errorf("read chunk at %d of part %s: %w: %w", ref.off, p.name, ErrCorrupt, err)
		}
	}
	if useCache {
		p.cache.put(key, out)
	}
	return out, nil
}

// newMemPart returns a part over bytes in memory, for fuzzing and tests.
func newMemPart(b []byte) (*part, error) {
	r := bytes.NewReader(b)
	meta, err := decodePart(r, int64(len(b)))
	if err != nil {
		return nil, err
	}
	p := &part{name: "mem", path: "mem", size: int64(len(b)), meta: meta, file: r, close: func() error { return nil }}
	p.refs.Store(1)
	return p, nil
}
