package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"

	"modbot/mail"
)

func (r *run) imapService() service {
	return service{name: "IMAP", key: "imap", addr: r.cfg.IMAP.Addr, security: r.cfg.IMAP.Security, plainPort: "143", tlsPort: "993"}
}

func tlsConfig(host string, insecure bool) *tls.Config {
	//nolint:gosec // insecure_skip_verify is the operator's explicit choice, for loopback tests
	return &tls.Config{ServerName: host, InsecureSkipVerify: insecure}
}

// imapConn is one IMAP connection under a deadline per step: imapclient
// has none of its own, and a silent server must not hang the doctor.
type imapConn struct {
	c       *imapclient.Client
	conn    net.Conn // under c
	tls     *tls.ConnectionState
	timeout time.Duration
	stopCtx func() bool
}

// do runs one step with the connection's deadline set.
func (ic *imapConn) do(f func() error) error {
	ic.conn.SetDeadline(time.Now().Add(ic.timeout))
	defer ic.conn.SetDeadline(time.Time{})
	return f()
}

func (ic *imapConn) close() {
	ic.conn.SetDeadline(time.Now().Add(2 * time.Second))
	ic.c.Logout().Wait()
	ic.c.Close()
	ic.stopCtx()
}

// dialIMAP connects with the configured security and reads the greeting.
func (r *run) dialIMAP() (*imapConn, error) {
	cfg := &r.cfg.IMAP
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: r.opts.Timeout}
	conn, err := d.DialContext(r.ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	ic := &imapConn{conn: conn, timeout: r.opts.Timeout, stopCtx: context.AfterFunc(r.ctx, func() { conn.Close() })}
	conn.SetDeadline(time.Now().Add(r.opts.Timeout))
	opts := &imapclient.Options{WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader}}
	fail := func(err error) (*imapConn, error) {
		conn.Close()
		ic.stopCtx()
		return nil, err
	}
	switch cfg.Security {
	case "tls":
		tc := tls.Client(conn, tlsConfig(host, cfg.InsecureSkipVerify))
		if err := tc.HandshakeContext(r.ctx); err != nil {
			return fail(err)
		}
		st := tc.ConnectionState()
		ic.tls = &st
		ic.c = imapclient.New(tc, opts)
	case "starttls":
		opts.TLSConfig = tlsConfig(host, cfg.InsecureSkipVerify)
		c, err := imapclient.NewStartTLS(conn, opts)
		if err != nil {
			var imapErr *imap.Error
			if errors.As(err, &imapErr) {
				err = fmt.Errorf("%w: %w", errNoStartTLS, err)
			}
			return fail(err)
		}
		ic.c = c
		ic.tls = &tls.ConnectionState{} // the handshake happened; details are not exposed
	default:
		ic.c = imapclient.New(conn, opts)
	}
	if err := ic.c.WaitGreeting(); err != nil {
		ic.c.Close()
		return fail(err)
	}
	conn.SetDeadline(time.Time{})
	return ic, nil
}

// login logs in; the error is already explained in the result.
func (r *run) imapLogin(ic *imapConn) (Result, bool) {
	cfg := &r.cfg.IMAP
	svc := r.imapService()
	res := Result{Check: "IMAP login"}
	if cfg.Security == "none" && !isLoopback(svc.host()) {
		res.Status, res.Detail = Fail, fmt.Sprintf("imap.security = \"none\" would send the password unencrypted to %s; modbot refuses to", svc.host())
		res.Fix = "set imap.security = \"starttls\" (port 143) or \"tls\" (port 993)"
		return res, false
	}
	if caps := ic.c.Caps(); caps.Has(imap.CapLoginDisabled) {
		res.Status, res.Detail = Fail, "the server does not take passwords on an unencrypted connection (LOGINDISABLED)"
		res.Fix = "set imap.security = \"starttls\" (port 143) or \"tls\" (port 993)"
		return res, false
	}
	err := ic.do(func() error { return ic.c.Login(cfg.Username, cfg.Password).Wait() })
	if err != nil {
		res.Status, res.Err = Fail, err
		var imapErr *imap.Error
		switch {
		case errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodePrivacyRequired:
			res.Detail = "the server wants encryption before a password"
			res.Fix = "set imap.security = \"starttls\" (port 143) or \"tls\" (port 993)"
		case errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeUnavailable:
			res.Detail = "the server cannot log anyone in just now"
			res.Fix = "try again later; if it lasts, ask the mail provider"
		case errors.As(err, &imapErr):
			res.Detail = fmt.Sprintf("the server refused the password for %q", cfg.Username)
			res.Fix = "check imap.username and imap.password (or imap.password_file, MODBOT_IMAP_PASSWORD). " +
				"Providers with two-step login (Gmail, Outlook, Fastmail, iCloud) want an app password here, not the account's own."
		default:
			res.Detail, res.Fix = explainConnect(svc, err)
		}
		return res, false
	}
	res.Status, res.Detail = OK, fmt.Sprintf("logged in as %s", cfg.Username)
	return res, true
}

