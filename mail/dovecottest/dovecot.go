package dovecottest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"modbot/mail/devmail"
	"modbot/mail/mastertest"
)

// RequireEnv names the variable that turns a missing Dovecot from a skip
// into a failure.
const RequireEnv = "MODBOT_REQUIRE_DOVECOT"

// DefaultUser is the user Start creates when given none.
const DefaultUser = "moderator@forum.example"

// Password is every user's password: the same as the demo's, so that tests
// can run one scenario against devmail and Dovecot alike. The server only
// listens on loopback and lives for one test.
const Password = "secret"

// How long Dovecot may take to start or stop. Generous: CI machines are
// shared and slow; a healthy Dovecot needs a fraction of a second.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// Server is a Dovecot master started by Start, and its SMTP relay.
type Server struct {
	// IMAPAddr is Dovecot's IMAP listener (no TLS, plaintext LOGIN).
	IMAPAddr string
	// LMTPAddr is Dovecot's LMTP listener.
	LMTPAddr string
	// SMTPAddr is an in-process SMTP server that relays every message to
	// LMTPAddr: what is sent to it lands in Dovecot's mailboxes.
	SMTPAddr string
	// Password is every user's password (the constant Password).
	Password string
	// Dir holds the configuration, logs, state and mail.
	Dir string
	// Users are the users' addresses, lower-cased.
	Users []string

	binary   string
	confPath string
	baseDir  string
	logPath  string
	outPath  string // the master's stdout and stderr
	ports    [2]int // IMAP, LMTP

	owner owner
	relay *relay

	master mastertest.Master
}

// Start starts Dovecot with the given users (DefaultUser if none), all
// with Password, and stops it and removes its files when the test ends.
func Start(t testing.TB, users ...string) *Server {
	t.Helper()
	bin := mastertest.Find(t, "dovecot", exec.LookPath, sbinPaths, "apt-get install dovecot-imapd dovecot-lmtpd", RequireEnv, os.Getenv(RequireEnv) == "1")
	if len(users) == 0 {
		users = []string{DefaultUser}
	}
	users = slices.Clone(users)
	for i, u := range users {
		users[i] = strings.ToLower(u)
	}
	own, err := mailOwner()
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}

	dir, err := mastertest.MakeDir("dovecottest-")
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	s := &Server{
		Password: Password,
		Dir:      dir,
		Users:    users,
		owner:    own,
		binary:   bin,
		confPath: filepath.Join(dir, "dovecot.conf"),
		baseDir:  filepath.Join(dir, "run"),
		logPath:  filepath.Join(dir, "dovecot.log"),
		outPath:  filepath.Join(dir, "dovecot.out"),
	}
	t.Cleanup(func() {
		s.Stop()
		if s.relay != nil {
			s.relay.close()
		}
		if t.Failed() {
			s.dumpLog(t)
		}
		os.RemoveAll(dir)
	})
	if err := s.prepare(); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}

	// Another process may take a port between our picking and Dovecot's
	// binding it: pick again.
	for attempt := 1; ; attempt++ {
		if err := s.pickPorts(); err != nil {
			t.Fatalf("dovecottest: %v", err)
		}
		err := s.start()
		if err == nil {
			break
		}
		if !errors.Is(err, mastertest.ErrAddrInUse) || attempt == 5 {
			t.Fatalf("dovecottest: %v", err)
		}
	}

	s.relay, err = startRelay(s)
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	s.SMTPAddr = s.relay.addr
	return s
}

// sbinPaths are where Debian and source builds put dovecot, which is not
// on a normal user's PATH.
var sbinPaths = []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"}

