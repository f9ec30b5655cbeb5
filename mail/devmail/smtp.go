package devmail

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// maxMessageBytes is generous: attachments in a demo should not bounce.
const maxMessageBytes = 32 << 20

func (s *Server) newSMTPServer() *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: s, conn: c}, nil
	}))
	srv.Domain = s.hostname
	srv.MaxMessageBytes = maxMessageBytes
	srv.MaxRecipients = 100
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 5 * time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = logAdapter{s.log.With("server", "smtp")}
	return srv
}

// recipient is one accepted RCPT TO: the address as the client gave it
// and the user it resolved to.
type recipient struct {
	given string
	user  *user
}

// smtpSession accepts mail for local users only. AUTH is offered but not
// required: the demo's daemon and a person's mail client may both send.
type smtpSession struct {
	srv      *Server
	conn     *smtp.Conn
	authUser string
	from     string
	rcpts    []recipient
}

var _ smtp.AuthSession = (*smtpSession)(nil)

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		u := ss.srv.lookup(username)
		if u == nil || (identity != "" && !strings.EqualFold(identity, username)) ||
			subtle.ConstantTimeCompare([]byte(password), []byte(u.password)) != 1 {
			return smtp.ErrAuthFailed
		}
		ss.authUser = u.address
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	ss.rcpts = nil
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	for _, r := range ss.rcpts {
		if strings.EqualFold(r.given, to) {
			return nil // one copy per address, as an MTA would
		}
	}
	u, err := ss.srv.resolve(to)
	if err != nil {
		return err
	}
	ss.rcpts = append(ss.rcpts, recipient{given: to, user: u})
	return nil
}

// resolve maps a recipient to its user: local+detail@domain is
// local@domain.
func (s *Server) resolve(to string) (*user, error) {
	addr := strings.ToLower(to)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return nil, &smtp.SMTPError{
			Code:         501,
			EnhancedCode: smtp.EnhancedCode{5, 1, 3},
			Message:      fmt.Sprintf("<%s>: bad recipient address syntax", to),
		}
	}
	local, domain := addr[:at], addr[at+1:]
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	if u := s.lookup(local + "@" + domain); u != nil {
		return u, nil
	}
	if s.catchAll != "" {
		if u := s.lookup(s.catchAll); u != nil {
			return u, nil
		}
	}
	s.mu.Lock()
	ours := s.domains[domain]
	s.mu.Unlock()
	if ours {
		return nil, &smtp.SMTPError{
			Code:         550,
			EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message:      fmt.Sprintf("<%s>: recipient address rejected: user unknown", to),
		}
	}
	return nil, &smtp.SMTPError{
		Code:         550,
		EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message:      fmt.Sprintf("<%s>: relay access denied", to),
	}
}

func (ss *smtpSession) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		if errors.Is(err, smtp.ErrDataTooLarge) {
			return smtp.ErrDataTooLarge
		}
		return fmt.Errorf("read data: %w", err)
	}
	body = CRLF(body)
	for _, rc := range ss.rcpts {
		msg := append(ss.traceHeader(rc.given), body...)
		if err := ss.srv.deliver(rc.user, "INBOX", msg); err != nil {
			ss.srv.log.Error("delivery failed", "rcpt", rc.given, "err", err)
			return &smtp.SMTPError{
				Code:         451,
				EnhancedCode: smtp.EnhancedCode{4, 3, 0},
				Message:      "local delivery failed, try again later",
			}
		}
		ss.srv.log.Debug("delivered", "from", ss.from, "rcpt", rc.given, "user", rc.user.address, "size", len(msg))
	}
	return nil
}

// traceHeader is what a delivering MTA prepends (RFC 5321 section 4.4)
// plus the Delivered-To that Postfix and Dovecot add, which the code under
// test reads to learn the plus address.
func (ss *smtpSession) traceHeader(rcpt string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", ss.from)
	fmt.Fprintf(&b, "Delivered-To: %s\r\n", rcpt)
	with := "ESMTP"
	if ss.authUser != "" {
		with = "ESMTPA"
	}
	remote := "unknown"
	if c := ss.conn.Conn(); c != nil {
		if host, _, err := net.SplitHostPort(c.RemoteAddr().String()); err == nil {
			remote = host
		}
	}
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n\tby %s (devmail) with %s\r\n\tfor <%s>; %s\r\n",
		ss.conn.Hostname(), remote, ss.srv.hostname, with, rcpt, time.Now().Format(time.RFC1123Z))
	return b.Bytes()
}

func (ss *smtpSession) Reset() {
	ss.from = ""
	ss.rcpts = nil
}

func (ss *smtpSession) Logout() error { return nil }
