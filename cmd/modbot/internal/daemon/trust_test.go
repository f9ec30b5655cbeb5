package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modbot/mail"
	"modbot/mail/dovecottest"
	"modbot/queue"
)

// answer builds a moderator's answer to a mail modbot sent, as a mail
// client does: to its Reply-To when it has one, else to its From.
func answer(to *mail.Message, from, command string) []byte {
	rcpt := to.From.Addr
	if len(to.ReplyTo) > 0 {
		rcpt = to.ReplyTo[0].Addr
	}
	return []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Re: %s\r\nMessage-ID: <answer-%d@mods.example>\r\n"+
		"In-Reply-To: <%s>\r\nReferences: <%s>\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"%s\r\n\r\n> %s\r\n",
		from, rcpt, to.Subject, time.Now().UnixNano(), to.MessageID, to.MessageID,
		time.Now().Format(time.RFC1123Z), command, strings.ReplaceAll(to.Text, "\n", "\n> ")))
}

// Issue 11 §9: the confirmation says 'Reply "undo" before …'; a moderator
// who does exactly that, answering the confirmation that arrived, has the
// decision undone and is told so, and the comment is no longer published.
func TestUndoByAnsweringConfirmationInProcess(t *testing.T) {
	ms, imapAddr, smtpAddr := startDevmail(t)
	testUndoByAnsweringConfirmation(t, ms, imapAddr, smtpAddr)
}

func TestUndoByAnsweringConfirmationDovecot(t *testing.T) {
	dc := dovecottest.Start(t, inbox, alice, bob, carol)
	testUndoByAnsweringConfirmation(t, dc, dc.IMAPAddr, dc.SMTPAddr)
}

func testUndoByAnsweringConfirmation(t *testing.T, ms mailSystem, imapAddr, smtpAddr string) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, imapAddr, smtpAddr)
	_, _ = startDaemon(t, cfg)
	if err := ms.Append(inbox, "INBOX", submission(1, "Encryption protects everyone.")); err != nil {
		t.Fatal(err)
	}
	digest := waitFor(t, ms, alice, "to moderate")
	if err := ms.Append(inbox, "INBOX", replyTo(digest, "Alice <alice@mods.example>", "approve 1")); err != nil {
		t.Fatal(err)
	}
	conf := waitFor(t, ms, alice, "Re: [")
	if !strings.Contains(conf.Text, "undo") {
		t.Fatalf("the confirmation offers no undo:\n%s", conf.Text)
	}
	if err := ms.Append(inbox, "INBOX", answer(conf, "Alice <alice@mods.example>", "undo")); err != nil {
		t.Fatal(err)
	}
	undone := waitForText(t, ms, alice, "Re: [", "pending again")
	if !strings.Contains(undone.Text, "#1001") {
		t.Errorf("the undo confirmation does not name #1001:\n%s", undone.Text)
	}
	waitFiled(t, imapAddr, mail.FolderReplies, 2, "$Reply")

	s, err := queue.OpenReadOnly(context.Background(), filepath.Join(dir, "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var state string
	var comments, feedback int
	s.DB().Get(&state, `SELECT state FROM submissions WHERE id = 1001`)
	s.DB().Get(&comments, `SELECT COUNT(*) FROM comments`)
	s.DB().Get(&feedback, `SELECT COUNT(*) FROM feedback`)
	if state != "pending" || comments != 0 || feedback != 0 {
		t.Errorf("after the undo: state %q, %d comments published, %d feedback", state, comments, feedback)
	}
}