// prepare writes the users file and makes the mail and state directories.
func (s *Server) prepare() error {
	uid, gid := s.owner.uid, s.owner.gid
	mailRoot := filepath.Join(s.Dir, "mail")
	for _, d := range []string{mailRoot, filepath.Join(s.Dir, "state")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	if err := os.Chown(mailRoot, uid, gid); err != nil {
		return fmt.Errorf("prepare: chown mail dir: %w", err)
	}
	users := usersFile(s.Users, s.Password, uid, gid, mailRoot)
	if err := os.WriteFile(filepath.Join(s.Dir, "users"), users, 0o644); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	return nil
}

// pickPorts finds two free loopback ports and writes the configuration
// that uses them.
func (s *Server) pickPorts() error {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for i := range s.ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("pick port: %w", err)
		}
		lns = append(lns, ln)
		s.ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	s.IMAPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.ports[0]))
	s.LMTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.ports[1]))

	conf, err := config{
		Instance:  filepath.Base(s.Dir),
		Dir:       s.Dir,
		BaseDir:   s.baseDir,
		LogPath:   s.logPath,
		Users:     filepath.Join(s.Dir, "users"),
		MailUID:   s.owner.uid,
		MailGID:   s.owner.gid,
		NonRoot:   s.owner.nonRoot,
		UserName:  s.owner.userName,
		GroupName: s.owner.groupName,
		IMAPPort:  s.ports[0],
		LMTPPort:  s.ports[1],
	}.render()
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.confPath, conf, 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// start runs the master in the foreground as our child, so that we know
// when it exits, and waits until both listeners greet.
func (s *Server) start() error {
	logStart := mastertest.FileSize(s.logPath)
	outStart := mastertest.FileSize(s.outPath)
	pid, exited, err := s.master.Start(s.outPath, procAttr(), s.binary, "-F", "-c", s.confPath)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// Our master writes master.pid once it holds its listeners; until then
	// a greeting on the port could come from someone else.
	err = mastertest.WaitPidFile(ctx, exited, s.pidPath(), pid)
	if err == nil {
		err = mastertest.WaitGreeting(ctx, exited, s.IMAPAddr, "* OK")
	}
	if err == nil {
		err = mastertest.WaitGreeting(ctx, exited, s.LMTPAddr, "220 ")
	}
	if err != nil {
		// Not Stop: when the port is someone else's it will not get free.
		s.kill()
		msgs := mastertest.ReadFrom(s.outPath, outStart) + mastertest.ReadFrom(s.logPath, logStart)
		if strings.Contains(msgs, "Address already in use") {
			return fmt.Errorf("dovecot: %w:\n%s", mastertest.ErrAddrInUse, msgs)
		}
		return fmt.Errorf("dovecot did not start: %w\n%s", err, msgs)
	}
	return nil
}

// Stop kills Dovecot as a crash would and returns when its ports are
// free. Every process of the instance gets SIGKILL at once, so each
// client connection ends now, not when a graceful shutdown (which takes
// Dovecot's master up to several seconds) gets round to it. Mail that
// Dovecot acknowledged is on disk and kept. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	if !s.kill() {
		return
	}
	mastertest.WaitPortsFree(stopTimeout, s.ports[:]...)
}

// kill kills the running instance, if any, and waits for its master to
// exit. It reports whether there was one.
func (s *Server) kill() bool {
	pid := s.master.Kill()
	if pid == 0 {
		return false
	}
	// Dovecot refuses to start while master.pid names a live process;
	// ours is dead, and its pid may be reused.
	if b, err := os.ReadFile(s.pidPath()); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(pid) {
		os.Remove(s.pidPath())
	}
	return true
}

func (s *Server) pidPath() string { return filepath.Join(s.baseDir, "master.pid") }

// Restart stops Dovecot and starts it again on the same ports with the
// same configuration and mail, as after a server crash or upgrade.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := mastertest.RetryInUse(s.start); err != nil {
		t.Fatalf("dovecottest: restart: %v", err)
	}
}

// Account returns an IMAP client helper for user.
func (s *Server) Account(user string) devmail.Account {
	return devmail.Account{Addr: s.IMAPAddr, Username: strings.ToLower(user), Password: s.Password}
}

// Append stores raw in mailbox of user by IMAP APPEND, creating the
// mailbox if needed. Bare LF line endings become CRLF.
func (s *Server) Append(user, mailbox string, raw []byte) error {
	return s.Account(user).Append(context.Background(), mailbox, raw)
}

// Messages returns what mailbox of user holds, in UID order.
func (s *Server) Messages(user, mailbox string) ([][]byte, error) {
	return s.Account(user).Messages(context.Background(), mailbox)
}

// Wait returns the messages of mailbox once it holds at least n, or fails
// when ctx ends. A mailbox that does not exist yet counts as empty.
func (s *Server) Wait(ctx context.Context, user, mailbox string, n int) ([][]byte, error) {
	return s.Account(user).Wait(ctx, mailbox, n)
}

func (s *Server) dumpLog(t testing.TB) {
	if b, err := os.ReadFile(s.outPath); err == nil && len(b) > 0 {
		t.Logf("dovecot output (%s):\n%s", s.outPath, b)
	}
	if b, err := os.ReadFile(s.logPath); err == nil {
		t.Logf("dovecot log (%s):\n%s", s.logPath, b)
	}
}
