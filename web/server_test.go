package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"modbot/queue"
)

type fakeStats struct {
	st  *queue.Stats
	err error
}

func (f fakeStats) Stats(context.Context) (*queue.Stats, error) { return f.st, f.err }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestHealthz(t *testing.T) {
	s := &Server{Stats: fakeStats{st: &queue.Stats{Outcomes: map[string]int64{}}},
		Watcher: func() WatcherStats { return WatcherStats{Connected: true} }}
	code, body := get(t, s.Handler(), "/healthz")
	if code != 200 || !strings.Contains(body, "imap: connected") {
		t.Errorf("healthy: %d %q", code, body)
	}
	s = &Server{Stats: fakeStats{err: errors.New("database is locked")}}
	code, body = get(t, s.Handler(), "/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database is locked") {
		t.Errorf("store down: %d %q", code, body)
	}
}

func TestMetrics(t *testing.T) {
	oldest := time.Now().Add(-time.Hour)
	s := &Server{
		Stats: fakeStats{st: &queue.Stats{
			Outcomes: map[string]int64{queue.OutcomeQueued: 7, queue.OutcomeQuarantined: 2, queue.OutcomeBlocked: 3},
			Pending:  5, OldestPending: &oldest, OutboxPending: 3, OutboxRetries: 1, OutboxFailed: 4, OutboxSent: 9, Digests: 6,
		}},
		Watcher: func() WatcherStats {
			return WatcherStats{Reconnects: 2, Connected: true, LastSync: time.Unix(1700000000, 0)}
		},
	}
	code, body := get(t, s.MetricsHandler(), "/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		`modbot_inbound_messages_total{outcome="queued"} 7`,
		`modbot_inbound_messages_total{outcome="quarantined"} 2`,
		`modbot_inbound_messages_total{outcome="blocked"} 3`,
		`modbot_inbound_messages_total{outcome="feedback"} 0`,
		`modbot_queue_pending 5`,
		`modbot_outbox_messages{state="pending"} 3`,
		`modbot_outbox_messages{state="failed"} 4`,
		`modbot_outbox_retrying 1`,
		`modbot_digests_total 6`,
		`modbot_imap_reconnects_total 2`,
		`modbot_imap_connected 1`,
		`modbot_imap_last_sync_timestamp_seconds 1.7e+09`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !strings.Contains(body, "modbot_queue_oldest_pending_seconds 36") {
		t.Errorf("oldest pending age not about an hour:\n%s", body)
	}
	// Nothing changes state on a GET, and other methods are refused.
	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("POST", "/metrics", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", rec.Code)
	}
}

// The public listener has no /metrics: queue sizes and the IMAP state
// are for the operator (issue 11 §11). Its health check stays.
func TestMetricsNotPublic(t *testing.T) {
	s := &Server{Stats: fakeStats{st: &queue.Stats{Pending: 5}}}
	for _, path := range []string{"/metrics", "/metrics/", "/METRICS"} {
		if code, body := get(t, s.Handler(), path); code != http.StatusNotFound || strings.Contains(body, "modbot_") {
			t.Errorf("public GET %s: %d %q", path, code, body)
		}
	}
	if code, _ := get(t, s.Handler(), "/healthz"); code != 200 {
		t.Errorf("public /healthz: %d", code)
	}
	if code, _ := get(t, s.MetricsHandler(), "/healthz"); code != 200 {
		t.Errorf("metrics listener /healthz: %d", code)
	}
}
