package server

import (
	"context"
	"math"
	"strconv"
	"sync"
	"time"
)

// rateLimiter limits attempts per key (client IP) with a token bucket:
// burst attempts, then one more every interval. Idle buckets are dropped so
// the map stays small.
type rateLimiter struct {
	mu       sync.Mutex
	burst    float64
	interval time.Duration
	now      func() time.Time
	buckets  map[string]*bucket
	lastGC   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(burst int, interval time.Duration, now func() time.Time) *rateLimiter {
	return &rateLimiter{burst: float64(burst), interval: interval, now: now, buckets: map[string]*bucket{}}
}

// refill brings key's bucket up to date; l.mu must be held.
func (l *rateLimiter) refill(key string) *bucket {
	now := l.now()
	full := time.Duration(l.burst * float64(l.interval))
	if now.Sub(l.lastGC) > full {
		for k, b := range l.buckets {
			if now.Sub(b.last) > full {
				delete(l.buckets, k)
			}
		}
		l.lastGC = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.last))/float64(l.interval))
	b.last = now
	return b
}

// take charges key one token if it has one, atomically: concurrent
// requests cannot all pass a check made before any of them is charged.
func (l *rateLimiter) take(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.interval))
	}
	b.tokens--
	return true, 0
}

// refund gives key back a token taken for an attempt that succeeded.
func (l *rateLimiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	b.tokens = min(l.burst, b.tokens+1)
}

// Rate is a token bucket: Burst attempts, then one more every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

func (r Rate) valid() bool { return r.Burst >= 1 && r.Every > 0 }

// limiter guards one kind of expensive request with a bucket per client
// IP and one shared by all clients, both charged before the work starts:
// the per-IP bucket slows one client down, the global one bounds what many
// addresses together can make the server do.
type limiter struct {
	perIP, global *rateLimiter
}

func newLimiter(perIP, global Rate, now func() time.Time) *limiter {
	return &limiter{
		perIP:  newRateLimiter(perIP.Burst, perIP.Every, now),
		global: newRateLimiter(global.Burst, global.Every, now),
	}
}

// take charges ip and the global bucket, or neither; when refused it says
// how long to wait.
func (l *limiter) take(ip string) (bool, time.Duration) {
	if ok, wait := l.perIP.take(ip); !ok {
		return false, wait
	}
	if ok, wait := l.global.take(""); !ok {
		l.perIP.refund(ip)
		return false, wait
	}
	return true, 0
}

// refund returns the tokens of an attempt that succeeded, for limits that
// only count failures (log-in, pairing: a venue's kiosks share one NAT
// address and must not slow each other down).
func (l *limiter) refund(ip string) {
	l.perIP.refund(ip)
	l.global.refund("")
}

// retryAfter is the Retry-After header value for wait, in whole seconds.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// checkPassword checks an admin's password in one of the PasswordChecks
// slots: each argon2id check takes 19 MiB, so the slots bound that memory
// whatever the number of requests.
func (s *Server) checkPassword(ctx context.Context, user, password string) error {
	return s.withPasswordSlot(ctx, func() error { return s.store.AuthenticateAdmin(ctx, user, password) })
}

// withPasswordSlot runs fn, which hashes a password, in a password slot.
func (s *Server) withPasswordSlot(ctx context.Context, fn func() error) error {
	select {
	case s.passwordSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.passwordSlots }()
	return fn()
}
