package magnetic

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/internal/fileutil"
	"github.com/tidaldb/tidal/internal/objstore"
	"github.com/tidaldb/tidal/magnetic/encoding"
)

// Object storage for parts. With Options.Object set, the tier uploads
// every part of a partition that ended more than UploadAge ago to the
// object store under the key "<table ID>/<partition>/<part name>" and then
// reads it back with range requests, through the decompressed-chunk cache.
// The local directory keeps the recent parts and, for each uploaded part, a
// stub "<seq>.remote" in the partition directory: the part's object key,
// its size, its header and its index and footer, so that opening the store
// and planning scans need no request. The stubs are the part index.
//
// Upload protocol, crash-safe at every step: (1) put the object (same key
// on a retry, so a repeat overwrites); (2) write the stub atomically and
// fsync the directory: from here on the part is remote; (3) delete the
// local file once no reader holds it. Open removes a local part shadowed by
// a stub (a crash between 2 and 3) and deletes objects that no stub names
// (a crash between 1 and 2, or between a merge or retention removing a
// stub and deleting its object). A removed remote part loses its stub
// before its object.
//
// The file "objects" in Options.Dir records that the directory's stubs are
// the index of the bucket. When it is missing (a new or an emptied disk),
// Open adopts every part in the bucket instead of deleting the ones it has
// no stub for: it writes their stubs and their tables' layout files, which
// rebuilds the index from the bucket.

const (
	remoteSuffix = ".remote"
	objectsFile  = "objects"
	stubMagic    = "TDLSTUB1"
	// DefaultUploadAge is ObjectOptions.UploadAge when 0.
	DefaultUploadAge = 24 * time.Hour
	// DefaultObjectCacheBytes is ObjectOptions.CacheBytes when 0.
	DefaultObjectCacheBytes = 64 << 20
	// remoteBlock is the unit of range requests for remote parts with a
	// block cache: a scan reading chunk after chunk makes one request per
	// block, not one per chunk.
	remoteBlock   = 512 << 10
	objectTimeout = 2 * time.Minute
)

// ObjectStore is what the magnetic tier needs of an object store; an
// *objstore.Bucket has it. Keys are relative to the store's prefix.
type ObjectStore interface {
	Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error
	ReadAt(ctx context.Context, key string, p []byte, off int64) error
	List(ctx context.Context, prefix string) ([]objstore.Object, error)
	Delete(ctx context.Context, key string) error
}

// ObjectOptions configures object storage for parts (Options.Object).
type ObjectOptions struct {
	// Store holds the uploaded parts. Required.
	Store ObjectStore
	// UploadAge is how long after its partition's end a part is uploaded;
	// 0 means DefaultUploadAge, a negative value uploads every part of a
	// partition that has ended.
	UploadAge time.Duration
	// CacheBytes bounds the cache of remote part blocks (remoteBlock
	// bytes each, read with one range request); 0 means
	// DefaultObjectCacheBytes, a negative value disables it (one range
	// request per chunk read). Decompressed chunks are cached in front of
	// it by the store's chunk cache (Options.CacheBytes).
	CacheBytes int
}

type objectMetrics struct {
	uploads, uploadBytes, reads, readBytes, deletes prometheus.Counter
	blockHits, blockMisses                          prometheus.Counter
	// blocks caches remote part blocks; nil when disabled.
	blocks *blockCache
}

func (s *Store) initObjects(reg prometheus.Registerer) error {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tidal", Subsystem: "magnetic_object", Name: name, Help: help})
	}
	s.om = objectMetrics{
		uploads:     c("uploads_total", "Parts uploaded to the object store."),
		uploadBytes: c("upload_bytes_total", "Bytes of parts uploaded to the object store."),
		reads:       c("range_reads_total", "Range requests reading remote parts."),
		readBytes:   c("range_read_bytes_total", "Bytes read from remote parts."),
		deletes:     c("deletes_total", "Objects deleted (removed parts and orphans)."),
		blockHits:   c("block_cache_hits_total", "Remote part blocks served by the block cache."),
		blockMisses: c("block_cache_misses_total", "Remote part blocks read with a range request."),
	}
	size := s.opts.Object.CacheBytes
	if size == 0 {
		size = DefaultObjectCacheBytes
	}
	if size > 0 {
		s.om.blocks = newBlockCache(size, s.om.blockHits, s.om.blockMisses)
	}
	if reg == nil {
		return nil
	}
	for _, col := range []prometheus.Collector{s.om.uploads, s.om.uploadBytes, s.om.reads, s.om.readBytes, s.om.deletes,
		s.om.blockHits, s.om.blockMisses} {
		if err := reg.Register(col); err != nil {
			return fmt.Errorf("magnetic: register object metrics: %w", err)
		}
	}
	return nil
}

