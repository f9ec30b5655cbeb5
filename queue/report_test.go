package queue

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"golang.org/x/net/html"

	"modbot/internal/chart"
	"modbot/mail"
	"modbot/queue/precheck"
	"modbot/templates"
)

// reportDay is the day the seeded store's daily report covers, and
// reportNow when it is made.
var (
	reportDay = time.Date(2025, 3, 6, 0, 0, 0, 0, time.UTC) // a Thursday
	reportNow = time.Date(2025, 3, 7, 6, 30, 0, 0, time.UTC)
)

// seed writes rows into a store directly, with fixed times.
type seed struct {
	t   *testing.T
	s   *Store
	uid int
}

func at(day, hour, minute int) time.Time {
	return time.Date(2025, 3, day, hour, minute, 0, 0, time.UTC)
}

func (sd *seed) exec(q string, args ...any) int64 {
	sd.t.Helper()
	res, err := sd.s.pool.Exec(q, args...)
	if err != nil {
		sd.t.Fatalf("%s: %v", q, err)
	}
	id, _ := res.LastInsertId()
	return id
}

func (sd *seed) inbound(outcome string, received time.Time) int64 {
	sd.uid++
	return sd.exec(`INSERT INTO inbound (mailbox, uid_validity, uid, hash, size, kind, outcome, folder, received_at)
		VALUES ('INBOX', 1, ?, ?, 100, 'submission', ?, 'Modbot/Submissions', ?)`, sd.uid, fmt.Sprint(sd.uid), outcome, received)
}

// submission adds a submission that arrived at created and is in state,
// decided at decided unless that is zero.
func (sd *seed) submission(state string, created, decided time.Time) int64 {
	outcome := OutcomeQueued
	if state == "blocked" {
		state, outcome = "rejected", OutcomeBlocked
	}
	in := sd.inbound(outcome, created)
	var dec *time.Time
	if !decided.IsZero() {
		dec = &decided
	}
	return sd.exec(`INSERT INTO submissions (inbound_id, post_slug, post_known, author_name, author_email, body, state, created_at, decided_at)
		VALUES (?, 'uk-meta-encryption', TRUE, 'Reader', 'reader@people.example', 'text', ?, ?, ?)`, in, state, created, dec)
}

func (sd *seed) decision(sub int64, moderator, action, rules string, when time.Time) int64 {
	return sd.exec(`INSERT INTO decisions (submission_id, moderator, action, from_state, to_state, rules, created_at)
		VALUES (?, ?, ?, 'pending', ?, ?, ?)`, sub, moderator, action, actionState[action], rules, when)
}

// decided adds a submission that arrived at created and was decided by
// moderator at decided.
func (sd *seed) decided(created time.Time, moderator, action, rules string, decided time.Time) int64 {
	state := actionState[action]
	id := sd.submission(state, created, decided)
	sd.decision(id, moderator, action, rules, decided)
	return id
}

func (sd *seed) outbox(kind, to, state, lastErr string, attempt time.Time) {
	sd.uid++
	sd.exec(`INSERT INTO outbox (message_id, kind, mail_from, rcpt_to, raw, state, attempts, not_before, next_attempt_at, last_error, created_at)
		VALUES (?, ?, 'moderator@forum.example', ?, 'x', ?, 1, ?, ?, ?, ?)`,
		fmt.Sprintf("seed.%d@forum.example", sd.uid), kind, to, state, attempt.Add(-time.Hour), attempt, lastErr, attempt.Add(-time.Hour))
}

func (sd *seed) bounce(addr, reason string, when *time.Time) {
	sd.uid++
	sd.exec(`INSERT INTO recipients (email, token, bounced_at, bounce_reason) VALUES (?, ?, ?, ?)`, addr, fmt.Sprint("tok", sd.uid), when, reason)
}

