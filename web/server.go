package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/singleflight"

	"modbot/queue"
	"modbot/templates"
)

// StatsSource gives the store's counts; queue.Store is one.
type StatsSource interface {
	Stats(ctx context.Context) (*queue.Stats, error)
}

// WatcherStats is what the IMAP watcher reports about itself.
type WatcherStats struct {
	Reconnects uint64
	Connected  bool
	LastSync   time.Time
}

// Server serves modbot's HTTP: the public routes (Handler, Serve) and,
// on a listener of their own, /metrics and /healthz (MetricsHandler,
// ServeMetrics).
type Server struct {
	Stats   StatsSource
	Watcher func() WatcherStats
	Logger  *slog.Logger

	// The comment pages, API, feed, form and widget are served when
	// Comments and Templates are set; the unsubscribe and confirmation
	// pages when Subscriptions is set too. Sender carries form
	// submissions to the moderator inbox.
	Comments      CommentStore
	Subscriptions SubscriptionStore
	Sender        Sender
	Templates     *templates.Set
	Site          queue.Site
	Options       Options

	reg *prometheus.Registry

	apiMu     sync.Mutex
	apiCache  map[string]apiCopy
	apiFlight singleflight.Group // one refresh of a post's API copy at a time

	setup sync.Once
	key   []byte // signs form tokens; new on every start
	// crossOrigin refuses form POSTs from other sites (csrf.go).
	crossOrigin *http.CrossOriginProtection
	limiter     *limiter
	// now and random are replaced by tests for stable output.
	now    func() time.Time
	random io.Reader
}

// Options tune the comment side. The zero value is usable.
type Options struct {
	// FormRate is how many comments one client address may send through
	// the form; 10 an hour when zero.
	FormRate Rate
	// CORSOrigins are the origins (https://forum.example) whose pages
	// may read the JSON API and frame the widget.
	CORSOrigins []string
	// ClientIPHeader is the header a reverse proxy puts the client's
	// address in; "" uses the connection's address.
	ClientIPHeader string
	// Lang is the pages' language; "en" when empty.
	Lang string
	// APICacheTTL lets the JSON API answer from a copy up to this old,
	// so a busy embed does not query the store on every request (0: no
	// copy). A comment published shows up at most this late.
	APICacheTTL time.Duration
}

// Rate is N events per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// CommentStore is what the pages, API and feed read; queue.Store is one.
type CommentStore interface {
	Posts(ctx context.Context) ([]queue.Post, error)
	Post(ctx context.Context, slug string) (*queue.Post, error)
	Comments(ctx context.Context, slug string) ([]queue.Comment, error)
}

// SubscriptionStore ends and confirms subscriptions; queue.Store is one.
type SubscriptionStore interface {
	UnsubscribeAddress(ctx context.Context, token string) (string, error)
	Unsubscribe(ctx context.Context, token string) (string, error)
	PendingSubscription(ctx context.Context, token string) (*queue.Subscription, error)
	ConfirmSubscription(ctx context.Context, token string) (*queue.Subscription, error)
}

// Sender submits a message over SMTP; mail.Sender is one.
type Sender interface {
	Send(ctx context.Context, from string, to []string, raw []byte) error
}

func (s *Server) init() {
	s.setup.Do(func() {
		s.reg = prometheus.NewRegistry()
		s.reg.MustRegister(&collector{s: s})
		if s.now == nil {
			s.now = time.Now
		}
		if s.random == nil {
			s.random = rand.Reader
		}
		s.key = make([]byte, 32)
		s.read(s.key)
		rate := s.Options.FormRate
		if rate.N <= 0 || rate.Per <= 0 {
			rate = Rate{N: 10, Per: time.Hour}
		}
		s.limiter = newLimiter(rate)
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
		s.crossOrigin = s.newCrossOrigin()
	})
}

// read fills b with random bytes.
func (s *Server) read(b []byte) {
	if _, err := io.ReadFull(s.random, b); err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("web: read random bytes: %v", err))
	}
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	if s.Comments != nil && s.Templates != nil {
		s.commentRoutes(mux)
	}
	return securityHeaders(mux)
}

