package queue

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// ReportDays is how many days the daily series of a report covers.
const ReportDays = 30

// reportListMax caps the failures and bounces a report lists one by one.
const reportListMax = 5

// ReportData is what a report says about the period [From, To): what
// arrived and what was decided in it, how long decisions took, what went
// wrong with mail, and how the queue stands when the report is made.
//
// Decisions are those made in the period that still stand: an undone
// decision and the undo itself are not counted, nor are the rejections
// of blocked senders, which no moderator made (they are Blocked).
type ReportData struct {
	From, To  time.Time
	Generated time.Time // the store's clock when the data was read

	Received int // submissions that arrived in the period
	Blocked  int // of them, from blocked senders, rejected unseen

	Approved int // approve and edit decisions
	Edited   int // of Approved, edits
	Rejected int
	Spam     int
	Held     int
	// RejectedByRule counts the rules cited by rejections: a rejection
	// citing rules 3 and 12 counts once for each. Key 0 counts the
	// rejections that cited none.
	RejectedByRule map[int]int

	// Time from submission to final decision (approved, rejected, spam)
	// of the Timed submissions decided in the period; nil when none was.
	Timed       int
	Median, P95 *time.Duration

	Moderators []ModeratorDecisions // by address

	Pending, HeldNow int            // submissions waiting now
	Oldest           *OldestPending // the oldest pending one; nil when none

	// Outgoing mail given up on in the period (the time of its last
	// attempt is in the period), the latest few of them, newest first.
	OutboxFailed int
	Failures     []ReportFailure
	// Outgoing mail left in doubt in the period: handed to the server
	// when modbot stopped, before its answer, and sent again.
	InDoubt int
	// Addresses marked as bouncing in the period, the latest few first.
	Bounced int
	Bounces []ReportBounce
	// Inbound messages quarantined in the period.
	Quarantined int
	// Automatic notices withheld in the period by the cap per address,
	// and by the cap on all notices together (a flood of forged
	// senders: max_notices_total_per_hour).
	WithheldAddress, WithheldTotal int

	// Days are the ReportDays days up to the end of the period, oldest
	// first.
	Days []DayStats
}

// ModeratorDecisions counts one moderator's decisions in a period.
type ModeratorDecisions struct {
	Moderator                             string
	Total, Approved, Rejected, Spam, Held int
}

// OldestPending is the pending submission that has waited longest.
type OldestPending struct {
	ID                  int64
	Since               time.Time
	Age                 time.Duration // at Generated
	PostSlug, PostTitle string        // PostTitle "" for an unknown post
}

// ReportFailure is an outgoing message given up on.
type ReportFailure struct {
	At              time.Time // its last attempt
	To, Kind, Error string
}

// ReportBounce is an address marked as bouncing.
type ReportBounce struct {
	At           time.Time
	Addr, Reason string
}

// DayStats is one day of a report's series.
type DayStats struct {
	Date        time.Time // midnight UTC
	Submissions int       // that arrived that day
	// Median time to final decision of the submissions decided that
	// day; nil when none was.
	Median *time.Duration
}

// ReportData reads the numbers of a report on [from, to).
func (s *Store) ReportData(ctx context.Context, from, to time.Time) (*ReportData, error) {
	var d *ReportData
	// One read transaction, so the numbers agree with each other.
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		d, err = s.reportData(ctx, tx, from, to)
		return err
	})
	return d, err
}

