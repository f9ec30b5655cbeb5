package dovecottest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"modbot/mail/mastertest"
)

const (
	moderator = "moderator@forum.example"
	alice     = "alice@mods.example"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sample(subject string) string {
	return "From: Carol <carol@example.org>\r\n" +
		"To: moderator@forum.example\r\n" +
		"Subject: " + subject + "\r\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@example.org>\r\n" +
		"\r\n" +
		"I think the article is right.\r\n"
}

func header(t *testing.T, raw []byte, name string) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	return m.Header.Get(name)
}

func send(addr, from string, to []string, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return err
		}
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

func TestAppendAndRead(t *testing.T) {
	s := Start(t, moderator, alice)
	tests := []struct {
		user, mailbox string
	}{
		{moderator, "INBOX"},
		{alice, "INBOX"},
		{moderator, "Modbot/Submissions"}, // created by Append
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.mailbox, func(t *testing.T) {
			raw := "Subject: to " + tt.mailbox + "\n\nwritten with bare LF\n"
			if err := s.Append(tt.user, tt.mailbox, []byte(raw)); err != nil {
				t.Fatalf("Append: %v", err)
			}
			got, err := s.Messages(tt.user, tt.mailbox)
			if err != nil {
				t.Fatalf("Messages: %v", err)
			}
			want := strings.ReplaceAll(raw, "\n", "\r\n")
			if len(got) != 1 || string(got[0]) != want {
				t.Errorf("%s of %s = %q, want [%q]", tt.mailbox, tt.user, got, want)
			}
		})
	}
	if err := s.Append("nobody@forum.example", "INBOX", []byte(sample("x"))); err == nil {
		t.Error("Append as an unknown user: want an error")
	}
}

func TestRelayDelivery(t *testing.T) {
	s := Start(t, moderator)
	ctx := testCtx(t)

	rcpt := "moderator+x@forum.example"
	msg := sample("relayed")
	if err := send(s.SMTPAddr, "carol@example.org", []string{rcpt}, msg); err != nil {
		t.Fatalf("send to %s: %v", rcpt, err)
	}
	got, err := s.Wait(ctx, moderator, "INBOX", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("INBOX holds %d messages, want 1", len(got))
	}
	if dt := header(t, got[0], "Delivered-To"); dt != rcpt {
		t.Errorf("Delivered-To = %q, want %q", dt, rcpt)
	}
	if rp := header(t, got[0], "Return-Path"); rp != "<carol@example.org>" {
		t.Errorf("Return-Path = %q, want <carol@example.org>", rp)
	}
	if header(t, got[0], "Subject") != "relayed" || !bytes.HasSuffix(got[0], []byte("I think the article is right.\r\n")) {
		t.Errorf("delivered message lost its content:\n%s", got[0])
	}

	err = send(s.SMTPAddr, "carol@example.org", []string{"nobody@forum.example"}, sample("lost"))
	var smtpErr *smtp.SMTPError
	if !errors.As(err, &smtpErr) || smtpErr.Code != 550 || smtpErr.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
		t.Errorf("send to an unknown user: got %v, want 550 5.1.1", err)
	}
}

func TestRestartKeepsMail(t *testing.T) {
	s := Start(t, moderator)
	addr := s.IMAPAddr
	if err := s.Append(moderator, "INBOX", []byte(sample("before restart"))); err != nil {
		t.Fatal(err)
	}

	s.Restart(t)

	if s.IMAPAddr != addr {
		t.Errorf("IMAP address changed across Restart: %s, then %s", addr, s.IMAPAddr)
	}
	if err := send(s.SMTPAddr, "carol@example.org", []string{"moderator+y@forum.example"}, sample("after restart")); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	got, err := s.Wait(testCtx(t), moderator, "INBOX", 2)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, raw := range got {
		subjects = append(subjects, header(t, raw, "Subject"))
	}
	if strings.Join(subjects, ",") != "before restart,after restart" {
		t.Errorf("INBOX after restart holds %q, want the old and the new message", subjects)
	}
}

// TestStopEndsIdle: a client in IDLE sees its connection close when
// Dovecot stops, and can log in again after Restart.
func TestStopEndsIdle(t *testing.T) {
	s := Start(t, moderator)
	c, err := imapclient.DialInsecure(s.IMAPAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(moderator, s.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}

	s.Stop()
	select {
	case <-c.Closed():
	case <-testCtx(t).Done():
		t.Fatal("IDLE connection still open after Stop")
	}
	if err := idle.Wait(); err == nil {
		t.Error("IDLE ended without an error when the server stopped")
	}
	if _, err := s.Messages(moderator, "INBOX"); err == nil {
		t.Error("Messages while stopped: want an error")
	}

	s.Restart(t)
	if _, err := s.Messages(moderator, "INBOX"); err != nil {
		t.Errorf("Messages after Restart: %v", err)
	}
}

// TestPortTaken: when another process holds the port, starting fails with
// mastertest.ErrAddrInUse (which Start and Restart retry on) instead of waiting, and
// Restart succeeds once the port is free again.
func TestPortTaken(t *testing.T) {
	s := Start(t, moderator)
	s.Stop()
	ln, err := net.Listen("tcp", s.IMAPAddr)
	if err != nil {
		t.Fatalf("take the stopped server's port: %v", err)
	}
	err = s.start()
	ln.Close()
	if !errors.Is(err, mastertest.ErrAddrInUse) {
		t.Fatalf("start on a taken port: got %v, want mastertest.ErrAddrInUse", err)
	}
	s.Restart(t)
	if _, err := s.Messages(moderator, "INBOX"); err != nil {
		t.Errorf("Messages after Restart: %v", err)
	}
}
