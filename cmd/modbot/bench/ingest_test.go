package bench

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"modbot/mail/dovecottest"
	"modbot/queue"
)

var ingestN = flag.Int("ingest.n", 10000, "messages in the ingest benchmark")

const (
	inbox    = "moderator@forum.example"
	password = dovecottest.Password
)

// fillMaildir writes n messages straight into the user's Maildir, the way
// a delivery agent does, and lets Dovecot index them: loading 10,000
// messages by APPEND would take longer than what is measured.
func fillMaildir(b *testing.B, dc *dovecottest.Server, user string, n int) int64 {
	b.Helper()
	return fillMaildirFrom(b, dc, user, n, nil)
}

// fillMaildirFrom is fillMaildir with each message passed through edit.
func fillMaildirFrom(b *testing.B, dc *dovecottest.Server, user string, n int, edit func([]byte, int) []byte) int64 {
	b.Helper()
	c := login(b, dc.IMAPAddr, user)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil { // creates the Maildir
		b.Fatal(err)
	}
	c.Close()
	root := filepath.Join(dc.Dir, "mail", user)
	md := filepath.Join(root, "Maildir")
	st, err := os.Stat(md)
	if err != nil {
		b.Fatal(err)
	}
	uid, gid := int(st.Sys().(*syscall.Stat_t).Uid), int(st.Sys().(*syscall.Stat_t).Gid)
	r := rand.New(rand.NewPCG(1, 2))
	var total int64
	now := time.Now().Unix()
	for i := 0; i < n; i++ {
		raw := submission(r, i)
		if edit != nil {
			raw = edit(raw, i)
		}
		total += int64(len(raw))
		p := filepath.Join(md, "new", fmt.Sprintf("%d.M%dP1.bench", now, i))
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			b.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			b.Fatal(err)
		}
	}
	// Index once, outside the measurement; both tools then start equal.
	c = login(b, dc.IMAPAddr, user)
	defer c.Close()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		b.Fatal(err)
	}
	if int(sel.NumMessages) != n {
		b.Fatalf("INBOX holds %d messages, want %d", sel.NumMessages, n)
	}
	return total
}

func login(b *testing.B, addr, user string) *imapclient.Client {
	b.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Login(user, password).Wait(); err != nil {
		b.Fatal(err)
	}
	return c
}

// runMbsync copies the INBOX to a local Maildir with mbsync (isync), the
// reference for "how fast can a mailbox be read over IMAP here".
func runMbsync(b *testing.B, dc *dovecottest.Server) (time.Duration, bool) {
	b.Helper()
	bin, err := exec.LookPath("mbsync")
	if err != nil {
		b.Logf("mbsync not installed (apt-get install isync): no reference figure")
		return 0, false
	}
	dir := b.TempDir()
	local := filepath.Join(dir, "local") + "/"
	if err := os.MkdirAll(local, 0o700); err != nil {
		b.Fatal(err)
	}
	host, port, _ := splitHostPort(dc.IMAPAddr)
	rc := fmt.Sprintf(`IMAPAccount bench
Host %s
Port %s
User %s
Pass %s
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path %s
Inbox %sINBOX

Channel inbox
Far :remote:
Near :local:
Patterns INBOX
Sync Pull
Create Near
SyncState *
`, host, port, inbox, password, local, local)
	rcPath := filepath.Join(dir, "mbsyncrc")
	if err := os.WriteFile(rcPath, []byte(rc), 0o600); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	out, err := exec.Command(bin, "-q", "-c", rcPath, "inbox").CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("mbsync: %v\n%s", err, out)
	}
	return d, true
}

func splitHostPort(addr string) (string, string, error) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:], nil
		}
	}
	return addr, "", fmt.Errorf("no port in %q", addr)
}

func buildModbot(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "modbot")
	if out, err := exec.Command("go", "build", "-o", bin, "modbot/cmd/modbot").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func writeConfig(b *testing.B, dir, imapAddr, smtpAddr string) string {
	b.Helper()
	src := fmt.Sprintf(`[site]
name = "Bench Forum"
address = "moderator@forum.example"
[imap]
addr = %q
username = "moderator@forum.example"
password = %q
[smtp]
addr = %q
[moderation]
moderators = ["alice@mods.example"]
digest_settle = "1s"
[store]
dsn = "modbot.db"
[log]
level = "warn"
[[posts]]
slug = "uk-meta-encryption"
title = "UK accuses Meta"
`, imapAddr, password, smtpAddr)
	p := filepath.Join(dir, "modbot.toml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkIngestDovecot: N small submissions already in a Dovecot INBOX;
// modbot (a separate process, as in production) fetches, parses,
// classifies, prechecks, stores and files every one. Reported beside the
// time mbsync takes to copy the same mailbox in the same run.
func BenchmarkIngestDovecot(b *testing.B) {
	dc := dovecottest.Start(b, inbox, "alice@mods.example")
	n := *ingestN
	bytes := fillMaildir(b, dc, inbox, n)
	mbsync, haveMbsync := runMbsync(b, dc)
	bin := buildModbot(b)
	dir := b.TempDir()
	cfgPath := writeConfig(b, dir, dc.IMAPAddr, dc.SMTPAddr)

	b.ResetTimer()
	start := time.Now()
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	waitIngested(b, dc.IMAPAddr, filepath.Join(dir, "modbot.db"), n)
	elapsed := time.Since(start)
	b.StopTimer()
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	rssKB := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss

	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(elapsed.Seconds(), "modbot_s")
	b.ReportMetric(float64(rssKB)/1024, "peak_rss_MB")
	b.Logf("modbot: %d messages (%.1f MB) ingested and filed in %.2f s = %.0f msgs/s, peak RSS %.1f MB",
		n, float64(bytes)/1e6, elapsed.Seconds(), float64(n)/elapsed.Seconds(), float64(rssKB)/1024)
	if haveMbsync {
		b.ReportMetric(mbsync.Seconds(), "mbsync_s")
		b.ReportMetric(elapsed.Seconds()/mbsync.Seconds(), "x_mbsync")
		b.Logf("mbsync: same mailbox copied in %.2f s; modbot takes %.2fx", mbsync.Seconds(), elapsed.Seconds()/mbsync.Seconds())
	}
}

// waitIngested waits until every message has an outcome and the INBOX is
// empty (everything filed).
func waitIngested(b *testing.B, imapAddr, dbPath string, n int) {
	b.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Minute)
	var s *queue.Store
	for time.Now().Before(deadline) {
		if s == nil {
			if _, err := os.Stat(dbPath); err == nil {
				s, _ = queue.OpenReadOnly(ctx, dbPath)
			}
		}
		if s != nil {
			var got int
			if err := s.DB().Get(&got, `SELECT COUNT(*) FROM inbound`); err == nil && got >= n {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s != nil {
		defer s.Close()
	}
	for time.Now().Before(deadline) {
		c := login(b, imapAddr, inbox)
		st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		c.Close()
		if err == nil && *st.NumMessages == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("not all %d messages ingested and filed in time", n)
}

func openRO(path string) (*queue.Store, error) { return queue.OpenReadOnly(context.Background(), path) }
