package dovecottest

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// relay is an SMTP server that hands each transaction to Dovecot's LMTP
// as it happens: MAIL, each RCPT and DATA are forwarded one by one, so
// Dovecot's answers (550 5.1.1 for an unknown user) reach the SMTP client
// at the same step. It stands in for an MTA until the tests get a real one.
type relay struct {
	addr string
	srv  *smtp.Server
}

func startRelay(s *Server) (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("relay listen: %w", err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &relaySession{s: s}, nil
	}))
	srv.Domain = "dovecottest-relay.localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 32 << 20
	srv.ReadTimeout = 5 * time.Minute
	srv.WriteTimeout = time.Minute
	go srv.Serve(ln)
	return &relay{addr: ln.Addr().String(), srv: srv}, nil
}

func (r *relay) close() { r.srv.Close() }

// relaySession holds one LMTP connection per mail transaction.
type relaySession struct {
	s    *Server
	lmtp *smtp.Client
}

var _ smtp.AuthSession = (*relaySession)(nil)

func (rs *relaySession) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth accepts the Dovecot users with their password; AUTH is optional.
func (rs *relaySession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if !slices.Contains(rs.s.Users, strings.ToLower(username)) ||
			subtle.ConstantTimeCompare([]byte(password), []byte(rs.s.Password)) != 1 {
			return smtp.ErrAuthFailed
		}
		return nil
	}), nil
}

func (rs *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	rs.Reset()
	conn, err := net.DialTimeout("tcp", rs.s.LMTPAddr, 10*time.Second)
	if err != nil {
		return tempErr(fmt.Errorf("dial lmtp: %w", err))
	}
	c := smtp.NewClientLMTP(conn)
	if err := c.Hello("dovecottest-relay.localhost"); err != nil {
		c.Close()
		return tempErr(err)
	}
	// Extensions are not passed on: Dovecot takes 8-bit data regardless.
	if err := c.Mail(from, nil); err != nil {
		c.Close()
		return asSMTPErr(err)
	}
	rs.lmtp = c
	return nil
}

func (rs *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if rs.lmtp == nil {
		return tempErr(errors.New("no lmtp transaction"))
	}
	return asSMTPErr(rs.lmtp.Rcpt(to, nil))
}

// Data returns the first recipient's failure when LMTP refuses some: SMTP
// cannot say that only some recipients failed.
func (rs *relaySession) Data(r io.Reader) error {
	if rs.lmtp == nil {
		return tempErr(errors.New("no lmtp transaction"))
	}
	w, err := rs.lmtp.Data()
	if err != nil {
		return asSMTPErr(err)
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return tempErr(fmt.Errorf("relay data: %w", err))
	}
	_, err = w.CloseWithLMTPResponse()
	var perRcpt smtp.LMTPDataError
	if errors.As(err, &perRcpt) && len(perRcpt) > 0 {
		rcpts := slices.Sorted(maps.Keys(perRcpt))
		return perRcpt[rcpts[0]]
	}
	return asSMTPErr(err)
}

func (rs *relaySession) Reset() {
	if rs.lmtp != nil {
		rs.lmtp.Quit()
		rs.lmtp.Close()
		rs.lmtp = nil
	}
}

func (rs *relaySession) Logout() error {
	rs.Reset()
	return nil
}

// asSMTPErr passes Dovecot's own replies through and turns anything else
// (a dropped connection) into a temporary failure, as an MTA would.
func asSMTPErr(err error) error {
	if err == nil {
		return nil
	}
	var smtpErr *smtp.SMTPError
	if errors.As(err, &smtpErr) {
		return smtpErr
	}
	return tempErr(err)
}

func tempErr(err error) error {
	return &smtp.SMTPError{
		Code:         451,
		EnhancedCode: smtp.EnhancedCode{4, 4, 1},
		Message:      "dovecot lmtp unavailable: " + err.Error(),
	}
}
