package doctor

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"modbot/cmd/modbot/internal/config"
	"modbot/mail/devmail"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	inbox    = "moderator@forum.example"
	password = "secret"
	token    = "0123456789ab"
)

func startDevmail(t *testing.T) *devmail.Server {
	t.Helper()
	ms, err := devmail.Start(devmail.Options{Users: map[string]string{inbox: password}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	return ms
}

// setup is a configuration for doctor; extra TOML lines go at the end of
// each section by key ("imap": `password = "x"`).
type setup struct {
	imapAddr, smtpAddr string
	imapPassword       string
	imap               string // extra [imap] lines
	smtp               string // extra [smtp] lines
	baseURL            string
}

func (s setup) config(t *testing.T) *config.Config {
	t.Helper()
	src := fmt.Sprintf(`
[site]
base_url = %q
address = "moderator@forum.example"
[imap]
addr = %q
username = "moderator@forum.example"
password = %q
%s
[smtp]
addr = %q
%s
[moderation]
moderators = ["alice@mods.example"]
`, cmp.Or(s.baseURL, "http://127.0.0.1:8080"), s.imapAddr, cmp.Or(s.imapPassword, password), s.imap, s.smtpAddr, s.smtp)
	cfg, err := config.Parse([]byte(src), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// smtpServer runs a go-smtp server with backend on loopback.
func smtpServer(t *testing.T, be smtp.Backend) string {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "broken.localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// session is an SMTP session whose answers the test decides; accepted
// mail goes to deliver.
type session struct {
	mail    func(from string) error
	rcpt    func(to string) error
	deliver func(raw []byte) error
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.mail != nil {
		return s.mail(from)
	}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.rcpt != nil {
		return s.rcpt(to)
	}
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil || s.deliver == nil {
		return err
	}
	return s.deliver(b)
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

var (
	userUnknown = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "user unknown"}
	refused     = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "access denied: this host is not allowed to send mail"}
)

func noPlus(to string) error {
	if strings.Contains(to, "+") {
		return userUnknown
	}
	return nil
}

// scenarios are a working set-up and broken ones; golden files hold what
// the person running doctor reads for each.
func TestDoctor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, ms *devmail.Server) setup
		wait  time.Duration
		// want: the check that fails (none for the working set-up) and
		// what its explanation must say.
		failing string
		says    []string
	}{
		{name: "working", setup: func(t *testing.T, ms *devmail.Server) setup {
			return setup{imapAddr: ms.IMAPAddr, smtpAddr: ms.SMTPAddr}
		}},
		{name: "wrong-password", failing: "IMAP login", says: []string{`refused the password for "moderator@forum.example"`, "imap.password"},
			setup: func(t *testing.T, ms *devmail.Server) setup {
				return setup{imapAddr: ms.IMAPAddr, smtpAddr: ms.SMTPAddr, imapPassword: "wrong"}
			}},
		{name: "wrong-smtp-password", failing: "SMTP login", says: []string{`refused the password for "moderator@forum.example"`, "smtp.password"},
			setup: func(t *testing.T, ms *devmail.Server) setup {
				return setup{imapAddr: ms.IMAPAddr, smtpAddr: ms.SMTPAddr, smtp: "username = \"moderator@forum.example\"\npassword = \"wrong\""}
			}},
		{name: "no-plus-refused", failing: "plus address", says: []string{"plus addressing is off", "recipient_delimiter"},
			setup: func(t *testing.T, ms *devmail.Server) setup {
				addr := smtpServer(t, smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
					return &session{rcpt: noPlus, deliver: func(b []byte) error { return ms.Append(inbox, "INBOX", b) }}, nil
				}))
				return setup{imapAddr: ms.IMAPAddr, smtpAddr: addr}
			}},
		{name: "no-plus-lost", failing: "delivery", wait: 500 * time.Millisecond, says: []string{"did not reach INBOX within 500ms", "drop plus addresses"},
			setup: func(t *testing.T, ms *devmail.Server) setup {
				addr := smtpServer(t, smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
					return &session{}, nil // takes everything, delivers nothing
				}))
				return setup{imapAddr: ms.IMAPAddr, smtpAddr: addr}
			}},
		{name: "smtp-refusing", failing: "SMTP connection", says: []string{"refuses to talk to this machine (554)", "block this machine's address"},
			setup: func(t *testing.T, ms *devmail.Server) setup {
				addr := smtpServer(t, smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return nil, refused }))
				return setup{imapAddr: ms.IMAPAddr, smtpAddr: addr}
			}},
		{name: "smtp-refusing-sender", failing: "plus address", says: []string{"refuses mail from moderator@forum.example (554)", "allowed to send as that address"},
			setup: func(t *testing.T, ms *devmail.Server) setup {
				addr := smtpServer(t, smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
					return &session{mail: func(string) error { return refused }}, nil
				}))
				return setup{imapAddr: ms.IMAPAddr, smtpAddr: addr}
			}},
		{name: "imap-tls-on-plain-port", failing: "IMAP connection", says: []string{`did not answer with TLS: imap.security = "tls"`, `imap.security = "starttls"`},
			setup: func(t *testing.T, ms *devmail.Server) setup {
				return setup{imapAddr: ms.IMAPAddr, smtpAddr: ms.SMTPAddr, imap: `security = "tls"`}
			}},
		{name: "smtp-no-starttls", failing: "SMTP connection", says: []string{"does not offer STARTTLS", `smtp.security = "tls"`},
			setup: func(t *testing.T, ms *devmail.Server) setup {
				return setup{imapAddr: ms.IMAPAddr, smtpAddr: ms.SMTPAddr, smtp: `security = "starttls"`}
			}},
		{name: "imap-down", failing: "IMAP connection", says: []string{"nothing accepts connections on 127.0.0.1:", "is the IMAP server running"},
			setup: func(t *testing.T, ms *devmail.Server) setup {
				return setup{imapAddr: closedPort(t), smtpAddr: ms.SMTPAddr}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := startDevmail(t)
			if tc.name == "working" {
				flagSomeonesMessage(t, ms)
			}
			cfg := tc.setup(t, ms).config(t)
			var out bytes.Buffer
			rs := Run(context.Background(), cfg, Options{Token: token, DeliveryWait: cmp.Or(tc.wait, 10*time.Second),
				Timeout: 5 * time.Second, Report: func(r Result) { Format(&out, r) }})
			fmt.Fprintln(&out, Summary(rs))
			golden(t, tc.name, out.String())

			var failed []string
			for _, r := range rs {
				if r.Status == Fail {
					failed = append(failed, r.Check)
					text := r.Detail + " " + r.Fix
					for _, s := range tc.says {
						if !strings.Contains(text, s) {
							t.Errorf("%s: explanation lacks %q:\n%s", r.Check, s, text)
						}
					}
				}
			}
			if want := strings.Fields(tc.failing); strings.Join(failed, ",") != tc.failing {
				t.Errorf("failed checks %q, want %q", failed, want)
			}
			if tc.name == "working" {
				checkWorking(t, ms, rs)
			}
		})
	}
}