// seededStore holds a day with known numbers, and its edges: rows a
// nanosecond inside and exactly at the end of the period.
func seededStore(t *testing.T) (*Store, map[string]int64) {
	s := openTestStore(t)
	s.SetClock(func() time.Time { return reportNow })
	if err := s.SyncPosts(context.Background(), []Post{{Slug: "uk-meta-encryption", Title: "UK accuses Meta of empowering abusers"}}); err != nil {
		t.Fatal(err)
	}
	sd := &seed{t: t, s: s}
	ids := map[string]int64{}
	const alice, bob = "alice@mods.example", "bob@mods.example"

	// Decided in the period: 5m, 20m, 30m, 45m, 1h, 2h, 2h, 2h, 4h,
	// 10h, 12h: the median is 2h, the 95th percentile 12h.
	ids["oldest decided"] = sd.decided(reportDay, alice, ActionApprove, "", at(6, 0, 45)) // 45m, arrived at the very start
	sd.decided(at(6, 1, 0), alice, ActionApprove, "", at(6, 3, 0))                        // 2h
	sd.decided(at(6, 2, 0), alice, ActionReject, "3,12", at(6, 6, 0))                     // 4h
	sd.decided(at(6, 4, 0), bob, ActionReject, "3", at(6, 5, 0))                          // 1h
	sd.decided(at(6, 5, 0), bob, ActionEdit, "", at(6, 15, 0))                            // 10h
	sd.decided(at(5, 20, 0), alice, ActionSpam, "", at(6, 8, 0))                          // 12h, arrived the day before
	sd.decided(at(6, 9, 0), bob, ActionReject, "", at(6, 9, 30))                          // 30m, no rule cited
	sd.decided(at(6, 7, 0), alice, ActionApprove, "", at(6, 7, 20))                       // 20m
	sd.decided(at(6, 18, 0), bob, ActionSpam, "", at(6, 18, 5))                           // 5m
	sd.decided(at(6, 19, 0), alice, ActionReject, "14", at(6, 21, 0))                     // 2h
	sd.decided(at(6, 21, 0), bob, ActionApprove, "", at(6, 23, 0))                        // 2h
	// Held: a decision, but not a final one.
	held := sd.submission("held", at(6, 10, 0), at(6, 11, 0))
	sd.decision(held, alice, ActionHold, "", at(6, 11, 0))
	held = sd.submission("held", at(6, 16, 0), at(6, 17, 0))
	sd.decision(held, bob, ActionHold, "", at(6, 17, 0))
	held = sd.submission("held", at(6, 22, 0), at(6, 22, 30))
	sd.decision(held, alice, ActionHold, "", at(6, 22, 30))
	// Approved, then undone: pending again, no decision that stands.
	undone := sd.submission("pending", at(6, 12, 0), time.Time{})
	d := sd.decision(undone, alice, ActionApprove, "", at(6, 12, 10))
	sd.exec(`UPDATE decisions SET undone_at = ? WHERE id = ?`, at(6, 12, 15), d)
	sd.decision(undone, alice, ActionUndo, "", at(6, 12, 15))
	// A blocked sender's: rejected unseen, by the admin who blocked them.
	blocked := sd.submission("blocked", at(6, 13, 0), time.Time{})
	sd.decision(blocked, "admin@forum.example", ActionReject, "", at(6, 13, 0))
	// The edges: half a second before the end is in, the end is not.
	sd.submission("pending", reportDay.Add(24*time.Hour-500*time.Millisecond), time.Time{})
	sd.submission("pending", reportDay.Add(24*time.Hour), time.Time{})
	sd.decided(at(6, 20, 0), bob, ActionApprove, "", reportDay.Add(24*time.Hour))
	// Before the period: the oldest pending, and a decision the day
	// before.
	ids["oldest pending"] = sd.submission("pending", at(1, 8, 0), time.Time{})
	sd.decided(at(5, 10, 0), alice, ActionApprove, "", at(5, 11, 0))

	sd.outbox("notice", "jane@example.org", "failed", "smtp rcpt: 550 5.1.1 user unknown", at(6, 14, 0))
	sd.outbox("digest", bob, "failed", "smtp data: 554 rejected as spam", at(6, 18, 0))
	sd.outbox("notice", "old@example.org", "failed", "550 old failure", at(5, 23, 0))
	sd.outbox("notice", "later@example.org", "pending", "451 try later", at(6, 16, 0))
	sd.outbox("notice", "fine@example.org", "sent", "", at(6, 16, 0))
	// Sent again after a stop left them in doubt: one in the period, one before.
	sd.outbox("notice", "twice@example.org", "sent", "", at(6, 17, 0))
	sd.exec(`UPDATE outbox SET in_doubt_at = ? WHERE rcpt_to = 'twice@example.org'`, at(6, 17, 0))
	sd.outbox("notice", "twice-before@example.org", "sent", "", at(5, 17, 0))
	sd.exec(`UPDATE outbox SET in_doubt_at = ? WHERE rcpt_to = 'twice-before@example.org'`, at(5, 17, 0))
	at10 := at(6, 10, 0)
	at4 := at(4, 10, 0)
	sd.bounce("gone@example.net", "bounce: 5.1.1 mailbox unavailable", &at10)
	sd.bounce("earlier@example.net", "bounce: earlier", &at4)
	sd.bounce("fine@example.org", "", nil)
	for _, t := range []time.Time{at(6, 3, 0), at(6, 22, 0), reportDay.Add(24 * time.Hour)} {
		sd.inbound(OutcomeQuarantined, t)
	}
	return s, ids
}

