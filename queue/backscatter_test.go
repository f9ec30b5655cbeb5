package queue

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"modbot/mail"
)

// The phishing text of issue 11 §4: a link, a phone number, and a
// display name posing as a bank.
const (
	phishName = "Example Bank Security Team - call +1 555 0100"
	phishBody = "Your account is locked. Verify your identity now at https://examp1e-bank.example/login?id=7731 " +
		"or www.examp1e-bank.example/help, otherwise it will be closed. " + "Details follow. " +
		"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. " +
		"SECRET-TAIL-TEXT https://tail.example/x"
)

// outboxNotices returns every notice in the outbox, whoever it went to,
// parsed as it would arrive.
func outboxNotices(t *testing.T, s *Store) []*mail.Message {
	t.Helper()
	return outboxMail(t, s, `SELECT raw FROM outbox WHERE kind = 'notice' ORDER BY id`)
}

// liveLink finds what a mail client would make a link of: a scheme, a
// www. host, or a host name with a dot in it from the sender's text.
var liveLink = regexp.MustCompile(`(?i)https?://examp1e|examp1e-bank\.example|www\.|tail\.example|https?://tail`)

// assertGuarded checks that a notice carries nothing the sender chose as
// live text: no display name, no link, no echoed subject, a short excerpt.
func assertGuarded(t *testing.T, n *mail.Message) {
	t.Helper()
	for _, a := range n.To {
		if a.Name != "" {
			t.Errorf("To carries the display name %q", a.Name)
		}
	}
	for part, text := range map[string]string{"subject": n.Subject, "text": n.Text, "html": n.HTML} {
		if strings.Contains(text, "Example Bank") || strings.Contains(text, "555 0100") {
			t.Errorf("%s carries the sender's display name:\n%s", part, text)
		}
		if loc := liveLink.FindStringIndex(text); loc != nil {
			t.Errorf("%s carries a live link %q:\n%s", part, text[loc[0]:loc[1]], text)
		}
		if strings.Contains(text, "SECRET-TAIL-TEXT") {
			t.Errorf("%s quotes more than a short excerpt", part)
		}
	}
	if strings.Contains(n.Subject, "Urgent") {
		t.Errorf("subject echoes the sender's: %q", n.Subject)
	}
	if !strings.Contains(n.Text, "examp1e-bank[.]example/login") {
		t.Errorf("the excerpt does not show the link defanged:\n%s", n.Text)
	}
	if strings.Contains(n.HTML, `href="https://examp1e`) || strings.Contains(n.HTML, `href="http://tail`) {
		t.Errorf("html links to the sender's site")
	}
}

// 30 submissions from case and +tag variants of one address: at most
// max_notices_per_hour notices reach that mailbox, and none carries the
// phishing link or the bank's display name.
func TestBackscatterFromAddressVariants(t *testing.T) {
	m := newModeration(t)
	m.in.Limits.NoticesPerHour = 3
	variants := []string{"cArol@people.example", "CAROL@people.example", "carol+x@people.example", "Carol+%d@People.Example", "carol@PEOPLE.EXAMPLE"}
	for i := 0; i < 30; i++ {
		addr := variants[i%len(variants)]
		if strings.Contains(addr, "%d") {
			addr = fmt.Sprintf(addr, i)
		}
		raw := msg(fmt.Sprintf("%q <%s>", phishName, addr), "moderator+uk-meta-encryption@forum.example",
			"Urgent: your account is locked", fmt.Sprintf("phish%d@attacker.example", i), phishBody)
		if _, err := m.in.Handle(context.Background(), fetched(raw)); err != nil {
			t.Fatal(err)
		}
	}
	notices := outboxNotices(t, m.s)
	if len(notices) > 3 {
		t.Errorf("%d notices reached carol's mailbox, want at most the cap of 3", len(notices))
	}
	for _, n := range notices {
		if !mail.SameAddress(n.To[0].Addr, "carol@people.example") {
			t.Errorf("notice to %s", n.To[0].Addr)
		}
		assertGuarded(t, n)
	}
	if w := m.count(`SELECT COUNT(*) FROM notices_withheld WHERE rcpt_key = 'carol@people.example' AND reason = 'address'`); w != 27 {
		t.Errorf("%d withheld notices recorded, want 27", w)
	}
	// The submission rate counts the variants as one sender too.
	if k := m.count(`SELECT COUNT(DISTINCT author_key) FROM submissions WHERE author_key LIKE 'carol%'`); k != 1 {
		t.Errorf("%d author keys for one sender", k)
	}
}

