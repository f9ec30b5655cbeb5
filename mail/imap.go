package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
)

// Security is how a connection to a mail server is protected.
type Security string

// Connection security modes.
const (
	SecurityNone     Security = "none"     // plain TCP; credentials only to loopback
	SecurityStartTLS Security = "starttls" // plain TCP upgraded with STARTTLS before login
	SecurityTLS      Security = "tls"      // TLS from the first byte
)

func (s Security) valid() bool {
	switch s {
	case SecurityNone, SecurityStartTLS, SecurityTLS:
		return true
	}
	return false
}

// IMAPConfig says where the watched mailbox is and how to watch it.
type IMAPConfig struct {
	Addr     string // host:port
	Username string
	Password string
	Mailbox  string // default "INBOX"
	Security Security

	// TLSConfig is used for "starttls" and "tls". When nil, the server's
	// certificate is verified against the system roots for the host in Addr.
	TLSConfig *tls.Config

	// IDLE makes the watcher wait with IMAP IDLE when the server offers it.
	IDLE bool
	// PollInterval is how often the mailbox is checked without IDLE, and how
	// often IDLE is restarted to prove the connection is alive. Default 30s.
	PollInterval time.Duration
	// MaxMessageSize is the largest message downloaded whole; of a larger
	// one only the header is fetched. Default 10 MiB.
	MaxMessageSize int64
	// BatchSize is how many UIDs one fetch asks for. Default 500.
	BatchSize int
	// Flags, when set, holds flag changes for messages already filed
	// (a decision tags its submission; an answered feedback message
	// gets \Answered). They are made after each sync.
	Flags FlagQueue
	// Progress, when set, hears how each pass over the mailbox goes:
	// done = 0 when a pass finds total new messages, after each message
	// handled (done < total), and done = total exactly once, when the
	// pass is complete (0, 0 when there was nothing new). It runs on the
	// watcher's goroutine and must return quickly.
	Progress func(done, total int)

	Logger *slog.Logger
}

// Defaults for IMAPConfig.
const (
	DefaultPollInterval   = 30 * time.Second
	DefaultMaxMessageSize = 10 << 20
	DefaultBatchSize      = 500
)

func (cfg *IMAPConfig) setDefaults() {
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.Security == "" {
		cfg.Security = SecurityNone
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
}

// validate reports configuration errors that no reconnect can fix.
func (cfg *IMAPConfig) validate() error {
	if !cfg.Security.valid() {
		return fmt.Errorf("mail: imap security %q: want none, starttls or tls", cfg.Security)
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("mail: imap addr %q: %w", cfg.Addr, err)
	}
	if cfg.Security == SecurityNone && cfg.Password != "" && !isLoopback(host) {
		return fmt.Errorf("mail: imap security none to %s would send the password in clear text: use starttls or tls", host)
	}
	return nil
}

// errLogin marks a refused login: the credentials are wrong or the account
// is locked, so it is logged as such rather than as a network failure.
var errLogin = errors.New("mail: imap login refused")

// isLoopback reports whether host names this machine. Only literal loopback
// addresses and "localhost" count: resolving a name could be spoofed.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tlsConfigFor returns cfg (or a default) with ServerName set to host.
func tlsConfigFor(cfg *tls.Config, host string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return cfg
}

// newDialer returns a dialer whose TCP keepalive notices a peer that went
// away while the connection was idle, which IMAP alone does not.
func newDialer() *net.Dialer {
	return &net.Dialer{
		Timeout: 30 * time.Second,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable:   true,
			Idle:     30 * time.Second,
			Interval: 10 * time.Second,
			Count:    4,
		},
	}
}

