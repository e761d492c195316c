package awsjson

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
)

// OpFunc serves one operation: body is the request body, already read and
// size-checked; the request's ID is RequestID(r.Context()).
type OpFunc func(w http.ResponseWriter, r *http.Request, op string, body []byte)

// Dispatcher is the one AWS JSON 1.0 dispatch: it takes the operation from
// X-Amz-Target (Prefix.Operation), reads the body under MaxBody, gives the
// request one ID (RequestID) and calls the operation's handler. Unknown
// operations get UnknownOperationException. Authentication is not its
// business: it sits behind the auth layer.
type Dispatcher struct {
	Prefix  string // target prefix, e.g. TimestreamPrefix
	MaxBody int64  // request body limit; 0 uses ReadBody's default
	Logger  *slog.Logger
	ops     map[string]OpFunc
}

// Handle registers fn for op, replacing any earlier handler.
func (d *Dispatcher) Handle(op string, fn OpFunc) {
	if d.ops == nil {
		d.ops = map[string]OpFunc{}
	}
	d.ops[op] = fn
}

// Handler returns the handler of op, or nil.
func (d *Dispatcher) Handler(op string) OpFunc { return d.ops[op] }

// Operations lists the registered operations, sorted.
func (d *Dispatcher) Operations() []string {
	ops := make([]string, 0, len(d.ops))
	for op := range d.ops {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

// ServeHTTP implements http.Handler.
func (d *Dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := RequestID(r.Context())
	r = r.WithContext(WithRequestID(r.Context(), rid))
	if r.Method != http.MethodPost {
		WriteError(w, rid, &Error{Type: TypeUnknownOperation, Message: "Only POST is supported."})
		return
	}
	op, aerr := Operation(r, d.Prefix)
	if aerr != nil {
		WriteError(w, rid, aerr)
		return
	}
	body, aerr := ReadBody(r, d.MaxBody)
	if aerr != nil {
		WriteError(w, rid, aerr)
		return
	}
	fn := d.ops[op]
	if fn == nil {
		WriteError(w, rid, UnknownOperation(op))
		return
	}
	if d.Logger != nil {
		d.Logger.Debug("aws json request", "operation", op, "request_id", rid)
	}
	fn(w, r, op, body)
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request ID id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID ctx carries, or a new one: every layer
// that answers a request (auth refusals, dispatch, the operation) uses the
// same ID.
func RequestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		return id
	}
	return NewRequestID()
}
