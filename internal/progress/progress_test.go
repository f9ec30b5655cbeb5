package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// clock is a test clock that moves only when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func lines(b *bytes.Buffer) []string     { return strings.Split(strings.TrimSpace(b.String()), "\n") }
func textLogger(b *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
}

func TestReporterLogsRateAndTimeLeft(t *testing.T) {
	c := newClock()
	var log bytes.Buffer
	r := &Reporter{Name: "imap sync", Unit: "messages", Logger: textLogger(&log), MinTotal: 100, Now: c.now}
	r.Update(0, 1000)
	for done := 1; done <= 1000; done++ {
		c.advance(20 * time.Millisecond) // 50 a second: 20 s in all
		r.Update(done, 1000)
	}
	want := []string{
		`level=INFO msg="imap sync started" total=1000 unit=messages`,
		`level=INFO msg="imap sync" done=500 total=1000 percent=50 rate_per_s=50.0 left=10s`,
		`level=INFO msg="imap sync finished" done=1000 total=1000 elapsed=20s rate_per_s=50.0`,
	}
	if got := lines(&log); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", log.String(), strings.Join(want, "\n"))
	}
}

func TestReporterMidwayLine(t *testing.T) {
	c := newClock()
	var log bytes.Buffer
	r := &Reporter{Name: "import", Unit: "comments", Logger: textLogger(&log), Now: c.now, LogEvery: time.Second}
	r.Update(0, 400)
	c.advance(time.Second)
	r.Update(100, 400) // 100/s, 300 left: 3 s
	got := lines(&log)
	if want := `level=INFO msg=import done=100 total=400 percent=25 rate_per_s=100.0 left=3s`; len(got) != 2 || got[1] != want {
		t.Errorf("log:\n%s\nwant line %s", log.String(), want)
	}
}

func TestReporterTerminalLine(t *testing.T) {
	c := newClock()
	var term bytes.Buffer
	r := &Reporter{Name: "import", Unit: "comments", Terminal: &term, Now: c.now}
	r.Update(0, 10)
	c.advance(2 * time.Second)
	r.Update(5, 10)
	c.advance(2 * time.Second)
	r.Update(10, 10)
	want := "\rimport: 0/10 comments (0%)\x1b[K" +
		"\rimport: 5/10 comments (50%), 2.5/s, 2s left\x1b[K" +
		"\rimport: 10/10 comments (100%), 2.5/s, took 4s\x1b[K\n"
	if term.String() != want {
		t.Errorf("terminal got %q\nwant %q", term.String(), want)
	}
}

// Small jobs, such as a sync of a few new messages, say nothing.
func TestReporterQuietBelowMinTotal(t *testing.T) {
	var log, term bytes.Buffer
	r := &Reporter{Name: "imap sync", Logger: textLogger(&log), Terminal: &term, MinTotal: 100}
	r.Update(0, 3)
	r.Update(1, 3)
	r.Update(3, 3)
	r.Update(0, 0)
	r.Finish()
	if log.Len() != 0 || term.Len() != 0 {
		t.Errorf("log %q terminal %q", log.String(), term.String())
	}
}

// A job that restarts (a sync cut by a lost connection, then the rest)
// is reported as a new job.
func TestReporterRestart(t *testing.T) {
	c := newClock()
	var log bytes.Buffer
	r := &Reporter{Name: "imap sync", Unit: "messages", Logger: textLogger(&log), Now: c.now}
	r.Update(0, 500)
	r.Update(200, 500)
	r.Update(0, 300)
	c.advance(time.Second)
	r.Update(300, 300)
	got := lines(&log)
	if len(got) != 3 || !strings.Contains(got[1], "total=300") || !strings.Contains(got[2], `finished" done=300 total=300`) {
		t.Errorf("log:\n%s", log.String())
	}
}
