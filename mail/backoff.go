package mail

// The schedule is written here rather than taken from a retry library
// because the kept ones jitter the other way. cenkalti/backoff and
// sethvargo/go-retry (WithJitterPercent) spread a delay d over
// [d-j, d+j], so a watcher would wait past the 2-minute cap and longer
// than the schedule says; this one draws from [d/2, d] (see next). Their
// other half, retrying a function (backoff.Retry, retry.Do), does not fit
// the watcher either: one connection's schedule is reset from inside the
// session after a good sync, a second one paces handler retries on a
// live connection, and the log counts the attempts. Bending a library to
// this (scaled inputs, a wrapper for reset and attempts) would be more
// code than these lines and hide the schedule in arithmetic.

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
