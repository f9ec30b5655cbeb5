package queue

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"modbot/mail"
	"modbot/templates"
)

func newDigester(t *testing.T, s *Store) *Digester {
	t.Helper()
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return &Digester{Store: s, Templates: tmpl, Site: Site{Name: "Test Forum", Address: "moderator@forum.example"},
		Moderators: []string{"alice@mods.example", "bob@mods.example"}, Reminder: 24 * time.Hour, MaxItems: 3}
}

// digestsTo returns the parsed digests in the outbox for rcpt, oldest first.
func digestsTo(t *testing.T, s *Store, rcpt string) []*mail.Message {
	t.Helper()
	return outboxMail(t, s, `SELECT raw FROM outbox WHERE kind = 'digest' AND rcpt_to = ? ORDER BY id`, rcpt)
}

// outboxMail returns the outbox messages the query selects (their raw
// column), parsed.
func outboxMail(t *testing.T, s *Store, query string, args ...any) []*mail.Message {
	t.Helper()
	var raws [][]byte
	if err := s.pool.Select(&raws, query, args...); err != nil {
		t.Fatal(err)
	}
	var out []*mail.Message
	for _, r := range raws {
		m, err := mail.Parse(bytes.NewReader(r), nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestDigestCapRemindersAndTokens(t *testing.T) {
	ctx := context.Background()
	in, s := newIngester(t)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	for i := 0; i < 5; i++ {
		raw := msg(fmt.Sprintf("C%d <c%d@people.example>", i, i), "moderator+uk-meta-encryption@forum.example", "hi", fmt.Sprintf("d%d@x", i), fmt.Sprintf("Comment %d.", i))
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
	}
	d := newDigester(t, s)
	n, full, err := d.SendDue(ctx)
	if err != nil || n != 2 || !full {
		t.Fatalf("SendDue = %d, %v, %v; want 2 digests, full", n, full, err)
	}
	first := digestsTo(t, s, "alice@mods.example")
	if len(first) != 1 || !strings.Contains(first[0].Text, "1. #1001") || !strings.Contains(first[0].Text, "3. #1003") ||
		strings.Contains(first[0].Text, "#1004") || !strings.Contains(first[0].Text, "2 more waiting") {
		t.Fatalf("first digest:\n%s", first[0].Text)
	}
	// The next run sends the rest, then nothing until the reminder is due.
	d.SendDue(ctx)
	second := digestsTo(t, s, "alice@mods.example")
	if len(second) != 2 || !strings.Contains(second[1].Text, "1. #1004") || !strings.Contains(second[1].Text, "2. #1005") || strings.Contains(second[1].Text, "#1001") {
		t.Fatalf("second digest:\n%s", second[len(second)-1].Text)
	}
	if n, _, _ := d.SendDue(ctx); n != 0 {
		t.Fatalf("%d digests with nothing new", n)
	}
	now = now.Add(25 * time.Hour)
	d.SendDue(ctx)
	third := digestsTo(t, s, "alice@mods.example")
	if len(third) != 3 || !strings.Contains(third[2].Text, "#1001") {
		t.Fatalf("no reminder after 25h")
	}

	// Tokens: alice's token works for alice only, and only until it expires.
	token := strings.TrimSuffix(strings.TrimPrefix(first[0].ReplyTo[0].Addr, "moderator+d-"), "@forum.example")
	reply := func(from, id string) inboundView {
		raw := msg(from, "moderator+d-"+token+"@forum.example", "Re: digest", id, "approve 1")
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
		return lastInbound(t, s)
	}
	if got := reply("Alice <alice@mods.example>", "r1@x"); got.Outcome != OutcomeReply {
		t.Errorf("alice's reply with her token: %+v", got)
	}
	if got := reply("Bob <bob@mods.example>", "r2@x"); got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, "another moderator") {
		t.Errorf("bob with alice's token: %+v", got)
	}
	now = now.Add(15 * 24 * time.Hour)
	if got := reply("Alice <alice@mods.example>", "r3@x"); got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, "expired") {
		t.Errorf("expired token: %+v", got)
	}
}

// Nothing expires silently: a comment pending past the first threshold
// heads every digest, past the second it is mailed to the admins once.
func TestEscalation(t *testing.T) {
	m := newModeration(t, "Old comment.")
	d := newDigester(t, m.s)
	d.Escalation = Escalation{After: 48 * time.Hour, AdminsAfter: 96 * time.Hour, Admins: []string{"admin@forum.example"}}
	ctx := context.Background()
	m.now = m.now.Add(50 * time.Hour)
	m.submit("New <new@people.example>", "A fresh one.")
	d.SendDue(ctx)
	ds := digestsTo(t, m.s, "bob@mods.example")
	last := ds[len(ds)-1].Text
	if !strings.HasPrefix(last, "WAITING TOO LONG") || !strings.Contains(last, "#1001") {
		t.Errorf("digest does not open with the overdue comment:\n%s", last)
	}
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE kind = 'escalation'`); n != 0 {
		t.Errorf("admins mailed at 50 hours")
	}
	m.now = m.now.Add(50 * time.Hour)
	d.SendDue(ctx)
	d.SendDue(ctx)
	esc := m.lastMail("escalation", "admin@forum.example")
	if esc == nil || !strings.Contains(esc.Text, "#1001") || strings.Contains(esc.Text, "#1002") {
		t.Fatalf("escalation: %v", esc)
	}
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE kind = 'escalation'`); n != 1 {
		t.Errorf("%d escalation mails, want 1", n)
	}
}
