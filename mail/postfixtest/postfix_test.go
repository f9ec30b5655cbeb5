package postfixtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"modbot/mail/dovecottest"
)

const (
	alice = "alice@mods.example"
	carol = "carol@people.example"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func startBoth(t *testing.T) (*dovecottest.Server, *Server) {
	t.Helper()
	dc := dovecottest.Start(t, alice, carol)
	pf := Start(t, Options{LMTPAddr: dc.LMTPAddr, Users: dc.Users, CatchAll: map[string]string{"people.example": carol}})
	return dc, pf
}

func message(id string) string {
	return "From: Modbot <moderator@forum.example>\r\nTo: someone\r\nSubject: test " + id + "\r\n" +
		"Message-ID: <" + id + "@postfixtest.example>\r\n\r\nHello.\r\n"
}

func send(addr, to, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.localhost"); err != nil {
		return err
	}
	if err := c.Mail("moderator@forum.example", nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// reply returns the code and the enhanced code of an SMTP error reply.
func reply(err error) (int, string) {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e := se.EnhancedCode
		return se.Code, fmt.Sprintf("%d.%d.%d", e[0], e[1], e[2])
	}
	return 0, ""
}

// Mail sent to Postfix lands in Dovecot: to a user, and to any other
// address of a catch-all domain.
func TestDelivery(t *testing.T) {
	dc, pf := startBoth(t)
	for i, to := range []string{alice, "c42@people.example", "moderator+plus@people.example"} {
		if err := send(pf.SMTPAddr, to, message(fmt.Sprint("d", i))); err != nil {
			t.Fatalf("send to %s: %v", to, err)
		}
	}
	msgs, err := dc.Wait(testCtx(t), alice, "INBOX", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msgs[0]), "<d0@postfixtest.example>") {
		t.Errorf("alice got:\n%s", msgs[0])
	}
	if _, err := dc.Wait(testCtx(t), carol, "INBOX", 2); err != nil {
		t.Fatalf("catch-all: %v", err)
	}
	// Dovecot saves a message before Postfix's queue manager removes its
	// queue file: wait for the queue to drain, not for a moment.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		n, err := pf.Queued()
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("Queued = %d, %v after delivery; want 0", n, err)
			break
		}
	}
	if got := pf.Accepted(); got["d0@postfixtest.example"] != 1 || len(got) != 3 {
		t.Errorf("Accepted = %v, want d0, d1 and d2 once", got)
	}
}

// What Postfix refuses at RCPT, with the code a client must act on.
func TestRefusals(t *testing.T) {
	_, pf := startBoth(t)
	tests := []struct {
		to       string
		code     int
		enhanced string
		text     string
	}{
		{"nobody@mods.example", 550, "5.1.1", "User unknown"},              // not a user, no catch-all
		{"someone@elsewhere.example", 554, "5.7.1", "Relay access denied"}, // never relayed
	}
	for _, tt := range tests {
		err := send(pf.SMTPAddr, tt.to, message("r"))
		code, enh := reply(err)
		if code != tt.code || enh != tt.enhanced || !strings.Contains(fmt.Sprint(err), tt.text) {
			t.Errorf("send to %s: %v (%s); want %d %s with %q", tt.to, err, enh, tt.code, tt.enhanced, tt.text)
		}
	}
}

// SetReply changes Postfix's answer at once, in an open session too, and
// counts the attempts.
func TestSetReply(t *testing.T) {
	dc, pf := startBoth(t)
	if err := pf.SetReply(alice, "450 4.2.1 mailbox busy for the test"); err != nil {
		t.Fatal(err)
	}
	if err := pf.SetReply("", "550 5.7.1 everyone refused"); err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(pf.SMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("moderator@forum.example", nil); err != nil {
		t.Fatal(err)
	}
	err = c.Rcpt(alice, nil)
	if code, enh := reply(err); code != 450 || enh != "4.2.1" || !strings.Contains(err.Error(), "mailbox busy for the test") {
		t.Errorf("RCPT alice: %v (%s); want 450 4.2.1 with the text", err, enh)
	}
	err = c.Rcpt(carol, nil)
	if code, enh := reply(err); code != 550 || enh != "5.7.1" || !strings.Contains(err.Error(), "everyone refused") {
		t.Errorf("RCPT carol: %v (%s); want 550 5.7.1 with the text", err, enh)
	}
	pf.SetReply(alice, "")
	pf.SetReply("", "")
	if err := c.Rcpt(alice, nil); err != nil {
		t.Fatalf("RCPT alice after clearing: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(message("after")))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if _, err := dc.Wait(testCtx(t), alice, "INBOX", 1); err != nil {
		t.Fatal(err)
	}
	if got := pf.RcptAttempts(alice); got != 2 {
		t.Errorf("RcptAttempts(alice) = %d, want 2", got)
	}
	for _, bad := range []string{"250 ok", "450 5.1.1 mixed classes", "550 refused"} {
		if err := pf.SetReply(alice, bad); err == nil {
			t.Errorf("SetReply(%q) accepted", bad)
		}
	}
}

// A stopped Postfix refuses connections; mail it had accepted but not
// delivered (Dovecot was down) is delivered after it starts again.
func TestStopKeepsQueue(t *testing.T) {
	dc, pf := startBoth(t)
	dc.Stop()
	if err := send(pf.SMTPAddr, alice, message("queued")); err != nil {
		t.Fatalf("send with dovecot down: %v", err)
	}
	pf.Stop()
	if err := send(pf.SMTPAddr, alice, message("refused")); err == nil {
		t.Fatal("a stopped postfix accepted mail")
	}
	if n, err := pf.Queued(); err != nil || n != 1 {
		t.Fatalf("Queued = %d, %v while stopped; want 1", n, err)
	}
	pf.Start(t)
	dc.Restart(t)
	msgs, err := dc.Wait(testCtx(t), alice, "INBOX", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || !strings.Contains(string(msgs[0]), "<queued@postfixtest.example>") {
		t.Errorf("alice got %d messages:\n%s", len(msgs), msgs)
	}
}
