package devmail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"
)

// defaultMailboxes are created for every user, so that mail clients find
// the folders they expect.
var defaultMailboxes = []string{"INBOX", "Sent", "Drafts", "Trash"}

// Options configures Start. The zero value is usable but has no users.
type Options struct {
	// Users maps each address to its password, e.g.
	// "moderator@forum.example": "secret". The address is also the IMAP
	// login name. Addresses are case-insensitive.
	Users map[string]string

	// CatchAll, when set, is the address of one of Users that receives mail
	// for every recipient that is not a user, at any domain (the demo uses
	// it so that notifications to made-up commenters can be read). Its
	// Delivered-To keeps the address as given. When empty, unknown
	// recipients at a user's domain get 550 5.1.1 and any other domain
	// 550 5.7.1: nothing is ever relayed.
	CatchAll string

	// IMAPListen and SMTPListen are the listen addresses; both default to
	// "127.0.0.1:0" (a free loopback port, read back from Server).
	IMAPListen, SMTPListen string

	// Hostname names this server in Received lines and the SMTP greeting;
	// default "devmail.localhost".
	Hostname string

	// Logger receives connection-level errors; nil discards them.
	Logger *slog.Logger
}

// Server is a running devmail instance.
type Server struct {
	// IMAPAddr and SMTPAddr are the host:port the servers listen on.
	IMAPAddr, SMTPAddr string

	log      *slog.Logger
	hostname string
	catchAll string

	mem  *imapmemserver.Server
	imap *imapserver.Server
	smtp *smtp.Server
	lns  []net.Listener

	mu        sync.Mutex
	users     map[string]*user // by lower-case address
	domains   map[string]bool  // domains of users
	closeOnce sync.Once
	closeErr  error
}

type user struct {
	address, password string
	mem               *imapmemserver.User
}

// Start creates the users and their mailboxes and starts both servers.
func Start(opts Options) (*Server, error) {
	s := &Server{
		log:      opts.Logger,
		hostname: opts.Hostname,
		mem:      imapmemserver.New(),
		users:    make(map[string]*user),
		domains:  make(map[string]bool),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.hostname == "" {
		s.hostname = "devmail.localhost"
	}
	for addr, pass := range opts.Users {
		if err := s.AddUser(addr, pass); err != nil {
			return nil, err
		}
	}
	if opts.CatchAll != "" {
		s.catchAll = strings.ToLower(opts.CatchAll)
		if s.lookup(s.catchAll) == nil {
			return nil, fmt.Errorf("devmail: catch-all %q is not one of the users", opts.CatchAll)
		}
	}

	imapLn, err := net.Listen("tcp", orLoopback(opts.IMAPListen))
	if err != nil {
		return nil, fmt.Errorf("devmail: listen imap: %w", err)
	}
	smtpLn, err := net.Listen("tcp", orLoopback(opts.SMTPListen))
	if err != nil {
		imapLn.Close()
		return nil, fmt.Errorf("devmail: listen smtp: %w", err)
	}
	s.lns = []net.Listener{imapLn, smtpLn}
	s.IMAPAddr = imapLn.Addr().String()
	s.SMTPAddr = smtpLn.Addr().String()

	s.imap = imapserver.New(&imapserver.Options{
		NewSession: s.newIMAPSession,
		Caps: imap.CapSet{
			imap.CapIMAP4rev1: {},
			imap.CapIMAP4rev2: {},
		},
		Logger:       logAdapter{s.log.With("server", "imap")},
		InsecureAuth: true,
	})
	s.smtp = s.newSMTPServer()

	go s.serve("imap", func() error { return s.imap.Serve(imapLn) })
	go s.serve("smtp", func() error { return s.smtp.Serve(smtpLn) })
	s.log.Info("devmail started", "imap", s.IMAPAddr, "smtp", s.SMTPAddr)
	return s, nil
}

func orLoopback(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}

func (s *Server) serve(name string, serve func() error) {
	err := serve()
	if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, smtp.ErrServerClosed) {
		s.log.Error("devmail server stopped", "server", name, "err", err)
	}
}

