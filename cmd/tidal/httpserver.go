package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// Timeouts of the HTTP server. ReadTimeout bounds receiving a whole
// request, headers and body; once a handler has read the body to its end
// (or at once, for a request without one) the read deadline is cleared, so
// that it does not bound the handler's work: net/http cancels a request's
// context when a read deadline passes. Handlers with a shorter bound of
// their own (remote-write's body timeout) set it themselves.
const (
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request.
	ReadTimeout = 2 * time.Minute
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request.
	IdleTimeout = 2 * time.Minute
)

// newHTTPServer returns the server for every API, with the timeouts above
// and a recover that fails only the request whose handler panicked.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           serverHandler(h, logger),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serverHandler wraps h: it clears the read deadline once the request body
// is read, and turns a panic of h into a logged stack and a 500 for that
// request (net/http would recover it too, but drop the connection without
// a response).
func serverHandler(h http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body == nil || r.Body == http.NoBody {
			_ = rc.SetReadDeadline(time.Time{})
		} else {
			r.Body = &clearOnEOF{ReadCloser: r.Body, rc: rc}
		}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if e, ok := p.(error); ok && errors.Is(e, http.ErrAbortHandler) {
				panic(p)
			}
			logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("internal error\n"))
		}()
		h.ServeHTTP(w, r)
	})
}

// clearOnEOF clears the connection's read deadline when the body it wraps
// has been read to its end.
type clearOnEOF struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *clearOnEOF) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