// The submission rate limit and a block apply to every spelling.
func TestRateAndBlockByAddressKey(t *testing.T) {
	m := newModeration(t)
	m.in.Limits.SubmissionsPerHour = 2
	for _, a := range []string{"Flood <flood@people.example>", "Flood <FLOOD@people.example>", "Flood <flood+1@people.example>"} {
		m.submit(a, "Flood "+a)
	}
	var states []string
	m.s.pool.Select(&states, `SELECT state FROM submissions WHERE author_key = 'flood@people.example' ORDER BY id`)
	if strings.Join(states, " ") != "pending pending held" {
		t.Errorf("states %v: the third spelling was not held", states)
	}
	m.s.pool.Exec(`INSERT INTO blocked_senders (email, email_key, blocked_by, blocked_at) VALUES ('spam@people.example', 'spam@people.example', 'admin@forum.example', ?)`, m.now)
	m.submit("Spam <Spam+promo@People.example>", "Buy now.")
	if got := lastInbound(t, m.s); got.Outcome != OutcomeBlocked {
		t.Errorf("a blocked sender's +tag variant got through: %+v", got)
	}
}

// Across all addresses, no more than max_notices_total_per_hour notices
// go out; the rest are recorded for the admins.
func TestGlobalNoticeCap(t *testing.T) {
	m := newModeration(t)
	m.in.Limits.NoticesPerHour = 10
	m.in.Limits.NoticesTotalPerHour = 5
	before := len(outboxNotices(t, m.s))
	for i := 0; i < 12; i++ {
		m.submit(fmt.Sprintf("Victim <victim%d@people.example>", i), "A comment.")
	}
	if got := len(outboxNotices(t, m.s)); got > 5 || got-before != 5-before {
		t.Errorf("%d notices in the hour (%d before), want the cap of 5", got, before)
	}
	if w := m.count(`SELECT COUNT(*) FROM notices_withheld WHERE reason = 'total'`); w != 12-(5-before) {
		t.Errorf("%d withheld by the total cap recorded, want %d", w, 12-(5-before))
	}
	if n := m.count(`SELECT COUNT(*) FROM submissions`); n != 12 {
		t.Errorf("%d submissions queued: the cap must withhold notices, not comments", n)
	}
	// The admins' report says so.
	r := newReporter(t, m.s)
	sendReport(t, r, ReportDaily, m.now.Add(-time.Hour), m.now.Add(time.Hour))
	rep := reportsTo(t, m.s, "admin@forum.example")
	if len(rep) == 0 {
		t.Fatal("no report")
	}
	text := rep[len(rep)-1].msg.Text
	if !regexp.MustCompile(`Notices over hourly cap +` + fmt.Sprint(12-(5-before)) + `\b`).MatchString(text) {
		t.Errorf("the report does not tell of the withheld notices:\n%s", text)
	}
}

// No "received" notice goes where nobody plausibly wrote from.
func TestNoReceivedNoticeWithoutGrounds(t *testing.T) {
	const trusted = "mx.forum.example"
	for _, tc := range []struct {
		name, to string
		extra    []string
		want     int // notices
	}{
		{"known post", "moderator+uk-meta-encryption@forum.example", nil, 1},
		{"unknown post", "moderator+no-such-post@forum.example", nil, 0},
		{"no post", "moderator@forum.example", nil, 0},
		{"auto-reply", "moderator+uk-meta-encryption@forum.example", []string{"Auto-Submitted: auto-replied"}, 0},
		{"out of office", "moderator+uk-meta-encryption@forum.example", []string{"X-Autoreply: yes", "Precedence: auto_reply"}, 0},
		{"dkim=fail", "moderator+uk-meta-encryption@forum.example", []string{"Authentication-Results: mx.forum.example; dkim=fail header.d=people.example"}, 0},
		{"spf=fail", "moderator+uk-meta-encryption@forum.example", []string{"Authentication-Results: mx.forum.example; spf=fail smtp.mailfrom=people.example"}, 0},
		{"dmarc=fail", "moderator+uk-meta-encryption@forum.example", []string{"Authentication-Results: mx.forum.example; dmarc=fail header.from=people.example"}, 0},
		{"fail from an untrusted server", "moderator+uk-meta-encryption@forum.example", []string{"Authentication-Results: evil.example; dkim=fail"}, 1},
		{"site's own address", "moderator+uk-meta-encryption@forum.example", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newModeration(t)
			m.in.TrustedAuthServID = trusted
			from := "Carol <carol@people.example>"
			if tc.name == "site's own address" {
				from = "Forum <Moderator+x@Forum.example>"
			}
			before := len(outboxNotices(t, m.s))
			raw := msg(from, tc.to, "comment", "c1@people.example", "A comment.", tc.extra...)
			if _, err := m.in.Handle(context.Background(), fetched(raw)); err != nil {
				t.Fatal(err)
			}
			if got := len(outboxNotices(t, m.s)) - before; got != tc.want {
				t.Errorf("%d received notices, want %d (inbound %+v)", got, tc.want, lastInbound(t, m.s))
			}
		})
	}
}

