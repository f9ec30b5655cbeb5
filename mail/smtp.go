package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPConfig says how to reach the submission server.
type SMTPConfig struct {
	Addr     string // host:port
	Username string // "" for no AUTH
	Password string
	Security Security
	// TLSConfig is used for "starttls" and "tls"; when nil the certificate
	// is verified against the system roots for the host in Addr.
	TLSConfig *tls.Config
	HelloName string        // EHLO name; default "localhost"
	Timeout   time.Duration // longest wait for one reply; default 60s
}

// How long a connection is kept open for the next Send.
const smtpIdleTimeout = 30 * time.Second

// Sender submits messages over SMTP. Consecutive Sends reuse one
// connection; a Sender is safe for concurrent use (Sends take turns).
type Sender struct {
	cfg SMTPConfig

	mu       sync.Mutex
	c        *smtp.Client // pooled connection, nil when none
	conn     net.Conn
	lastUsed time.Time
	idle     *time.Timer
}

// NewSender returns a Sender for cfg. It connects on the first Send.
func NewSender(cfg SMTPConfig) *Sender {
	if cfg.Security == "" {
		cfg.Security = SecurityNone
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	return &Sender{cfg: cfg}
}

// RecipientError is one recipient the server refused.
type RecipientError struct {
	Addr     string
	Code     int
	Enhanced string // e.g. "5.1.1"; "" when the server sent none
	Message  string
}

// SendError is why a Send failed. Temporary says whether trying the same
// message again later can succeed; retry code decides on it alone.
type SendError struct {
	Code      int    // SMTP reply code; 0 when there was no reply
	Enhanced  string // enhanced status code, e.g. "4.2.1"
	Message   string // the server's text, or ours when there was no reply
	Temporary bool
	Op        string // dial, tls, hello, auth, mail, rcpt, data
	Err       error  // the underlying error, if any

	// Refused lists the recipients refused for good. With Partial set the
	// message was delivered to all the others, so it must not be retried.
	Refused []RecipientError
	Partial bool
}

func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("smtp ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	switch {
	case len(e.Refused) > 0:
		fmt.Fprintf(&b, "%d recipient(s) refused:", len(e.Refused))
		for i, r := range e.Refused {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, " <%s> (%s)", r.Addr, smtpReplyText(r.Code, r.Enhanced, r.Message))
		}
		if e.Partial {
			b.WriteString("; delivered to the other recipients")
		}
	case e.Code != 0:
		b.WriteString(smtpReplyText(e.Code, e.Enhanced, e.Message))
	case e.Message != "":
		b.WriteString(e.Message)
		if e.Err != nil {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

func smtpReplyText(code int, enhanced, msg string) string {
	s := fmt.Sprint(code)
	if enhanced != "" {
		s += " " + enhanced
	}
	if msg != "" {
		s += " " + msg
	}
	return s
}

// IsTemporary reports whether err is worth retrying: network failures and
// 4xx replies are, 5xx replies and refusals decided here are not.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Temporary
	}
	var smtpErr *smtp.SMTPError
	if errors.As(err, &smtpErr) {
		return smtpErr.Code/100 == 4
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled)
}

// sendErr turns whatever went wrong in op into a *SendError.
func sendErr(op string, err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	var smtpErr *smtp.SMTPError
	if errors.As(err, &smtpErr) {
		return &SendError{
			Op:        op,
			Code:      smtpErr.Code,
			Enhanced:  enhancedString(smtpErr.EnhancedCode),
			Message:   smtpErr.Message,
			Temporary: smtpErr.Code/100 == 4,
			Err:       err,
		}
	}
	// Anything that is not a reply is the connection failing: try again.
	return &SendError{Op: op, Temporary: true, Err: err}
}

