package auth

import (
	"net"
	"strconv"
	"sync"
	"time"
)

// Defaults of the failed-credential limiter: a client address may present
// DefaultFailureBurst wrong credentials at once, then one more every
// DefaultFailureRefill; past that its requests are answered 429 without
// their credentials being checked, so that guessing a secret or token over
// the network runs at a few attempts a minute.
const (
	DefaultFailureBurst  = 10
	DefaultFailureRefill = 6 * time.Second
	// maxFailureClients bounds the addresses tracked; when it is reached,
	// addresses whose bucket has refilled are dropped first, and if none
	// has, the new address is not tracked (it is let through: the limiter
	// must not become a way to lock out every client).
	maxFailureClients = 16384
)

// failLimiter is a token bucket of failed authentications per client
// address. Successful requests never touch it.
type failLimiter struct {
	burst  float64
	refill time.Duration
	now    func() time.Time

	mu      sync.Mutex
	clients map[string]*failBucket
}

type failBucket struct {
	tokens float64
	at     time.Time
}

// newFailLimiter returns a limiter; burst < 0 disables it (nil).
func newFailLimiter(burst int, refill time.Duration, now func() time.Time) *failLimiter {
	if burst < 0 {
		return nil
	}
	if burst == 0 {
		burst = DefaultFailureBurst
	}
	if refill <= 0 {
		refill = DefaultFailureRefill
	}
	if now == nil {
		now = time.Now
	}
	return &failLimiter{burst: float64(burst), refill: refill, now: now, clients: make(map[string]*failBucket)}
}

// clientKey is the address a request's failures are counted against: the
// remote IP without its port.
func clientKey(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// level refills b up to now and returns its tokens.
func (l *failLimiter) level(b *failBucket, now time.Time) float64 {
	if d := now.Sub(b.at); d > 0 {
		b.tokens += float64(d) / float64(l.refill)
		if b.tokens > l.burst {
			b.tokens = l.burst
		}
		b.at = now
	}
	return b.tokens
}

// blocked reports whether remote has used up its failures, and how long
// until it may try again.
func (l *failLimiter) blocked(remote string) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.clients[clientKey(remote)]
	if !ok {
		return 0, false
	}
	if t := l.level(b, l.now()); t < 1 {
		return time.Duration((1 - t) * float64(l.refill)), true
	}
	return 0, false
}

// fail counts one failed authentication from remote.
func (l *failLimiter) fail(remote string) {
	if l == nil {
		return
	}
	key := clientKey(remote)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= maxFailureClients {
			for k, c := range l.clients {
				if l.level(c, now) >= l.burst {
					delete(l.clients, k)
				}
			}
			if len(l.clients) >= maxFailureClients {
				return
			}
		}
		b = &failBucket{tokens: l.burst, at: now}
		l.clients[key] = b
	}
	l.level(b, now)
	if b.tokens >= 1 {
		b.tokens--
	} else {
		b.tokens = 0
	}
}

// retryAfter formats a wait as a Retry-After header value: whole seconds,
// at least one.
func retryAfter(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s)
}

// counts reports whether a failure is a guess at a credential: one was
// presented and was wrong. A missing credential, an expired session or a
// body too large to check is not.
func (f *failure) counts() bool {
	return f.method != MethodNone && f.method != MethodSession && f.body == nil && !f.csrf
}

// Throttled reports whether remote (a net/http RemoteAddr or an ip:port) has
// presented too many wrong credentials lately, and how long until it may
// try again. Listeners outside the HTTP Router (MQTT) check it before
// CheckPassword and call Failed on a refusal.
func (a *Authenticator) Throttled(remote string) (time.Duration, bool) {
	if a.empty() {
		return 0, false
	}
	return a.limiter.blocked(remote)
}

// Failed counts a wrong credential presented by remote.
func (a *Authenticator) Failed(remote string) {
	if !a.empty() {
		a.limiter.fail(remote)
	}
}
