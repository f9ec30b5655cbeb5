package devmail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	moderator = "moderator@forum.example"
	alice     = "alice@mods.example"
	password  = "secret"
)

func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Users == nil {
		opts.Users = map[string]string{moderator: password, alice: password}
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testCtx bounds waits so that a broken server fails the test instead of
// hanging it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
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

// send runs one SMTP transaction and returns the first error, as a client
// would see it.
func send(addr string, auth sasl.Client, from string, to []string, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
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

func header(t *testing.T, raw []byte, name string) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse delivered message: %v\n%s", err, raw)
	}
	return m.Header.Get(name)
}

func TestSMTPDelivery(t *testing.T) {
	tests := []struct {
		name, rcpt, user string
	}{
		{"plus address", "moderator+some-post@forum.example", moderator},
		{"plain address", "moderator@forum.example", moderator},
		{"other case", "Moderator+Post@Forum.Example", moderator},
		{"second user", "alice@mods.example", alice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Options{})
			msg := sample("Comment " + tt.name)
			if err := send(s.SMTPAddr, nil, "carol@example.org", []string{tt.rcpt}, msg); err != nil {
				t.Fatalf("send to %s: %v", tt.rcpt, err)
			}
			got, err := s.Messages(tt.user, "INBOX")
			if err != nil {
				t.Fatalf("Messages: %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("INBOX of %s holds %d messages, want 1", tt.user, len(got))
			}
			raw := got[0]
			if dt := header(t, raw, "Delivered-To"); dt != tt.rcpt {
				t.Errorf("Delivered-To = %q, want %q", dt, tt.rcpt)
			}
			if rp := header(t, raw, "Return-Path"); rp != "<carol@example.org>" {
				t.Errorf("Return-Path = %q, want <carol@example.org>", rp)
			}
			if rcv := header(t, raw, "Received"); !strings.Contains(rcv, "devmail.localhost") {
				t.Errorf("Received = %q, want it to name devmail.localhost", rcv)
			}
			if !bytes.HasSuffix(raw, []byte(msg)) {
				t.Errorf("delivered message does not end with the message sent:\n%s", raw)
			}
		})
	}
}

func TestSMTPRejectsUnknownRecipients(t *testing.T) {
	tests := []struct {
		name, rcpt string
		code       int
		enhanced   smtp.EnhancedCode
	}{
		{"unknown user at our domain", "nobody@forum.example", 550, smtp.EnhancedCode{5, 1, 1}},
		{"unknown plus user", "nobody+x@forum.example", 550, smtp.EnhancedCode{5, 1, 1}},
		{"foreign domain", "carol@example.org", 550, smtp.EnhancedCode{5, 7, 1}},
	}
	s := startServer(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := send(s.SMTPAddr, nil, "carol@example.org", []string{tt.rcpt}, sample("x"))
			var smtpErr *smtp.SMTPError
			if !errors.As(err, &smtpErr) {
				t.Fatalf("send to %s: got %v, want an SMTP error", tt.rcpt, err)
			}
			if smtpErr.Code != tt.code || smtpErr.EnhancedCode != tt.enhanced {
				t.Errorf("send to %s: got %d %v, want %d %v", tt.rcpt, smtpErr.Code, smtpErr.EnhancedCode, tt.code, tt.enhanced)
			}
		})
	}
	got, err := s.Messages(moderator, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("INBOX holds %d messages after refused deliveries, want 0", len(got))
	}
}