func (s *Store) reportData(ctx context.Context, q sqlx.QueryerContext, from, to time.Time) (*ReportData, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, fmt.Errorf("report: empty period %s to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	d := &ReportData{From: from, To: to, Generated: s.now(), RejectedByRule: map[int]int{}}
	wrap := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("report: %s: %w", what, err)
		}
		return nil
	}

	err := sqlx.GetContext(ctx, q, &d.Received, `SELECT COUNT(*) FROM submissions WHERE created_at >= ? AND created_at < ?`, from, to)
	if err := wrap("received", err); err != nil {
		return nil, err
	}
	err = sqlx.GetContext(ctx, q, &d.Blocked, `SELECT COUNT(*) FROM inbound WHERE outcome = ? AND received_at >= ? AND received_at < ?`,
		OutcomeBlocked, from, to)
	if err := wrap("blocked", err); err != nil {
		return nil, err
	}
	if err := d.readDecisions(ctx, q); err != nil {
		return nil, err
	}

	waits, err := decisionTimes(ctx, q, from, to)
	if err := wrap("decision times", err); err != nil {
		return nil, err
	}
	d.Timed = len(waits)
	d.Median, d.P95 = percentile(waits, 50), percentile(waits, 95)

	err = sqlx.GetContext(ctx, q, &d.Pending, `SELECT COUNT(*) FROM submissions WHERE state = 'pending'`)
	if err := wrap("pending", err); err != nil {
		return nil, err
	}
	err = sqlx.GetContext(ctx, q, &d.HeldNow, `SELECT COUNT(*) FROM submissions WHERE state = 'held'`)
	if err := wrap("held", err); err != nil {
		return nil, err
	}
	var oldest []struct {
		ID        int64     `db:"id"`
		CreatedAt time.Time `db:"created_at"`
		PostSlug  string    `db:"post_slug"`
		Title     *string   `db:"title"`
	}
	err = sqlx.SelectContext(ctx, q, &oldest, `SELECT s.id, s.created_at, s.post_slug, p.title FROM submissions s
		LEFT JOIN posts p ON p.slug = s.post_slug
		WHERE s.state = 'pending' ORDER BY s.created_at, s.id LIMIT 1`)
	if err := wrap("oldest pending", err); err != nil {
		return nil, err
	}
	if len(oldest) > 0 {
		o := oldest[0]
		d.Oldest = &OldestPending{ID: o.ID, Since: o.CreatedAt.UTC(), Age: max(d.Generated.Sub(o.CreatedAt), 0), PostSlug: o.PostSlug}
		if o.Title != nil {
			d.Oldest.PostTitle = *o.Title
		}
	}

	// A failed message keeps the time its last attempt was due: the
	// outbox records no other time of failing.
	err = sqlx.GetContext(ctx, q, &d.OutboxFailed, `SELECT COUNT(*) FROM outbox
		WHERE state = 'failed' AND next_attempt_at >= ? AND next_attempt_at < ?`, from, to)
	if err := wrap("outbox failures", err); err != nil {
		return nil, err
	}
	err = sqlx.GetContext(ctx, q, &d.InDoubt, `SELECT COUNT(*) FROM outbox WHERE in_doubt_at >= ? AND in_doubt_at < ?`, from, to)
	if err := wrap("outbox in doubt", err); err != nil {
		return nil, err
	}
	var failures []struct {
		At    time.Time `db:"next_attempt_at"`
		To    string    `db:"rcpt_to"`
		Kind  string    `db:"kind"`
		Error string    `db:"last_error"`
	}
	err = sqlx.SelectContext(ctx, q, &failures, `SELECT next_attempt_at, rcpt_to, kind, last_error FROM outbox
		WHERE state = 'failed' AND next_attempt_at >= ? AND next_attempt_at < ?
		ORDER BY next_attempt_at DESC, id DESC LIMIT ?`, from, to, reportListMax)
	if err := wrap("outbox failures", err); err != nil {
		return nil, err
	}
	for _, f := range failures {
		d.Failures = append(d.Failures, ReportFailure{At: f.At.UTC(), To: f.To, Kind: f.Kind, Error: f.Error})
	}

	err = sqlx.GetContext(ctx, q, &d.Bounced, `SELECT COUNT(*) FROM recipients WHERE bounced_at >= ? AND bounced_at < ?`, from, to)
	if err := wrap("bounces", err); err != nil {
		return nil, err
	}
	var bounces []struct {
		At     time.Time `db:"bounced_at"`
		Addr   string    `db:"email"`
		Reason string    `db:"bounce_reason"`
	}
	err = sqlx.SelectContext(ctx, q, &bounces, `SELECT bounced_at, email, bounce_reason FROM recipients
		WHERE bounced_at >= ? AND bounced_at < ? ORDER BY bounced_at DESC, email LIMIT ?`, from, to, reportListMax)
	if err := wrap("bounces", err); err != nil {
		return nil, err
	}
	for _, b := range bounces {
		d.Bounces = append(d.Bounces, ReportBounce{At: b.At.UTC(), Addr: b.Addr, Reason: b.Reason})
	}

	err = sqlx.GetContext(ctx, q, &d.Quarantined, `SELECT COUNT(*) FROM inbound WHERE outcome = ? AND received_at >= ? AND received_at < ?`,
		OutcomeQuarantined, from, to)
	if err := wrap("quarantined", err); err != nil {
		return nil, err
	}
	err = sqlx.GetContext(ctx, q, &d.WithheldAddress, `SELECT COUNT(*) FROM notices_withheld WHERE reason = ? AND created_at >= ? AND created_at < ?`,
		withheldAddress, from, to)
	if err := wrap("withheld notices", err); err != nil {
		return nil, err
	}
	err = sqlx.GetContext(ctx, q, &d.WithheldTotal, `SELECT COUNT(*) FROM notices_withheld WHERE reason = ? AND created_at >= ? AND created_at < ?`,
		withheldTotal, from, to)
	if err := wrap("withheld notices", err); err != nil {
		return nil, err
	}
	if d.Days, err = dailySeries(ctx, q, to); err != nil {
		return nil, wrap("daily series", err)
	}
	return d, nil
}

