package timestreamapi

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidaldb/tidal/query/exec"
)

// cursor is one query: running, finished with a kept result, failed or
// cancelled.
type cursor struct {
	// Immutable after construction.
	id      string
	sql     string
	created time.Time
	cancel  context.CancelFunc
	done    chan struct{} // closed when the query has finished

	// Written by the query goroutine before done is closed; read-only
	// after.
	res     *exec.Result
	err     error
	types   []exec.Type // column types of res
	columns []byte      // encoded ColumnInfo array of res

	// st is set, instead of res, for a streamed query (before the query
	// goroutine starts; immutable after).
	st *stream

	// Guarded by cursorStore.mu.
	used      time.Time // last start, poll or cancel
	cancelled bool
	size      int64 // accounted in cursorStore.bytes once finished
	elem      *list.Element
	seq       int               // sequence number of the newest token issued
	tokens    map[string]*token // by nonce
	attached  int               // Query calls waiting on c now
	abandon   *time.Timer       // armed while c runs with no call waiting
}

// token is one issued NextToken: the page that starts at offset.
type token struct {
	seq    int
	offset int
	uses   int
	// The token issued for the page after this one when it was served
	// with maxRows, so that presenting a token again returns the same
	// response.
	maxRows int32
	next    string
	end     int
}

// cursorStore keeps cursors by QueryId, bounded by the estimated bytes of
// finished results (least recently used dropped first) and by age.
type cursorStore struct {
	maxBytes int64
	ttl      time.Duration
	now      func() time.Time
	// streamIdle is how long a streamed query may wait for its client
	// before it is cancelled and its cursor dropped.
	streamIdle time.Duration
	// abandonAfter is how long a running query may go without a Query
	// call waiting on it before it is cancelled (its client left).
	abandonAfter time.Duration

	mu      sync.Mutex
	idle    sync.Cond // signalled when running drops; L is &mu
	closed  bool
	byID    map[string]*cursor
	lru     *list.List // of *cursor, most recently used at the front
	bytes   int64      // sum of size over finished cursors
	running int
}

func newCursorStore(maxBytes int64, ttl, streamIdle, abandonAfter time.Duration, now func() time.Time) *cursorStore {
	s := &cursorStore{maxBytes: maxBytes, ttl: ttl, streamIdle: streamIdle, abandonAfter: abandonAfter, now: now, byID: map[string]*cursor{}, lru: list.New()}
	s.idle.L = &s.mu
	return s
}

// queryIDEncoding spells QueryIds in [A-Z2-7], within Timestream's
// [a-zA-Z0-9]{1,64}.
var queryIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newQueryID() string {
	var b [30]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return queryIDEncoding.EncodeToString(b[:])
}

// validQueryID reports whether id matches [a-zA-Z0-9]{1,64}.
func validQueryID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Reasons start refuses a query.
var (
	errClosed = errors.New("timestreamapi: query service closed")
	errBusy   = errors.New("timestreamapi: too many running queries")
)

// start registers a new running cursor. It fails with errBusy when
// maxRunning queries are already running and with errClosed after close.
func (s *cursorStore) start(sql string, cancel context.CancelFunc, maxRunning int) (*cursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	if s.closed {
		return nil, errClosed
	}
	if s.running >= maxRunning && s.evictPausedLocked() {
		// The evicted query stops at once; wait for its goroutine.
		for s.running >= maxRunning && !s.closed {
			s.idle.Wait()
		}
	}
	if s.closed {
		return nil, errClosed
	}
	if s.running >= maxRunning {
		return nil, errBusy
	}
	c := &cursor{
		id: newQueryID(), sql: sql, created: s.now(), cancel: cancel,
		done: make(chan struct{}), tokens: map[string]*token{},
	}
	c.used = c.created
	s.running++
	s.byID[c.id] = c
	c.elem = s.lru.PushFront(c)
	return c, nil
}

// finish records the outcome of c's query and closes c.done. A result larger
// than the whole store becomes err; others make room by dropping the least
// recently used finished results.
func (s *cursorStore) finish(c *cursor, res *exec.Result, err error, tooLarge error) {
	var size int64
	if err == nil && res != nil {
		size = resultSize(res)
		if size > s.maxBytes {
			res, err = nil, tooLarge
		}
	}
	if err == nil && res != nil {
		c.res = res
		c.types = make([]exec.Type, len(res.Columns))
		for i := range res.Columns {
			c.types[i] = res.Columns[i].Type
		}
		c.columns = appendColumnInfo(nil, res.Columns)
	}
	c.err = err
	s.mu.Lock()
	s.running--
	s.idle.Broadcast()
	if _, ok := s.byID[c.id]; ok && c.res != nil && !c.cancelled {
		c.size = size
		s.bytes += size
		// Drop the least recently used finished results; running
		// queries hold nothing yet and stay.
		for e := s.lru.Back(); e != nil && s.bytes > s.maxBytes; {
			victim := e.Value.(*cursor)
			e = e.Prev()
			if victim != c && victim.size > 0 {
				s.removeLocked(victim)
			}
		}
	}
	close(c.done)
	s.mu.Unlock()
}

// get returns the cursor of id and marks it used.
func (s *cursorStore) get(id string) (*cursor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	c, ok := s.byID[id]
	if ok {
		s.lru.MoveToFront(c.elem)
		c.used = s.now()
	}
	return c, ok
}