func TestReportData(t *testing.T) {
	s, ids := seededStore(t)
	d, err := s.ReportData(context.Background(), reportDay, reportDay.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	dur := func(p *time.Duration) string {
		if p == nil {
			return "nil"
		}
		return p.String()
	}
	got := fmt.Sprintf("received %d blocked %d approved %d edited %d rejected %d spam %d held %d rules %v timed %d median %s p95 %s pending %d held %d failed %d in doubt %d bounced %d quarantined %d",
		d.Received, d.Blocked, d.Approved, d.Edited, d.Rejected, d.Spam, d.Held, d.RejectedByRule, d.Timed, dur(d.Median), dur(d.P95),
		d.Pending, d.HeldNow, d.OutboxFailed, d.InDoubt, d.Bounced, d.Quarantined)
	want := "received 17 blocked 1 approved 5 edited 1 rejected 4 spam 2 held 3 rules map[0:1 3:2 12:1 14:1] timed 11 median 2h0m0s p95 12h0m0s pending 4 held 3 failed 2 in doubt 1 bounced 1 quarantined 2"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	wantMods := []ModeratorDecisions{
		{Moderator: "alice@mods.example", Total: 8, Approved: 3, Rejected: 2, Spam: 1, Held: 2},
		{Moderator: "bob@mods.example", Total: 6, Approved: 2, Rejected: 2, Spam: 1, Held: 1},
	}
	if !slices.Equal(d.Moderators, wantMods) {
		t.Errorf("moderators %+v, want %+v", d.Moderators, wantMods)
	}
	if o := d.Oldest; o == nil || o.ID != ids["oldest pending"] || o.Age != 5*24*time.Hour+22*time.Hour+30*time.Minute ||
		o.PostTitle != "UK accuses Meta of empowering abusers" {
		t.Errorf("oldest %+v, want #%d waiting 5d22h30m", o, ids["oldest pending"])
	}
	if len(d.Failures) != 2 || d.Failures[0].To != "bob@mods.example" || d.Failures[1].Error != "smtp rcpt: 550 5.1.1 user unknown" {
		t.Errorf("failures %+v", d.Failures)
	}
	if len(d.Bounces) != 1 || d.Bounces[0].Addr != "gone@example.net" {
		t.Errorf("bounces %+v", d.Bounces)
	}
	if len(d.Days) != ReportDays || !d.Days[0].Date.Equal(time.Date(2025, 2, 5, 0, 0, 0, 0, time.UTC)) || !d.Days[29].Date.Equal(reportDay) {
		t.Fatalf("days from %v to %v", d.Days[0].Date, d.Days[len(d.Days)-1].Date)
	}
	for i, want := range map[int]string{29: "17 2h0m0s", 28: "2 1h0m0s", 24: "1 nil", 0: "0 nil"} {
		if got := fmt.Sprint(d.Days[i].Submissions, " ", dur(d.Days[i].Median)); got != want {
			t.Errorf("day %s: %s, want %s", d.Days[i].Date.Format(time.DateOnly), got, want)
		}
	}

	// A period with nothing in it: no times, not zero times.
	d, err = s.ReportData(context.Background(), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if d.Received != 0 || d.Timed != 0 || d.Median != nil || d.P95 != nil || len(d.Moderators) != 0 || d.Pending != 4 {
		t.Errorf("empty period: %+v", d)
	}
	if _, err := s.ReportData(context.Background(), reportDay, reportDay); err == nil {
		t.Error("an empty period was accepted")
	}
}

func TestPercentile(t *testing.T) {
	m := func(ms ...int) []time.Duration {
		var out []time.Duration
		for _, v := range ms {
			out = append(out, time.Duration(v)*time.Minute)
		}
		return out
	}
	for _, tc := range []struct {
		in       []time.Duration
		p        int
		want     time.Duration
		wantNone bool
	}{
		{nil, 50, 0, true},
		{m(7), 50, 7 * time.Minute, false},
		{m(7), 95, 7 * time.Minute, false},
		{m(1, 3), 50, 2 * time.Minute, false},
		{m(1, 2, 3), 50, 2 * time.Minute, false},
		{m(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 95, 19 * time.Minute, false},
		{m(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21), 95, 20 * time.Minute, false},
	} {
		got := percentile(tc.in, tc.p)
		if (got == nil) != tc.wantNone || got != nil && *got != tc.want {
			t.Errorf("percentile(%v, %d) = %v, want %v", tc.in, tc.p, got, tc.want)
		}
	}
}

func newReporter(t *testing.T, s *Store) *Reporter {
	t.Helper()
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return &Reporter{Store: s, Templates: tmpl, Rules: precheck.DefaultRuleset().Rules(),
		Site:   Site{Name: "Test Forum", BaseURL: "http://forum.example", Address: "moderator@forum.example"},
		Admins: []string{"admin@forum.example", "owner@site.example"}, Daily: true, Weekly: true, At: 6 * time.Hour}
}

// sendReport writes the report of kind on [from, to), which must not have
// been written before.
func sendReport(t *testing.T, r *Reporter, kind string, from, to time.Time) {
	t.Helper()
	if sent, err := r.send(context.Background(), kind, from, to); err != nil || !sent {
		t.Fatalf("%s report: sent %v, %v", kind, sent, err)
	}
}

type reportMail struct {
	raw []byte
	msg *mail.Message
}

func reportsTo(t *testing.T, s *Store, rcpt string) []reportMail {
	t.Helper()
	var raws [][]byte
	if err := s.pool.Select(&raws, `SELECT raw FROM outbox WHERE kind = 'report' AND rcpt_to = ? ORDER BY id`, rcpt); err != nil {
		t.Fatal(err)
	}
	var out []reportMail
	for _, r := range raws {
		m, err := mail.Parse(bytes.NewReader(r), nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, reportMail{r, m})
	}
	return out
}

// TestReportMail sends the seeded day's report and reads it as an admin
// would: every number in its row, the same rows in the text and the
// HTML part, a chart that decodes, and a Reply-To token of its own.
func TestReportMail(t *testing.T) {
	s, ids := seededStore(t)
	r := newReporter(t, s)
	sendReport(t, r, ReportDaily, reportDay, reportDay.AddDate(0, 0, 1))
	tokens := map[string]bool{}
	for _, admin := range r.Admins {
		mails := reportsTo(t, s, admin)
		if len(mails) != 1 {
			t.Fatalf("%d reports to %s, want 1", len(mails), admin)
		}
		m := mails[0].msg
		if got := m.Get("X-Modbot-Report"); got != "daily" {
			t.Errorf("X-Modbot-Report %q", got)
		}
		if want := "[Test Forum] daily report, Thu 6 Mar 2025: 17 received, 4 pending"; m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}

		// The Reply-To carries a token that names this admin, like a
		// digest's names its moderator.
		if len(m.ReplyTo) != 1 || !strings.HasPrefix(m.ReplyTo[0].Addr, "moderator+d-") {
			t.Fatalf("Reply-To %+v", m.ReplyTo)
		}
		token := strings.TrimSuffix(strings.TrimPrefix(m.ReplyTo[0].Addr, "moderator+d-"), "@forum.example")
		var row struct {
			Moderator string `db:"moderator"`
			MessageID string `db:"message_id"`
			Kind      string `db:"kind"`
			Items     int    `db:"items"`
		}
		if err := s.pool.Get(&row, `SELECT moderator, message_id, kind, (SELECT COUNT(*) FROM digest_items WHERE digest_id = d.id) AS items
			FROM digests d WHERE token = ?`, token); err != nil {
			t.Fatalf("token of the report to %s: %v", admin, err)
		}
		if row.Moderator != admin || row.MessageID != m.MessageID || row.Kind != "report" || row.Items != 0 {
			t.Errorf("token row %+v, want %s, %s, report, no items", row, admin, m.MessageID)
		}
		tokens[token] = true

		text, htm := textRows(m.Text), htmlRows(t, m.HTML)
		if !slices.EqualFunc(text, htm, slices.Equal) {
			t.Errorf("the text and HTML tables differ:\ntext: %q\nhtml: %q", text, htm)
		}
		for _, want := range [][]string{
			{"Received", "17"}, {"of them from blocked senders", "1"},
			{"Approved", "5"}, {"of them edited", "1"}, {"Rejected", "4"}, {"Spam", "2"}, {"Held", "3"},
			{"rule 3: Swear words should be starred out", "2"}, {"rule 12: Full links only, no abbreviated / obfuscated links", "1"},
			{"rule 14: " + precheck.DefaultRuleset().Rules()[14].Title, "1"}, {"no rule cited", "1"},
			{"Comments decided", "11"}, {"Median", "2h 00m"}, {"95th percentile", "12h 00m"},
			{"alice@mods.example", "8", "3", "2", "1", "2"}, {"bob@mods.example", "6", "2", "2", "1", "1"},
			{"Pending now", "4"}, {"Held now", "3"}, {"Oldest pending", fmt.Sprintf("#%d", ids["oldest pending"])},
			{"Waiting for", "5d 22h"}, {"On post", "UK accuses Meta of empowering abusers"},
			{"Delivery failures", "2"}, {"Bounced addresses", "1"}, {"Quarantined messages", "2"},
			{"Thu 6 Mar 18:00", "bob@mods.example", "digest", "smtp data: 554 rejected as spam"},
			{"Thu 6 Mar 14:00", "jane@example.org", "notice", "smtp rcpt: 550 5.1.1 user unknown"},
			{"Thu 6 Mar 10:00", "gone@example.net", "bounce: 5.1.1 mailbox unavailable"},
			{"Thu 6 Mar", "17", "2h 00m"}, {"Wed 5 Mar", "2", "1h 00m"}, {"Sat 1 Mar", "1", "n/a"}, {"Wed 5 Feb", "0", "n/a"},
		} {
			if !slices.ContainsFunc(text, func(r []string) bool { return slices.Equal(r, want) }) {
				t.Errorf("text part lacks the row %q", want)
			}
		}
		for _, row := range text {
			if slices.Contains(row, "old@example.org") || slices.Contains(row, "earlier@example.net") || slices.Contains(row, "later@example.org") {
				t.Errorf("a row from outside the period or not failed: %q", row)
			}
		}

		// The chart: the image the HTML part refers to, 600×240.
		src := regexp.MustCompile(`<img src="cid:([^"]+)"`).FindStringSubmatch(m.HTML)
		if src == nil {
			t.Fatal("no cid: image in the HTML part")
		}
		img := inlinePart(t, mails[0].raw, src[1])
		if img == nil {
			t.Fatalf("no part with Content-ID <%s>", src[1])
		}
		pic, err := png.Decode(bytes.NewReader(img))
		if err != nil {
			t.Fatalf("chart does not decode: %v", err)
		}
		if b := pic.Bounds(); b.Dx() != chart.DefaultWidth || b.Dy() != chart.DefaultHeight {
			t.Errorf("chart is %v, want %d×%d", b, chart.DefaultWidth, chart.DefaultHeight)
		}
	}
	if len(tokens) != 2 {
		t.Error("the admins' copies share a token")
	}
}

// inlinePart returns the decoded body of the part of raw with Content-ID
// <cid>, checking that it sits beside the HTML in a multipart/related
// that is the HTML alternative.
func inlinePart(t *testing.T, raw []byte, cid string) []byte {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var found []byte
	var walk func(e *message.Entity, parents []string)
	walk = func(e *message.Entity, parents []string) {
		typ, _, _ := e.Header.ContentType()
		if mr := e.MultipartReader(); mr != nil {
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p, append(parents, typ))
			}
		}
		if e.Header.Get("Content-Id") == "<"+cid+">" {
			if want := []string{"multipart/alternative", "multipart/related"}; !slices.Equal(parents, want) || typ != "image/png" {
				t.Errorf("image is %s in %v, want image/png in %v", typ, parents, want)
			}
			b, err := io.ReadAll(e.Body)
			if err != nil {
				t.Fatal(err)
			}
			found = b
		}
	}
	walk(e, nil)
	return found
}

