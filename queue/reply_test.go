package queue

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"modbot/mail"
)

// moderation is a store with submissions, one digest per moderator, and
// helpers to reply to them.
type moderation struct {
	t     *testing.T
	in    *Ingester
	s     *Store
	now   time.Time
	token map[string]string // moderator → digest token
	seq   int
}

func newModeration(t *testing.T, comments ...string) *moderation {
	t.Helper()
	in, s := newIngester(t)
	m := &moderation{t: t, in: in, s: s, now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), token: map[string]string{}}
	s.SetClock(func() time.Time { return m.now })
	ctx := context.Background()
	for i, body := range comments {
		raw := msg(fmt.Sprintf("Commenter %d <c%d@people.example>", i, i), "moderator+uk-meta-encryption@forum.example", "comment", fmt.Sprintf("c%d@people.example", i), body)
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
	}
	// One feedback message, so digests have an item to answer.
	if _, err := in.Handle(ctx, fetched(msg("Reader <reader@people.example>", "moderator@forum.example", "Re: your notice", "fb1@people.example",
		"Why the delay?", "In-Reply-To: <notice.x@modbot.forum.example>"))); err != nil {
		t.Fatal(err)
	}
	m.firstDigests()
	return m
}

// firstDigests sends alice and bob their first digests and keeps their
// tokens.
func (m *moderation) firstDigests() {
	m.t.Helper()
	d := newDigester(m.t, m.s)
	d.MaxItems = 0
	if _, _, err := d.SendDue(context.Background()); err != nil {
		m.t.Fatal(err)
	}
	for _, mod := range []string{"alice@mods.example", "bob@mods.example"} {
		ds := digestsTo(m.t, m.s, mod)
		m.token[mod] = strings.TrimSuffix(strings.TrimPrefix(ds[0].ReplyTo[0].Addr, "moderator+d-"), "@forum.example")
	}
}

// reply sends body from a moderator to a digest token, as the inbox
// receives it, and returns the inbound outcome and reason.
func (m *moderation) reply(from, token, body string, extra ...string) inboundView {
	m.t.Helper()
	m.seq++
	raw := msg(from, "moderator+d-"+token+"@forum.example", "Re: digest", fmt.Sprintf("reply%d@mods.example", m.seq), body, extra...)
	if _, err := m.in.Handle(context.Background(), fetched(raw)); err != nil {
		m.t.Fatal(err)
	}
	return lastInbound(m.t, m.s)
}

func (m *moderation) state(id int64) string {
	var st string
	if err := m.s.pool.Get(&st, `SELECT state FROM submissions WHERE id = ?`, id); err != nil {
		m.t.Fatal(err)
	}
	return st
}

// lastMail returns the newest outbox message of kind to rcpt, parsed.
func (m *moderation) lastMail(kind, rcpt string) *mail.Message {
	m.t.Helper()
	var raws [][]byte
	m.s.pool.Select(&raws, `SELECT raw FROM outbox WHERE kind = ? AND rcpt_to = ? ORDER BY id DESC LIMIT 1`, kind, rcpt)
	if len(raws) == 0 {
		return nil
	}
	msg, err := mail.Parse(bytes.NewReader(raws[0]), nil)
	if err != nil {
		m.t.Fatal(err)
	}
	return msg
}

func (m *moderation) count(q string, args ...any) int {
	var n int
	if err := m.s.pool.Get(&n, q, args...); err != nil {
		m.t.Fatal(err)
	}
	return n
}