// imapSession is one logged-in connection with the watched mailbox
// selected, and what was learnt about the server on it.
type imapSession struct {
	w    *Watcher
	c    *imapclient.Client
	conn net.Conn // under c; closing it never blocks, unlike c.Close
	log  *slog.Logger

	idle     bool // the server has IDLE
	useIdle  bool // ... and the configuration wants it
	move     bool // MOVE (or IMAP4rev2)
	uidPlus  bool // UIDPLUS (or IMAP4rev2): UID EXPUNGE is safe
	keywords bool // PERMANENTFLAGS has \*: custom keywords stick

	uidValidity uint32
	delim       rune   // hierarchy delimiter; 0 for a flat namespace
	prefix      string // personal namespace prefix, e.g. "INBOX."
	created     map[string]bool

	passDone, passTotal int // progress of the current sync, for cfg.Progress

	// newMail receives a token when the server reports EXISTS. It is
	// written on the client's reader goroutine, so never blocking.
	newMail chan struct{}
}

// dialIMAP connects, logs in and selects the mailbox. The connection is
// closed if ctx ends or the server stops answering before that is done.
func (w *Watcher) dialIMAP(ctx context.Context) (*imapSession, error) {
	cfg := &w.cfg
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("imap addr %q: %w", cfg.Addr, err)
	}
	conn, err := newDialer().DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Addr, err)
	}

	// Until the mailbox is selected, one timer and ctx guard every step:
	// neither the TLS handshake nor imapclient's greeting and login can be
	// cancelled any other way.
	guard := time.AfterFunc(w.cmdTimeout, func() { conn.Close() })
	defer guard.Stop()
	stopCtx := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopCtx()

	s := &imapSession{
		w:       w,
		conn:    conn,
		log:     cfg.Logger.With("mailbox", cfg.Mailbox),
		created: make(map[string]bool),
		newMail: make(chan struct{}, 1),
	}
	opts := &imapclient.Options{
		WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					s.signalNewMail()
				}
			},
		},
	}

	switch cfg.Security {
	case SecurityNone:
		s.c = imapclient.New(conn, opts)
	case SecurityTLS:
		tc := tls.Client(conn, tlsConfigFor(withALPN(cfg.TLSConfig, "imap"), host))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("tls handshake with %s: %w", cfg.Addr, err)
		}
		s.c = imapclient.New(tc, opts)
	case SecurityStartTLS:
		opts.TLSConfig = tlsConfigFor(cfg.TLSConfig, host)
		s.c, err = imapclient.NewStartTLS(conn, opts)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("starttls with %s: %w", cfg.Addr, err)
		}
	}

	err = s.setup(ctx)
	if !guard.Stop() {
		if err == nil {
			err = errors.New("connection closed")
		}
		err = fmt.Errorf("%w (no answer within %v)", err, w.cmdTimeout)
	}
	if err != nil {
		s.c.Close()
		return nil, err
	}
	return s, nil
}

func withALPN(cfg *tls.Config, proto string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.NextProtos == nil {
		cfg.NextProtos = []string{proto}
	}
	return cfg
}

// setup logs in, learns the server's capabilities and hierarchy, and
// selects the mailbox.
func (s *imapSession) setup(ctx context.Context) error {
	cfg := &s.w.cfg
	if err := s.c.WaitGreeting(); err != nil {
		return fmt.Errorf("greeting from %s: %w", cfg.Addr, err)
	}
	if err := s.c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
		var imapErr *imap.Error
		if errors.As(err, &imapErr) {
			// Any NO to LOGIN is a refusal, not only [AUTHENTICATIONFAILED]:
			// older servers send no code.
			return fmt.Errorf("%w for %q: %w", errLogin, cfg.Username, err)
		}
		return fmt.Errorf("login as %q: %w", cfg.Username, err)
	}

	caps := s.c.Caps()
	if caps == nil {
		return errors.New("capability: no answer")
	}
	s.idle = caps.Has(imap.CapIdle)
	s.useIdle = cfg.IDLE && s.idle
	s.move = caps.Has(imap.CapMove)
	s.uidPlus = caps.Has(imap.CapUIDPlus)

	if err := s.learnHierarchy(caps); err != nil {
		return err
	}

	data, err := s.c.Select(cfg.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("select %s: %w", cfg.Mailbox, err)
	}
	if data.UIDValidity == 0 {
		return fmt.Errorf("select %s: server sent no UIDVALIDITY", cfg.Mailbox)
	}
	s.uidValidity = data.UIDValidity
	s.keywords = hasFlag(data.PermanentFlags, imap.FlagWildcard)
	if !s.keywords && s.w.noKeywordsLogged.CompareAndSwap(false, true) {
		s.log.Warn("imap server does not keep custom keywords in this mailbox; filing without keywords")
	}
	return ctx.Err()
}

