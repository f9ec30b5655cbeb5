package web

import (
	"container/list"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxClients bounds how many clients the form's rate limit remembers.
// A client idle for a whole period is forgotten anyway (its bucket is
// full again, as a new one would be); the bound is for a flood from
// rotating addresses, which would otherwise grow the map by one entry a
// request for a whole period. At the bound the least recently seen
// client is forgotten: it gets a full bucket back, which is all a
// rotating attacker gets with every new address too. An entry is a few
// hundred bytes.
const maxClients = 10000

// limiter is a token bucket (golang.org/x/time/rate) per client: each
// holds up to rate.N tokens, refilled evenly over rate.Per, and sending
// a comment takes one.
type limiter struct {
	limit rate.Limit
	burst int
	per   time.Duration // a bucket left alone this long is full
	max   int

	mu      sync.Mutex
	clients map[string]*list.Element // of *client
	lru     *list.List               // most recently seen first
}

type client struct {
	key  string
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(r Rate) *limiter {
	return &limiter{
		limit: rate.Limit(float64(r.N) / r.Per.Seconds()), burst: r.N, per: r.Per, max: maxClients,
		clients: make(map[string]*list.Element), lru: list.New(),
	}
}

// take takes a token from key's bucket. It returns 0 when there was one,
// else how long until there will be.
func (l *limiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forget(now)
	var c *client
	if e := l.clients[key]; e != nil {
		c = e.Value.(*client)
		l.lru.MoveToFront(e)
	} else {
		if len(l.clients) >= l.max {
			l.drop(l.lru.Back())
		}
		c = &client{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = l.lru.PushFront(c)
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		// Refused: the token is not spent, as if never asked for.
		r.CancelAt(now)
		return wait
	}
	return 0
}

// forget drops the clients not seen for a whole period: their buckets
// are full, the same as a new client's.
func (l *limiter) forget(now time.Time) {
	for e := l.lru.Back(); e != nil && now.Sub(e.Value.(*client).seen) >= l.per; e = l.lru.Back() {
		l.drop(e)
	}
}

func (l *limiter) drop(e *list.Element) {
	delete(l.clients, e.Value.(*client).key)
	l.lru.Remove(e)
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