// Every Trust rule: none of these replies changes anything, and each
// reason is recorded on the message.
func TestForgedRepliesChangeNothing(t *testing.T) {
	m := newModeration(t, "First comment.")
	alice, bob := m.token["alice@mods.example"], m.token["bob@mods.example"]
	cases := []struct {
		name       string
		from, to   string
		extra      []string
		wantReason string
	}{
		{"non-moderator with a forwarded digest", "Eve <eve@evil.example>", alice, nil, "eve@evil.example is not a moderator"},
		{"forged From of another moderator's digest", "Bob <bob@mods.example>", alice, nil, "sent to another moderator"},
		{"unknown token", "Alice <alice@mods.example>", "zzzzzzzzzzzzzzzzzzzz", nil, "unknown digest token"},
		{"dkim fail", "Alice <alice@mods.example>", alice, []string{"Authentication-Results: mx.forum.example; dkim=fail header.d=mods.example"}, "dkim=fail"},
		{"dmarc fail", "Bob <bob@mods.example>", bob, []string{"Authentication-Results: mx.forum.example; dmarc=fail header.from=mods.example"}, "dmarc=fail"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := m.reply(c.from, c.to, "approve all", c.extra...)
			if got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, c.wantReason) {
				t.Errorf("outcome %q reason %q, want feedback with %q", got.Outcome, got.Reason, c.wantReason)
			}
			if st := m.state(1001); st != "pending" {
				t.Errorf("state %s, want pending", st)
			}
		})
	}
	// A moderator writing to the plain inbox address, answering the
	// digest without its token: feedback, too.
	raw := msg("Alice <alice@mods.example>", "moderator@forum.example", "Re: digest", "notoken@mods.example", "approve all",
		"In-Reply-To: <digest.abc@modbot.forum.example>")
	if _, err := m.in.Handle(context.Background(), fetched(raw)); err != nil {
		t.Fatal(err)
	}
	if got := lastInbound(t, m.s); got.Outcome != OutcomeFeedback {
		t.Errorf("no token: %+v", got)
	}
	// An expired token.
	m.now = m.now.Add(15 * 24 * time.Hour)
	if got := m.reply("Alice <alice@mods.example>", alice, "approve all"); got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, "expired") {
		t.Errorf("expired: %+v", got)
	}
	if n := m.count(`SELECT COUNT(*) FROM decisions`); n != 0 {
		t.Errorf("%d decisions from forged replies", n)
	}
	if n := m.count(`SELECT COUNT(*) FROM comments`); n != 0 {
		t.Errorf("%d comments published by forged replies", n)
	}
}

func TestDecisionsAndNotices(t *testing.T) {
	m := newModeration(t, "Good point about encryption.", "What a load of shit.", "Buy cheap pills now", "Let me think.", "A typo here: encyrption.")
	alice := m.token["alice@mods.example"]
	got := m.reply("Alice <alice@mods.example>", alice,
		"approve 1\nreject 2 rule 3: please star it out\nspam 3\nhold 4\nedit 5: A typo here: encryption.\napprove 9\naprove 1")
	if got.Outcome != OutcomeReply {
		t.Fatalf("reply: %+v", got)
	}
	for id, want := range map[int64]string{1001: "approved", 1002: "rejected", 1003: "spam", 1004: "held", 1005: "approved"} {
		if st := m.state(id); st != want {
			t.Errorf("#%d is %s, want %s", id, st, want)
		}
	}
	var published []string
	m.s.pool.Select(&published, `SELECT body FROM comments ORDER BY id`)
	if len(published) != 2 || strings.TrimSpace(published[0]) != "Good point about encryption." || published[1] != "A typo here: encryption." {
		t.Errorf("published %q", published)
	}
	var original string
	m.s.pool.Get(&original, `SELECT original_body FROM decisions WHERE action = 'edit'`)
	if strings.TrimSpace(original) != "A typo here: encyrption." {
		t.Errorf("the audit log lost the original of the edit: %q", original)
	}
	var who, replyID string
	m.s.pool.QueryRow(`SELECT moderator, reply_message_id FROM decisions WHERE submission_id = 1001`).Scan(&who, &replyID)
	if who != "alice@mods.example" || replyID == "" {
		t.Errorf("decision records %q %q", who, replyID)
	}
	// Notices: approved with the link, rejected with the rule's full
	// text and the reason, nothing for spam or hold; all held back for
	// the grace period.
	approved := m.lastMail("notice", "c0@people.example")
	if approved == nil || !strings.Contains(approved.Text, "http://forum.example/posts/uk-meta-encryption#c") {
		t.Errorf("approved notice: %v", approved)
	}
	rejected := m.lastMail("notice", "c1@people.example")
	if rejected == nil || !strings.Contains(rejected.Text, "Swear words should be starred out such as f*k and s*t and a**") ||
		!strings.Contains(rejected.Text, "please star it out") {
		t.Errorf("rejected notice lacks the rule text or reason: %v", rejected)
	}
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to IN ('c2@people.example', 'c3@people.example') AND kind = 'notice' AND not_before > created_at`); n != 0 {
		t.Errorf("%d decision notices for spam/hold", n)
	}
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE kind = 'notice' AND not_before > created_at AND not_before < ?`, m.now.Add(5*time.Minute)); n != 0 {
		t.Errorf("%d notices leave before the grace period ends", n)
	}
	conf := m.lastMail("confirmation", "alice@mods.example")
	for _, want := range []string{"#1001", "#1002", "has no item 9", `did you mean "approve"`} {
		if conf == nil || !strings.Contains(conf.Text, want) {
			t.Errorf("confirmation lacks %q:\n%v", want, conf.Text)
		}
	}
	if conf.InReplyTo[0] != fmt.Sprintf("reply%d@mods.example", m.seq) {
		t.Errorf("confirmation not threaded to the reply: %v", conf.InReplyTo)
	}

	// A held item can still be decided; a decided one cannot.
	m.reply("Alice <alice@mods.example>", alice, "approve 4")
	if st := m.state(1004); st != "approved" {
		t.Errorf("held #1004 then approved: %s", st)
	}
}