// imap runs the IMAP checks and reports whether the inbox is usable.
func (r *run) imap() bool {
	later := []string{"IMAP login", "IMAP mailbox", "IMAP features", "IMAP folders"}
	svc := r.imapService()
	ic, err := r.dialIMAP()
	if err != nil {
		detail, fix := explainConnect(svc, err)
		r.add(Result{Check: "IMAP connection", Status: Fail, Detail: detail, Fix: fix, Err: err})
		for _, c := range later {
			r.skip(c, "needs the IMAP connection")
		}
		return false
	}
	defer ic.close()
	r.add(Result{Check: "IMAP connection", Status: OK, Detail: connDetail(svc, ic.tls)})

	res, ok := r.imapLogin(ic)
	r.add(res)
	if !ok {
		for _, c := range later[1:] {
			r.skip(c, "needs an IMAP login")
		}
		return false
	}
	sel, ok := r.imapMailbox(ic)
	if !ok {
		for _, c := range later[2:] {
			r.skip(c, "needs the mailbox")
		}
		return false
	}
	r.imapFeatures(ic, sel)
	r.learnHierarchy(ic, ic.c.Caps())
	r.imapFolders(ic)
	return true
}

func connDetail(s service, st *tls.ConnectionState) string {
	switch {
	case st == nil && isLoopback(s.host()):
		return s.addr + ", no encryption (on this machine, that is fine)"
	case st == nil:
		return s.addr + ", no encryption"
	case st.Version == 0:
		return s.addr + ", encrypted with STARTTLS"
	default:
		return fmt.Sprintf("%s, %s", s.addr, tls.VersionName(st.Version))
	}
}

func (r *run) imapMailbox(ic *imapConn) (*imap.SelectData, bool) {
	mbox := r.cfg.IMAP.Mailbox
	var sel *imap.SelectData
	err := ic.do(func() (err error) {
		// SELECT, not EXAMINE: a read-only mailbox reports no PERMANENTFLAGS.
		sel, err = ic.c.Select(mbox, nil).Wait()
		return err
	})
	if err != nil {
		res := Result{Check: "IMAP mailbox", Status: Fail, Err: err,
			Detail: fmt.Sprintf("imap.mailbox %q cannot be opened", mbox),
			Fix:    "check imap.mailbox"}
		if names := r.topMailboxes(ic); len(names) > 0 {
			res.Fix += "; this account has " + strings.Join(names, ", ")
		}
		r.add(res)
		return nil, false
	}
	if sel.UIDValidity == 0 {
		r.add(Result{Check: "IMAP mailbox", Status: Fail, Detail: fmt.Sprintf("%s has no UIDVALIDITY: modbot cannot remember where it stopped", mbox),
			Fix: "use a standard IMAP server"})
		return nil, false
	}
	r.add(Result{Check: "IMAP mailbox", Status: OK, Detail: fmt.Sprintf("%s holds %d %s", mbox, sel.NumMessages, plural(sel.NumMessages, "message"))})
	return sel, true
}

// topMailboxes lists up to ten of the account's mailboxes, for a person
// who named the wrong one.
func (r *run) topMailboxes(ic *imapConn) []string {
	var names []string
	ic.do(func() error {
		list := ic.c.List("", "%", nil)
		for {
			d := list.Next()
			if d == nil {
				break
			}
			if len(names) < 10 {
				names = append(names, d.Mailbox)
			}
		}
		return list.Close()
	})
	return names
}

