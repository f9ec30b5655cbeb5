//go:build linux

package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"modbot/mail"
	"modbot/mail/dovecottest"
	"modbot/queue"
)

// muttTimeout bounds one mutt session; a healthy one takes about a second.
const muttTimeout = 60 * time.Second

// findMutt returns the mutt binary and util-linux's script (mutt needs a
// terminal, script gives it one), or skips the test when they are missing;
// where Dovecot is required (CI), a missing mutt is a failure.
func findMutt(t *testing.T) (muttBin, scriptBin string) {
	t.Helper()
	var missing []string
	muttBin, err := exec.LookPath("mutt")
	if err != nil {
		missing = append(missing, "mutt")
	}
	scriptBin, err = exec.LookPath("script")
	if err != nil {
		missing = append(missing, "script (util-linux)")
	}
	if len(missing) > 0 {
		if os.Getenv(dovecottest.RequireEnv) == "1" {
			t.Fatalf("%s not on PATH: install mutt (apt-get install mutt)", strings.Join(missing, " and "))
		}
		t.Skipf("%s not on PATH; apt-get install mutt to run this test", strings.Join(missing, " and "))
	}
	return muttBin, scriptBin
}

// muttSession is the files of one mutt run: its home, configuration,
// editor, and what it left behind.
type muttSession struct {
	home, muttrc, editor string
	bodyCopy             string // the body as the editor left it
	debugLog             string // mutt -d 2 writes here
	transcript           bytes.Buffer
}

// newMuttSession writes a throw-away muttrc for user of the servers at
// imapAddr and smtpAddr that limits the index to the message with
// Message-ID msgID, replies to it with the editor typing command above the
// quote, sends the reply and quits.
func newMuttSession(t *testing.T, user, imapAddr, smtpAddr, msgID, command string) *muttSession {
	t.Helper()
	// msgID goes into a mutt pattern inside a quoted push string.
	if !regexp.MustCompile(`^[A-Za-z0-9._@-]+$`).MatchString(msgID) {
		t.Fatalf("Message-ID %q cannot be written into a mutt pattern as it is", msgID)
	}
	home := t.TempDir()
	s := &muttSession{
		home:     home,
		muttrc:   filepath.Join(home, "muttrc"),
		editor:   filepath.Join(home, "editor.sh"),
		bodyCopy: filepath.Join(home, "body.txt"),
		debugLog: filepath.Join(home, ".muttdebug0"),
	}
	// The editor is the moderator: the command goes on the first line,
	// above the attribution and the quoted digest, as a person types it.
	editor := fmt.Sprintf(`#!/bin/sh
set -e
f=$1
{ printf '%%s\n\n' %s; cat "$f"; } >"$f.new"
cat "$f.new" >"$f"
rm -f "$f.new"
cp "$f" %s
`, shellQuote(command), shellQuote(s.bodyCopy))
	if err := os.WriteFile(s.editor, []byte(editor), 0o600); err != nil {
		t.Fatal(err)
	}
	rc := strings.Join([]string{
		`set folder="imap://` + strings.ReplaceAll(user, "@", "%40") + `@` + imapAddr + `/"`,
		`set spoolfile="+INBOX"`,
		`set imap_pass="` + password + `"`,
		`set imap_authenticators="login"`,
		`set imap_check_subscribed=no`,
		`set smtp_url="smtp://` + smtpAddr + `/"`,
		`set ssl_starttls=no`,
		`set ssl_force_tls=no`,
		`set from="` + user + `"`,
		`set realname="Alice"`,
		`set use_from=yes`,
		`set hostname="mods.example"`,
		`set user_agent=yes`,
		`set charset="utf-8"`,
		`set send_charset="us-ascii:utf-8"`,
		`alternative_order text/plain`,
		// The reply: to Reply-To without asking, the digest quoted, no
		// recipient or subject prompts, the body straight to the editor.
		`set reply_to=yes`,
		`set include=yes`,
		`set fast_reply=yes`,
		`set edit_headers=no`,
		`set autoedit=no`,
		`set editor="/bin/sh ` + s.editor + `"`,
		`set signature=""`,
		// Nothing kept, nothing asked, nothing waited for.
		`set record=""`,
		`set postpone=no`,
		`set copy=no`,
		`set move=no`,
		`set quit=yes`,
		`set delete=no`,
		`set confirmappend=no`,
		`set wait_key=no`,
		`set sleep_time=0`,
		`set beep=no`,
		`set help=no`,
		`set mail_check=60`,
		`set timeout=60`,
		`set header_cache=""`,
		`set message_cachedir=""`,
		`set tmpdir="` + home + `"`,
		// The keystrokes: show only the digest, reply to it (the editor
		// runs), send from the compose menu, quit.
		`push "<limit>~i ` + msgID + `<enter><reply><send-message><quit>"`,
	}, "\n") + "\n"
	if err := os.WriteFile(s.muttrc, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// run runs mutt under script(1), which gives it a pseudo-terminal; its
// keystrokes come from the muttrc's push, so nothing is typed with
// timing. Stdin stays an open, silent pipe until mutt exits: at EOF,
// script would type ^D at mutt.
func (s *muttSession) run(t *testing.T, muttBin, scriptBin string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), muttTimeout)
	defer cancel()
	muttCmd := strings.Join([]string{shellQuote(muttBin), "-n", "-F", shellQuote(s.muttrc), "-d", "2"}, " ")
	cmd := exec.CommandContext(ctx, scriptBin, "-q", "-f", "-e", "-c", muttCmd, "/dev/null")
	cmd.Dir = s.home
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.home,
		"TMPDIR=" + s.home,
		"TERM=xterm",
		"LANG=C.UTF-8",
		"LINES=40",
		"COLUMNS=120",
	}
	// script and everything it starts form one process group, which a
	// timeout kills whole; mutt gets SIGHUP when script's terminal goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout = &s.transcript
	cmd.Stderr = &s.transcript
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	defer stdin.Close()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("mutt did not finish within %v: %w", muttTimeout, err)
		}
		return fmt.Errorf("mutt: %w", err)
	}
	return nil
}

