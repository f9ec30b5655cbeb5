package queue

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBouncedAddressIsNotMailedUntilItWritesAgain(t *testing.T) {
	m := newModeration(t)
	ctx := context.Background()
	// A report about a notice modbot sent her, to its return path.
	m.submit("Carol <carol@people.example>", "Encryption protects everyone.")
	m.approveAll()
	toCarol := m.notices("approved", "carol@people.example")[0]
	report := dsn(m.returnPath(toCarol.MessageID), toCarol.MessageID, "carol@people.example failed 5.1.1")
	if _, err := m.in.Handle(ctx, fetched(report)); err != nil {
		t.Fatal(err)
	}
	if got := lastInbound(t, m.s); got.Outcome != OutcomeIgnored || !strings.Contains(got.Reason, "carol@people.example") {
		t.Fatalf("bounce: %+v", got)
	}
	// Nothing is sent to carol now; not even the answer to a reader's
	// message would reach her, so none is written.
	before := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'carol@people.example' AND notice = 'received'`)
	m.in.NotifyReceived = true
	// She writes again: the mark is lifted and she hears back.
	m.submit("Carol <carol@people.example>", "I fixed my mailbox.")
	if after := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'carol@people.example' AND notice = 'received'`); after != before+1 {
		t.Errorf("carol wrote again but got no notice (%d → %d)", before, after)
	}
	// A notice refused permanently by the server marks her again.
	m.s.pool.Exec(`UPDATE recipients SET bounced_at = ? WHERE email = 'carol@people.example'`, m.now)
	n := m.in.noticeView("received", &submissionRow{AuthorName: "Carol"})
	tx, _ := m.s.pool.Beginx()
	if err := m.in.enqueueNotice(ctx, tx, n, noticeTo{Addr: "carol@people.example"}); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if c := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'carol@people.example' AND notice = 'received'`); c != before+1 {
		t.Errorf("a bounced address was mailed")
	}
}

func TestNoticeRateLimit(t *testing.T) {
	m := newModeration(t)
	m.in.Limits.NoticesPerHour = 3
	for i := 0; i < 6; i++ {
		m.submit("Dave <dave@people.example>", fmt.Sprintf("Comment %d.", i))
	}
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'dave@people.example' AND kind = 'notice'`); n != 3 {
		t.Errorf("%d notices in an hour, want the cap of 3", n)
	}
	m.now = m.now.Add(61 * time.Minute)
	m.submit("Dave <dave@people.example>", "An hour later.")
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'dave@people.example' AND kind = 'notice'`); n != 4 {
		t.Errorf("%d notices after the hour, want 4", n)
	}
}

// A flood from one sender is held for moderators, never dropped, and the
// moderators see it.
func TestSubmissionRateLimitHolds(t *testing.T) {
	m := newModeration(t)
	m.in.Limits.SubmissionsPerHour = 2
	for i := 0; i < 4; i++ {
		m.submit("Flood <flood@people.example>", fmt.Sprintf("Flood %d.", i))
	}
	m.submit("Other <other@people.example>", "Unrelated.")
	var states []string
	m.s.pool.Select(&states, `SELECT state FROM submissions ORDER BY id`)
	if strings.Join(states, " ") != "pending pending held held pending" {
		t.Errorf("states %v", states)
	}
	d := newDigester(t, m.s)
	d.MaxItems = 0
	d.SendDue(context.Background())
	ds := digestsTo(t, m.s, "bob@mods.example")
	last := ds[len(ds)-1].Text
	for _, id := range []string{"#1001", "#1002", "#1003", "#1004", "#1005"} {
		if !strings.Contains(last, id) {
			t.Errorf("digest lacks %s", id)
		}
	}
	if !strings.Contains(last, "rate limit") {
		t.Errorf("digest does not say why the flood is held:\n%s", last)
	}
}

func TestBlockedSenderIsRejectedSilently(t *testing.T) {
	m := newModeration(t)
	m.s.pool.Exec(`INSERT INTO blocked_senders (email, email_key, blocked_by, blocked_at) VALUES ('spammer@people.example', 'spammer@people.example', 'admin@forum.example', ?)`, m.now)
	before := m.count(`SELECT COUNT(*) FROM outbox`)
	m.submit("Spammer <spammer@people.example>", "Buy now.")
	got := lastInbound(t, m.s)
	if got.Outcome != OutcomeBlocked || got.Folder != "Modbot/Submissions" {
		t.Errorf("blocked sender: %+v", got)
	}
	var state string
	m.s.pool.Get(&state, `SELECT state FROM submissions WHERE author_email = 'spammer@people.example'`)
	if state != "rejected" {
		t.Errorf("state %s", state)
	}
	if after := m.count(`SELECT COUNT(*) FROM outbox`); after != before {
		t.Errorf("a blocked sender was sent %d mails", after-before)
	}
}