// An address that answered a notice sent to it has shown it is real:
// its notices quote the whole text with its name. Answering a notice
// sent to someone else proves nothing.
func TestProvenAddressGetsTheFullNotice(t *testing.T) {
	m := newModeration(t)
	m.submit(fmt.Sprintf("%q <carol@people.example>", "Carol Jones"), "First: see https://example.org/report for the figures.")
	first := m.notices("received", "carol@people.example")
	if len(first) != 1 {
		t.Fatalf("%d notices", len(first))
	}
	if strings.Contains(first[0].Text, "Carol Jones") || strings.Contains(first[0].Text, "https://example.org") {
		t.Errorf("notice to an unproven address carries the name or a live link:\n%s", first[0].Text)
	}
	// Mallory answers carol's notice from his own address: nothing.
	m.answer(first[0], "Mallory <mallory@people.example>", "Thanks.")
	if n := m.count(`SELECT COUNT(*) FROM recipients WHERE proven_at IS NOT NULL`); n != 0 {
		t.Errorf("%d addresses proven by an answer from another address", n)
	}
	// Carol answers from another spelling of her address.
	m.answer(first[0], "Carol Jones <Carol+lists@people.example>", "Thanks, looking forward to it.")
	if n := m.count(`SELECT COUNT(*) FROM recipients WHERE email_key = 'carol@people.example' AND proven_at IS NOT NULL`); n != 1 {
		t.Fatalf("carol's answer did not prove her address")
	}
	m.submit(fmt.Sprintf("%q <carol@people.example>", "Carol Jones"), "Second: see https://example.org/report for the figures, and more.")
	all := m.notices("received", "carol@people.example")
	full := all[len(all)-1]
	if full.To[0].Name != "Carol Jones" || !strings.Contains(full.Text, "Hello Carol Jones") ||
		!strings.Contains(full.Text, "https://example.org/report") || strings.Contains(full.Text, "[.]") {
		t.Errorf("a proven address got a guarded notice:\nTo: %v\n%s", full.To, full.Text)
	}
}

// A confirmed subscription proves the address (the web page's confirm).
func TestConfirmedSubscriptionProvesAddress(t *testing.T) {
	m := newModeration(t)
	m.submit("Dave <dave@people.example>", "I follow this.", "X-Comment-Notify: all")
	var tok string
	if err := m.s.pool.Get(&tok, `SELECT confirm_token FROM subscriptions WHERE email_key = 'dave@people.example'`); err != nil {
		t.Fatal(err)
	}
	if ok, _ := proven(context.Background(), m.s.pool, "dave@people.example"); ok {
		t.Fatal("proven before confirming")
	}
	if _, err := m.s.ConfirmSubscription(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if ok, _ := proven(context.Background(), m.s.pool, "DAVE+x@people.example"); !ok {
		t.Error("a confirmed subscription did not prove the address")
	}
}

// Migration 00015 gives rows from before it their keys, and proves the
// addresses that had confirmed a subscription.
func TestMigrationBackfillsAddressKeys(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, st.pool.DB, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	st.pool.MustExec(`INSERT INTO outbox (message_id, kind, mail_from, rcpt_to, raw, not_before, next_attempt_at, created_at)
		VALUES ('n1', 'notice', 'moderator@forum.example', 'Carol+News@People.Example', 'x', ?, ?, ?)`, now, now, now)
	st.pool.MustExec(`INSERT INTO recipients (email, token) VALUES ('dave+x@people.example', 't1')`)
	st.pool.MustExec(`INSERT INTO subscriptions (email, post_slug, scope, state, confirm_token, created_at, confirmed_at)
		VALUES ('DAVE@people.example', 'p', 'all', 'active', 'c1', ?, ?)`, now, now)
	// Rows whose key the migration's SQL cannot compute: Gmail's dots, a
	// trailing dot, a non-ASCII capital.
	st.pool.MustExec(`INSERT INTO blocked_senders (email, blocked_by, blocked_at) VALUES ('c.arol@gmail.com', 'a', ?), ('spam@example.net.', 'a', ?)`, now, now)
	st.pool.MustExec(`INSERT INTO recipients (email, token, unsubscribed_at) VALUES ('ÉLISE@example.org', 't2', ?)`, now)
	if err := migrate(ctx, st.pool.DB); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"carol@gmail.com", "C.A.R.O.L+x@googlemail.com", "spam@example.net"} {
		if by, err := st.blockedBy(ctx, addr); err != nil || by != "a" {
			t.Errorf("blockedBy(%s) = %q, %v after the migration; want the old block", addr, by, err)
		}
	}
	var unsub int
	st.pool.Get(&unsub, `SELECT COUNT(*) FROM recipients WHERE email_key = ? AND unsubscribed_at IS NOT NULL`, mail.AddressKey("élise@example.org"))
	if unsub != 1 {
		t.Errorf("the unsubscribe of ÉLISE@ is not found by its key after the migration")
	}
	var key string
	st.pool.Get(&key, `SELECT rcpt_key FROM outbox WHERE message_id = 'n1'`)
	if key != "carol@people.example" {
		t.Errorf("outbox key %q", key)
	}
	if ok, err := proven(ctx, st.pool, "dave@people.example"); err != nil || !ok {
		t.Errorf("a confirmed subscriber is not proven after the migration: %v %v", ok, err)
	}
}