// checkWorking: the test message is gone, nothing else is, and the
// folders exist.
func checkWorking(t *testing.T, ms *devmail.Server, rs []Result) {
	last := rs[len(rs)-1]
	if last.Check != "delivery" || last.Status != OK || !strings.Contains(last.Detail, "deleted it again") {
		t.Errorf("delivery: %+v", last)
	}
	msgs, err := ms.Messages(inbox, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || !bytes.Contains(msgs[0], []byte("Subject: someone else's")) {
		t.Errorf("inbox after doctor holds %d messages; want only the one flagged \\Deleted by someone else", len(msgs))
	}
	for _, f := range Folders {
		if _, err := ms.Messages(inbox, f); err != nil {
			t.Errorf("folder %s: %v", f, err)
		}
	}
}

// A message someone else flagged \Deleted stays: the doctor expunges only
// its own UID.
func flagSomeonesMessage(t *testing.T, ms *devmail.Server) {
	t.Helper()
	if err := ms.Append(inbox, "INBOX", []byte("From: a@people.example\r\nSubject: someone else's\r\n\r\nkeep me\r\n")); err != nil {
		t.Fatal(err)
	}
	c, err := imapclient.DialInsecure(ms.IMAPAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(inbox, password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

var (
	portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	tookRE = regexp.MustCompile(`after \d+(\.\d+)?(ms|s)`)
)

func golden(t *testing.T, name, got string) {
	t.Helper()
	got = portRE.ReplaceAllString(got, "127.0.0.1:PORT")
	got = tookRE.ReplaceAllString(got, "after TIME")
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update to accept):\n%s", path, got)
	}
}
