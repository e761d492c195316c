package mqtt

import (
	"context"
	"errors"

	"github.com/tidaldb/tidal/ingest"
)

// errStopped answers appends queued when the broker stops.
var errStopped = errors.New("mqtt broker stopped")

// appendReq is one message's records for one table, waiting for the
// Append that stores them.
type appendReq struct {
	db, table string
	recs      []ingest.Record
	stored    int
	rejected  []ingest.Rejection // indexes into recs
	err       error
	done      chan struct{}
}

// batcher merges the appends of concurrent publishes into one Append per
// table: every publisher still waits for the Append holding its records,
// so a PUBACK still follows durability, but a thousand devices cost a few
// Appends (and WAL syncs) instead of a thousand.
type batcher struct {
	app  ingest.Appender
	reqs chan *appendReq
	stop chan struct{}
	// maxRecords bounds the records merged into one Append.
	maxRecords int
}

func newBatcher(app ingest.Appender) *batcher {
	return &batcher{app: app, reqs: make(chan *appendReq, 1024), stop: make(chan struct{}), maxRecords: 5000}
}

// append stores recs and returns the count stored and the rejections.
func (b *batcher) append(db, table string, recs []ingest.Record) (int, []ingest.Rejection, error) {
	r := &appendReq{db: db, table: table, recs: recs, done: make(chan struct{})}
	select {
	case b.reqs <- r:
	case <-b.stop:
		return 0, nil, errStopped
	}
	select {
	case <-r.done:
		return r.stored, r.rejected, r.err
	case <-b.stop:
		return 0, nil, errStopped
	}
}

// run serves appends until stop is closed; several may run at once.
func (b *batcher) run() {
	var group []*appendReq
	for {
		group = group[:0]
		select {
		case r := <-b.reqs:
			group = append(group, r)
		case <-b.stop:
			return
		}
		n := len(group[0].recs)
	drain:
		for n < b.maxRecords {
			select {
			case r := <-b.reqs:
				group = append(group, r)
				n += len(r.recs)
			default:
				break drain
			}
		}
		b.flush(group)
	}
}

// flush appends a group, one Append per table in order of first
// appearance, and answers each request.
func (b *batcher) flush(group []*appendReq) {
	var recs []ingest.Record
	var owners []*appendReq // owners[i] is the request of recs[i]
	var offsets []int       // offsets[i] is recs[i]'s index in its request
	for i, first := range group {
		if first == nil {
			continue
		}
		recs, owners, offsets = recs[:0], owners[:0], offsets[:0]
		var reqs []*appendReq
		for j := i; j < len(group); j++ {
			r := group[j]
			if r == nil || r.db != first.db || r.table != first.table {
				continue
			}
			for k := range r.recs {
				recs = append(recs, r.recs[k])
				owners = append(owners, r)
				offsets = append(offsets, k)
			}
			reqs = append(reqs, r)
			group[j] = nil
		}
		res, err := b.app.Append(context.Background(), first.db, first.table, recs,
			ingest.AppendOptions{CreateTable: true, IdempotentRewrite: true})
		if err == nil {
			for _, r := range reqs {
				r.stored = len(r.recs)
			}
			for _, rj := range res.Rejected {
				r := owners[rj.Index]
				r.stored--
				r.rejected = append(r.rejected, ingest.Rejection{Index: offsets[rj.Index], Reason: rj.Reason, ExistingVersion: rj.ExistingVersion})
			}
		}
		for _, r := range reqs {
			r.err = err
			close(r.done)
		}
	}
}