func (r *run) imapFeatures(ic *imapConn, sel *imap.SelectData) {
	caps := ic.c.Caps()
	r.uidPlus = caps.Has(imap.CapUIDPlus)
	var have, warn, fix []string
	if caps.Has(imap.CapIdle) {
		// Some proxies break IDLE although the server offers it: try it.
		err := ic.do(func() error {
			cmd, err := ic.c.Idle()
			if err != nil {
				return err
			}
			if err := cmd.Close(); err != nil {
				return err
			}
			return cmd.Wait()
		})
		if err != nil {
			warn = append(warn, "IDLE is offered but failed ("+oneLine(err.Error())+")")
			fix = append(fix, "set imap.idle = false")
		} else {
			have = append(have, "IDLE")
		}
	} else {
		warn = append(warn, fmt.Sprintf("no IDLE: new mail is seen within imap.poll_interval (%s), not at once", r.cfg.IMAP.PollInterval))
	}
	if caps.Has(imap.CapMove) {
		have = append(have, "MOVE")
	} else {
		warn = append(warn, "no MOVE: filing copies each message and flags the original \\Deleted")
	}
	if r.uidPlus {
		have = append(have, "UIDPLUS")
	} else {
		warn = append(warn, "no UIDPLUS: filed originals stay in the inbox flagged \\Deleted (modbot never expunges what it cannot name)")
		fix = append(fix, "expunge the inbox from a mail client now and then")
	}
	if slices.ContainsFunc(sel.PermanentFlags, func(f imap.Flag) bool { return f == imap.FlagWildcard }) {
		have = append(have, "keywords")
	} else {
		warn = append(warn, "the mailbox keeps no custom keywords: filed messages get no $Pending/$Approved tags; the folders still say the outcome")
	}
	res := Result{Check: "IMAP features", Status: OK, Detail: strings.Join(have, ", ")}
	if len(warn) > 0 {
		res.Status = Warn
		res.Detail = strings.Join(warn, "; ")
		if len(have) > 0 {
			res.Detail += " (has " + strings.Join(have, ", ") + ")"
		}
		if len(fix) > 0 {
			res.Fix = strings.Join(fix, "; ")
		} else {
			res.Fix = "modbot works with this; a server with the missing extensions works better"
		}
	}
	r.add(res)
}

// learnHierarchy finds the delimiter and personal namespace prefix, as
// the watcher does, to name the folders as the server wants them.
func (r *run) learnHierarchy(ic *imapConn, caps imap.CapSet) {
	if caps.Has(imap.CapNamespace) {
		var ns *imap.NamespaceData
		err := ic.do(func() (err error) { ns, err = ic.c.Namespace().Wait(); return err })
		if err == nil && len(ns.Personal) > 0 {
			r.prefix, r.delim = ns.Personal[0].Prefix, ns.Personal[0].Delim
			return
		}
	}
	ic.do(func() error {
		list := ic.c.List("", "", nil)
		for d := list.Next(); d != nil; d = list.Next() {
			r.delim = d.Delim
		}
		return list.Close()
	})
}

// mailboxName is what the server calls folder ("Modbot/Replies" may be
// "INBOX.Modbot.Replies"), worked out exactly as the daemon does.
func (r *run) mailboxName(folder string) string {
	return mail.MailboxName(folder, r.delim, r.prefix)
}

// imapFolders makes sure modbot's folders exist, creating the missing
// ones as modbot would on its first filing.
func (r *run) imapFolders(ic *imapConn) {
	res := Result{Check: "IMAP folders"}
	exist := map[string]bool{}
	err := ic.do(func() error {
		list := ic.c.List("", "*", nil)
		for d := list.Next(); d != nil; d = list.Next() {
			if !hasAttr(d.Attrs, imap.MailboxAttrNoSelect) && !hasAttr(d.Attrs, imap.MailboxAttrNonExistent) {
				exist[d.Mailbox] = true
			}
		}
		return list.Close()
	})
	if err != nil {
		res.Status, res.Err, res.Detail, res.Fix = Fail, err, "could not list the account's folders", "check that the account may list its folders"
		r.add(res)
		return
	}
	var created []string
	for _, f := range Folders {
		name := r.mailboxName(f)
		if exist[name] {
			continue
		}
		err := ic.do(func() error { return ic.c.Create(name, nil).Wait() })
		var imapErr *imap.Error
		if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists {
			err = nil
		}
		if err != nil {
			res.Status, res.Err = Fail, err
			res.Detail = fmt.Sprintf("%s is missing and could not be created", name)
			res.Fix = fmt.Sprintf("create the folders %s in a mail client, or give the account the right to create folders", strings.Join(Folders, ", "))
			r.add(res)
			return
		}
		// Mail clients often show only subscribed folders; a refusal
		// changes nothing for modbot.
		ic.do(func() error { return ic.c.Subscribe(name).Wait() })
		created = append(created, name)
	}
	res.Status = OK
	switch {
	case len(created) == 0:
		res.Detail = fmt.Sprintf("all %d exist (%s …)", len(Folders), r.mailboxName(Folders[0]))
	default:
		res.Detail = fmt.Sprintf("created %s (modbot files mail there)", strings.Join(created, ", "))
	}
	r.add(res)
}

func hasAttr(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	return slices.ContainsFunc(attrs, func(b imap.MailboxAttr) bool { return strings.EqualFold(string(a), string(b)) })
}

func plural(n uint32, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