func TestSMTPCatchAll(t *testing.T) {
	s := startServer(t, Options{CatchAll: alice})
	if err := send(s.SMTPAddr, nil, moderator, []string{"carol@example.org", "moderator+p@forum.example"}, sample("notification")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Messages(alice, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || header(t, got[0], "Delivered-To") != "carol@example.org" {
		t.Fatalf("catch-all INBOX = %q, want one message delivered to carol@example.org", got)
	}
	got, err = s.Messages(moderator, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("a user's own mail went to the catch-all: moderator INBOX holds %d, want 1", len(got))
	}

	if _, err := Start(Options{Users: map[string]string{alice: "x"}, CatchAll: "nobody@x.example"}); err == nil {
		t.Error("Start with a catch-all that is no user: want an error")
	}
}

func TestSMTPAuth(t *testing.T) {
	s := startServer(t, Options{})
	tests := []struct {
		name     string
		auth     sasl.Client
		wantCode int
	}{
		{"good password", sasl.NewPlainClient("", moderator, password), 0},
		{"bad password", sasl.NewPlainClient("", moderator, "wrong"), 535},
		{"unknown user", sasl.NewPlainClient("", "nobody@forum.example", password), 535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := send(s.SMTPAddr, tt.auth, moderator, []string{alice}, sample("auth "+tt.name))
			var smtpErr *smtp.SMTPError
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Fatalf("send: %v", err)
			case tt.wantCode != 0 && (!errors.As(err, &smtpErr) || smtpErr.Code != tt.wantCode):
				t.Fatalf("send: got %v, want SMTP %d", err, tt.wantCode)
			}
		})
	}
	got, err := s.Messages(alice, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(header(t, got[0], "Received"), "with ESMTPA") {
		t.Errorf("want one authenticated delivery marked ESMTPA, got %q", got)
	}
}

// TestIdleSeesDelivery is what the watcher relies on: mail accepted over
// SMTP reaches a client that is IDLE on the INBOX.
func TestIdleSeesDelivery(t *testing.T) {
	s := startServer(t, Options{})
	exists := make(chan uint32, 16)
	c, err := imapclient.DialInsecure(s.IMAPAddr, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					select {
					case exists <- *data.NumMessages:
					default:
					}
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(moderator, password).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, capName := range []imap.Cap{imap.CapIdle, imap.CapMove, imap.CapUIDPlus} {
		if !c.Caps().Has(capName) {
			t.Errorf("server does not advertise %s", capName)
		}
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	if err := send(s.SMTPAddr, nil, "carol@example.org", []string{"moderator+post@forum.example"}, sample("idle")); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d, want 1", n)
		}
	case <-testCtx(t).Done():
		t.Fatal("no EXISTS while in IDLE after a delivery")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestAppendMessagesWait(t *testing.T) {
	s := startServer(t, Options{})
	ctx := testCtx(t)

	if err := s.Append(moderator, "INBOX", []byte("Subject: one\n\nbare LF body\n")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Wait(ctx, moderator, "INBOX", 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Subject: one\r\n\r\nbare LF body\r\n"; len(got) != 1 || string(got[0]) != want {
		t.Fatalf("INBOX = %q, want [%q]", got, want)
	}

	// A folder that does not exist yet: Wait counts it as empty until the
	// Append creates it.
	done := make(chan error, 1)
	var waited [][]byte
	go func() {
		var err error
		waited, err = s.Wait(ctx, moderator, "Modbot/Submissions", 2)
		done <- err
	}()
	for i := 1; i <= 2; i++ {
		if err := s.Append(moderator, "Modbot/Submissions", []byte(sample(fmt.Sprint("filed ", i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(waited) != 2 || header(t, waited[1], "Subject") != "filed 2" {
		t.Errorf("Wait returned %q, want the two filed messages in order", waited)
	}

	if _, err := s.Messages("nobody@forum.example", "INBOX"); err == nil {
		t.Error("Messages of an unknown user: want an error")
	}
	if err := s.Append("nobody@forum.example", "INBOX", []byte("x")); err == nil {
		t.Error("Append for an unknown user: want an error")
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	s := startServer(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Wait(ctx, moderator, "INBOX", 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context: got %v, want context.Canceled", err)
	}
}

func TestIMAPLogin(t *testing.T) {
	s := startServer(t, Options{})
	tests := []struct {
		name, user, pass string
		ok               bool
	}{
		{"exact", moderator, password, true},
		{"other case", "Moderator@Forum.Example", password, true},
		{"bad password", moderator, "nope", false},
		{"unknown", "nobody@forum.example", password, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Account{Addr: s.IMAPAddr, Username: tt.user, Password: tt.pass}
			_, err := a.Messages(testCtx(t), "INBOX")
			if (err == nil) != tt.ok {
				t.Errorf("login %s: err = %v, want ok=%v", tt.user, err, tt.ok)
			}
		})
	}
	a, _ := s.Account(moderator)
	for _, mbox := range defaultMailboxes {
		if _, err := a.Messages(testCtx(t), mbox); err != nil {
			t.Errorf("default mailbox %s: %v", mbox, err)
		}
	}
}

func TestCRLF(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a", "a"},
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{"\n", "\r\n"},
		{"mixed\r\nand\nlone\rcr", "mixed\r\nand\r\nlone\rcr"},
	}
	for _, tt := range tests {
		if got := string(CRLF([]byte(tt.in))); got != tt.want {
			t.Errorf("CRLF(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