// MetricsHandler returns the Prometheus metrics and the health check,
// for a listener of their own (web.metrics_listen). They are not on the
// public listener: queue sizes, outcome counts and the IMAP connection's
// state tell an attacker when moderators are away and whether a flood
// is working (SECURITY.md, the "Operational data for attackers" threat).
func (s *Server) MetricsHandler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	return securityHeaders(mux)
}

// healthz answers 200 when the store answers; the body says whether the
// watcher is connected, which a monitor may also want to alert on.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.Stats.Stats(ctx); err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	imap := "unknown"
	if s.Watcher != nil {
		imap = "disconnected"
		if s.Watcher().Connected {
			imap = "connected"
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "ok\nimap: %s\n", imap)
}

// ListenAndServe serves on addr until ctx ends, then shuts down
// gracefully.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves the public routes on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, s.Handler())
}

// ServeMetrics serves MetricsHandler on ln until ctx ends.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, s.MetricsHandler())
}

// serve runs h on ln until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	// A slow client cannot hold a connection for long; the write timeout
	// leaves room for a form submission's SMTP transaction.
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * sendTimeout, IdleTimeout: 2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

var (
	descMessages   = prometheus.NewDesc("modbot_inbound_messages_total", "Inbound messages handled, by outcome.", []string{"outcome"}, nil)
	descPending    = prometheus.NewDesc("modbot_queue_pending", "Submissions waiting for a decision.", nil, nil)
	descOldest     = prometheus.NewDesc("modbot_queue_oldest_pending_seconds", "Age of the oldest pending submission.", nil, nil)
	descOutbox     = prometheus.NewDesc("modbot_outbox_messages", "Outgoing messages by state.", []string{"state"}, nil)
	descRetrying   = prometheus.NewDesc("modbot_outbox_retrying", "Pending outgoing messages that failed at least once.", nil, nil)
	descDigests    = prometheus.NewDesc("modbot_digests_total", "Digests written.", nil, nil)
	descReconnects = prometheus.NewDesc("modbot_imap_reconnects_total", "IMAP reconnections after an error.", nil, nil)
	descConnected  = prometheus.NewDesc("modbot_imap_connected", "1 while the IMAP watcher is connected.", nil, nil)
	descLastSync   = prometheus.NewDesc("modbot_imap_last_sync_timestamp_seconds", "When the watcher last caught up with the mailbox.", nil, nil)
)

// collector reads the numbers at scrape time from the store, so they are
// right across restarts and never drift from what the database says.
type collector struct{ s *Server }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMessages, descPending, descOldest, descOutbox, descRetrying, descDigests, descReconnects, descConnected, descLastSync} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.s.Stats.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descPending, err)
	} else {
		// The common outcomes always appear (at 0 too), so an alert can
		// refer to them before the first one happens; any other outcome
		// the store has recorded appears as well.
		counts := map[string]int64{queue.OutcomeQueued: 0, queue.OutcomeReply: 0, queue.OutcomeFeedback: 0,
			queue.OutcomeIgnored: 0, queue.OutcomeQuarantined: 0}
		for o, n := range st.Outcomes {
			counts[o] = n
		}
		for o, n := range counts {
			ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(n), o)
		}
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.Pending))
		age := 0.0
		if st.OldestPending != nil {
			age = time.Since(*st.OldestPending).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age)
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(st.OutboxPending), "pending")
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(st.OutboxFailed), "failed")
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(st.OutboxSent), "sent")
		ch <- prometheus.MustNewConstMetric(descRetrying, prometheus.GaugeValue, float64(st.OutboxRetries))
		ch <- prometheus.MustNewConstMetric(descDigests, prometheus.CounterValue, float64(st.Digests))
	}
	if c.s.Watcher != nil {
		w := c.s.Watcher()
		ch <- prometheus.MustNewConstMetric(descReconnects, prometheus.CounterValue, float64(w.Reconnects))
		conn := 0.0
		if w.Connected {
			conn = 1
		}
		ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, conn)
		if !w.LastSync.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastSync, prometheus.GaugeValue, float64(w.LastSync.Unix()))
		}
	}
}
