package web

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// limiter is a token bucket per client: each holds up to rate.N tokens,
// refilled evenly over rate.Per, and sending a comment takes one.
type limiter struct {
	rate Rate

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate Rate) *limiter {
	return &limiter{rate: rate, buckets: make(map[string]*bucket)}
}

// take takes a token from key's bucket. It returns 0 when there was one,
// else how long until there will be.
func (l *limiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	perToken := l.rate.Per / time.Duration(l.rate.N)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(l.rate.N), at: now}
		l.buckets[key] = b
	}
	b.refill(now, l.rate)
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(perToken))
}

func (b *bucket) refill(now time.Time, rate Rate) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(float64(rate.N), b.tokens+float64(rate.N)*elapsed.Seconds()/rate.Per.Seconds())
		b.at = now
	}
}

// sweep forgets full buckets once a period, so the map holds only the
// clients that sent something lately.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < l.rate.Per {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if b.refill(now, l.rate); b.tokens >= float64(l.rate.N) {
			delete(l.buckets, k)
		}
	}
}

// clientKey is whom the rate limit counts a request against: the
// client's address, an IPv6 one by its /64, which one subscriber
// usually has whole.
func (s *Server) clientKey(r *http.Request) string {
	addr := ""
	if h := s.Options.ClientIPHeader; h != "" {
		v := r.Header.Get(h)
		// The proxy appends the address it saw; earlier entries are
		// whatever the client claimed.
		if i := strings.LastIndexByte(v, ','); i >= 0 {
			v = v[i+1:]
		}
		addr = strings.TrimSpace(v)
	}
	if addr == "" {
		addr = r.RemoteAddr
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
	}
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
