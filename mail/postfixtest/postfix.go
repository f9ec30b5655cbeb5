package postfixtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"modbot/mail/mastertest"
)

// RequireEnv names the variable that turns a missing Postfix (or a test
// not running as root) from a skip into a failure. It is the one the
// Dovecot suites use: CI sets it once for both.
const RequireEnv = "MODBOT_REQUIRE_DOVECOT"

// How long Postfix may take to start or stop; a healthy one needs well
// under a second.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// Options says what the MTA accepts and where it delivers.
type Options struct {
	// LMTPAddr is the LMTP server (host:port over TCP) that gets every
	// accepted message: a dovecottest.Server's LMTPAddr.
	LMTPAddr string
	// Users are the addresses mail is accepted for. Their domains are the
	// MTA's domains; RCPT TO another address there is refused with 550
	// 5.1.1, and one elsewhere with "Relay access denied".
	Users []string
	// CatchAll maps a domain to one of Users that receives the mail of
	// every other address in that domain.
	CatchAll map[string]string
	// MessageSizeLimit is Postfix's message_size_limit in bytes: a
	// larger message is refused with 552 (default 50 MiB).
	MessageSizeLimit int64
}

// Server is a Postfix started by Start.
type Server struct {
	// SMTPAddr is the SMTP listener (no TLS, no AUTH; loopback clients
	// may send to the test domains).
	SMTPAddr string
	// Dir holds the configuration (etc/), the queue (spool/) and the log
	// (maillog).
	Dir string

	postfix  string // the postfix command
	master   string // the master daemon
	etcDir   string
	queueDir string
	mailLog  string
	outPath  string // the master's stdout and stderr
	opts     Options
	port     int
	policy   *policy

	proc mastertest.Master
}

// Start starts Postfix for opts, and stops it and removes its files when
// the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	required := os.Getenv(RequireEnv) == "1"
	bin := mastertest.Find(t, "postfix", exec.LookPath, sbinPaths, "apt-get install postfix (debconf: No configuration)", RequireEnv, required)
	if os.Geteuid() != 0 {
		msg := "postfix needs root to start (its master switches to the postfix user)"
		if required {
			t.Fatalf("postfixtest: %s (%s=1)", msg, RequireEnv)
		}
		t.Skip("postfixtest: " + msg)
	}
	if len(opts.Users) == 0 || opts.LMTPAddr == "" {
		t.Fatalf("postfixtest: Options need Users and an LMTPAddr")
	}
	opts.Users = lowerAll(opts.Users)
	for d, u := range opts.CatchAll {
		if !slices.Contains(opts.Users, strings.ToLower(u)) {
			t.Fatalf("postfixtest: catch-all of %s, %s, is not one of Users", d, u)
		}
	}

	dir, err := mastertest.MakeDir("postfixtest-")
	if err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	s := &Server{
		Dir:      dir,
		postfix:  bin,
		etcDir:   filepath.Join(dir, "etc"),
		queueDir: filepath.Join(dir, "spool"),
		mailLog:  filepath.Join(dir, "maillog"),
		outPath:  filepath.Join(dir, "master.out"),
		opts:     opts,
	}
	t.Cleanup(func() {
		s.Stop()
		if s.policy != nil {
			s.policy.close()
		}
		if t.Failed() {
			s.dumpLog(t)
		}
		os.RemoveAll(dir)
	})
	if s.policy, err = startPolicy(); err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	if err := s.prepare(); err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	// Another process may take the port between our picking and the
	// master's binding it: pick again.
	for attempt := 1; ; attempt++ {
		if err := s.pickPort(); err != nil {
			t.Fatalf("postfixtest: %v", err)
		}
		err := s.start()
		if err == nil {
			break
		}
		if !mastertest.Retryable(err) || attempt == 5 {
			t.Fatalf("postfixtest: %v", err)
		}
	}
	return s
}

// sbinPaths are where Debian and source builds put postfix, which is not
// on a normal user's PATH.
var sbinPaths = []string{"/usr/sbin/postfix", "/usr/local/sbin/postfix"}

