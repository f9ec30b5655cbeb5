package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"modbot/queue"
)

// TestReviseAfterDigestInProcess is issue 11's attack end to end, with
// the mail that actually arrives: carol's comment is in alice's digest;
// carol asks a question by replying to her "received" notice (feedback,
// the comment unchanged, carol told), then changes the comment through
// its revision address; alice's "approve 1" from the digest that showed
// the old text publishes nothing and says why; her next digest, sent at
// once, shows the new text, and approving from it publishes that.
func TestReviseAfterDigestInProcess(t *testing.T) {
	ms, imapAddr, smtpAddr := startDevmail(t)
	dir := t.TempDir()
	cfg := testConfig(t, dir, imapAddr, smtpAddr)
	cfg.Moderation.UndoGrace = 1
	_, _ = startDaemon(t, cfg)
	send := func(raw string) {
		t.Helper()
		if err := ms.Append(inbox, "INBOX", []byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
			t.Fatal(err)
		}
	}
	send("From: Carol <carol@people.example>\nTo: moderator+uk-meta-encryption@forum.example\nSubject: my comment\n" +
		"Message-ID: <carol-1@people.example>\nContent-Type: text/plain\n\nEncryption protects everyone.\n")
	received := waitFor(t, ms, carol, "received")
	revise := regexp.MustCompile(`moderator\+r-[a-z0-9]+@forum\.example`).FindString(received.Text)
	if revise == "" {
		t.Fatalf("the received notice gives no revision address:\n%s", received.Text)
	}
	digest := waitForText(t, ms, alice, "to moderate", "Encryption protects everyone.")

	// A question, as a reply to the notice.
	send(fmt.Sprintf("From: Carol <carol@people.example>\nTo: moderator@forum.example\nSubject: Re: %s\n"+
		"Message-ID: <carol-2@people.example>\nIn-Reply-To: <%s>\nReferences: <carol-1@people.example> <%s>\nContent-Type: text/plain\n\n"+
		"When will it be published?\n\n> Thank you for your comment\n", received.Subject, received.MessageID, received.MessageID))
	told := waitFor(t, ms, carol, "reached the moderators")
	if text := strings.Join(strings.Fields(told.Text), " "); !strings.Contains(text, "#1001") || !strings.Contains(text, "was not changed") ||
		!strings.Contains(text, revise) || strings.Contains(text, "When will") {
		t.Errorf("carol's notice about her question:\n%s", told.Text)
	}

	// The revision.
	send("From: Carol <carol@people.example>\nTo: " + revise + "\nSubject: new text\n" +
		"Message-ID: <carol-3@people.example>\nContent-Type: text/plain\n\nBuy pills at http://pills.example\n")
	changed := waitFor(t, ms, carol, "was changed")
	if !strings.Contains(changed.Text, "#1001") || strings.Contains(changed.Text, "pills") {
		t.Errorf("carol's revision notice:\n%s", changed.Text)
	}

	// Alice approves from the digest that showed the old text.
	if err := ms.Append(inbox, "INBOX", replyTo(digest, "Alice <alice@mods.example>", "approve 1")); err != nil {
		t.Fatal(err)
	}
	conf := waitForText(t, ms, alice, "Re: [", "was revised after this digest")
	if !strings.Contains(conf.Text, "#1001") || strings.Contains(conf.Text, "Applied") {
		t.Errorf("alice's confirmation:\n%s", conf.Text)
	}
	s, err := queue.OpenReadOnly(context.Background(), filepath.Join(dir, "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.DB().Get(&n, `SELECT COUNT(*) FROM comments`); err != nil || n != 0 {
		t.Fatalf("%d comments published from the old digest (%v)", n, err)
	}

	// The next digest (no reminder wait) shows the new text; approving
	// from it publishes what alice saw.
	next := waitForText(t, ms, alice, "to moderate", "Buy pills at")
	if strings.Contains(next.Text, "Encryption protects everyone.") || !strings.Contains(next.Text, "1. #1001") {
		t.Fatalf("next digest:\n%s", next.Text)
	}
	if err := ms.Append(inbox, "INBOX", replyTo(next, "Alice <alice@mods.example>", "approve 1")); err != nil {
		t.Fatal(err)
	}
	approved := waitForText(t, ms, alice, "Re: [", "Applied")
	if !strings.Contains(approved.Text, "Buy pills at http://pills.example") {
		t.Errorf("the confirmation does not quote the published text:\n%s", approved.Text)
	}
	deadline := time.Now().Add(30 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		if err := s.DB().Get(&body, `SELECT body FROM comments WHERE submission_id = 1001`); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.TrimSpace(body) != "Buy pills at http://pills.example" {
		t.Errorf("published %q, want the text alice approved", body)
	}
}
