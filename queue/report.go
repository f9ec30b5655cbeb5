package queue

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/internal/chart"
	"modbot/mail"
	"modbot/queue/precheck"
	"modbot/templates"
)

// The kinds of report.
const (
	ReportDaily  = "daily"  // the previous day
	ReportWeekly = "weekly" // the previous week, Monday to Sunday, sent on Mondays
)

const oneDay = 24 * time.Hour

// Reporter mails the admins a daily and a weekly report on moderation.
// Each report is written to the outbox once for each period: the reports
// table remembers it in the same transaction, so a restart never sends
// one twice. Periods are calendar days and weeks in UTC.
type Reporter struct {
	Store     *Store
	Templates *templates.Set
	Site      Site
	Admins    []string
	// Daily and Weekly choose the reports.
	Daily, Weekly bool
	// At is the time of day, after midnight UTC, from which the report
	// on the day (or week) before is due.
	At time.Duration
	// Rules name the rules in the rejections by rule; may be nil.
	Rules map[int]precheck.Rule
	// Queued is called after reports were written to the outbox.
	Queued func()
	Logger *slog.Logger
}

// ParseTimeOfDay reads a time of day written "HH:MM" (24-hour clock)
// as the time since midnight.
func ParseTimeOfDay(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("time of day %q: want HH:MM, e.g. 06:00", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func (r *Reporter) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

func (r *Reporter) kinds() []string {
	var k []string
	if r.Daily {
		k = append(k, ReportDaily)
	}
	if r.Weekly {
		k = append(k, ReportWeekly)
	}
	return k
}

// Run sends the reports as they fall due until ctx ends. With no admins
// or no report chosen it returns at once.
func (r *Reporter) Run(ctx context.Context) error {
	if len(r.Admins) == 0 || len(r.kinds()) == 0 {
		r.logger().Info("no reports: no admins or none chosen")
		return nil
	}
	for {
		wait := time.Hour
		if _, err := r.SendDue(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.logger().Error("report", "err", err)
			wait = 5 * time.Minute
		}
		// Wake at the next due time, and at least hourly, so that a
		// clock set forward or a suspended machine is noticed.
		now := r.Store.now()
		wait = min(wait, max(r.nextDue(now).Sub(now), time.Second))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// SendDue writes the reports that are due now and not written yet, and
// returns how many it wrote.
func (r *Reporter) SendDue(ctx context.Context) (int, error) {
	n := 0
	now := r.Store.now()
	for _, kind := range r.kinds() {
		from, to := duePeriod(kind, now, r.At)
		sent, err := r.send(ctx, kind, from, to)
		if err != nil {
			return n, err
		}
		if sent {
			n++
		}
	}
	if n > 0 && r.Queued != nil {
		r.Queued()
	}
	return n, nil
}

// duePeriod is the latest period of kind whose report is due at now:
// yesterday's from At on, and last week's from Monday at At on.
func duePeriod(kind string, now time.Time, at time.Duration) (from, to time.Time) {
	today := now.UTC().Truncate(oneDay)
	if kind == ReportDaily {
		if now.Before(today.Add(at)) {
			today = today.Add(-oneDay)
		}
		return today.Add(-oneDay), today
	}
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	if now.Before(monday.Add(at)) {
		monday = monday.AddDate(0, 0, -7)
	}
	return monday.AddDate(0, 0, -7), monday
}

// nextDue is the first time after now at which a report falls due.
func (r *Reporter) nextDue(now time.Time) time.Time {
	var next time.Time
	for _, kind := range r.kinds() {
		_, to := duePeriod(kind, now, r.At)
		step := oneDay
		if kind == ReportWeekly {
			step = 7 * oneDay
		}
		t := to.Add(step).Add(r.At)
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// send writes the report of kind on [from, to) for every admin, unless
// that report was written before; it says whether it wrote it.
func (r *Reporter) send(ctx context.Context, kind string, from, to time.Time) (sent bool, err error) {
	from, to = from.UTC(), to.UTC()
	err = r.Store.tx(ctx, func(tx *sqlx.Tx) error {
		now := r.Store.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO reports (kind, period_start, period_end, sent_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, period_start) DO NOTHING`, kind, from, to, now)
		if err != nil {
			return fmt.Errorf("record %s report: %w", kind, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // sent before
		}
		data, err := r.Store.reportData(ctx, tx, from, to)
		if err != nil {
			return err
		}
		view := r.view(kind, data)
		var inline []mail.InlinePart
		if png, sc, err := r.reportChart(data.Days); err != nil {
			r.logger().Warn("report chart", "err", err) // the numbers go out without it
		} else {
			view.Chart = &templates.ReportChart{
				CID:   fmt.Sprintf("chart.%s.%s@%s", kind, from.Format("20060102"), r.Site.domain()),
				Width: chart.DefaultWidth, Height: chart.DefaultHeight, Gridlines: sc.Gridlines,
				BarStep: int(sc.BarStep), LineStep: templates.KnownElapsed(time.Duration(sc.LineStep * float64(time.Hour))),
			}
			inline = []mail.InlinePart{{ContentID: view.Chart.CID, ContentType: "image/png", Filename: "chart-" + kind + ".png", Data: png}}
		}
		var ids []string
		for _, admin := range r.Admins {
			id, err := r.sendOne(ctx, tx, admin, *view, inline, now)
			if err != nil {
				return fmt.Errorf("%s report to %s: %w", kind, admin, err)
			}
			ids = append(ids, id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reports SET message_id = ? WHERE kind = ? AND period_start = ?`,
			strings.Join(ids, " "), kind, from); err != nil {
			return fmt.Errorf("record %s report: %w", kind, err)
		}
		r.logger().Info("report queued", "kind", kind, "from", from.Format(time.DateOnly), "to", to.Format(time.DateOnly),
			"admins", len(r.Admins), "received", data.Received, "pending", data.Pending)
		sent = true
		return nil
	})
	return sent, err
}

// sendOne writes one admin's copy, with its own Reply-To token: a row in
// digests, without items, that authenticates the admin's reply as a
// digest's does a moderator's.
func (r *Reporter) sendOne(ctx context.Context, tx *sqlx.Tx, admin string, view templates.Report, inline []mail.InlinePart, now time.Time) (string, error) {
	token, err := newToken()
	if err != nil {
		return "", err
	}
	msgID := mail.NewMessageID("report", r.Site.domain())
	if _, err := tx.ExecContext(ctx, `INSERT INTO digests (token, moderator, message_id, created_at, kind) VALUES (?, ?, ?, ?, 'report')`,
		token, admin, msgID, now); err != nil {
		return "", fmt.Errorf("insert token: %w", err)
	}
	view.Admin, view.ReplyAddress = admin, r.Site.plus("d-"+token)
	out, err := r.Templates.Report(&view)
	if err != nil {
		return "", fmt.Errorf("render: %w", err)
	}
	m := &mail.Outgoing{
		From:      r.Site.moderation(r.Site.Address),
		To:        []mail.Address{{Addr: admin}},
		ReplyTo:   []mail.Address{r.Site.moderation(view.ReplyAddress)},
		Subject:   out.Subject,
		MessageID: msgID,
		Date:      now,
		Headers:   map[string]string{"X-Modbot-Report": view.Kind},
		Text:      out.Text,
		HTML:      out.HTML,
		Inline:    inline,
	}
	raw, err := m.Bytes()
	if err != nil {
		return "", fmt.Errorf("compose: %w", err)
	}
	if err := r.Store.enqueue(ctx, tx, outMessage{Kind: "report", MessageID: msgID, From: r.Site.Address, To: admin, Raw: raw}); err != nil {
		return "", err
	}
	return msgID, nil
}

// view is the report as the templates show it, before it is addressed.
func (r *Reporter) view(kind string, d *ReportData) *templates.Report {
	elapsed := func(p *time.Duration) templates.Elapsed {
		if p == nil {
			return templates.Elapsed{}
		}
		return templates.KnownElapsed(*p)
	}
	v := &templates.Report{
		SiteName: r.Site.Name, BaseURL: r.Site.BaseURL, Kind: kind,
		From: d.From, To: d.To, Generated: d.Generated,
		Received: d.Received, Blocked: d.Blocked, Approved: d.Approved, Edited: d.Edited, Rejected: d.Rejected, Spam: d.Spam, Held: d.Held,
		Timed: d.Timed, Median: elapsed(d.Median), P95: elapsed(d.P95),
		Pending: d.Pending, HeldNow: d.HeldNow,
		OutboxFailed: d.OutboxFailed, InDoubt: d.InDoubt, Bounced: d.Bounced, Quarantined: d.Quarantined,
		WithheldAddress: d.WithheldAddress, WithheldTotal: d.WithheldTotal,
	}
	rules := make([]int, 0, len(d.RejectedByRule))
	for n := range d.RejectedByRule {
		rules = append(rules, n)
	}
	// In rule order, with "no rule cited" last.
	slices.SortFunc(rules, func(a, b int) int {
		if (a == 0) != (b == 0) {
			if a == 0 {
				return 1
			}
			return -1
		}
		return a - b
	})
	for _, n := range rules {
		v.ByRule = append(v.ByRule, templates.RuleCount{Rule: n, Title: r.Rules[n].Title, Count: d.RejectedByRule[n]})
	}
	for _, m := range d.Moderators {
		v.Moderators = append(v.Moderators, templates.ModeratorCount{Moderator: m.Moderator, Total: m.Total,
			Approved: m.Approved, Rejected: m.Rejected, Spam: m.Spam, Held: m.Held})
	}
	if o := d.Oldest; o != nil {
		v.Oldest = &templates.WaitingItem{ID: o.ID, Since: o.Since, Waiting: templates.KnownElapsed(o.Age),
			PostSlug: o.PostSlug, PostTitle: o.PostTitle}
	}
	for _, f := range d.Failures {
		v.Failures = append(v.Failures, templates.OutboxFailure{At: f.At, To: f.To, Kind: f.Kind, Error: f.Error})
	}
	for _, b := range d.Bounces {
		v.Bounces = append(v.Bounces, templates.Bounce{At: b.At, Addr: b.Addr, Reason: b.Reason})
	}
	for _, ds := range d.Days {
		v.Days = append(v.Days, templates.Day{Date: ds.Date, Submissions: ds.Submissions, Median: elapsed(ds.Median)})
	}
	return v
}

// reportChart draws the daily series: arrivals as bars, the median
// time to decision in hours as a line.
func (r *Reporter) reportChart(days []DayStats) ([]byte, chart.Scale, error) {
	c := chart.Chart{BarStepMin: 1}
	var err error
	if c.BarTitle, c.LineTitle, err = r.Templates.ReportChartTitles(); err != nil {
		return nil, chart.Scale{}, err
	}
	if len(days) > 0 {
		c.Start = days[0].Date
	}
	for _, d := range days {
		c.Bars = append(c.Bars, float64(d.Submissions))
		h := math.NaN()
		if d.Median != nil {
			h = d.Median.Hours()
		}
		c.Line = append(c.Line, h)
	}
	return c.PNG()
}
