package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpTestBackend records what it accepts and fails on demand.
type smtpTestBackend struct {
	mu    sync.Mutex
	msgs  []smtpTestMsg
	conns []*smtp.Conn

	user, pass string           // when set, AUTH is required
	mailErr    error            // MAIL FROM answer
	rcptErr    map[string]error // RCPT TO answer per recipient
	dataErr    error            // answer after the data
}

type smtpTestMsg struct {
	From string
	To   []string
	Data string
	User string
}

func (be *smtpTestBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	be.mu.Lock()
	defer be.mu.Unlock()
	be.conns = append(be.conns, c)
	return &smtpTestSession{be: be}, nil
}

// connections counts distinct connections (STARTTLS starts a second
// session on the same one).
func (be *smtpTestBackend) connections() int {
	be.mu.Lock()
	defer be.mu.Unlock()
	seen := make(map[*smtp.Conn]bool)
	for _, c := range be.conns {
		seen[c] = true
	}
	return len(seen)
}

func (be *smtpTestBackend) delivered() []smtpTestMsg {
	be.mu.Lock()
	defer be.mu.Unlock()
	return slices.Clone(be.msgs)
}

// dropConnections closes every connection from the server side, as a
// server does with an idle client.
func (be *smtpTestBackend) dropConnections() {
	be.mu.Lock()
	defer be.mu.Unlock()
	for _, c := range be.conns {
		c.Close()
	}
}

type smtpTestSession struct {
	be   *smtpTestBackend
	user string
	from string
	to   []string
}

func (s *smtpTestSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpTestSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.be.user || password != s.be.pass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *smtpTestSession) Mail(from string, opts *smtp.MailOptions) error {
	if s.be.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	if s.be.mailErr != nil {
		return s.be.mailErr
	}
	s.from = from
	return nil
}

func (s *smtpTestSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if err := s.be.rcptErr[to]; err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *smtpTestSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.be.dataErr != nil {
		return s.be.dataErr
	}
	s.be.mu.Lock()
	s.be.msgs = append(s.be.msgs, smtpTestMsg{From: s.from, To: s.to, Data: string(b), User: s.user})
	s.be.mu.Unlock()
	return nil
}

func (s *smtpTestSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpTestSession) Logout() error { return nil }

