package mail

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := newBackoff(time.Second, 10*time.Second)
	steps := []time.Duration{1, 2, 4, 8, 10, 10, 10}
	for i, step := range steps {
		step *= time.Second
		d := b.next()
		if d < step/2 || d > step {
			t.Errorf("delay %d = %v, want within [%v, %v]", i+1, d, step/2, step)
		}
		if b.attempts() != i+1 {
			t.Errorf("attempts = %d after %d delays", b.attempts(), i+1)
		}
	}
	b.reset()
	if d := b.next(); d > time.Second {
		t.Errorf("first delay after reset = %v, want at most 1s", d)
	}
}

func TestBackoffNeverOverflows(t *testing.T) {
	b := newBackoff(time.Second, 2*time.Minute)
	for range 200 {
		if d := b.next(); d <= 0 || d > 2*time.Minute {
			t.Fatalf("delay %v after %d attempts, want within (0, 2m]", d, b.attempts())
		}
	}
}

func TestBackoffDefaults(t *testing.T) {
	b := newBackoff(0, 0)
	if d := b.next(); d < defaultRetryMin/2 || d > defaultRetryMin {
		t.Errorf("default first delay = %v", d)
	}
}
