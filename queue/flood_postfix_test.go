//go:build linux

package queue

import (
	"context"
	"testing"
	"time"

	"modbot/mail"
	"modbot/mail/dovecottest"
	"modbot/mail/postfixtest"
)

// The flood of issue 11 §5 against a real Postfix whose
// message_size_limit (40 KiB) is smaller than the flood's digest: Postfix
// refuses it with 552, its items come back at once, the admins are told,
// and the next digests, with the innocent comment, reach the moderator's
// Dovecot mailbox. Skipped, saying why, without Postfix and Dovecot.
func TestFloodCannotHideTheQueuePostfix(t *testing.T) {
	const alice, admin, carol = "alice@mods.example", "admin@forum.example", "carol@people.example"
	dc := dovecottest.Start(t, alice, admin, carol)
	pf := postfixtest.Start(t, postfixtest.Options{
		LMTPAddr: dc.LMTPAddr, Users: dc.Users,
		CatchAll:         map[string]string{"people.example": carol},
		MessageSizeLimit: 40 << 10,
	})
	testFlood(t, mail.NewSender(mail.SMTPConfig{Addr: pf.SMTPAddr, Timeout: 30 * time.Second}),
		func(rcpt string, n int) [][]byte {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, err := dc.Wait(ctx, rcpt, "INBOX", n)
			if err != nil {
				t.Logf("waiting for %d messages to %s: %v", n, rcpt, err)
				got, _ = dc.Messages(rcpt, "INBOX")
			}
			return got
		})
}
