package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"modbot/cmd/modbot/internal/config"
	"modbot/mail"
	"modbot/mail/devmail"
	"modbot/mail/dovecottest"
)

// mailSystem is what the end-to-end tests need of a mail server: the
// in-process devmail one or a real Dovecot.
type mailSystem interface {
	Append(user, mailbox string, raw []byte) error
	Messages(user, mailbox string) ([][]byte, error)
	Wait(ctx context.Context, user, mailbox string, n int) ([][]byte, error)
}

const (
	inbox    = "moderator@forum.example"
	alice    = "alice@mods.example"
	bob      = "bob@mods.example"
	password = "secret"
)

func startDevmail(t *testing.T) (*devmail.Server, string, string) {
	t.Helper()
	users := map[string]string{}
	for _, u := range []string{inbox, alice, bob, "carol@people.example"} {
		users[u] = password
	}
	ms, err := devmail.Start(devmail.Options{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	return ms, ms.IMAPAddr, ms.SMTPAddr
}

// testConfig is a complete configuration for the servers at imapAddr and
// smtpAddr, with a database in dir.
func testConfig(t *testing.T, dir, imapAddr, smtpAddr string) *config.Config {
	t.Helper()
	cfg, err := config.Load(writeTestConfig(t, dir, imapAddr, smtpAddr, ""))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// writeTestConfig writes testConfig's file, with moderation lines added,
// and returns its path (for a modbot process of its own).
func writeTestConfig(t *testing.T, dir, imapAddr, smtpAddr, moderation string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "article.txt"), []byte("Meta said it would roll out encryption. James Cleverly objected.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`
[site]
name = "Test Forum"
base_url = "http://forum.example"
address = "moderator@forum.example"
[imap]
addr = %q
username = "moderator@forum.example"
password = "secret"
poll_interval = "2s"
[smtp]
addr = %q
[moderation]
moderators = ["alice@mods.example", "bob@mods.example"]
digest_settle = "200ms"
# The fault and crash tests count one "received" notice per submission,
# hundreds in minutes: the global cap (its own tests in queue) stays off.
max_notices_total_per_hour = 0
%s
[store]
dsn = "modbot.db"
[web]
metrics_listen = "none"
[log]
level = "warn"
[[posts]]
slug = "uk-meta-encryption"
title = "UK accuses Meta"
url = "http://forum.example/posts/uk-meta-encryption"
text_file = "article.txt"
`, imapAddr, smtpAddr, moderation)
	path := filepath.Join(dir, "modbot.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startDaemon runs a daemon until the test ends or the returned stop is
// called.
func startDaemon(t *testing.T, cfg *config.Config) (*Daemon, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("daemon did not stop within 20s of cancel")
		}
	}
	t.Cleanup(stop)
	return d, stop
}

func submission(n int, body string) []byte {
	return []byte(fmt.Sprintf("From: Commenter %d <c%d@people.example>\r\n"+
		"To: moderator+uk-meta-encryption@forum.example\r\n"+
		"Subject: comment %d\r\n"+
		"Message-ID: <sub-%d@people.example>\r\n"+
		"Date: Mon, 02 Jan 2026 15:04:05 +0000\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"\r\n%s\r\n", n, n, n, n, body))
}

// testEndToEnd: a submission appended to the inbox ends in a digest in
// every moderator's mailbox, with its prechecks' evidence, and is filed
// in Modbot/Submissions with its keyword.
func testEndToEnd(t *testing.T, ms mailSystem, imapAddr, smtpAddr string) {
	cfg := testConfig(t, t.TempDir(), imapAddr, smtpAddr)
	_, _ = startDaemon(t, cfg)
	body := "THIS IS OUTRAGEOUS AND EVERYONE SHOULD KNOW ABOUT IT RIGHT NOW. Read https://bit.ly/abc123 first."
	if err := ms.Append(inbox, "INBOX", submission(1, body)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, mod := range []string{alice, bob} {
		msgs, err := ms.Wait(ctx, mod, "INBOX", 1)
		if err != nil {
			t.Fatalf("no digest for %s: %v", mod, err)
		}
		m, err := mail.Parse(bytes.NewReader(msgs[0]), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"1. #1001", "UK accuses Meta", "Commenter 1", "c1@people.example", "THIS IS OUTRAGEOUS", "rule 11", "rule 12", "bit.ly/abc123"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%s's digest lacks %q:\n%s", mod, want, m.Text)
			}
		}
		if len(m.ReplyTo) != 1 || !regexp.MustCompile(`^moderator\+d-[a-z2-7]{32}@forum\.example$`).MatchString(m.ReplyTo[0].Addr) {
			t.Errorf("Reply-To = %+v, want moderator+d-<token>@forum.example", m.ReplyTo)
		}
		if m.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("Auto-Submitted = %q", m.Get("Auto-Submitted"))
		}
		if m.HTML == "" {
			t.Errorf("digest has no HTML alternative")
		}
	}
	waitFiled(t, imapAddr, mail.FolderSubmissions, 1, "$Pending")
}

// waitFiled waits until folder holds n messages, each with keyword, and
// the inbox is empty.
func waitFiled(t *testing.T, imapAddr, folder string, n int, keyword string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		flags, inboxCount, err := folderFlags(imapAddr, folder)
		if err == nil && len(flags) == n && inboxCount == 0 {
			ok := true
			for _, fl := range flags {
				if keyword != "" && !hasFlag(fl, keyword) {
					ok = false
				}
			}
			if ok {
				return
			}
		}
		last = fmt.Sprintf("flags %v, inbox %d, err %v", flags, inboxCount, err)
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never held %d messages with %s and an empty INBOX: %s", folder, n, keyword, last)
}

func hasFlag(flags []imap.Flag, want string) bool {
	for _, f := range flags {
		if strings.EqualFold(string(f), want) {
			return true
		}
	}
	return false
}

// folderFlags returns the flags of every message in folder, and how many
// messages INBOX still holds, as the moderator inbox's owner sees them.
func folderFlags(imapAddr, folder string) ([][]imap.Flag, uint32, error) {
	c, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	if err := c.Login(inbox, password).Wait(); err != nil {
		return nil, 0, err
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return nil, 0, err
	}
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, *st.NumMessages, err
	}
	if sel.NumMessages == 0 {
		return nil, *st.NumMessages, nil
	}
	var seq imap.SeqSet
	seq.AddRange(1, sel.NumMessages)
	all, err := c.Fetch(seq, &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		return nil, *st.NumMessages, err
	}
	var out [][]imap.Flag
	for _, m := range all {
		out = append(out, m.Flags)
	}
	return out, *st.NumMessages, nil
}

func TestEndToEndInProcess(t *testing.T) {
	ms, imapAddr, smtpAddr := startDevmail(t)
	testEndToEnd(t, ms, imapAddr, smtpAddr)
}

func TestEndToEndDovecot(t *testing.T) {
	dc := dovecottest.Start(t, inbox, alice, bob, "carol@people.example")
	testEndToEnd(t, dc, dc.IMAPAddr, dc.SMTPAddr)
}

// Dovecot going away under an idling daemon: modbot reconnects with
// back-off and handles what arrived meanwhile, once.
func TestDovecotRestartWhileIdle(t *testing.T) {
	dc := dovecottest.Start(t, inbox, alice, bob)
	cfg := testConfig(t, t.TempDir(), dc.IMAPAddr, dc.SMTPAddr)
	d, _ := startDaemon(t, cfg)
	if err := dc.Append(inbox, "INBOX", submission(1, "Before the restart.")); err != nil {
		t.Fatal(err)
	}
	waitFiled(t, dc.IMAPAddr, mail.FolderSubmissions, 1, "$Pending")
	dc.Restart(t)
	if err := dc.Append(inbox, "INBOX", submission(2, "After the restart.")); err != nil {
		t.Fatal(err)
	}
	waitFiled(t, dc.IMAPAddr, mail.FolderSubmissions, 2, "$Pending")
	if st := d.Watcher.Stats(); st.Reconnects == 0 {
		t.Errorf("watcher reports no reconnect after the server restarted: %+v", st)
	}
}