// remoteName returns the stub file name of part seq.
func remoteName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, remoteSuffix) }

// parseRemoteName returns the sequence number of a stub file name.
func parseRemoteName(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, remoteSuffix)
	if !ok {
		return 0, false
	}
	return parsePartName(base + partSuffix)
}

// objectKey is the key of a part: "<table>/<partition>/<part name>".
func objectKey(tableID uint64, start int64, w time.Duration, name string) string {
	return path.Join(strconv.FormatUint(tableID, 10), partitionName(start, w), name)
}

// parseObjectKey is the inverse of objectKey.
func parseObjectKey(key string) (tableID uint64, start int64, w time.Duration, seq uint64, ok bool) {
	f := strings.Split(key, "/")
	if len(f) != 3 {
		return 0, 0, 0, 0, false
	}
	id, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil || strconv.FormatUint(id, 10) != f[0] {
		return 0, 0, 0, 0, false
	}
	if start, w, ok = parsePartitionName(f[1]); !ok {
		return 0, 0, 0, 0, false
	}
	if seq, ok = parsePartName(f[2]); !ok {
		return 0, 0, 0, 0, false
	}
	return id, start, w, seq, true
}

// stub is the local record of a remote part.
type stub struct {
	key     string
	size    int64
	head    []byte // the part's first headerSize bytes
	tailOff int64
	tail    []byte // the part's index envelope and footer
}

func (st *stub) encode() []byte {
	b := make([]byte, 0, 64+len(st.key)+len(st.head)+len(st.tail))
	b = append(b, stubMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(st.size))
	b = binary.LittleEndian.AppendUint64(b, uint64(st.tailOff))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(st.key)))
	b = append(b, st.key...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(st.head)))
	b = append(b, st.head...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(st.tail)))
	b = append(b, st.tail...)
	return binary.LittleEndian.AppendUint32(b, encoding.Checksum(b))
}

var errBadStub = fmt.Errorf("%w: bad remote part stub", ErrCorrupt)

func decodeStub(b []byte) (*stub, error) {
	if len(b) < len(stubMagic)+16+4+4 || string(b[:len(stubMagic)]) != stubMagic {
		return nil, errBadStub
	}
	body := b[:len(b)-4]
	if encoding.Checksum(body) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errBadStub)
	}
	r := body[len(stubMagic):]
	st := &stub{size: int64(binary.LittleEndian.Uint64(r)), tailOff: int64(binary.LittleEndian.Uint64(r[8:]))}
	r = r[16:]
	field := func() ([]byte, bool) {
		if len(r) < 4 {
			return nil, false
		}
		n := binary.LittleEndian.Uint32(r)
		if uint64(n) > uint64(len(r)-4) {
			return nil, false
		}
		f := r[4 : 4+n]
		r = r[4+n:]
		return f, true
	}
	key, ok1 := field()
	head, ok2 := field()
	tail, ok3 := field()
	if !ok1 || !ok2 || !ok3 || len(r) != 0 || len(head) != headerSize || st.size < headerSize+footerSize ||
		st.tailOff < headerSize || st.tailOff+int64(len(tail)) != st.size || len(tail) < footerSize {
		return nil, errBadStub
	}
	st.key, st.head, st.tail = string(key), head, tail
	return st, nil
}

// remoteFile reads a remote part: its header and tail from the stub, the
// rest with range requests.
type remoteFile struct {
	s   *Store
	st  *stub
	seq uint64
}