func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// prepare writes the address maps and makes the directories Postfix
// expects; `postfix check` (in start) makes the queue's own.
func (s *Server) prepare() error {
	owner, err := user.Lookup("postfix")
	if err != nil {
		return fmt.Errorf("prepare: the postfix user: %w", err)
	}
	uid, _ := strconv.Atoi(owner.Uid)
	gid, _ := strconv.Atoi(owner.Gid)
	data := filepath.Join(s.Dir, "data")
	for _, d := range []string{s.etcDir, s.queueDir, data} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	if err := os.Chown(data, uid, gid); err != nil {
		return fmt.Errorf("prepare: chown data dir: %w", err)
	}
	files := map[string][]byte{
		"mailboxes": mailboxesFile(s.opts.Users),
		"aliases":   aliasesFile(s.opts.Users, s.opts.CatchAll),
	}
	for name, b := range files {
		if err := writeSettled(filepath.Join(s.etcDir, name), b); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	return nil
}

// writeSettled writes a configuration file dated a minute ago: Postfix
// takes a file changed within the last second or two for one still being
// edited, and waits for it to settle.
func writeSettled(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	then := time.Now().Add(-time.Minute)
	return os.Chtimes(path, then, then)
}

// pickPort finds a free loopback port and writes the configuration that
// listens on it.
func (s *Server) pickPort() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("pick port: %w", err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.SMTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	mainCF, masterCF, err := config{
		Dir:        s.Dir,
		QueueDir:   s.queueDir,
		DataDir:    filepath.Join(s.Dir, "data"),
		MailLog:    s.mailLog,
		SMTPPort:   s.port,
		LMTPAddr:   s.opts.LMTPAddr,
		PolicyAddr: s.policy.addr(),
		Domains:    domainsOf(s.opts.Users, s.opts.CatchAll),
		Mailboxes:  filepath.Join(s.etcDir, "mailboxes"),
		Aliases:    filepath.Join(s.etcDir, "aliases"),
		SizeLimit:  cmp.Or(s.opts.MessageSizeLimit, 50<<20),
	}.render()
	if err != nil {
		return err
	}
	if err := writeSettled(filepath.Join(s.etcDir, "main.cf"), mainCF); err != nil {
		return fmt.Errorf("write main.cf: %w", err)
	}
	if err := writeSettled(filepath.Join(s.etcDir, "master.cf"), masterCF); err != nil {
		return fmt.Errorf("write master.cf: %w", err)
	}
	return nil
}

// start checks the installation (`postfix check` makes missing queue
// directories and fixes their owners), then runs the master in the
// foreground as our child, so that we know when it exits, and waits until
// the SMTP listener greets.
func (s *Server) start() error {
	logStart := mastertest.FileSize(s.mailLog)
	outStart := mastertest.FileSize(s.outPath)
	if s.master == "" {
		check := exec.Command(s.postfix, "-c", s.etcDir, "check")
		if out, err := check.CombinedOutput(); err != nil {
			return fmt.Errorf("postfix check: %v\n%s%s", err, out, mastertest.ReadFrom(s.mailLog, logStart))
		}
		dd, err := exec.Command(filepath.Join(filepath.Dir(s.postfix), "postconf"), "-c", s.etcDir, "-h", "daemon_directory").Output()
		if err != nil {
			return fmt.Errorf("postconf daemon_directory: %w", err)
		}
		s.master = filepath.Join(strings.TrimSpace(string(dd)), "master")
	}

	// What `postfix start-fg` runs, without the shell in between: the
	// master is our child, and it dies with us.
	pid, exited, err := s.proc.Start(s.outPath, procAttr(), s.master, "-c", s.etcDir)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// The master writes its pid once it holds its listeners; until then
	// a greeting on the port could come from someone else.
	err = mastertest.WaitPidFile(ctx, exited, filepath.Join(s.queueDir, "pid", "master.pid"), pid)
	if err == nil {
		err = mastertest.WaitGreeting(ctx, exited, s.SMTPAddr, "220 ")
	}
	if err != nil {
		s.proc.Kill()
		msgs := mastertest.ReadFrom(s.outPath, outStart) + mastertest.ReadFrom(s.mailLog, logStart)
		if strings.Contains(msgs, "Address already in use") {
			return fmt.Errorf("postfix: %w:\n%s", mastertest.ErrAddrInUse, msgs)
		}
		if strings.TrimSpace(msgs) == "" && errors.Is(err, mastertest.ErrMasterExited) {
			return fmt.Errorf("postfix: %w", mastertest.ErrSilentExit)
		}
		return fmt.Errorf("postfix did not start: %w\n%s", err, msgs)
	}
	return nil
}

// Stop kills Postfix as a crash would and returns when its SMTP port is
// free: SMTP clients see the connection refused, and a transaction in
// flight is cut (its client must try again). Mail the MTA accepted stays
// in its queue and is delivered after Start. Stopping a stopped server
// does nothing.
func (s *Server) Stop() {
	if s.proc.Kill() == 0 {
		return
	}
	mastertest.WaitPortsFree(stopTimeout, s.port)
}

// Start starts a stopped Postfix again on the same port, with the same
// configuration and queue. Starting a running server does nothing.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if s.proc.Running() {
		return
	}
	if err := mastertest.RetryInUse(s.start); err != nil {
		t.Fatalf("postfixtest: start again: %v", err)
	}
}

