package daemon

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"modbot/mail"
	"modbot/mail/dovecottest"
	"modbot/queue"
)

const carol = "carol@people.example"

// replyTo builds a moderator's reply to a digest the way a mail client
// does: the command typed above the quoted digest.
func replyTo(digest *mail.Message, from, command string) []byte {
	var quoted strings.Builder
	for _, line := range strings.Split(digest.Text, "\n") {
		quoted.WriteString("> " + line + "\r\n")
	}
	return []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Re: %s\r\nMessage-ID: <reply-%d@mods.example>\r\n"+
		"In-Reply-To: <%s>\r\nReferences: <%s>\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"%s\r\n\r\nOn Mon, 2 Jan 2026 at 15:04, Test Forum moderation wrote:\r\n%s",
		from, digest.ReplyTo[0].Addr, digest.Subject, time.Now().UnixNano(), digest.MessageID, digest.MessageID,
		time.Now().Format(time.RFC1123Z), command, quoted.String()))
}

func parseAll(t *testing.T, raws [][]byte) []*mail.Message {
	t.Helper()
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

// waitFor waits until user's mailbox holds a message whose subject
// contains subject, and returns it.
func waitFor(t *testing.T, ms mailSystem, user, subject string) *mail.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		raws, err := ms.Messages(user, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range parseAll(t, raws) {
			if strings.Contains(m.Subject, subject) {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	raws, _ := ms.Messages(user, "INBOX")
	var subjects []string
	for _, m := range parseAll(t, raws) {
		subjects = append(subjects, m.Subject)
	}
	t.Fatalf("%s never received %q; has %q", user, subject, subjects)
	return nil
}

// testModerate: a digest reaches alice, she replies "approve 1" above the
// quote, and the comment is published, carol is told, alice gets a
// confirmation threaded to her reply, and her reply is filed. Bob then
// rejects the same item and is told alice was first.
func testModerate(t *testing.T, ms mailSystem, imapAddr, smtpAddr string) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, imapAddr, smtpAddr)
	cfg.Moderation.UndoGrace = 1
	_, _ = startDaemon(t, cfg)
	sub := []byte("From: Carol <carol@people.example>\r\nTo: moderator+uk-meta-encryption@forum.example\r\n" +
		"Subject: my comment\r\nMessage-ID: <carol-1@people.example>\r\nContent-Type: text/plain\r\n\r\nEncryption protects everyone.\r\n")
	if err := ms.Append(inbox, "INBOX", sub); err != nil {
		t.Fatal(err)
	}
	received := waitFor(t, ms, carol, "received")
	if !strings.Contains(received.Text, "Encryption protects everyone.") || received.InReplyTo[0] != "carol-1@people.example" {
		t.Errorf("received notice: %q in reply to %v", received.Text, received.InReplyTo)
	}
	digestA := waitFor(t, ms, alice, "to moderate")
	digestB := waitFor(t, ms, bob, "to moderate")

	if err := ms.Append(inbox, "INBOX", replyTo(digestA, "Alice <alice@mods.example>", "approve 1")); err != nil {
		t.Fatal(err)
	}
	conf := waitFor(t, ms, alice, "Re: [")
	if !strings.Contains(conf.Text, "#1001") || !strings.Contains(conf.Text, "approved") || len(conf.InReplyTo) == 0 || !strings.HasPrefix(conf.InReplyTo[0], "reply-") {
		t.Errorf("alice's confirmation: in reply to %v:\n%s", conf.InReplyTo, conf.Text)
	}
	published := waitFor(t, ms, carol, "published")
	if !strings.Contains(published.Text, "http://forum.example/posts/uk-meta-encryption#c") {
		t.Errorf("approved notice lacks the link:\n%s", published.Text)
	}
	if got := strings.Join(published.References, " "); !strings.Contains(got, "carol-1@people.example") {
		t.Errorf("approved notice is not in the comment's thread: References %q", got)
	}

	s, err := queue.OpenReadOnly(context.Background(), filepath.Join(dir, "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var row struct {
		Author string `db:"author_name"`
		Body   string `db:"body"`
	}
	if err := s.DB().Get(&row, `SELECT author_name, body FROM comments WHERE post_slug = 'uk-meta-encryption'`); err != nil {
		t.Fatalf("no published comment: %v", err)
	}
	if row.Author != "Carol" || strings.TrimSpace(row.Body) != "Encryption protects everyone." {
		t.Errorf("published %+v", row)
	}
	waitFiled(t, imapAddr, mail.FolderReplies, 1, "$Reply")
	// The inbox reads like a log: the submission's message now says
	// approved, not pending.
	waitFiled(t, imapAddr, mail.FolderSubmissions, 1, "$Approved")
	if flags, _, err := folderFlags(imapAddr, mail.FolderSubmissions); err != nil || hasFlag(flags[0], "$Pending") {
		t.Errorf("submission still tagged $Pending after approval: %v %v", flags, err)
	}

	// Bob, working from his own digest, comes second.
	if err := ms.Append(inbox, "INBOX", replyTo(digestB, "Bob <bob@mods.example>", "reject 1 rule 11")); err != nil {
		t.Fatal(err)
	}
	confB := waitFor(t, ms, bob, "Re: [")
	if !strings.Contains(confB.Text, "alice@mods.example") || !strings.Contains(confB.Text, "#1001") {
		t.Errorf("bob is not told alice decided first:\n%s", confB.Text)
	}
	var state string
	s.DB().Get(&state, `SELECT state FROM submissions WHERE id = 1001`)
	if state != "approved" {
		t.Errorf("state %q after bob's late reject, want approved", state)
	}
}

func TestModerateInProcess(t *testing.T) {
	ms, imapAddr, smtpAddr := startDevmail(t)
	testModerate(t, ms, imapAddr, smtpAddr)
}

func TestModerateDovecot(t *testing.T) {
	dc := dovecottest.Start(t, inbox, alice, bob, carol)
	testModerate(t, dc, dc.IMAPAddr, dc.SMTPAddr)
}

// A moderator answers a feedback message with "reply N: …": the sender
// gets the answer, and the message in Modbot/Feedback is flagged answered.
func TestAnswerFeedbackInProcess(t *testing.T) {
	ms, imapAddr, smtpAddr := startDevmail(t)
	testAnswerFeedback(t, ms, imapAddr, smtpAddr)
}

func TestAnswerFeedbackDovecot(t *testing.T) {
	dc := dovecottest.Start(t, inbox, alice, bob, carol)
	testAnswerFeedback(t, dc, dc.IMAPAddr, dc.SMTPAddr)
}

// testAnswerFeedback also rejects and holds comments, so the keywords of
// every decision are seen over IMAP.
func testAnswerFeedback(t *testing.T, ms mailSystem, imapAddr, smtpAddr string) {
	cfg := testConfig(t, t.TempDir(), imapAddr, smtpAddr)
	_, _ = startDaemon(t, cfg)
	fb := []byte("From: Carol <carol@people.example>\r\nTo: moderator@forum.example\r\nSubject: Re: your comment\r\n" +
		"Message-ID: <carol-q@people.example>\r\nIn-Reply-To: <notice.gone@modbot.forum.example>\r\n\r\nWhy the wait?\r\n")
	if err := ms.Append(inbox, "INBOX", fb); err != nil {
		t.Fatal(err)
	}
	digest := waitFor(t, ms, alice, "moderate")
	if !strings.Contains(digest.Text, "Why the wait?") {
		t.Fatalf("feedback not in the digest:\n%s", digest.Text)
	}
	for i, body := range []string{"To be rejected.", "To be held."} {
		if err := ms.Append(inbox, "INBOX", submission(i+1, body)); err != nil {
			t.Fatal(err)
		}
	}
	waitFiled(t, imapAddr, mail.FolderSubmissions, 2, "$Pending")
	digest2 := waitFor(t, ms, bob, "2 comments")
	if err := ms.Append(inbox, "INBOX", replyTo(digest2, "Bob <bob@mods.example>", "reject 1 rule 5\nhold 2")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var flags [][]imap.Flag
	for time.Now().Before(deadline) {
		flags, _, _ = folderFlags(imapAddr, mail.FolderSubmissions)
		if len(flags) == 2 && (hasFlag(flags[0], "$Rejected") && hasFlag(flags[1], "$Held") || hasFlag(flags[1], "$Rejected") && hasFlag(flags[0], "$Held")) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(flags) != 2 || hasFlag(flags[0], "$Pending") || hasFlag(flags[1], "$Pending") {
		t.Errorf("after reject and hold, the submissions are tagged %v", flags)
	}
	if err := ms.Append(inbox, "INBOX", replyTo(digest, "Alice <alice@mods.example>", "reply 1: Moderators are volunteers; soon.")); err != nil {
		t.Fatal(err)
	}
	// Carol's address has not answered a notice yet: the answer does not
	// echo her subject (issue 11 §4: nothing a sender chose is repeated
	// to an address that may not be theirs).
	answer := waitFor(t, ms, carol, "Re: your message to the moderators")
	if !strings.Contains(answer.Text, "Moderators are volunteers; soon.") || strings.Contains(answer.Text, alice) {
		t.Errorf("answer:\n%s", answer.Text)
	}
	waitFiled(t, imapAddr, mail.FolderFeedback, 1, `\Answered`)
}