// readDecisions counts the period's decisions by action, rule and
// moderator.
func (d *ReportData) readDecisions(ctx context.Context, q sqlx.QueryerContext) error {
	var rows []struct {
		Moderator string `db:"moderator"`
		Action    string `db:"action"`
		Rules     string `db:"rules"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT d.moderator, d.action, d.rules FROM decisions d
		JOIN submissions s ON s.id = d.submission_id
		JOIN inbound i ON i.id = s.inbound_id
		WHERE d.created_at >= ? AND d.created_at < ? AND d.undone_at IS NULL AND d.action <> ? AND i.outcome <> ?
		ORDER BY d.id`, d.From, d.To, ActionUndo, OutcomeBlocked)
	if err != nil {
		return fmt.Errorf("report: decisions: %w", err)
	}
	mods := map[string]*ModeratorDecisions{}
	for _, r := range rows {
		m := mods[strings.ToLower(r.Moderator)]
		if m == nil {
			m = &ModeratorDecisions{Moderator: r.Moderator}
			mods[strings.ToLower(r.Moderator)] = m
		}
		m.Total++
		switch r.Action {
		case ActionApprove, ActionEdit:
			d.Approved++
			m.Approved++
			if r.Action == ActionEdit {
				d.Edited++
			}
		case ActionReject:
			d.Rejected++
			m.Rejected++
			cited := 0
			for _, f := range strings.Split(r.Rules, ",") {
				if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
					d.RejectedByRule[n]++
					cited++
				}
			}
			if cited == 0 {
				d.RejectedByRule[0]++
			}
		case ActionSpam:
			d.Spam++
			m.Spam++
		case ActionHold:
			d.Held++
			m.Held++
		}
	}
	for _, m := range mods {
		d.Moderators = append(d.Moderators, *m)
	}
	slices.SortFunc(d.Moderators, func(a, b ModeratorDecisions) int {
		return strings.Compare(strings.ToLower(a.Moderator), strings.ToLower(b.Moderator))
	})
	return nil
}

// decided is a submission's arrival and final decision.
type decided struct {
	CreatedAt time.Time `db:"created_at"`
	DecidedAt time.Time `db:"decided_at"`
}

func (x decided) wait() time.Duration { return max(x.DecidedAt.Sub(x.CreatedAt), 0) }

// decisionTimes returns, for each submission finally decided in [from,
// to), the time from its arrival to the decision, shortest first. A held
// submission is not decided yet; a blocked sender's has no decided_at.
func decisionTimes(ctx context.Context, q sqlx.QueryerContext, from, to time.Time) ([]time.Duration, error) {
	rows, err := decidedIn(ctx, q, from, to)
	if err != nil {
		return nil, err
	}
	waits := make([]time.Duration, len(rows))
	for i, r := range rows {
		waits[i] = r.wait()
	}
	slices.Sort(waits)
	return waits, nil
}

func decidedIn(ctx context.Context, q sqlx.QueryerContext, from, to time.Time) ([]decided, error) {
	var rows []decided
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT created_at, decided_at FROM submissions
		WHERE decided_at >= ? AND decided_at < ? AND state IN ('approved', 'rejected', 'spam')`, from, to)
	return rows, err
}

// percentile is the p-th percentile of sorted by nearest rank, with the
// median of an even count the mean of the middle two; nil for none.
func percentile(sorted []time.Duration, p int) *time.Duration {
	n := len(sorted)
	if n == 0 {
		return nil
	}
	var v time.Duration
	if p == 50 {
		v = sorted[(n-1)/2]
		if n%2 == 0 {
			v = (sorted[n/2-1] + sorted[n/2]) / 2
		}
	} else {
		rank := int(math.Ceil(float64(p) / 100 * float64(n)))
		v = sorted[min(max(rank, 1), n)-1]
	}
	return &v
}

// dailySeries counts arrivals and the median decision time of each of
// the ReportDays days before the day that end falls in, or up to end
// when it is midnight.
func dailySeries(ctx context.Context, q sqlx.QueryerContext, end time.Time) ([]DayStats, error) {
	last := end.Add(-time.Nanosecond).Truncate(24 * time.Hour) // midnight UTC of the last day
	first := last.AddDate(0, 0, -(ReportDays - 1))
	stop := last.AddDate(0, 0, 1)
	days := make([]DayStats, ReportDays)
	for i := range days {
		days[i].Date = first.AddDate(0, 0, i)
	}
	index := func(t time.Time) int { return int(t.UTC().Sub(first) / (24 * time.Hour)) }

	var arrived []time.Time
	if err := sqlx.SelectContext(ctx, q, &arrived, `SELECT created_at FROM submissions WHERE created_at >= ? AND created_at < ?`,
		first, stop); err != nil {
		return nil, err
	}
	for _, t := range arrived {
		if i := index(t); i >= 0 && i < ReportDays {
			days[i].Submissions++
		}
	}
	rows, err := decidedIn(ctx, q, first, stop)
	if err != nil {
		return nil, err
	}
	waits := make([][]time.Duration, ReportDays)
	for _, r := range rows {
		if i := index(r.DecidedAt); i >= 0 && i < ReportDays {
			waits[i] = append(waits[i], r.wait())
		}
	}
	for i, w := range waits {
		slices.Sort(w)
		days[i].Median = percentile(w, 50)
	}
	return days, nil
}