func TestConflictFirstDecisionWins(t *testing.T) {
	m := newModeration(t, "One.")
	m.reply("Alice <alice@mods.example>", m.token["alice@mods.example"], "approve 1")
	m.now = m.now.Add(time.Minute)
	m.reply("Bob <bob@mods.example>", m.token["bob@mods.example"], "reject 1 rule 11")
	if st := m.state(1001); st != "approved" {
		t.Errorf("state %s", st)
	}
	conf := m.lastMail("confirmation", "bob@mods.example")
	if conf == nil || !strings.Contains(conf.Text, "alice@mods.example") || !strings.Contains(conf.Text, "10:00") {
		t.Errorf("bob's confirmation does not say who decided first and when:\n%s", conf.Text)
	}
	// Bob's next digest lists what alice decided.
	m.in.Handle(context.Background(), fetched(msg("New <new@people.example>", "moderator+uk-meta-encryption@forum.example", "c", "new@x", "Another.")))
	d := newDigester(t, m.s)
	d.SendDue(context.Background())
	ds := digestsTo(t, m.s, "bob@mods.example")
	if last := ds[len(ds)-1]; !strings.Contains(last.Text, "#1001") || !strings.Contains(last.Text, "alice@mods.example") {
		t.Errorf("bob's next digest does not list alice's decision:\n%s", last.Text)
	}
}

func TestUndo(t *testing.T) {
	m := newModeration(t, "One.", "Two.")
	alice := m.token["alice@mods.example"]
	m.reply("Alice <alice@mods.example>", alice, "approve 1\nreject 2")
	m.now = m.now.Add(2 * time.Minute)
	m.reply("Alice <alice@mods.example>", alice, "undo")
	if m.state(1001) != "pending" || m.state(1002) != "pending" {
		t.Errorf("after undo: %s %s", m.state(1001), m.state(1002))
	}
	if n := m.count(`SELECT COUNT(*) FROM comments`); n != 0 {
		t.Errorf("undone approval still published")
	}
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE kind = 'notice' AND not_before > created_at`); n != 0 {
		t.Errorf("%d decision notices survive the undo", n)
	}
	conf := m.lastMail("confirmation", "alice@mods.example")
	if !strings.Contains(conf.Text, "#1001") || !strings.Contains(conf.Text, "#1002") {
		t.Errorf("undo confirmation:\n%s", conf.Text)
	}
	// Bob cannot undo alice's decision; alice cannot undo after the grace.
	m.reply("Alice <alice@mods.example>", alice, "approve 1")
	m.reply("Bob <bob@mods.example>", m.token["bob@mods.example"], "undo #1001")
	if m.state(1001) != "approved" {
		t.Errorf("bob undid alice's decision")
	}
	m.now = m.now.Add(6 * time.Minute)
	m.reply("Alice <alice@mods.example>", alice, "undo #1001")
	if m.state(1001) != "approved" {
		t.Errorf("undo after the grace period worked")
	}
	if conf := m.lastMail("confirmation", "alice@mods.example"); !strings.Contains(conf.Text, "too late") {
		t.Errorf("late undo not explained:\n%s", conf.Text)
	}
}

func TestReplyToFeedback(t *testing.T) {
	m := newModeration(t, "One.")
	m.reply("Alice <alice@mods.example>", m.token["alice@mods.example"], "reply 2: It is in the queue; thanks for waiting.")
	answer := m.lastMail("notice", "reader@people.example")
	if answer == nil || !strings.Contains(answer.Text, "It is in the queue; thanks for waiting.") || answer.InReplyTo[0] != "fb1@people.example" {
		t.Fatalf("answer: %+v", answer)
	}
	if strings.Contains(string(answer.Text), "alice@mods.example") {
		t.Errorf("the answer reveals the moderator's address")
	}
	if n := m.count(`SELECT COUNT(*) FROM feedback WHERE answered_at IS NOT NULL`); n != 1 {
		t.Errorf("feedback not marked answered")
	}
}