// learnHierarchy finds the delimiter and personal namespace prefix, so
// that "Modbot/Replies" can become "INBOX.Modbot.Replies" on a server that
// wants it so.
func (s *imapSession) learnHierarchy(caps imap.CapSet) error {
	if caps.Has(imap.CapNamespace) {
		ns, err := s.c.Namespace().Wait()
		if err == nil && len(ns.Personal) > 0 {
			s.prefix = ns.Personal[0].Prefix
			s.delim = ns.Personal[0].Delim
			return nil
		}
	}
	// LIST "" "" returns only the hierarchy delimiter.
	list := s.c.List("", "", nil)
	for {
		data := list.Next()
		if data == nil {
			break
		}
		s.delim = data.Delim
	}
	if err := list.Close(); err != nil {
		return fmt.Errorf("list delimiter: %w", err)
	}
	return nil
}

func (s *imapSession) signalNewMail() {
	select {
	case s.newMail <- struct{}{}:
	default:
	}
}

// await runs wait under a watchdog: imapclient has no deadline of its own
// for a server that goes silent, so the connection is closed if no answer
// comes within the command timeout.
func (s *imapSession) await(what string, wait func() error) error {
	wd := s.newWatchdog()
	err := wait()
	if wd.stop() {
		return fmt.Errorf("%s: no answer within %v: connection closed", what, s.w.cmdTimeout)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// watchdog closes the connection when the server stays silent for longer
// than the command timeout while we wait on it.
type watchdog struct {
	t     *time.Timer
	d     time.Duration
	fired atomic.Bool
}

func (s *imapSession) newWatchdog() *watchdog {
	wd := &watchdog{d: s.w.cmdTimeout}
	wd.t = time.AfterFunc(wd.d, func() {
		wd.fired.Store(true)
		s.conn.Close()
	})
	return wd
}

// kick restarts the countdown after the server showed signs of life.
func (wd *watchdog) kick() { wd.t.Reset(wd.d) }

// pause stops the countdown while we, not the server, are busy.
func (wd *watchdog) pause() { wd.t.Stop() }

// stop disarms the watchdog and reports whether it had fired.
func (wd *watchdog) stop() bool {
	wd.t.Stop()
	return wd.fired.Load()
}

// close ends the session: a polite LOGOUT when the connection is in a
// known state, then the socket. Every FETCH must have been read to its end
// first: Client.Close waits for the reader, which waits for its literal.
func (s *imapSession) close(polite bool) {
	if polite {
		t := time.AfterFunc(2*time.Second, func() { s.conn.Close() })
		if err := s.c.Logout().Wait(); err != nil {
			s.log.Debug("imap logout", "err", err)
		}
		t.Stop()
	}
	s.c.Close()
}

func hasFlag(flags []imap.Flag, f imap.Flag) bool {
	for _, g := range flags {
		if strings.EqualFold(string(g), string(f)) {
			return true
		}
	}
	return false
}

// isNo reports whether err is the server refusing a command (NO or BAD),
// as opposed to the connection failing.
func isNo(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr)
}

func respCode(err error) imap.ResponseCode {
	var imapErr *imap.Error
	if errors.As(err, &imapErr) {
		return imapErr.Code
	}
	return ""
}
