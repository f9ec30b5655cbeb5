package templates

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"time"
)

// Report is an admin's daily or weekly report on how moderation went in
// a period, with the state of the queue when it was made. The text and
// HTML parts show the same numbers; the HTML part adds a chart.
type Report struct {
	SiteName, BaseURL string
	Kind              string    // "daily" or "weekly"
	From, To          time.Time // the period: from From up to, not including, To
	Generated         time.Time
	Admin             string // the recipient's address
	// ReplyAddress is where the admin's reply goes
	// (moderator+d-<token>@domain): admin commands are read from it.
	ReplyAddress string

	// Submissions received in the period, and the decisions made in it
	// that still stand (an undone decision is not counted).
	Received int
	Blocked  int // of Received, from blocked senders: rejected unseen, not counted below
	Approved int // published, with or without an edit
	Edited   int // of Approved, published as a moderator edited them
	Rejected int
	Spam     int
	Held     int
	ByRule   []RuleCount // rejections by cited rule, rule order; Rule 0 last

	// Time from submission to decision, over the Timed submissions
	// decided in the period.
	Timed       int
	Median, P95 Elapsed

	Moderators []ModeratorCount // by address

	// The queue when the report was made.
	Pending, HeldNow int
	Oldest           *WaitingItem // nil when nothing waits

	OutboxFailed int             // mail given up on in the period
	InDoubt      int             // mail sent again after a stop left it in doubt: it may have arrived twice
	Failures     []OutboxFailure // the latest few, newest first
	Bounced      int             // addresses marked as bouncing in the period
	Bounces      []Bounce        // the latest few, newest first
	Quarantined  int             // inbound messages quarantined in the period
	// Automatic notices not sent in the period: over the cap for one
	// address, and over the cap on all notices together.
	WithheldAddress, WithheldTotal int

	Days  []Day        // the daily series the chart shows, oldest first
	Chart *ReportChart // nil: the mail has no chart image
}

// RuleCount is how many rejections cited one rule.
type RuleCount struct {
	Rule  int    // 0: rejections that cited no rule
	Title string // the rule's title, "" when unknown
	Count int
}

// Label names the rule: "rule 3: Swear words …", "rule 12", or "no rule
// cited".
func (r RuleCount) Label() string {
	switch {
	case r.Rule == 0:
		return "no rule cited"
	case r.Title == "":
		return fmt.Sprintf("rule %d", r.Rule)
	}
	return fmt.Sprintf("rule %d: %s", r.Rule, oneline(r.Title))
}

// ModeratorCount is one moderator's decisions in the period.
type ModeratorCount struct {
	Moderator                             string
	Total, Approved, Rejected, Spam, Held int
}

// WaitingItem is the submission that has waited longest for a decision.
type WaitingItem struct {
	ID                  int64
	Since               time.Time
	Waiting             Elapsed
	PostSlug, PostTitle string
}

// Post names the item's post by title, else by slug.
func (w *WaitingItem) Post() string {
	if w.PostTitle != "" {
		return oneline(w.PostTitle)
	}
	if w.PostSlug != "" {
		return fmt.Sprintf("unknown post %q", oneline(w.PostSlug))
	}
	return "no post named"
}

// OutboxFailure is outgoing mail that was given up on.
type OutboxFailure struct {
	At              time.Time
	To, Kind, Error string
}

// Bounce is an address whose mail bounced or was refused.
type Bounce struct {
	At           time.Time
	Addr, Reason string
}

// Day is one day of the daily series.
type Day struct {
	Date        time.Time // midnight UTC
	Submissions int
	Median      Elapsed // median time to decision of the day's decisions
}

// ReportChart is the chart image of the HTML part, attached inline.
type ReportChart struct {
	CID           string // the image part's Content-ID
	Width, Height int
	Gridlines     int
	// What one gridline stands for: submissions on the bars' scale, time
	// to decision on the line's.
	BarStep  int
	LineStep Elapsed
}

// Src is the image's cid: URL (RFC 2392), marked safe for html/template,
// which would otherwise refuse the scheme.
func (c *ReportChart) Src() htmltemplate.URL {
	return htmltemplate.URL("cid:" + url.PathEscape(c.CID))
}

// Elapsed is a length of time that may be unknown ("n/a"), such as the
// median time to decision of a day without decisions.
type Elapsed struct {
	D     time.Duration
	Known bool
}

// KnownElapsed is a length of time that is known.
func KnownElapsed(d time.Duration) Elapsed { return Elapsed{D: d, Known: true} }

// String says the time the same way in both parts: "n/a", "<1m", "42m",
// "3h 05m", "2d 04h".
func (e Elapsed) String() string {
	d := e.D
	switch {
	case !e.Known:
		return "n/a"
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd %02dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// Daily reports whether the report covers one day.
func (r *Report) Daily() bool { return r.Kind == "daily" }

// LastDay is the last day the period covers.
func (r *Report) LastDay() time.Time { return r.To.Add(-time.Nanosecond) }

// Report renders the report r.
func (s *Set) Report(r *Report) (*Rendered, error) {
	if r == nil {
		return nil, errors.New("templates: nil report")
	}
	return s.render("report", r)
}

// ReportChartTitles are the titles the report's chart shows above its
// two series: the submissions a day (bars) and the median time to
// decision (line).
func (s *Set) ReportChartTitles() (bars, line string, err error) {
	if bars, err = s.execOneline("report_chart_bars.tmpl", nil); err != nil {
		return "", "", err
	}
	if line, err = s.execOneline("report_chart_line.tmpl", nil); err != nil {
		return "", "", err
	}
	return bars, line, nil
}
