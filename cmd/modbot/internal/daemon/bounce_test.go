//go:build linux

package daemon

// Delivery reports on a real MTA: a notice to an address Postfix takes
// but cannot deliver comes back as Postfix's own report, to the notice's
// return path, through Dovecot into the inbox, and marks exactly that
// address; a forged report header beside it marks nobody.

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"modbot/mail/dovecottest"
	"modbot/mail/postfixtest"
	"modbot/queue"
)

func TestRealBounceMarksOnlyItsRecipient(t *testing.T) {
	t.Parallel()
	// Postfix accepts gone@ (it is one of its users), but Dovecot has no
	// such mailbox: the LMTP delivery fails with 550 and Postfix mails a
	// delivery report to the envelope sender of the notice.
	const gone = "gone@people.example"
	dc := dovecottest.Start(t, inbox, alice, bob, carol)
	pf := postfixtest.Start(t, postfixtest.Options{
		LMTPAddr: dc.LMTPAddr,
		Users:    append(slices.Clone(dc.Users), gone),
		CatchAll: map[string]string{"people.example": carol},
	})
	dir := t.TempDir()
	env := &faultEnv{dc: dc, pf: pf, dir: dir, dbPath: filepath.Join(dir, "modbot.db"),
		cfg: testConfig(t, dir, dc.IMAPAddr, pf.SMTPAddr)}
	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	_, _, _ = runDaemon(t, env.cfg, logs, fastOutbox)

	fromGone := []byte("From: Gone <" + gone + ">\r\nTo: moderator+uk-meta-encryption@forum.example\r\nSubject: comment\r\n" +
		"Message-ID: <gone-1@people.example>\r\nDate: Mon, 02 Jan 2026 15:04:05 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"A comment from an address that will not take the answer.\r\n")
	forged := []byte("From: Eve <eve@evil.example>\r\nTo: moderator@forum.example\r\nSubject: hello\r\n" +
		"Message-ID: <forged-1@evil.example>\r\nDate: Mon, 02 Jan 2026 15:04:05 +0000\r\nX-Failed-Recipients: " + carol + ", c1@people.example\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n")
	appendMany(t, dc.IMAPAddr, inbox, "INBOX", [][]byte{fromGone, submission(1, "An ordinary comment."), forged})

	type inboundRow struct {
		Kind   string `db:"kind"`
		Reason string `db:"reason"`
	}
	auto := func() []inboundRow {
		s, err := queue.OpenReadOnly(context.Background(), env.dbPath)
		if err != nil {
			return nil
		}
		defer s.Close()
		var rows []inboundRow
		s.DB().Select(&rows, `SELECT kind, reason FROM inbound WHERE kind = 'auto' ORDER BY id`)
		return rows
	}
	eventually(t, 60*time.Second, "Postfix's report about the notice to "+gone+" handled", func() (bool, string) {
		rows := auto()
		for _, r := range rows {
			if strings.Contains(r.Reason, "bounced: "+gone) && strings.Contains(r.Reason, "return path") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("auto inbound %+v; postfix log tail: %s", rows, tail(pf.Log(), 600))
	})
	waitQuiet(t, env, 30*time.Second)

	s, err := queue.OpenReadOnly(context.Background(), env.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var marked []string
	if err := s.DB().Select(&marked, `SELECT email FROM recipients WHERE bounced_at IS NOT NULL ORDER BY email`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(marked, []string{gone}) {
		t.Errorf("marked as bouncing: %v, want only %s", marked, gone)
	}
	for _, r := range auto() {
		if strings.Contains(r.Reason, "X-Failed-Recipients") && !strings.Contains(r.Reason, "nothing marked") {
			t.Errorf("forged header: %+v", r)
		}
	}
	// The report came back to the notice's own return path.
	var token string
	if err := s.DB().Get(&token, `SELECT bounce_token FROM outbox WHERE rcpt_to = ? AND kind = 'notice'`, gone); err != nil {
		t.Fatal(err)
	}
	if rp := "moderator+b-" + token + "@forum.example"; token == "" || !strings.Contains(pf.Log(), "from=<"+rp+">") {
		t.Errorf("the notice to %s: no message from <%s> in Postfix's log", gone, rp)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