func enhancedString(c smtp.EnhancedCode) string {
	if c == (smtp.EnhancedCode{}) || c == smtp.NoEnhancedCode {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
}

// Send submits raw to the server with the envelope from and to. It returns
// nil when the server accepted the message for every recipient.
func (s *Sender) Send(ctx context.Context, from string, to []string, raw []byte) error {
	return s.SendMarked(ctx, from, to, raw, nil)
}

// SendMarked is Send, calling handingOver (when not nil) just before the
// message's final dot. From then until the server's reply arrives, the
// server may have kept the message while the sender cannot know it: a
// crash in that window leaves the message in doubt, and sending it again
// may deliver it twice. No SMTP client can close that window; it can only
// say when a message was in it.
func (s *Sender) SendMarked(ctx context.Context, from string, to []string, raw []byte, handingOver func()) error {
	if len(to) == 0 {
		return &SendError{Op: "rcpt", Message: "no recipients"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return &SendError{Op: "dial", Temporary: true, Err: err}
	}

	c, err := s.client(ctx)
	if err != nil {
		return err
	}
	// Cut the connection under any blocked read or write if ctx ends.
	conn := s.conn
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err = s.transaction(ctx, c, from, to, raw, handingOver)
	if !stop() {
		s.discard()
		if err == nil {
			return nil // accepted just before ctx ended
		}
		return &SendError{Op: sendOp(err), Temporary: true, Err: ctx.Err()}
	}
	if err != nil {
		var se *SendError
		if !errors.As(err, &se) || (se.Code == 0 && se.Err != nil) || se.Code == 421 {
			// The connection failed, or the server is closing it.
			s.discard()
		}
		return err
	}
	s.keep()
	return nil
}

func sendOp(err error) string {
	var se *SendError
	if errors.As(err, &se) {
		return se.Op
	}
	return "data"
}

// Close closes the pooled connection, if any.
func (s *Sender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quit()
	return nil
}

// client returns the pooled connection after checking it still works, or
// a new one.
func (s *Sender) client(ctx context.Context) (*smtp.Client, error) {
	if s.idle != nil {
		s.idle.Stop()
	}
	if s.c != nil {
		// A server may have dropped the connection while it sat unused.
		s.setTimeouts(ctx, s.c)
		if err := s.c.Noop(); err == nil {
			return s.c, nil
		}
		s.discard()
	}
	c, conn, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	s.c, s.conn = c, conn
	return c, nil
}

func (s *Sender) setTimeouts(ctx context.Context, c *smtp.Client) {
	d := s.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	c.CommandTimeout = d
	c.SubmissionTimeout = d
}

func (s *Sender) dial(ctx context.Context) (*smtp.Client, net.Conn, error) {
	cfg := &s.cfg
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, nil, &SendError{Op: "dial", Message: "bad address " + cfg.Addr, Err: err}
	}
	if !cfg.Security.valid() {
		return nil, nil, &SendError{Op: "dial", Message: fmt.Sprintf("unknown security %q", cfg.Security)}
	}
	if cfg.Username != "" && cfg.Security == SecurityNone && !isLoopback(host) {
		// Refuse before connecting, so the password never leaves.
		return nil, nil, &SendError{Op: "auth",
			Message: "refusing to send the password unencrypted to " + host + ": use starttls or tls"}
	}

	d := newDialer()
	d.Timeout = cfg.Timeout
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, nil, &SendError{Op: "dial", Temporary: true, Err: err}
	}
	c, err := s.open(ctx, conn, host)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return c, conn, nil
}

