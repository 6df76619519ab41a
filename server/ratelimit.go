package server

import (
	"sync"
	"time"
)

// rateLimiter limits failed attempts per key (client IP) with a token
// bucket: burst failures, then one more every interval. Successes cost
// nothing, so a venue's kiosks pairing from behind one NAT address are not
// slowed down, while guessing codes or passwords is. Idle buckets are
// dropped so the map stays small.
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

// allow reports whether key may make an attempt; when not, also how long
// until it may.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.interval))
	}
	return true, 0
}

// fail charges key for a failed attempt.
func (l *rateLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	b.tokens = max(0, b.tokens-1)
}
