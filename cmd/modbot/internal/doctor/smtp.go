package doctor

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func (r *run) smtpService() service {
	return service{name: "SMTP", key: "smtp", addr: r.cfg.SMTP.Addr, security: r.cfg.SMTP.Security, plainPort: "587", tlsPort: "465"}
}

// smtpConn is one SMTP connection, greeted.
type smtpConn struct {
	c       *smtp.Client
	tls     *tls.ConnectionState
	stopCtx func() bool
}

func (sc *smtpConn) close() {
	sc.c.CommandTimeout = 2 * time.Second
	if err := sc.c.Quit(); err != nil {
		sc.c.Close()
	}
	sc.stopCtx()
}

// dialSMTP connects with the configured security and says EHLO, as
// modbot's sender does.
func (r *run) dialSMTP() (*smtpConn, error) {
	cfg := &r.cfg.SMTP
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: r.opts.Timeout}
	conn, err := d.DialContext(r.ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	sc := &smtpConn{stopCtx: context.AfterFunc(r.ctx, func() { conn.Close() })}
	fail := func(err error) (*smtpConn, error) {
		conn.Close()
		sc.stopCtx()
		return nil, err
	}
	// The TLS handshake and the greeting have no deadline of their own.
	conn.SetDeadline(time.Now().Add(r.opts.Timeout))
	switch cfg.Security {
	case "tls":
		tc := tls.Client(conn, tlsConfig(host, cfg.InsecureSkipVerify))
		if err := tc.HandshakeContext(r.ctx); err != nil {
			return fail(err)
		}
		st := tc.ConnectionState()
		sc.tls = &st
		sc.c = smtp.NewClient(tc)
	case "starttls":
		c, err := smtp.NewClientStartTLS(conn, tlsConfig(host, cfg.InsecureSkipVerify))
		if err != nil {
			var smtpErr *smtp.SMTPError
			if !errors.As(err, &smtpErr) && strings.Contains(err.Error(), "STARTTLS") {
				err = fmt.Errorf("%w (%w)", errNoStartTLS, err)
			}
			return fail(err)
		}
		sc.c = c
		if st, ok := c.TLSConnectionState(); ok {
			sc.tls = &st
		}
	default:
		sc.c = smtp.NewClient(conn)
	}
	conn.SetDeadline(time.Time{})
	sc.c.CommandTimeout = r.opts.Timeout
	sc.c.SubmissionTimeout = r.opts.Timeout
	if err := sc.c.Hello(cmp.Or(cfg.HelloName, "localhost")); err != nil {
		sc.c.Close()
		return fail(err)
	}
	return sc, nil
}

// smtp runs the SMTP checks and sends the test message, if the inbox can
// be watched for it (else it would be left there); it reports whether the
// message was accepted.
func (r *run) smtp(imapOK bool) bool {
	svc := r.smtpService()
	later := []string{"SMTP login", "plus address"}
	sc, err := r.dialSMTP()
	if err != nil {
		res := Result{Check: "SMTP connection", Status: Fail, Err: err}
		var smtpErr *smtp.SMTPError
		if errors.As(err, &smtpErr) {
			res.Detail = fmt.Sprintf("%s refuses to talk to this machine (%d)", svc.addr, smtpErr.Code)
			res.Fix = "the server may block this machine's address, or take mail from programs only on its submission port " +
				"(587 with starttls, 465 with tls) and with a login; check smtp.addr, or ask the mail provider to let this machine send"
			if smtpErr.Code/100 == 4 {
				res.Detail = fmt.Sprintf("%s is not taking connections just now (%d)", svc.addr, smtpErr.Code)
				res.Fix = "try again later; modbot retries such failures on its own"
			}
		} else {
			res.Detail, res.Fix = explainConnect(svc, err)
		}
		r.add(res)
		for _, c := range later {
			r.skip(c, "needs the SMTP connection")
		}
		return false
	}
	defer sc.close()
	r.add(Result{Check: "SMTP connection", Status: OK, Detail: connDetail(svc, sc.tls)})

	res, ok := r.smtpLogin(sc)
	r.add(res)
	if !ok {
		r.skip("plus address", "needs an SMTP login")
		return false
	}
	if !imapOK {
		r.skip("plus address", "needs an IMAP login to find the test message again, so none was sent")
		return false
	}
	return r.sendTest(sc)
}