func (f *remoteFile) ReadAt(p []byte, off int64) (int, error) {
	st := f.st
	if off < 0 || off+int64(len(p)) > st.size {
		return 0, fmt.Errorf("read remote part %s at %d: %w", st.key, off, io.ErrUnexpectedEOF)
	}
	if off+int64(len(p)) <= int64(len(st.head)) {
		return copy(p, st.head[off:]), nil
	}
	if off >= st.tailOff {
		return copy(p, st.tail[off-st.tailOff:]), nil
	}
	if f.s.om.blocks == nil {
		if err := f.fetch(p, off); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	n := 0
	for n < len(p) {
		o := off + int64(n)
		start := o - o%remoteBlock
		blk, err := f.block(start, min(start+remoteBlock, st.size))
		if err != nil {
			return n, err
		}
		n += copy(p[n:], blk[o-start:])
	}
	return n, nil
}

// block returns the bytes [start, end) of the part, from the block cache
// or with one range request.
func (f *remoteFile) block(start, end int64) ([]byte, error) {
	k := cacheKey{seq: f.seq, off: uint64(start)}
	if b, ok := f.s.om.blocks.get(k); ok {
		return b, nil
	}
	b := make([]byte, end-start)
	if err := f.fetch(b, start); err != nil {
		return nil, err
	}
	f.s.om.blocks.put(k, b)
	return b, nil
}

func (f *remoteFile) fetch(p []byte, off int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), objectTimeout)
	defer cancel()
	if err := f.s.opts.Object.Store.ReadAt(ctx, f.st.key, p, off); err != nil {
		return err
	}
	f.s.om.reads.Inc()
	f.s.om.readBytes.Add(float64(len(p)))
	return nil
}

// openRemotePart opens the part of a stub file.
func (s *Store) openRemotePart(stubPath string, seq uint64) (*part, error) {
	b, err := os.ReadFile(stubPath)
	if err != nil {
		return nil, fmt.Errorf("open remote part: %w", err)
	}
	st, err := decodeStub(b)
	if err != nil {
		return nil, fmt.Errorf("open remote part %s: %w", stubPath, err)
	}
	return s.remotePart(stubPath, seq, st)
}

func (s *Store) remotePart(stubPath string, seq uint64, st *stub) (*part, error) {
	rf := &remoteFile{s: s, st: st, seq: seq}
	meta, err := decodePart(rf, st.size)
	if err != nil {
		return nil, fmt.Errorf("open remote part %s: %w", stubPath, err)
	}
	p := &part{seq: seq, path: stubPath, size: st.size, meta: meta, file: rf, close: func() error { return nil }, cache: s.cache,
		object: st.key}
	p.dir, _ = splitPath(stubPath)
	p.name = partName(seq)
	p.drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), objectTimeout)
		defer cancel()
		if err := s.opts.Object.Store.Delete(ctx, st.key); err != nil {
			return fmt.Errorf("delete removed part: %w", err)
		}
		s.om.deletes.Inc()
		return nil
	}
	p.refs.Store(1)
	return p, nil
}

// readStub reads the header and tail of a part through r into a stub.
func readStub(r io.ReaderAt, key string, size int64) (*stub, error) {
	if size < headerSize+footerSize {
		return nil, fmt.Errorf("read part %s: %w: %d bytes is too short", key, ErrCorrupt, size)
	}
	head := make([]byte, headerSize)
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("read part %s header: %w", key, err)
	}
	foot := make([]byte, footerSize)
	if _, err := r.ReadAt(foot, size-footerSize); err != nil {
		return nil, fmt.Errorf("read part %s footer: %w", key, err)
	}
	indexOff := int64(binary.LittleEndian.Uint64(foot))
	if indexOff < headerSize || indexOff > size-footerSize {
		return nil, fmt.Errorf("read part %s footer: %w: bad index location", key, ErrCorrupt)
	}
	tail := make([]byte, size-indexOff)
	if _, err := r.ReadAt(tail, indexOff); err != nil {
		return nil, fmt.Errorf("read part %s index: %w", key, err)
	}
	return &stub{key: key, size: size, head: head, tailOff: indexOff, tail: tail}, nil
}