// SetReply makes Postfix answer RCPT TO:<rcpt> with reply, e.g. "450
// 4.2.1 mailbox busy" (the client should try again later) or "550 5.7.1
// refused" (it should give up). Postfix words it its own way around the
// text: "450 4.2.1 <rcpt>: Recipient address rejected: mailbox busy". An
// empty rcpt sets the reply for every recipient without one of its own;
// an empty reply takes a reply back. It applies from the next RCPT on,
// in open SMTP sessions too.
func (s *Server) SetReply(rcpt, reply string) error {
	return s.policy.set(rcpt, reply)
}

// RcptAttempts returns how many times a client gave RCPT TO:<rcpt> for an
// address Postfix accepts mail for (the policy service is asked only
// after the relay and recipient checks pass).
func (s *Server) RcptAttempts(rcpt string) int {
	return s.policy.count(rcpt)
}

// Queued returns how many messages Postfix holds, not yet delivered or
// bounced. Zero means everything it accepted has reached the LMTP server.
func (s *Server) Queued() (int, error) {
	n := 0
	for _, q := range []string{"maildrop", "incoming", "active", "deferred", "hold"} {
		err := filepath.WalkDir(filepath.Join(s.queueDir, q), func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.Type().IsRegular() {
				n++
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("count queue %s: %w", q, err)
		}
	}
	return n, nil
}

// cleanupRe is the log line of a message entering the queue.
var cleanupRe = regexp.MustCompile(`postfix/cleanup\[\d+\]: [0-9A-Za-z]+: message-id=<?([^>\s]*)>?`)

// Accepted returns how many times Postfix took each Message-ID into its
// queue (without angle brackets): a client that sent a message twice
// shows 2 here, while a message that Postfix delivered twice (LMTP
// retried after the server died before confirming) shows 1.
func (s *Server) Accepted() map[string]int {
	out := map[string]int{}
	for _, m := range cleanupRe.FindAllStringSubmatch(s.Log(), -1) {
		out[m[1]]++
	}
	return out
}

// Log returns Postfix's log so far.
func (s *Server) Log() string {
	return mastertest.ReadFrom(s.mailLog, 0)
}

func (s *Server) dumpLog(t testing.TB) {
	if b, err := os.ReadFile(s.outPath); err == nil && len(b) > 0 {
		t.Logf("postfix master output (%s):\n%s", s.outPath, b)
	}
	if b, err := os.ReadFile(s.mailLog); err == nil {
		const tail = 16 << 10
		if len(b) > tail {
			b = b[len(b)-tail:]
		}
		t.Logf("postfix log, the end (%s):\n%s", s.mailLog, b)
	}
}

// Flush asks Postfix to try every deferred message now (postqueue -f),
// as an operator would after a server it delivers to came back.
func (s *Server) Flush() error {
	out, err := exec.Command("postqueue", "-c", s.etcDir, "-f").CombinedOutput()
	if err != nil {
		return fmt.Errorf("postqueue -f: %v: %s", err, out)
	}
	return nil
}