// TestReportEmpty: a store with nothing in it still makes a report,
// with "n/a" where there is no time to tell.
func TestReportEmpty(t *testing.T) {
	s := openTestStore(t)
	s.SetClock(func() time.Time { return reportNow })
	r := newReporter(t, s)
	r.Admins = r.Admins[:1]
	sendReport(t, r, ReportWeekly, at(3, 0, 0), at(10, 0, 0))
	mails := reportsTo(t, s, "admin@forum.example")
	if len(mails) != 1 {
		t.Fatalf("%d reports", len(mails))
	}
	m := mails[0].msg
	text, htm := textRows(m.Text), htmlRows(t, m.HTML)
	if !slices.EqualFunc(text, htm, slices.Equal) {
		t.Errorf("the text and HTML tables differ:\ntext: %q\nhtml: %q", text, htm)
	}
	for _, want := range [][]string{{"Received", "0"}, {"Median", "n/a"}, {"95th percentile", "n/a"}, {"Pending now", "0"}} {
		if !slices.ContainsFunc(text, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("text part lacks the row %q", want)
		}
	}
	if !strings.Contains(m.Text, "No decisions in this period.") || m.Get("X-Modbot-Report") != "weekly" {
		t.Errorf("text part:\n%s", m.Text)
	}
}