func (r *run) smtpLogin(sc *smtpConn) (Result, bool) {
	cfg := &r.cfg.SMTP
	svc := r.smtpService()
	res := Result{Check: "SMTP login", Status: OK}
	if cfg.Username == "" {
		res.Detail = "no smtp.username: modbot sends without logging in"
		return res, true
	}
	if sc.tls == nil && !isLoopback(svc.host()) {
		res.Status = Fail
		res.Detail = fmt.Sprintf("smtp.security = \"none\" would send the password unencrypted to %s; modbot refuses to", svc.host())
		res.Fix = "set smtp.security = \"starttls\" (port 587) or \"tls\" (port 465)"
		return res, false
	}
	if !sc.c.SupportsAuth(sasl.Plain) {
		res.Status = Fail
		if ok, _ := sc.c.Extension("STARTTLS"); ok && sc.tls == nil {
			res.Detail = "the server offers a login only after STARTTLS"
			res.Fix = "set smtp.security = \"starttls\""
		} else {
			res.Detail = "the server offers no AUTH PLAIN login, the one modbot uses"
			res.Fix = "use the provider's submission port (587 with starttls, or 465 with tls), or leave smtp.username empty if the server takes mail from this machine without a login"
		}
		return res, false
	}
	err := sc.c.Auth(sasl.NewPlainClient("", cfg.Username, cfg.Password))
	if err == nil {
		res.Detail = fmt.Sprintf("logged in as %s", cfg.Username)
		return res, true
	}
	res.Status, res.Err = Fail, err
	var smtpErr *smtp.SMTPError
	switch {
	case errors.As(err, &smtpErr) && smtpErr.Code == 534:
		res.Detail = fmt.Sprintf("the server wants an app password for %q", cfg.Username)
		res.Fix = "create an app password in the provider's account settings and put it in smtp.password (or smtp.password_file, MODBOT_SMTP_PASSWORD)"
	case errors.As(err, &smtpErr) && smtpErr.Code == 538:
		res.Detail = "the server wants encryption before a password"
		res.Fix = "set smtp.security = \"starttls\" (port 587) or \"tls\" (port 465)"
	case errors.As(err, &smtpErr) && smtpErr.Code/100 == 4:
		res.Detail = "the server cannot log anyone in just now"
		res.Fix = "try again later"
	case errors.As(err, &smtpErr):
		res.Detail = fmt.Sprintf("the server refused the password for %q", cfg.Username)
		res.Fix = "check smtp.username and smtp.password (or smtp.password_file, MODBOT_SMTP_PASSWORD). " +
			"Providers with two-step login want an app password here, not the account's own."
	default:
		res.Detail, res.Fix = explainConnect(svc, err)
	}
	return res, false
}

