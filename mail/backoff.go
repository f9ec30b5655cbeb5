package mail

import (
	"math/rand/v2"
	"time"
)

// Default reconnect schedule: 1s doubling to 2 minutes.
const (
	defaultRetryMin = time.Second
	defaultRetryMax = 2 * time.Minute
)

// backoff is a capped exponential delay with jitter. It is not safe for
// concurrent use.
type backoff struct {
	min, max time.Duration
	n        int // delays handed out since the last reset
}

func newBackoff(min, max time.Duration) *backoff {
	if min <= 0 {
		min = defaultRetryMin
	}
	if max < min {
		max = min
	}
	return &backoff{min: min, max: max}
}

// next returns the delay before the next attempt and advances the schedule.
// The delay is in [d/2, d] for the step d: half is jitter, so watchers that
// lost the same server do not all come back in the same instant, and half
// is fixed, so none retries much sooner than the schedule says.
func (b *backoff) next() time.Duration {
	d := b.max
	if b.n < 32 {
		if step := b.min << b.n; step > 0 && step < b.max {
			d = step
		}
	}
	b.n++
	half := d / 2
	return half + rand.N(d-half+1)
}

// attempts is how many delays were handed out since the last reset.
func (b *backoff) attempts() int { return b.n }

// reset starts the schedule again from min, after something succeeded.
func (b *backoff) reset() { b.n = 0 }
