package web

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiterBounded: a flood from ever new addresses does not grow the
// limiter past maxClients, and the clients that stay within the bound
// keep their counts.
func TestLimiterBounded(t *testing.T) {
	l := newLimiter(Rate{N: 2, Per: time.Hour})
	now := testNow
	for i := range 3 * maxClients {
		if wait := l.take(fmt.Sprintf("198.18.%d.%d", i/256, i%256), now); wait != 0 {
			t.Fatalf("new address %d refused", i)
		}
		now = now.Add(time.Millisecond)
		if len(l.clients) > maxClients || l.lru.Len() != len(l.clients) {
			t.Fatalf("after %d addresses: %d clients, %d in the list", i+1, len(l.clients), l.lru.Len())
		}
	}
	// A client seen a moment ago is still counted.
	l.take("192.0.2.10", now)
	l.take("192.0.2.10", now)
	if wait := l.take("192.0.2.10", now); wait != 30*time.Minute {
		t.Errorf("third comment: wait %v, want 30m", wait)
	}
}

// TestLimiterForgetsIdle: a client not seen for a whole period is
// forgotten (its bucket would be full again); one seen within it is
// still counted.
func TestLimiterForgetsIdle(t *testing.T) {
	l := newLimiter(Rate{N: 1, Per: time.Hour})
	at := func(m int) time.Time { return testNow.Add(time.Duration(m) * time.Minute) }
	l.take("192.0.2.10", at(0))
	l.take("192.0.2.11", at(5))
	if wait := l.take("192.0.2.10", at(10)); wait != 50*time.Minute {
		t.Errorf("second comment: wait %v, want 50m", wait)
	}
	l.take("192.0.2.12", at(66))
	if _, ok := l.clients["192.0.2.11"]; ok || len(l.clients) != 2 {
		t.Errorf("at 66 minutes: %d clients, 192.0.2.11 (idle an hour) forgotten: %v", len(l.clients), !ok)
	}
	l.take("192.0.2.12", at(70))
	if _, ok := l.clients["192.0.2.10"]; ok || len(l.clients) != 1 {
		t.Errorf("at 70 minutes: %d clients, 192.0.2.10 forgotten: %v", len(l.clients), !ok)
	}
	if wait := l.take("192.0.2.12", at(71)); wait != 55*time.Minute {
		t.Errorf("192.0.2.12 again: wait %v, want 55m", wait)
	}
}
