package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"modbot/mail"
	"modbot/queue"
)

// TestBackscatterInProcess is issue 11 §4 against the running daemon: 30
// phishing "comments" from case and +tag variants of carol's address
// bring her mailbox at most max_notices_per_hour notices, none with the
// phishing link live or the bank's display name. Dave, who answers a
// notice sent to him, gets his next notice in full.
func TestBackscatterInProcess(t *testing.T) {
	ms, imapAddr, smtpAddr := startDevmail(t)
	if err := ms.AddUser("dave@people.example", password); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := testConfig(t, dir, imapAddr, smtpAddr)
	cfg.Moderation.MaxNoticesPerHour = 3
	cfg.Moderation.MaxSubmissionsPerHour = 100
	_, _ = startDaemon(t, cfg)

	variants := []string{"cArol@people.example", "CAROL@people.example", "carol+x@people.example", "Carol+%d@People.Example", "carol@PEOPLE.EXAMPLE"}
	for i := 0; i < 30; i++ {
		addr := variants[i%len(variants)]
		if strings.Contains(addr, "%d") {
			addr = fmt.Sprintf(addr, i)
		}
		raw := fmt.Sprintf("From: \"Example Bank Security Team - call +1 555 0100\" <%s>\r\nTo: moderator+uk-meta-encryption@forum.example\r\n"+
			"Subject: Urgent: your account is locked\r\nMessage-ID: <phish-%d@attacker.example>\r\nContent-Type: text/plain\r\n\r\n"+
			"Your account is locked. Verify now at https://examp1e-bank.example/login?id=%d or it will be closed.\r\n", addr, i, i)
		if err := ms.Append(inbox, "INBOX", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	waitFiled(t, imapAddr, mail.FolderSubmissions, 30, "$Pending")
	s, err := queue.OpenReadOnly(context.Background(), filepath.Join(dir, "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitOutboxSent(t, s)

	raws, err := ms.Messages(carol, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	got := parseAll(t, raws)
	if len(got) == 0 || len(got) > 3 {
		t.Errorf("carol's mailbox holds %d notices, want 1 to 3 (max_notices_per_hour)", len(got))
	}
	live := regexp.MustCompile(`(?i)https?://|examp1e-bank\.example`)
	for _, n := range got {
		for part, text := range map[string]string{"To": fmt.Sprint(n.To), "Subject": n.Subject, "text": n.Text, "html": n.HTML} {
			if strings.Contains(text, "Example Bank") || strings.Contains(text, "Urgent") {
				t.Errorf("%s carries the sender's display name or subject:\n%s", part, text)
			}
			if part != "html" && live.MatchString(strings.ReplaceAll(text, "http://forum.example", "")) {
				t.Errorf("%s carries a live link:\n%s", part, text)
			}
		}
		if strings.Contains(n.HTML, "examp1e-bank.example") {
			t.Errorf("html carries the phishing host:\n%s", n.HTML)
		}
	}

	// Dave comments, answers his notice, and is believed from then on.
	submit := func(id, body string) {
		raw := "From: \"Dave Smith\" <dave@people.example>\r\nTo: moderator+uk-meta-encryption@forum.example\r\n" +
			"Subject: my comment\r\nMessage-ID: <" + id + "@people.example>\r\nContent-Type: text/plain\r\n\r\n" + body + "\r\n"
		if err := ms.Append(inbox, "INBOX", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	submit("dave-1", "The report is at https://example.org/report.")
	first := waitFor(t, ms, "dave@people.example", "received")
	if strings.Contains(first.Text, "https://example.org") || strings.Contains(first.Text, "Dave Smith") {
		t.Errorf("first notice to dave is not guarded:\n%s", first.Text)
	}
	answer := fmt.Sprintf("From: Dave Smith <dave@people.example>\r\nTo: moderator@forum.example\r\nSubject: Re: %s\r\n"+
		"Message-ID: <dave-ans@people.example>\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\nContent-Type: text/plain\r\n\r\nThank you!\r\n",
		first.Subject, first.MessageID, first.MessageID)
	if err := ms.Append(inbox, "INBOX", []byte(answer)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var n int
		if err := s.DB().Get(&n, `SELECT COUNT(*) FROM recipients WHERE email_key = 'dave@people.example' AND proven_at IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("dave's answer to his notice never proved his address")
		}
	}
	submit("dave-2", "And the figures are at https://example.org/figures.")
	deadline := time.Now().Add(30 * time.Second)
	for {
		raws, _ := ms.Messages("dave@people.example", "INBOX")
		// Dave's answer brought him a note that it reached the
		// moderators; the notice of interest is the one about dave-2.
		var second []*mail.Message
		for _, n := range parseAll(t, raws) {
			if strings.Contains(n.Text, "figures") {
				second = append(second, n)
			}
		}
		if len(second) > 0 {
			full := second[0]
			if !strings.Contains(full.Text, "https://example.org/figures") || !strings.Contains(full.Text, "Dave Smith") || full.To[0].Name != "Dave Smith" {
				t.Errorf("the proven address got a guarded notice:\nTo: %v\n%s", full.To, full.Text)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("dave's second notice never came")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitOutboxSent waits until the outbox has nothing left to send.
func waitOutboxSent(t *testing.T, s *queue.Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := s.DB().Get(&n, `SELECT COUNT(*) FROM outbox WHERE state = 'pending'`); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails still pending", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