func TestParseTimeOfDay(t *testing.T) {
	for in, want := range map[string]time.Duration{"06:00": 6 * time.Hour, "6:30": 6*time.Hour + 30*time.Minute, " 00:00 ": 0, "23:59": 23*time.Hour + 59*time.Minute} {
		if got, err := ParseTimeOfDay(in); err != nil || got != want {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "24:00", "6", "06:00:00", "6am", "-1:00"} {
		if got, err := ParseTimeOfDay(in); err == nil {
			t.Errorf("ParseTimeOfDay(%q) = %v, want an error", in, got)
		}
	}
}

func TestDuePeriod(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC) }
	six := 6 * time.Hour
	for _, tc := range []struct {
		kind     string
		now      time.Time
		from, to time.Time
	}{
		{ReportDaily, at(7, 6, 0), day(6), day(7)},
		{ReportDaily, at(7, 5, 59), day(5), day(6)},
		{ReportDaily, at(7, 23, 59), day(6), day(7)},
		// Monday 10 March: from 06:00 last week's is due.
		{ReportWeekly, at(10, 6, 0), day(3), day(10)},
		{ReportWeekly, at(10, 5, 0), time.Date(2025, 2, 24, 0, 0, 0, 0, time.UTC), day(3)},
		{ReportWeekly, at(16, 23, 0), day(3), day(10)}, // Sunday
		{ReportWeekly, at(17, 7, 0), day(10), day(17)},
		// Another zone's clock is read as UTC.
		{ReportDaily, at(7, 6, 0).In(time.FixedZone("", -8*3600)), day(6), day(7)},
	} {
		from, to := duePeriod(tc.kind, tc.now, six)
		if !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("%s at %s: %s to %s, want %s to %s", tc.kind, tc.now.Format(time.RFC3339), from.Format(time.DateOnly),
				to.Format(time.DateOnly), tc.from.Format(time.DateOnly), tc.to.Format(time.DateOnly))
		}
	}
	r := &Reporter{Daily: true, Weekly: true, At: six}
	if got, want := r.nextDue(at(10, 6, 0)), at(11, 6, 0); !got.Equal(want) {
		t.Errorf("next due %v, want %v", got, want)
	}
	r.Daily = false
	if got, want := r.nextDue(at(10, 6, 0)), at(17, 6, 0); !got.Equal(want) {
		t.Errorf("next weekly due %v, want %v", got, want)
	}
}