// sendTest sends the test message to the plus address, and, if the server
// refuses that address, asks whether it takes the plain one, to tell a
// server without plus addressing from one that takes no mail for the
// inbox at all.
func (r *run) sendTest(sc *smtpConn) bool {
	const check = "plus address"
	from, to, plain := r.cfg.Site.Address, r.testAddress(), r.cfg.Site.Address
	res := Result{Check: check, Status: Fail}
	if err := sc.c.Mail(from, nil); err != nil {
		res.Err = err
		res.Detail, res.Fix = explainMail(from, err)
		r.add(res)
		return false
	}
	if err := sc.c.Rcpt(to, nil); err != nil {
		res.Err = err
		sc.c.Reset()
		plainErr := sc.c.Mail(from, nil)
		if plainErr == nil {
			plainErr = sc.c.Rcpt(plain, nil)
		}
		sc.c.Reset()
		var smtpErr *smtp.SMTPError
		switch {
		case errors.As(err, &smtpErr) && smtpErr.Code/100 == 4:
			res.Detail = fmt.Sprintf("the server put off mail for %s (%d)", to, smtpErr.Code)
			res.Fix = "try again later; if it lasts, ask the mail provider"
		case plainErr == nil:
			res.Detail = fmt.Sprintf("the server refuses %s but takes %s: plus addressing is off", to, plain)
			res.Fix = "modbot needs plus addresses (posts, digest replies). Turn on sub-addressing with \"+\": " +
				"Postfix recipient_delimiter = +, Dovecot recipient_delimiter = +, Exim local_part_suffix = +*; " +
				"hosted mail: look for \"plus addressing\" or \"subaddressing\" in the admin settings."
		case isAuthRequired(err):
			res.Detail = "the server wants a login before it takes mail"
			res.Fix = "set smtp.username and smtp.password"
		default:
			res.Detail = fmt.Sprintf("the server refuses mail for %s, and for %s too", to, plain)
			res.Fix = "check site.address; smtp.addr must be a server that delivers mail to it (or relays it, usually after a login in smtp.username)"
		}
		r.add(res)
		return false
	}
	w, err := sc.c.Data()
	if err == nil {
		if _, err = w.Write(r.testMessage(from, to)); err == nil {
			err = w.Close()
		} else {
			w.Close()
		}
	}
	if err != nil {
		res.Err = err
		res.Detail, res.Fix = explainMail(from, err)
		r.add(res)
		return false
	}
	r.add(Result{Check: check, Status: OK, Detail: fmt.Sprintf("the server took a test message for %s", to)})
	return true
}

// explainMail explains a refusal of the sender or of the message.
func explainMail(from string, err error) (detail, fix string) {
	var smtpErr *smtp.SMTPError
	switch {
	case isAuthRequired(err):
		return "the server wants a login before it takes mail", "set smtp.username and smtp.password"
	case errors.As(err, &smtpErr) && smtpErr.Code/100 == 4:
		return fmt.Sprintf("the server put the message off (%d)", smtpErr.Code), "try again later; modbot's outbox retries such failures on its own"
	case errors.As(err, &smtpErr):
		return fmt.Sprintf("the server refuses mail from %s (%d)", from, smtpErr.Code),
			"modbot sends as site.address; the SMTP account (smtp.username) must be allowed to send as that address, and this machine to send through the server"
	}
	return "the connection failed while sending", "check the network and run doctor again"
}

func isAuthRequired(err error) bool {
	var smtpErr *smtp.SMTPError
	return errors.As(err, &smtpErr) && smtpErr.Code == 530
}

// testMessage is the message sent to the plus address. Auto-Submitted
// makes a running modbot file it as ignored, never as a submission, and
// never answer it.
func (r *run) testMessage(from, to string) []byte {
	_, domain, _ := strings.Cut(from, "@")
	var b strings.Builder
	fmt.Fprintf(&b, "From: modbot doctor <%s>\r\n", from)
	fmt.Fprintf(&b, "To: <%s>\r\n", to)
	fmt.Fprintf(&b, "Subject: modbot doctor: delivery test %s\r\n", r.opts.Token)
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <doctor-%s@%s>\r\n", r.opts.Token, domain)
	fmt.Fprintf(&b, "%s: %s\r\n", tokenHeader, r.opts.Token)
	b.WriteString("Auto-Submitted: auto-generated\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString("modbot doctor sent this to check that mail to a plus address reaches the inbox.\r\n")
	b.WriteString("It deletes this message once it has seen it; if it is still here, delete it.\r\n")
	return []byte(b.String())
}

// tokenHeader carries the test message's token; the doctor deletes only
// a message whose header says exactly its token.
const tokenHeader = "X-Modbot-Doctor"
