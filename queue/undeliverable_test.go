package queue

import (
	"context"
	"strings"
	"testing"
	"time"

	"modbot/mail"
)

// A digest refused for good (550 here, not a size) puts back its
// comments and its feedback at once, and tells the admins at most once
// an hour however many digests are refused; a refused notice changes no
// digest.
func TestRefusedDigestPutsItemsBack(t *testing.T) {
	ctx := context.Background()
	in, s := newIngester(t)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	for _, raw := range []string{
		msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "c1@x", "A comment."),
		msg("Dan <dan@people.example>", "moderator+d-abcdefghijklmnop@forum.example", "question", "f1@x", "A question for the moderators."),
	} {
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
	}
	d := newDigester(t, s)
	d.Moderators = []string{"alice@mods.example"}
	d.Escalation.Admins = []string{"admin@forum.example", "root@forum.example"}
	refused := &mail.SendError{Code: 550, Message: "5.1.1 mailbox unavailable"}
	// Carol's notice and alice's digests are refused.
	fs := &refusingSender{refuse: map[string]error{"carol@people.example": refused, "alice@mods.example": refused}}
	o := NewOutbox(s, fs, nil)
	o.Failed = d.Undeliverable
	kinds := func() map[string]int {
		var ks []string
		if err := s.pool.Select(&ks, `SELECT kind || ':' || state FROM outbox`); err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, k := range ks {
			m[k]++
		}
		return m
	}
	items := func() int {
		var n int
		if err := s.pool.Get(&n, `SELECT COUNT(*) FROM digest_items`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := o.Flush(ctx); err != nil { // the notices: one refused
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		if n, _, err := d.SendDue(ctx); err != nil || n != 1 {
			t.Fatalf("round %d: SendDue = %d, %v", round, n, err)
		}
		if items() != 2 {
			t.Fatalf("round %d: %d digest items, want 2", round, items())
		}
		if _, err := o.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if items() != 0 {
			t.Errorf("round %d: the refused digest's items are still counted as shown", round)
		}
		now = now.Add(10 * time.Minute)
	}
	got := kinds()
	if got["digest:failed"] != 2 || got["undeliverable:sent"] != 2 || got["notice:failed"] != 1 {
		t.Errorf("outbox %v; want 2 refused digests, the 2 admins told once, 1 refused notice", got)
	}
	// The admins' mail says what was refused and what comes back.
	var raw []byte
	if err := s.pool.Get(&raw, `SELECT raw FROM outbox WHERE kind = 'undeliverable' AND rcpt_to = 'admin@forum.example'`); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(raw)), " ")
	for _, want := range []string{"alice@mods.example", "550", "#1001", "1 feedback message", "next digest"} {
		if !strings.Contains(text, want) {
			t.Errorf("admins' mail lacks %q:\n%s", want, raw)
		}
	}
	// An hour on, a third refusal is told again.
	now = now.Add(time.Hour)
	if _, _, err := d.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := kinds(); got["undeliverable:sent"] != 4 {
		t.Errorf("after an hour: outbox %v, want the admins told again", got)
	}
}

// refusingSender refuses every message to the addresses in refuse and
// takes the rest.
type refusingSender struct {
	refuse map[string]error
}

func (r *refusingSender) Send(ctx context.Context, from string, to []string, raw []byte) error {
	return r.refuse[to[0]]
}