// open greets the server on conn, secures the connection and logs in.
func (s *Sender) open(ctx context.Context, conn net.Conn, host string) (*smtp.Client, error) {
	cfg := &s.cfg
	// The TLS handshake and the greeting have no deadline of their own.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(time.Now().Add(cfg.Timeout))

	var c *smtp.Client
	switch cfg.Security {
	case SecurityTLS:
		tc := tls.Client(conn, tlsConfigFor(cfg.TLSConfig, host))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, &SendError{Op: "tls", Temporary: true, Err: err}
		}
		c = smtp.NewClient(tc)
	case SecurityStartTLS:
		var err error
		c, err = smtp.NewClientStartTLS(conn, tlsConfigFor(cfg.TLSConfig, host))
		if err != nil {
			return nil, sendErr("tls", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	conn.SetDeadline(time.Time{})
	s.setTimeouts(ctx, c)

	if cfg.HelloName != "" {
		if err := c.Hello(cfg.HelloName); err != nil {
			return nil, sendErr("hello", err)
		}
	}
	if cfg.Username != "" {
		if !c.SupportsAuth(sasl.Plain) {
			return nil, &SendError{Op: "auth", Message: "server does not offer AUTH PLAIN"}
		}
		if err := c.Auth(sasl.NewPlainClient("", cfg.Username, cfg.Password)); err != nil {
			return nil, sendErr("auth", err)
		}
	}
	return c, nil
}

// transaction runs MAIL, RCPT and DATA for one message.
func (s *Sender) transaction(ctx context.Context, c *smtp.Client, from string, to []string, raw []byte, handingOver func()) error {
	for i, addr := range append([]string{from}, to...) {
		if strings.ContainsAny(addr, "\r\n<>") {
			op := "rcpt"
			if i == 0 {
				op = "mail"
			}
			return &SendError{Op: op, Message: fmt.Sprintf("invalid address %q", addr)}
		}
	}
	opts := &smtp.MailOptions{Size: int64(len(raw))}
	if !smtpASCII(from) || !smtpASCII(to...) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return &SendError{Op: "mail", Message: "server does not accept non-ASCII addresses (no SMTPUTF8)"}
		}
		opts.UTF8 = true
	}
	if err := c.Mail(from, opts); err != nil {
		return sendErr("mail", err)
	}

	var refused []RecipientError
	for _, rcpt := range to {
		err := c.Rcpt(rcpt, nil)
		if err == nil {
			continue
		}
		se := sendErr("rcpt", err)
		if se.Temporary {
			// Deliver to all or none, so that a retry cannot duplicate.
			s.abort(c)
			if se.Code != 0 {
				se.Message = fmt.Sprintf("<%s>: %s", rcpt, se.Message)
			}
			return se
		}
		refused = append(refused, RecipientError{Addr: rcpt, Code: se.Code, Enhanced: se.Enhanced, Message: se.Message})
	}
	if len(refused) == len(to) {
		s.abort(c)
		first := refused[0]
		return &SendError{Op: "rcpt", Code: first.Code, Enhanced: first.Enhanced,
			Message: first.Message, Refused: refused}
	}

	w, err := c.Data()
	if err != nil {
		return sendErr("data", err)
	}
	s.conn.SetWriteDeadline(time.Now().Add(c.CommandTimeout))
	if _, err := w.Write(raw); err != nil {
		return sendErr("data", err)
	}
	if handingOver != nil {
		handingOver()
	}
	if err := w.Close(); err != nil {
		return sendErr("data", err)
	}
	if len(refused) > 0 {
		first := refused[0]
		return &SendError{Op: "rcpt", Code: first.Code, Enhanced: first.Enhanced,
			Message: first.Message, Refused: refused, Partial: true}
	}
	return nil
}

// abort ends a transaction that will not be completed; if even RSET fails
// the connection is dropped.
func (s *Sender) abort(c *smtp.Client) {
	if err := c.Reset(); err != nil {
		s.discard()
	}
}

// keep pools the connection and schedules its closing when unused.
func (s *Sender) keep() {
	s.lastUsed = time.Now()
	if s.idle == nil {
		s.idle = time.AfterFunc(smtpIdleTimeout, s.closeIdle)
	} else {
		s.idle.Reset(smtpIdleTimeout)
	}
}

func (s *Sender) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil && time.Since(s.lastUsed) >= smtpIdleTimeout {
		s.quit()
	}
}

// quit says goodbye on the pooled connection and drops it.
func (s *Sender) quit() {
	if s.c == nil {
		return
	}
	s.c.CommandTimeout = 2 * time.Second
	if err := s.c.Quit(); err != nil {
		s.c.Close()
	}
	s.c, s.conn = nil, nil
}

// discard drops the pooled connection without ceremony.
func (s *Sender) discard() {
	if s.c != nil {
		s.c.Close()
	}
	s.c, s.conn = nil, nil
}

// smtpASCII reports whether all of ss is 7-bit: if not, the envelope
// needs SMTPUTF8.
func smtpASCII(ss ...string) bool {
	for _, s := range ss {
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return false
			}
		}
	}
	return true
}
