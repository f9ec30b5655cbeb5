// Package progress tells a person how far a long job has got: how many
// items are done, at what rate, and how long the rest will take. It logs
// a line now and then, and on a terminal keeps one status line up to
// date. It knows nothing of what the items are.
//
// It is written here because the kept progress libraries
// (schollz/progressbar, vbauerster/mpb) draw bars on a terminal, and
// most of what this package does is not that: the daemon's IMAP sync has
// no terminal and reports through log/slog, at most every LogEvery, and
// only for a pass of at least MinTotal messages; the import logs too, and
// draws one line only when stderr is a terminal. A bar library would
// replace that drawing (draw, clearLine) and leave the rest, with a
// dependency and its own terminal handling added.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Defaults for Reporter.
const (
	DefaultLogEvery  = 10 * time.Second
	DefaultDrawEvery = 250 * time.Millisecond
)

// Reporter reports one job, or a series of jobs one after another (a new
// job starts when Update is called with done = 0 or a different total).
// The zero value with a Logger is usable; it is safe for concurrent use.
type Reporter struct {
	Name   string       // what the job is, e.g. "imap sync"
	Unit   string       // what is counted, e.g. "messages"
	Logger *slog.Logger // nil: no log lines
	// Terminal, when set, gets a status line redrawn in place ("\r"),
	// which Finish ends with a newline. Set it only when it is a terminal
	// (see IsTerminal) that nothing else writes to meanwhile.
	Terminal io.Writer
	// MinTotal is the smallest job reported: a sync of three new
	// messages is no news.
	MinTotal  int
	LogEvery  time.Duration // default DefaultLogEvery
	DrawEvery time.Duration // default DefaultDrawEvery

	// Now is the clock (tests); default time.Now.
	Now func() time.Time

	mu       sync.Mutex
	active   bool
	start    time.Time
	done     int
	total    int
	lastLog  time.Time
	lastDraw time.Time
	drawn    bool
}

// Snapshot is a job's progress at one moment.
type Snapshot struct {
	Done, Total int
	Elapsed     time.Duration
	Rate        float64       // items a second since the job started
	Left        time.Duration // estimate; 0 when there is no rate yet
}

// Percent is how much is done, 0–100.
func (s Snapshot) Percent() float64 {
	if s.Total <= 0 {
		return 100
	}
	return 100 * float64(s.Done) / float64(s.Total)
}

func (r *Reporter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Update records that done of total items are done. A job whose total
// is below MinTotal is not reported. done == total finishes the job.
func (r *Reporter) Update(done, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if !r.active || done == 0 || total != r.total || done < r.done {
		if total < max(r.MinTotal, 1) || done >= total {
			r.active = false
			return
		}
		r.active, r.start, r.total, r.done = true, now, total, 0
		r.lastLog, r.lastDraw = now, time.Time{}
		if r.Logger != nil {
			r.Logger.Info(r.Name+" started", "total", total, "unit", r.Unit)
		}
	}
	r.done = done
	if done >= total {
		r.finish(now)
		return
	}
	snap := r.snapshot(now)
	if r.Terminal != nil && now.Sub(r.lastDraw) >= or(r.DrawEvery, DefaultDrawEvery) {
		r.lastDraw = now
		r.draw(snap)
	}
	if r.Logger != nil && now.Sub(r.lastLog) >= or(r.LogEvery, DefaultLogEvery) {
		r.lastLog = now
		r.clearLine()
		r.Logger.Info(r.Name, "done", snap.Done, "total", snap.Total, "percent", fmt.Sprintf("%.0f", snap.Percent()),
			"rate_per_s", fmt.Sprintf("%.1f", snap.Rate), "left", snap.Left.Round(time.Second).String())
		if r.Terminal != nil {
			r.draw(snap)
		}
	}
}

// Finish ends the current job where it stands (an import that stopped
// early), logging what was done. A finished or unreported job is left
// alone.
func (r *Reporter) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active {
		r.finish(r.now())
	}
}

func (r *Reporter) finish(now time.Time) {
	r.active = false
	snap := r.snapshot(now)
	if r.Terminal != nil {
		r.draw(snap)
		fmt.Fprintln(r.Terminal)
		r.drawn = false
	}
	if r.Logger != nil {
		r.Logger.Info(r.Name+" finished", "done", snap.Done, "total", snap.Total,
			"elapsed", snap.Elapsed.Round(time.Millisecond).String(), "rate_per_s", fmt.Sprintf("%.1f", snap.Rate))
	}
}

func (r *Reporter) snapshot(now time.Time) Snapshot {
	s := Snapshot{Done: r.done, Total: r.total, Elapsed: now.Sub(r.start)}
	if s.Elapsed > 0 {
		s.Rate = float64(s.Done) / s.Elapsed.Seconds()
	}
	if s.Rate > 0 && s.Done < s.Total {
		s.Left = time.Duration(float64(s.Total-s.Done) / s.Rate * float64(time.Second))
	}
	return s
}

// Line is the status line for snap, e.g.
// "import: 2500/10000 comments (25%), 1020/s, 7s left".
func (r *Reporter) Line(snap Snapshot) string {
	s := fmt.Sprintf("%s: %d/%d %s (%.0f%%)", r.Name, snap.Done, snap.Total, r.Unit, snap.Percent())
	if snap.Rate > 0 {
		s += fmt.Sprintf(", %s/s", rate(snap.Rate))
	}
	switch {
	case snap.Done >= snap.Total:
		s += fmt.Sprintf(", took %s", roundDuration(snap.Elapsed))
	case snap.Left > 0:
		s += fmt.Sprintf(", %s left", roundDuration(snap.Left))
	}
	return s
}

func (r *Reporter) draw(snap Snapshot) {
	// \x1b[K clears what a longer earlier line left behind.
	fmt.Fprintf(r.Terminal, "\r%s\x1b[K", r.Line(snap))
	r.drawn = true
}

// clearLine takes the status line away so a log line written to the
// same terminal starts on a clean line.
func (r *Reporter) clearLine() {
	if r.Terminal != nil && r.drawn {
		fmt.Fprint(r.Terminal, "\r\x1b[K")
		r.drawn = false
	}
}

func rate(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// IsTerminal reports whether f is a character device, such as a terminal
// (and not a file, pipe or the journal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