// Close stops both servers and drops every connection. Mail is lost.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err1 := s.imap.Close()
		err2 := s.smtp.Close()
		// Close the listeners ourselves too: a Close that races with the
		// start of Serve would otherwise leave one open.
		for _, ln := range s.lns {
			ln.Close()
		}
		if err1 != nil {
			s.closeErr = fmt.Errorf("devmail: close imap: %w", err1)
		} else if err2 != nil {
			s.closeErr = fmt.Errorf("devmail: close smtp: %w", err2)
		}
	})
	return s.closeErr
}

// AddUser adds a user with the default mailboxes. Adding an existing
// address fails.
func (s *Server) AddUser(address, password string) error {
	key := strings.ToLower(address)
	at := strings.LastIndexByte(key, '@')
	if at <= 0 || at == len(key)-1 {
		return fmt.Errorf("devmail: user %q is not an email address", address)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[key] != nil {
		return fmt.Errorf("devmail: user %q already exists", address)
	}
	u := &user{address: key, password: password, mem: imapmemserver.NewUser(key, password)}
	for _, mbox := range defaultMailboxes {
		if err := u.mem.Create(mbox, nil); err != nil {
			return fmt.Errorf("devmail: create %s for %s: %w", mbox, key, err)
		}
		if err := u.mem.Subscribe(mbox); err != nil {
			return fmt.Errorf("devmail: subscribe %s for %s: %w", mbox, key, err)
		}
	}
	s.mem.AddUser(u.mem)
	s.users[key] = u
	s.domains[key[at+1:]] = true
	return nil
}

func (s *Server) lookup(address string) *user {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[strings.ToLower(address)]
}

// Account returns an IMAP client helper for the user at address.
func (s *Server) Account(address string) (Account, error) {
	u := s.lookup(address)
	if u == nil {
		return Account{}, fmt.Errorf("devmail: no user %q", address)
	}
	return Account{Addr: s.IMAPAddr, Username: u.address, Password: u.password}, nil
}

// Append puts raw straight into mailbox of user, creating the mailbox if
// needed, as if it had been delivered; clients in IDLE on it are told.
// Bare LF line endings become CRLF.
func (s *Server) Append(address, mailbox string, raw []byte) error {
	u := s.lookup(address)
	if u == nil {
		return fmt.Errorf("devmail: no user %q", address)
	}
	return s.deliver(u, mailbox, CRLF(raw))
}

func (s *Server) deliver(u *user, mailbox string, raw []byte) error {
	_, err := u.mem.Append(mailbox, bytes.NewReader(raw), &imap.AppendOptions{})
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeTryCreate {
		if err := u.mem.Create(mailbox, nil); err != nil && !isAlreadyExists(err) {
			return fmt.Errorf("devmail: create %s for %s: %w", mailbox, u.address, err)
		}
		_, err = u.mem.Append(mailbox, bytes.NewReader(raw), &imap.AppendOptions{})
	}
	if err != nil {
		return fmt.Errorf("devmail: append to %s of %s: %w", mailbox, u.address, err)
	}
	return nil
}

func isAlreadyExists(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists
}

// Messages returns what mailbox of user holds, read over IMAP, in UID
// order.
func (s *Server) Messages(address, mailbox string) ([][]byte, error) {
	a, err := s.Account(address)
	if err != nil {
		return nil, err
	}
	return a.Messages(context.Background(), mailbox)
}

// Wait returns the messages of mailbox once it holds at least n; see
// Account.Wait.
func (s *Server) Wait(ctx context.Context, address, mailbox string, n int) ([][]byte, error) {
	a, err := s.Account(address)
	if err != nil {
		return nil, err
	}
	return a.Wait(ctx, mailbox, n)
}

// logAdapter lets the servers' Printf-style loggers write to slog.
type logAdapter struct{ log *slog.Logger }

func (l logAdapter) Printf(format string, v ...any) {
	l.log.Warn("protocol error", "detail", fmt.Sprintf(format, v...))
}

func (l logAdapter) Println(v ...any) {
	l.log.Warn("protocol error", "detail", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