// newSMTPTestServer serves be on 127.0.0.1 and returns its address.
func newSMTPTestServer(t *testing.T, be *smtpTestBackend, tlsConfig *tls.Config, implicitTLS bool) string {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = tlsConfig == nil
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	} else {
		srv.TLSConfig = tlsConfig
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func smtpReply(code int, enhanced smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}

const smtpTestRaw = "From: modbot@forum.example\r\n" +
	"To: alice@mods.example\r\n" +
	"Subject: Digest\r\n" +
	"\r\n" +
	"Line one.\r\n" +
	".A line that starts with a dot.\r\n" +
	"Last line.\r\n"

func TestSenderDeliversAndReusesConnection(t *testing.T) {
	be := &smtpTestBackend{}
	addr := newSMTPTestServer(t, be, nil, false)
	s := NewSender(SMTPConfig{Addr: addr, HelloName: "modbot.test"})
	defer s.Close()

	to := []string{"alice@mods.example", "bob@mods.example"}
	for i := range 3 {
		if err := s.Send(context.Background(), "modbot@forum.example", to, []byte(smtpTestRaw)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	msgs := be.delivered()
	if len(msgs) != 3 {
		t.Fatalf("delivered %d messages, want 3", len(msgs))
	}
	m := msgs[0]
	if m.From != "modbot@forum.example" || !slices.Equal(m.To, to) {
		t.Errorf("envelope = %s -> %v, want modbot@forum.example -> %v", m.From, m.To, to)
	}
	if m.Data != smtpTestRaw {
		t.Errorf("data = %q, want %q", m.Data, smtpTestRaw)
	}
	if n := be.connections(); n != 1 {
		t.Errorf("%d connections for 3 sends, want 1 reused", n)
	}
}

func TestSenderReconnectsWhenPooledConnectionDropped(t *testing.T) {
	be := &smtpTestBackend{}
	addr := newSMTPTestServer(t, be, nil, false)
	s := NewSender(SMTPConfig{Addr: addr})
	defer s.Close()
	ctx := context.Background()
	if err := s.Send(ctx, "modbot@forum.example", []string{"alice@mods.example"}, []byte(smtpTestRaw)); err != nil {
		t.Fatal(err)
	}
	be.dropConnections()
	if err := s.Send(ctx, "modbot@forum.example", []string{"alice@mods.example"}, []byte(smtpTestRaw)); err != nil {
		t.Fatalf("send after the server dropped the connection: %v", err)
	}
	if n := len(be.delivered()); n != 2 {
		t.Errorf("delivered %d, want 2", n)
	}
}

func TestSenderAuthAndSecurity(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	tests := []struct {
		name        string
		security    Security
		serverTLS   *tls.Config
		implicitTLS bool
	}{
		{"none on loopback", SecurityNone, nil, false},
		{"starttls", SecurityStartTLS, serverTLS, false},
		{"tls", SecurityTLS, serverTLS, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &smtpTestBackend{user: "modbot", pass: "smtp-pass"}
			addr := newSMTPTestServer(t, be, tt.serverTLS, tt.implicitTLS)
			s := NewSender(SMTPConfig{Addr: addr, Username: "modbot", Password: "smtp-pass",
				Security: tt.security, TLSConfig: clientTLS})
			defer s.Close()
			for i := range 2 {
				if err := s.Send(context.Background(), "modbot@forum.example", []string{"alice@mods.example"}, []byte(smtpTestRaw)); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			msgs := be.delivered()
			if len(msgs) != 2 || msgs[0].User != "modbot" || msgs[1].User != "modbot" {
				t.Fatalf("delivered %+v, want two messages from the authenticated user", msgs)
			}
			if n := be.connections(); n != 1 {
				t.Errorf("%d connections for 2 sends, want 1 reused", n)
			}
		})
	}
}

func TestSenderFailures(t *testing.T) {
	const good, bad = "alice@mods.example", "nobody@mods.example"
	tests := []struct {
		name      string
		be        *smtpTestBackend
		to        []string
		password  string
		temporary bool
		op        string
		code      int
		enhanced  string
		refused   []string
		partial   bool
		delivered int
	}{
		{
			name:      "greylisted recipient",
			be:        &smtpTestBackend{rcptErr: map[string]error{good: smtpReply(451, smtp.EnhancedCode{4, 7, 1}, "try later")}},
			to:        []string{good},
			temporary: true, op: "rcpt", code: 451, enhanced: "4.7.1",
		},
		{
			name: "one recipient deferred aborts all",
			be:   &smtpTestBackend{rcptErr: map[string]error{bad: smtpReply(450, smtp.EnhancedCode{4, 2, 0}, "mailbox busy")}},
			to:   []string{good, bad}, temporary: true, op: "rcpt", code: 450, enhanced: "4.2.0",
		},
		{
			name:      "unknown recipient",
			be:        &smtpTestBackend{rcptErr: map[string]error{bad: smtpReply(550, smtp.EnhancedCode{5, 1, 1}, "no such user")}},
			to:        []string{bad},
			temporary: false, op: "rcpt", code: 550, enhanced: "5.1.1", refused: []string{bad},
		},
		{
			name:      "one of two refused",
			be:        &smtpTestBackend{rcptErr: map[string]error{bad: smtpReply(550, smtp.EnhancedCode{5, 1, 1}, "no such user")}},
			to:        []string{good, bad},
			temporary: false, op: "rcpt", code: 550, enhanced: "5.1.1", refused: []string{bad}, partial: true,
			delivered: 1,
		},
		{
			name:      "data deferred",
			be:        &smtpTestBackend{dataErr: smtpReply(452, smtp.EnhancedCode{4, 3, 1}, "disk full")},
			to:        []string{good},
			temporary: true, op: "data", code: 452, enhanced: "4.3.1",
		},
		{
			name:      "data rejected",
			be:        &smtpTestBackend{dataErr: smtpReply(554, smtp.EnhancedCode{5, 7, 1}, "spam")},
			to:        []string{good},
			temporary: false, op: "data", code: 554, enhanced: "5.7.1",
		},
		{
			name:      "sender rejected",
			be:        &smtpTestBackend{mailErr: smtpReply(553, smtp.EnhancedCode{5, 1, 8}, "bad sender")},
			to:        []string{good},
			temporary: false, op: "mail", code: 553, enhanced: "5.1.8",
		},
		{
			name:      "wrong password",
			be:        &smtpTestBackend{user: "modbot", pass: "right"},
			password:  "wrong",
			to:        []string{good},
			temporary: false, op: "auth", code: 535, enhanced: "5.7.8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := newSMTPTestServer(t, tt.be, nil, false)
			cfg := SMTPConfig{Addr: addr}
			if tt.be.user != "" {
				cfg.Username, cfg.Password = tt.be.user, tt.password
			}
			s := NewSender(cfg)
			defer s.Close()
			err := s.Send(context.Background(), "modbot@forum.example", tt.to, []byte(smtpTestRaw))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if got := IsTemporary(err); got != tt.temporary {
				t.Errorf("IsTemporary(%v) = %v, want %v", err, got, tt.temporary)
			}
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SendError", err)
			}
			if se.Op != tt.op || se.Code != tt.code || se.Enhanced != tt.enhanced || se.Partial != tt.partial {
				t.Errorf("got op=%s code=%d enhanced=%s partial=%v, want op=%s code=%d enhanced=%s partial=%v",
					se.Op, se.Code, se.Enhanced, se.Partial, tt.op, tt.code, tt.enhanced, tt.partial)
			}
			var refused []string
			for _, r := range se.Refused {
				refused = append(refused, r.Addr)
			}
			if !slices.Equal(refused, tt.refused) {
				t.Errorf("refused %v, want %v", refused, tt.refused)
			}
			for _, r := range tt.refused {
				if !strings.Contains(err.Error(), r) {
					t.Errorf("error %q does not name refused recipient %s", err, r)
				}
			}
			if n := len(tt.be.delivered()); n != tt.delivered {
				t.Errorf("delivered %d messages, want %d", n, tt.delivered)
			}

			// The connection is still good for the next message.
			tt.be.mu.Lock()
			tt.be.rcptErr, tt.be.dataErr, tt.be.mailErr = nil, nil, nil
			tt.be.mu.Unlock()
			if tt.op != "auth" {
				if err := s.Send(context.Background(), "modbot@forum.example", []string{good}, []byte(smtpTestRaw)); err != nil {
					t.Errorf("send after the failure: %v", err)
				}
			}
		})
	}
}

func TestSenderConnectionRefusedIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = NewSender(SMTPConfig{Addr: addr}).Send(context.Background(), "a@example.org", []string{"b@example.org"}, []byte(smtpTestRaw))
	if err == nil || !IsTemporary(err) {
		t.Fatalf("Send to a closed port = %v, want a temporary error", err)
	}
	var se *SendError
	if !errors.As(err, &se) || se.Op != "dial" {
		t.Errorf("error = %#v, want a dial SendError", err)
	}
}