// ansi matches the terminal control sequences curses writes.
var ansi = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>78MDEc])|\r|\x0f|\x0e|\x07`)

// progress matches mutt's progress meter lines ("Sending message...
// 0K/2.5K (0%)").
var progress = regexp.MustCompile(`\(\d+%\)\s*$`)

// report logs what mutt showed, the body its editor left and the end of
// its debug log, for a failed test.
func (s *muttSession) report(t *testing.T) {
	t.Helper()
	screen := ansi.ReplaceAllString(s.transcript.String(), " ")
	screen = regexp.MustCompile(` {2,}`).ReplaceAllString(screen, " ")
	t.Logf("mutt's terminal output, control sequences removed:\n%s", screen)
	if body, err := os.ReadFile(s.bodyCopy); err == nil {
		t.Logf("the reply body after the editor:\n%s", body)
	} else {
		t.Logf("the editor never ran: %v", err)
	}
	if dbg, err := os.ReadFile(s.debugLog); err == nil {
		// Drop the progress meters, which repeat a line per block.
		var kept []string
		for _, l := range strings.Split(string(dbg), "\n") {
			if !progress.MatchString(l) {
				kept = append(kept, l)
			}
		}
		if len(kept) > 80 {
			kept = kept[len(kept)-80:]
		}
		t.Logf("end of mutt's debug log:\n%s", strings.Join(kept, "\n"))
	}
}

// reportQueue logs the state of the submissions, decisions and outbox in
// the daemon's database at dbPath, for a failed test.
func reportQueue(t *testing.T, dbPath string) {
	t.Helper()
	s, err := queue.OpenReadOnly(context.Background(), dbPath)
	if err != nil {
		t.Logf("database: %v", err)
		return
	}
	defer s.Close()
	for _, q := range []string{
		`SELECT id, state FROM submissions ORDER BY id`,
		`SELECT submission_id, moderator, action, to_state FROM decisions ORDER BY id`,
		`SELECT kind, rcpt_to, state, not_before, last_error FROM outbox ORDER BY id`,
		`SELECT kind, outcome, folder, reason FROM inbound ORDER BY id`,
	} {
		rows, err := s.DB().Queryx(q)
		if err != nil {
			t.Logf("%s: %v", q, err)
			continue
		}
		var out strings.Builder
		for rows.Next() {
			cols, err := rows.SliceScan()
			if err != nil {
				t.Logf("%s: %v", q, err)
				break
			}
			for i, c := range cols {
				if b, ok := c.([]byte); ok {
					cols[i] = string(b)
				}
			}
			fmt.Fprintf(&out, "\n\t%v", cols)
		}
		rows.Close()
		t.Logf("%s:%s", q, out.String())
	}
}

// testMuttReply: carol submits two comments; alice, in the real mutt,
// replies to her digest with "approve 1" typed above mutt's quote of it.
// Only comment 1 is published: the example commands in the quote
// ("approve 1 3", "approve all", "undo", ...) are not executed.
func testMuttReply(t *testing.T, muttBin, scriptBin string, ms mailSystem, imapAddr, smtpAddr string) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, imapAddr, smtpAddr)
	cfg.Moderation.UndoGrace = 1
	_, _ = startDaemon(t, cfg)
	for i, body := range []string{"Encryption protects everyone.", "A second thought, still pending."} {
		sub := fmt.Sprintf("From: Carol <carol@people.example>\r\nTo: moderator+uk-meta-encryption@forum.example\r\n"+
			"Subject: my comment %d\r\nMessage-ID: <carol-mutt-%d@people.example>\r\nContent-Type: text/plain\r\n\r\n%s\r\n", i+1, i+1, body)
		if err := ms.Append(inbox, "INBOX", []byte(sub)); err != nil {
			t.Fatal(err)
		}
	}
	// The digest whose item 1 is #1001: if the two comments came in
	// separate digests, mutt is pointed at the first.
	digest := waitForText(t, ms, alice, "to moderate", "1. #1001")

	sess := newMuttSession(t, alice, imapAddr, smtpAddr, digest.MessageID, "approve 1")
	err := sess.run(t, muttBin, scriptBin)
	defer func() {
		if t.Failed() {
			sess.report(t)
			reportQueue(t, filepath.Join(dir, "modbot.db"))
		}
	}()
	if err != nil {
		t.Fatal(err)
	}

	// What mutt sent, as modbot filed it.
	waitFiled(t, imapAddr, mail.FolderReplies, 1, "$Reply")
	raws, err := ms.Messages(inbox, mail.FolderReplies)
	if err != nil || len(raws) != 1 {
		t.Fatalf("%s holds %d messages (%v), want mutt's reply", mail.FolderReplies, len(raws), err)
	}
	reply := parseAll(t, raws)[0]
	if ua := reply.Get("User-Agent"); !strings.Contains(ua, "Mutt") {
		t.Errorf("the filed reply's User-Agent is %q: not mutt's", ua)
	}
	if len(reply.InReplyTo) == 0 || reply.InReplyTo[0] != digest.MessageID {
		t.Errorf("mutt's reply is in reply to %v, want the digest %s", reply.InReplyTo, digest.MessageID)
	}
	if len(reply.To) != 1 || reply.To[0].Addr != digest.ReplyTo[0].Addr {
		t.Errorf("mutt's reply went to %+v, want the digest's Reply-To %s", reply.To, digest.ReplyTo[0].Addr)
	}
	lines := strings.Split(strings.ReplaceAll(reply.Text, "\r\n", "\n"), "\n")
	if strings.TrimSpace(lines[0]) != "approve 1" {
		t.Errorf("the reply's first line is %q, want the command above the quote", lines[0])
	}
	quotedExamples := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "> ") && strings.Contains(l, "approve 1 3") {
			quotedExamples++
		}
	}
	if quotedExamples == 0 || !strings.Contains(reply.Text, "> 1. #1001") {
		t.Errorf("mutt did not quote the digest with its example commands:\n%s", reply.Text)
	}

	// What the people see.
	published := waitFor(t, ms, carol, "published")
	if !strings.Contains(published.Text, "http://forum.example/posts/uk-meta-encryption#c") {
		t.Errorf("carol's published notice:\n%s", published.Text)
	}
	conf := waitFor(t, ms, alice, "Re:")
	if !regexp.MustCompile(`1\. #1001 approved`).MatchString(conf.Text) {
		t.Errorf("alice's confirmation does not say #1001 was approved:\n%s", conf.Text)
	}
	for _, bad := range []string{"#1002", "Not understood", "Undone", "Nothing was applied"} {
		if strings.Contains(conf.Text, bad) {
			t.Errorf("alice's confirmation mentions %q: a quoted example was taken for a command:\n%s", bad, conf.Text)
		}
	}
	if len(conf.InReplyTo) == 0 || conf.InReplyTo[0] != reply.MessageID {
		t.Errorf("the confirmation is in reply to %v, want mutt's reply %s", conf.InReplyTo, reply.MessageID)
	}

	// And the database: one comment, one decision, #1002 untouched.
	s, err := queue.OpenReadOnly(context.Background(), filepath.Join(dir, "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var comments, decisions int
	if err := s.DB().Get(&comments, `SELECT COUNT(*) FROM comments`); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Get(&decisions, `SELECT COUNT(*) FROM decisions`); err != nil {
		t.Fatal(err)
	}
	if comments != 1 || decisions != 1 {
		t.Errorf("%d comments and %d decisions, want 1 of each", comments, decisions)
	}
	for id, want := range map[int]string{1001: "approved", 1002: "pending"} {
		var state string
		if err := s.DB().Get(&state, `SELECT state FROM submissions WHERE id = ?`, id); err != nil {
			t.Fatalf("submission %d: %v", id, err)
		}
		if state != want {
			t.Errorf("submission #%d is %s, want %s", id, state, want)
		}
	}
}

// waitForText waits until user's mailbox holds a message whose subject
// contains subject and whose text contains text, and returns it.
func waitForText(t *testing.T, ms mailSystem, user, subject, text string) *mail.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		raws, err := ms.Messages(user, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range parseAll(t, raws) {
			if strings.Contains(m.Subject, subject) && strings.Contains(m.Text, text) {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never received %q naming %q", user, subject, text)
	return nil
}

func TestMuttReply(t *testing.T) {
	muttBin, scriptBin := findMutt(t)
	ms, imapAddr, smtpAddr := startDevmail(t)
	testMuttReply(t, muttBin, scriptBin, ms, imapAddr, smtpAddr)
}

func TestMuttReplyDovecot(t *testing.T) {
	muttBin, scriptBin := findMutt(t)
	dc := dovecottest.Start(t, inbox, alice, bob, carol)
	testMuttReply(t, muttBin, scriptBin, dc, dc.IMAPAddr, dc.SMTPAddr)
}