// objectReader is an io.ReaderAt over one object.
type objectReader struct {
	s   ObjectStore
	key string
}

func (o objectReader) ReadAt(p []byte, off int64) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), objectTimeout)
	defer cancel()
	if err := o.s.ReadAt(ctx, o.key, p, off); err != nil {
		return 0, err
	}
	return len(p), nil
}

// prepareObjects runs before load: it removes local parts shadowed by a
// stub, and rebuilds the stubs from the bucket when the directory is not
// yet the bucket's index.
func (s *Store) prepareObjects(ctx context.Context) error {
	if err := walkPartitions(s.opts.Dir, func(dir string, ents []os.DirEntry) error {
		changed := false
		for _, e := range ents {
			seq, ok := parseRemoteName(e.Name())
			if !ok {
				continue
			}
			err := os.Remove(filepath.Join(dir, partName(seq)))
			if err == nil {
				s.log.Info("removed local copy of an uploaded part", "part", filepath.Join(dir, partName(seq)))
				changed = true
			} else if !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove uploaded part: %w", err)
			}
		}
		if changed {
			return syncDir(s.fs, dir)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	marker := filepath.Join(s.opts.Dir, objectsFile)
	if _, err := os.Stat(marker); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open store: %w", err)
	}
	n, err := s.adoptObjects(ctx)
	if err != nil {
		return fmt.Errorf("open store: rebuild part index from the object store: %w", err)
	}
	if n > 0 {
		s.log.Info("rebuilt part index from the object store", "parts", n)
	}
	if err := fileutil.WriteFileAtomic(s.fs, marker, []byte("tidal magnetic: stubs here index the object store\n"), 0o644); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	return nil
}

// adoptObjects writes a stub for every part in the bucket that has neither
// a stub nor a local file, and the layout file of its table if missing.
func (s *Store) adoptObjects(ctx context.Context) (int, error) {
	objs, err := s.opts.Object.Store.List(ctx, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range objs {
		id, start, w, seq, ok := parseObjectKey(o.Key)
		if !ok {
			continue
		}
		tdir := filepath.Join(s.opts.Dir, strconv.FormatUint(id, 10))
		pdir := filepath.Join(tdir, partitionName(start, w))
		if exists(filepath.Join(pdir, remoteName(seq))) || exists(filepath.Join(pdir, partName(seq))) {
			continue
		}
		tw, err := readLayout(tdir)
		if err != nil {
			return n, err
		}
		if tw == 0 {
			if err := writeLayout(s.fs, tdir, w); err != nil {
				return n, err
			}
		} else if tw != w {
			s.log.Warn("object of a partition width other than its table's; ignored", "key", o.Key)
			continue
		}
		st, err := readStub(objectReader{s.opts.Object.Store, o.Key}, o.Key, o.Size)
		if err != nil {
			return n, err
		}
		if err := ensureDir(s.fs, pdir); err != nil {
			return n, err
		}
		if err := fileutil.WriteFileAtomic(s.fs, filepath.Join(pdir, remoteName(seq)), st.encode(), 0o644); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// walkPartitions calls fn with the entries of every partition directory.
func walkPartitions(root string, fn func(dir string, ents []os.DirEntry) error) error {
	tdirs, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, td := range tdirs {
		if _, err := strconv.ParseUint(td.Name(), 10, 64); err != nil || !td.IsDir() {
			continue
		}
		pdirs, err := os.ReadDir(filepath.Join(root, td.Name()))
		if err != nil {
			return err
		}
		for _, pd := range pdirs {
			if _, _, ok := parsePartitionName(pd.Name()); !ok || !pd.IsDir() {
				continue
			}
			dir := filepath.Join(root, td.Name(), pd.Name())
			ents, err := os.ReadDir(dir)
			if err != nil {
				return err
			}
			if err := fn(dir, ents); err != nil {
				return err
			}
		}
	}
	return nil
}

// sweepObjects deletes every part object that no live stub names: objects
// of uploads a crash interrupted before their stub, and of removed parts
// whose deletion a crash interrupted.
func (s *Store) sweepObjects(ctx context.Context) error {
	live := map[string]bool{}
	s.mu.RLock()
	for _, pts := range s.tables {
		for _, pt := range pts {
			for _, p := range pt.parts {
				if p.object != "" {
					live[p.object] = true
				}
			}
		}
	}
	s.mu.RUnlock()
	objs, err := s.opts.Object.Store.List(ctx, "")
	if err != nil {
		return fmt.Errorf("sweep objects: %w", err)
	}
	for _, o := range objs {
		if _, _, _, _, ok := parseObjectKey(o.Key); !ok || live[o.Key] {
			continue
		}
		if err := s.opts.Object.Store.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("sweep objects: %w", err)
		}
		s.om.deletes.Inc()
		s.log.Info("deleted orphaned object", "key", o.Key)
	}
	return nil
}

type uploadCand struct {
	tableID uint64
	start   int64
	width   time.Duration
	p       *part
}

// Upload uploads every local part of a partition that ended more than
// ObjectOptions.UploadAge before now and returns how many it uploaded. The
// background loop calls it after each merge round; it does nothing
// without Options.Object.
func (s *Store) Upload(ctx context.Context, now time.Time) (int, error) {
	if s.opts.Object == nil {
		return 0, nil
	}
	s.maintMu.Lock()
	defer s.maintMu.Unlock()
	age := s.opts.Object.UploadAge
	if age == 0 {
		age = DefaultUploadAge
	}
	age = max(age, 0)
	cutoff := now.Add(-age).UnixNano()
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return 0, ErrClosed
	}
	var cands []uploadCand
	for id, pts := range s.tables {
		for start, pt := range pts {
			if partitionLast(start, pt.width) >= cutoff {
				continue
			}
			for _, p := range pt.parts {
				if p.object == "" {
					p.incRef()
					cands = append(cands, uploadCand{id, start, pt.width, p})
				}
			}
		}
	}
	s.mu.RUnlock()
	n := 0
	var errs []error
	failed := false
	for _, c := range cands {
		if !failed && ctx.Err() == nil {
			if err := s.upload(ctx, c); err != nil {
				errs = append(errs, err)
				failed = true
			} else {
				n++
			}
		}
		errs = append(errs, c.p.decRef())
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("upload parts: %w", err)
	}
	return n, nil
}

func (s *Store) upload(ctx context.Context, c uploadCand) error {
	p := c.p
	key := objectKey(c.tableID, c.start, c.width, p.name)
	f, err := os.Open(p.path)
	if err != nil {
		return fmt.Errorf("upload part: %w", err)
	}
	err = s.opts.Object.Store.Put(ctx, key, f, p.size)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("upload part: %w", cerr)
	}
	if err != nil {
		return err
	}
	s.om.uploads.Inc()
	s.om.uploadBytes.Add(float64(p.size))
	st, err := readStub(p.file, key, p.size)
	if err != nil {
		return err
	}
	stubPath := filepath.Join(p.dir, remoteName(p.seq))
	if err := fileutil.WriteFileAtomic(s.fs, stubPath, st.encode(), 0o644); err != nil {
		return fmt.Errorf("upload part: %w", err)
	}
	rp, err := s.remotePart(stubPath, p.seq, st)
	if err != nil {
		return err
	}
	s.mu.Lock()
	var pt *partition
	if pts := s.tables[c.tableID]; pts != nil {
		pt = pts[c.start]
	}
	swapped := false
	if pt != nil && !s.closed {
		for i, q := range pt.parts {
			if q == p {
				pt.parts[i] = rp
				swapped = true
				break
			}
		}
	}
	s.mu.Unlock()
	if !swapped {
		// Closed meanwhile: the next Open removes the shadowed local file.
		return rp.decRef()
	}
	p.removed.Store(true)
	s.log.Debug("uploaded part", s.tableAttrs(c.tableID, "key", key, "bytes", p.size)...)
	return p.decRef()
}