func TestSenderRefusesClearTextPassword(t *testing.T) {
	// The address is never dialled: the check comes first, and .invalid
	// never resolves anyway.
	s := NewSender(SMTPConfig{Addr: "smtp.example.invalid:587", Username: "modbot", Password: "pw", Security: SecurityNone})
	err := s.Send(context.Background(), "a@example.org", []string{"b@example.org"}, []byte(smtpTestRaw))
	if err == nil || IsTemporary(err) || !strings.Contains(err.Error(), "unencrypted") {
		t.Fatalf("Send = %v, want a permanent refusal to send the password unencrypted", err)
	}
}

func TestSenderHonoursContext(t *testing.T) {
	// A server that accepts and then never says a word.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = NewSender(SMTPConfig{Addr: ln.Addr().String()}).Send(ctx, "a@example.org", []string{"b@example.org"}, []byte(smtpTestRaw))
	if err == nil || !IsTemporary(err) {
		t.Fatalf("Send = %v, want a temporary error", err)
	}
}

func TestIsTemporary(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"4xx reply", smtpReply(421, smtp.EnhancedCode{4, 4, 2}, "closing"), true},
		{"5xx reply", smtpReply(550, smtp.EnhancedCode{5, 1, 1}, "no"), false},
		{"wrapped 4xx", errors.Join(errors.New("x"), smtpReply(451, smtp.EnhancedCode{4, 3, 0}, "later")), true},
		{"network", &net.OpError{Op: "dial", Err: errors.New("refused")}, true},
		{"deadline", context.DeadlineExceeded, true},
		{"send error temporary", &SendError{Temporary: true}, true},
		{"send error permanent", &SendError{Code: 554}, false},
		{"other", errors.New("bad template"), false},
	}
	for _, tt := range tests {
		if got := IsTemporary(tt.err); got != tt.want {
			t.Errorf("%s: IsTemporary = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSenderRefusesBadAddresses(t *testing.T) {
	be := &smtpTestBackend{}
	addr := newSMTPTestServer(t, be, nil, false)
	s := NewSender(SMTPConfig{Addr: addr})
	defer s.Close()
	tests := []struct {
		name     string
		from     string
		to       []string
		contains string
	}{
		{"no recipients", "a@example.org", nil, "no recipients"},
		{"header injection", "a@example.org", []string{"b@example.org\r\nRCPT TO:<c@example.org>"}, "invalid address"},
		{"angle brackets", "<a@example.org>", []string{"b@example.org"}, "invalid address"},
		// The test server does not offer SMTPUTF8.
		{"non-ASCII without SMTPUTF8", "a@example.org", []string{"jürgen@example.org"}, "SMTPUTF8"},
	}
	for _, tt := range tests {
		err := s.Send(context.Background(), tt.from, tt.to, []byte(smtpTestRaw))
		if err == nil || IsTemporary(err) || !strings.Contains(err.Error(), tt.contains) {
			t.Errorf("%s: Send = %v, want a permanent error containing %q", tt.name, err, tt.contains)
		}
	}
	if n := len(be.delivered()); n != 0 {
		t.Errorf("delivered %d messages", n)
	}
}