// TestReportsOncePerPeriod: what was sent is remembered across a
// restart; the next period's report follows when it falls due.
func TestReportsOncePerPeriod(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "modbot.db")
	open := func(now time.Time) *Reporter {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.SetClock(func() time.Time { return now })
		return newReporter(t, s)
	}
	count := func(r *Reporter) int {
		var n int
		if err := r.Store.pool.Get(&n, `SELECT COUNT(*) FROM outbox WHERE kind = 'report'`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	monday := at(10, 7, 0)
	r := open(monday)
	if n, err := r.SendDue(ctx); err != nil || n != 2 {
		t.Fatalf("SendDue on Monday: %d, %v; want the daily and the weekly report", n, err)
	}
	if got := count(r); got != 4 {
		t.Errorf("%d reports in the outbox, want 2 for each of 2 admins", got)
	}
	if n, err := r.SendDue(ctx); err != nil || n != 0 {
		t.Errorf("SendDue again: %d, %v", n, err)
	}
	r.Store.Close()

	r = open(monday.Add(time.Hour)) // the restart
	if n, err := r.SendDue(ctx); err != nil || n != 0 {
		t.Errorf("SendDue after a restart: %d, %v; want nothing sent twice", n, err)
	}
	r.Store.SetClock(func() time.Time { return at(11, 5, 59) })
	if n, _ := r.SendDue(ctx); n != 0 {
		t.Errorf("Tuesday before 06:00: %d reports", n)
	}
	r.Store.SetClock(func() time.Time { return at(11, 6, 0) })
	if n, err := r.SendDue(ctx); err != nil || n != 1 {
		t.Errorf("Tuesday at 06:00: %d, %v; want the daily report", n, err)
	}
	var periods []string
	if err := r.Store.pool.Select(&periods, `SELECT kind || ' ' || substr(period_start, 1, 10) || ' ' || substr(period_end, 1, 10) FROM reports ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := []string{"daily 2025-03-09 2025-03-10", "weekly 2025-03-03 2025-03-10", "daily 2025-03-10 2025-03-11"}
	if !slices.Equal(periods, want) {
		t.Errorf("reports %q, want %q", periods, want)
	}
	var ids string
	if err := r.Store.pool.Get(&ids, `SELECT message_id FROM reports WHERE kind = 'weekly'`); err != nil {
		t.Fatal(err)
	}
	if len(strings.Fields(ids)) != 2 {
		t.Errorf("weekly report's message ids %q, want one for each admin", ids)
	}
}

// TestReporterRun sends what is due when it starts and stops with its
// context.
func TestReporterRun(t *testing.T) {
	s := openTestStore(t)
	s.SetClock(func() time.Time { return reportNow })
	r := newReporter(t, s)
	r.Weekly = false
	queued := make(chan struct{}, 1)
	r.Queued = func() { queued <- struct{}{} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	<-queued
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := len(reportsTo(t, s, "admin@forum.example")); n != 1 {
		t.Errorf("%d reports", n)
	}
	r.Admins = nil
	if err := r.Run(context.Background()); err != nil {
		t.Errorf("Run without admins: %v", err)
	}
}

var cellSep = regexp.MustCompile(`\s{2,}`)

// textRows returns the table rows of a report's text part: lines
// indented by exactly two spaces, cut into cells at two or more spaces.
func textRows(text string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "   ") {
			continue
		}
		rows = append(rows, cellSep.Split(strings.TrimSpace(line), -1))
	}
	return rows
}

// htmlRows returns the rows of the HTML part's tables, each the text of
// its cells, without empty ones.
func htmlRows(t *testing.T, s string) [][]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	var rows [][]string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" {
			var row []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
					if cell := strings.Join(strings.Fields(text(c)), " "); cell != "" {
						row = append(row, cell)
					}
				}
			}
			rows = append(rows, row)
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return rows
}