// evictPausedLocked drops the least recently used streamed query that is
// paused waiting for its client, to let a new query run. It reports
// whether there was one.
func (s *cursorStore) evictPausedLocked() bool {
	for e := s.lru.Back(); e != nil; e = e.Prev() {
		c := e.Value.(*cursor)
		if c.st != nil && c.st.isPaused() {
			s.removeLocked(c)
			return true
		}
	}
	return false
}

// remove drops c; a running query is cancelled.
func (s *cursorStore) remove(c *cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(c)
}

func (s *cursorStore) removeLocked(c *cursor) {
	if s.byID[c.id] != c {
		return
	}
	delete(s.byID, c.id)
	s.lru.Remove(c.elem)
	s.bytes -= c.size
	c.size = 0
	c.tokens = nil
	c.cancel()
}

// cancelQuery cancels c: a running query stops, a kept result is released.
// Later polls of c answer ConflictException until c expires. It reports
// whether the query was still running.
func (s *cursorStore) cancelQuery(c *cursor) (running bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-c.done:
	default:
		running = true
	}
	c.cancelled = true
	c.cancel()
	c.tokens = map[string]*token{}
	s.bytes -= c.size
	c.size = 0
	return running
}

// attach records that a Query call waits on c: c is not abandoned.
func (s *cursorStore) attach(c *cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.attached++
	if c.abandon != nil {
		c.abandon.Stop()
	}
}

// detach ends attach. When no call waits on c any more while its query
// still runs (not paused for room: a paused query uses no CPU and is
// bounded by streamIdle), c is cancelled unless a call comes back within
// abandonAfter: the client of a running query polls again at once, so one
// that does not has gone.
func (s *cursorStore) detach(c *cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.attached--
	if c.attached > 0 || s.byID[c.id] != c {
		return
	}
	if c.abandon == nil {
		c.abandon = time.AfterFunc(s.abandonAfter, func() { s.abandonIdle(c) })
		return
	}
	c.abandon.Reset(s.abandonAfter)
}

// abandonIdle cancels c if its query still runs with no call waiting.
func (s *cursorStore) abandonIdle(c *cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.attached > 0 || s.byID[c.id] != c {
		return
	}
	select {
	case <-c.done:
		return
	default:
	}
	if c.st != nil && (c.st.isDone() || c.st.isPaused()) {
		return
	}
	s.removeLocked(c)
}

// isClosed reports whether close was called.
func (s *cursorStore) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// isCancelled reports whether CancelQuery was called on c.
func (s *cursorStore) isCancelled(c *cursor) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.cancelled
}

// expireLocked drops cursors older than the TTL, and streamed queries
// whose client has not been back for streamIdle.
func (s *cursorStore) expireLocked() {
	now := s.now()
	deadline := now.Add(-s.ttl)
	idle := now.Add(-s.streamIdle)
	for _, c := range s.byID {
		if c.created.Before(deadline) || c.st != nil && c.used.Before(idle) && !c.st.isDone() {
			s.removeLocked(c)
		}
	}
}

// close cancels every query, drops every cursor and waits until no query
// goroutine is running.
func (s *cursorStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.byID {
		s.removeLocked(c)
	}
	for s.running > 0 {
		s.idle.Wait()
	}
}

// issue returns a new NextToken for the page of c starting at offset; it
// is newer than every token issued before.
func (s *cursorStore) issue(c *cursor, offset int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(c, offset)
}

func (s *cursorStore) issueLocked(c *cursor, offset int) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	nonce := hex.EncodeToString(b[:])
	c.seq++
	if c.tokens != nil {
		c.tokens[nonce] = &token{seq: c.seq, offset: offset}
	}
	raw := c.id + "." + strconv.Itoa(offset) + "." + nonce
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// parseToken splits a NextToken into its QueryId and nonce.
func parseToken(tok string) (id, nonce string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || !validQueryID(parts[0]) || len(parts[2]) != 24 {
		return "", "", false
	}
	return parts[0], parts[2], true
}

// use looks up the token nonce of c, counts a use and invalidates every
// older token. It returns a copy of the token, or false when the token is
// unknown, superseded or used up.
func (s *cursorStore) use(c *cursor, nonce string, maxUses int) (token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := c.tokens[nonce]
	if !ok {
		return token{}, false
	}
	select {
	case <-c.done:
	default:
		// Polling a running query does not use the token up.
		return *t, true
	}
	t.uses++
	if t.uses > maxUses {
		delete(c.tokens, nonce)
		return token{}, false
	}
	for n, o := range c.tokens {
		if o.seq < t.seq {
			delete(c.tokens, n)
		}
	}
	return *t, true
}

// nextToken returns the token for the page after the one token nonce of c
// starts, ending at end for maxRows: the one issued before when the same
// page was served, otherwise a new one.
func (s *cursorStore) nextToken(c *cursor, nonce string, maxRows int32, end int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t *token
	if nonce != "" {
		t = c.tokens[nonce]
	}
	if t != nil && t.next != "" && t.maxRows == maxRows && t.end == end {
		if _, n, ok := parseToken(t.next); ok {
			if _, live := c.tokens[n]; live {
				return t.next
			}
		}
	}
	next := s.issueLocked(c, end)
	if t != nil {
		t.next, t.maxRows, t.end = next, maxRows, end
	}
	return next
}
