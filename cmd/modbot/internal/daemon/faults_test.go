//go:build linux

package daemon

// Injected server faults: Dovecot restarted under the daemon, a wrong
// password, the MTA down or refusing, the database locked or its disk
// full, the inbox's UIDVALIDITY changed. Each test asserts what users
// see: every message filed once, every outgoing message in its
// recipient's mailbox once, and the rows that say so.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"modbot/cmd/modbot/internal/config"
	modmail "modbot/mail"
	"modbot/mail/dovecottest"
	"modbot/mail/postfixtest"
	"modbot/queue"
)

// faultEnv is a real Dovecot and a real Postfix delivering to it, and a
// daemon configuration for both: IMAP from Dovecot, SMTP through Postfix.
// Every commenter address (people.example) lands in carol's mailbox.
type faultEnv struct {
	dc     *dovecottest.Server
	pf     *postfixtest.Server
	dir    string
	dbPath string
	cfg    *config.Config
}

func startFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	dc := dovecottest.Start(t, inbox, alice, bob, carol)
	pf := postfixtest.Start(t, postfixtest.Options{
		LMTPAddr: dc.LMTPAddr,
		Users:    dc.Users,
		CatchAll: map[string]string{"people.example": carol},
	})
	dir := t.TempDir()
	return &faultEnv{dc: dc, pf: pf, dir: dir, dbPath: filepath.Join(dir, "modbot.db"),
		cfg: testConfig(t, dir, dc.IMAPAddr, pf.SMTPAddr)}
}

// logBuffer collects a daemon's log for assertions; it is safe for the
// daemon's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the log lines that contain s.
func (l *logBuffer) lines(s string) []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// runDaemon runs a daemon whose log goes to logw, after tune (if any) has
// adjusted its parts. done receives Run's result; stop cancels it and
// waits.
func runDaemon(t *testing.T, cfg *config.Config, logw io.Writer, tune func(*Daemon)) (d *Daemon, done <-chan error, stop func()) {
	t.Helper()
	if logw == nil {
		logw = io.Discard
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	d, err := New(ctx, cfg, logger)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if tune != nil {
		tune(d)
	}
	ch := make(chan error, 1)
	go func() { ch <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-ch:
				if err != nil {
					t.Errorf("daemon: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("daemon did not stop within 20s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return d, ch, stop
}

// fastOutbox makes the outbox retry within a second instead of minutes.
func fastOutbox(d *Daemon) {
	d.Outbox.RetryBase = 200 * time.Millisecond
	d.Outbox.RetryMax = time.Second
}

// dumpLogOnFailure shows the daemon's warnings and errors, and the last
// lines of its log, when the test fails.
func dumpLogOnFailure(t *testing.T, logs *logBuffer) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		var show []string
		for i, l := range lines {
			if i >= len(lines)-20 || !strings.Contains(l, "level=INFO") {
				show = append(show, l)
			}
		}
		if len(show) > 300 {
			show = append([]string{"…"}, show[len(show)-300:]...)
		}
		t.Logf("daemon log (warnings, errors and the last lines):\n%s", strings.Join(show, "\n"))
	})
}

// eventually polls cond until it holds or timeout passes, then fails the
// test with what cond last said.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last seen: %s", what, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// appendMany appends raws to user's mailbox over one IMAP connection.
func appendMany(t *testing.T, imapAddr, user, mailbox string, raws [][]byte) {
	t.Helper()
	c, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, password).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, raw := range raws {
		cmd := c.Append(mailbox, int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	c.Logout().Wait()
}

// sendSMTP submits raw to the MTA at addr, as a commenter's provider
// would hand it over.
func sendSMTP(addr, from, to string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.people.example"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// storedHeader is the part of a stored message the checks read.
type storedHeader struct {
	MessageID, InReplyTo, Subject string
}

func readHeader(raw []byte) storedHeader {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return storedHeader{}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subject = m.Header.Get("Subject")
	}
	return storedHeader{
		MessageID: trimAngle(m.Header.Get("Message-Id")),
		InReplyTo: trimAngle(m.Header.Get("In-Reply-To")),
		Subject:   subject,
	}
}

func trimAngle(s string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">")
}

// messageIDs counts the Message-IDs in user's mailbox.
func messageIDs(t *testing.T, ms mailSystem, user, mailbox string) map[string]int {
	t.Helper()
	raws, err := ms.Messages(user, mailbox)
	if err != nil && !strings.Contains(err.Error(), "NONEXISTENT") && !strings.Contains(err.Error(), "doesn't exist") {
		t.Fatalf("read %s of %s: %v", mailbox, user, err)
	}
	ids := map[string]int{}
	for _, raw := range raws {
		ids[readHeader(raw).MessageID]++
	}
	return ids
}

// outboxRow is one outgoing message as the store has it.
type outboxRow struct {
	MessageID string `db:"message_id"`
	Kind      string `db:"kind"`
	To        string `db:"rcpt_to"`
	State     string `db:"state"`
	Attempts  int    `db:"attempts"`
	LastError string `db:"last_error"`
	Notice    string `db:"notice"`
}

func outboxRows(t *testing.T, dbPath string) []outboxRow {
	t.Helper()
	s, err := queue.OpenReadOnly(context.Background(), dbPath)
	if err != nil {
		return nil
	}
	defer s.Close()
	var rows []outboxRow
	if err := s.DB().Select(&rows, `SELECT message_id, kind, rcpt_to, state, attempts, last_error, notice FROM outbox ORDER BY id`); err != nil {
		return nil
	}
	return rows
}

// mailboxOf is whose mailbox mail to addr lands in: people.example is
// carol's catch-all.
func mailboxOf(addr string) string {
	if strings.HasSuffix(strings.ToLower(addr), "@people.example") {
		return carol
	}
	return strings.ToLower(addr)
}

// deliveredIDs counts, per recipient mailbox, each Message-ID delivered.
func deliveredIDs(t *testing.T, ms mailSystem, users ...string) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	for _, u := range users {
		out[u] = messageIDs(t, ms, u, "INBOX")
	}
	return out
}

// waitQuiet waits until the daemon has nothing left to do: the inbox is
// empty, no outgoing message is waiting, Postfix's queue is empty, and
// all of it stayed so for a second.
func waitQuiet(t *testing.T, env *faultEnv, timeout time.Duration) {
	t.Helper()
	var lastKey string
	var since, lastFlush time.Time
	eventually(t, timeout, "the daemon to go quiet", func() (bool, string) {
		_, inboxCount, _ := folderFlags(env.dc.IMAPAddr, modmail.FolderSubmissions)
		rows := outboxRows(t, env.dbPath)
		pending := 0
		for _, r := range rows {
			if r.State == "pending" {
				pending++
			}
		}
		queued, _ := env.pf.Queued()
		if queued != 0 && time.Since(lastFlush) > 5*time.Second {
			// Postfix may have marked Dovecot's LMTP dead after a
			// restart; retrying now is what an operator would do.
			env.pf.Flush()
			lastFlush = time.Now()
		}
		key := fmt.Sprintf("inbox %d, outbox %d rows (%d pending), postfix queue %d, inbound %d",
			inboxCount, len(rows), pending, queued, countInbound(t, env.dbPath))
		if inboxCount != 0 || pending != 0 || queued != 0 {
			lastKey = ""
			return false, key
		}
		if key != lastKey {
			lastKey, since = key, time.Now()
			return false, key
		}
		return time.Since(since) >= time.Second, key
	})
}

// checkDeliveredOnce asserts that every outgoing message the store says
// was sent was handed to the MTA exactly once and is in its recipient's
// mailbox, and that none is left pending. A copy the MTA delivered twice
// (Dovecot killed after saving a message but before confirming it over
// LMTP, so Postfix tried again) is not the daemon's doing: it is logged.
// It returns the recipients' mailboxes.
func checkDeliveredOnce(t *testing.T, env *faultEnv) map[string]map[string]int {
	t.Helper()
	got := deliveredIDs(t, env.dc, alice, bob, carol)
	accepted := env.pf.Accepted()
	for _, r := range outboxRows(t, env.dbPath) {
		id := trimAngle(r.MessageID)
		n := got[mailboxOf(r.To)][id]
		switch {
		case r.State == "pending":
			t.Errorf("%s %s to %s: still pending after %d attempts (%s)", r.Kind, id, r.To, r.Attempts, r.LastError)
		case r.State == "sent" && accepted[id] != 1:
			t.Errorf("%s %s to %s: handed to the MTA %d times; want once", r.Kind, id, r.To, accepted[id])
		case r.State == "sent" && n == 0:
			t.Errorf("%s %s to %s: sent, and never arrived", r.Kind, id, r.To)
		case n > 1:
			t.Logf("%s %s to %s: sent once, delivered %d times by the MTA", r.Kind, id, r.To, n)
		}
	}
	return got
}

// checkSubmissionsOnce asserts what users see of submissions sub-from ..
// sub-to: each has one inbound row and one submission, sits in
// Modbot/Submissions once with the inbox empty, has its "received" notice
// in the commenter's mailbox once, and is listed once in each
// moderator's digests.
func checkSubmissionsOnce(t *testing.T, env *faultEnv, from, to int) {
	t.Helper()
	checkSubmissions(t, env, from, to, nil)
}

// checkSubmissions is checkSubmissionsOnce where copies of the messages
// in restored were put back into the inbox after they had been handled:
// the folder holds those twice.
func checkSubmissions(t *testing.T, env *faultEnv, from, to int, restored map[string]bool) {
	t.Helper()
	n := to - from + 1
	eventually(t, 60*time.Second, "every submission filed", func() (bool, string) {
		flags, inboxCount, err := folderFlags(env.dc.IMAPAddr, modmail.FolderSubmissions)
		return err == nil && len(flags) >= n+len(restored) && inboxCount == 0,
			fmt.Sprintf("%d filed, %d in INBOX, err %v", len(flags), inboxCount, err)
	})
	waitQuiet(t, env, 60*time.Second)

	filed := messageIDs(t, env.dc, inbox, modmail.FolderSubmissions)
	s, err := queue.OpenReadOnly(context.Background(), env.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rowsBy := func(query string) map[string]int {
		rows, err := s.DB().Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var id string
			var c int
			if err := rows.Scan(&id, &c); err != nil {
				t.Fatal(err)
			}
			out[id] = c
		}
		return out
	}
	inboundRows := rowsBy(`SELECT message_id, COUNT(*) FROM inbound GROUP BY message_id`)
	subRows := rowsBy(`SELECT message_id, COUNT(*) FROM submissions GROUP BY message_id`)
	checkDeliveredOnce(t, env)
	// Distinct notices a submission: a copy the MTA delivered twice has
	// the same Message-ID.
	received := map[string]int{}
	raws, err := env.dc.Messages(carol, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, raw := range raws {
		h := readHeader(raw)
		if strings.HasSuffix(h.Subject, "was received") && !seen[h.MessageID] {
			seen[h.MessageID] = true
			received[h.InReplyTo]++
		}
	}
	for i := from; i <= to; i++ {
		id := fmt.Sprintf("sub-%d@people.example", i)
		wantFiled := 1
		if restored[id] {
			wantFiled = 2
		}
		if filed[id] != wantFiled || inboundRows[id] != 1 || subRows[id] != 1 || received[id] != 1 {
			t.Errorf("%s: in Modbot/Submissions %d times (want %d), %d inbound rows, %d submissions, %d received notices; want 1 of each",
				id, filed[id], wantFiled, inboundRows[id], subRows[id], received[id])
		}
	}
	if len(filed) != n {
		t.Errorf("Modbot/Submissions holds %d Message-IDs, want %d", len(filed), n)
	}
	if len(subRows) != n {
		t.Errorf("%d submissions, want %d", len(subRows), n)
	}
	for _, mod := range []string{alice, bob} {
		checkDigestsOnce(t, env.dc, mod, n)
	}
}

var digestItemRe = regexp.MustCompile(`(?m)^\s*\d+\. #(\d+)\b`)

// checkDigestsOnce asserts that mod's digests, each counted once, list n
// items, each once.
func checkDigestsOnce(t *testing.T, ms mailSystem, mod string, n int) {
	t.Helper()
	raws, err := ms.Messages(mod, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	done := map[string]bool{}
	for _, raw := range raws {
		m, err := modmail.Parse(bytes.NewReader(raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		if done[m.MessageID] || !strings.Contains(m.Subject, "moderate") {
			continue
		}
		done[m.MessageID] = true
		for _, sm := range digestItemRe.FindAllStringSubmatch(m.Text, -1) {
			seen[sm[1]]++
		}
	}
	if len(seen) != n {
		t.Errorf("%s's digests list %d distinct items, want %d", mod, len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s's digests list #%s %d times, want once", mod, id, c)
		}
	}
}

// largeSubmission is submission i with a 32 KB HTML alternative: the
// digest shows the short plain text, the FETCH carries the rest.
func largeSubmission(i int) []byte {
	html := "<p>" + strings.Repeat("Encryption matters to everyone who writes to anyone online. ", 500) + "</p>"
	return []byte(fmt.Sprintf("From: Commenter %d <c%d@people.example>\r\n"+
		"To: moderator+uk-meta-encryption@forum.example\r\n"+
		"Subject: comment %d\r\n"+
		"Message-ID: <sub-%d@people.example>\r\n"+
		"Date: Mon, 02 Jan 2026 15:04:05 +0000\r\n"+
		"MIME-Version: 1.0\r\n"+
		"Content-Type: multipart/alternative; boundary=b\r\n"+
		"\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nComment number %d about encryption.\r\n"+
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n%s\r\n--b--\r\n", i, i, i, i, i, html))
}

func numberedSubmissions(from, to int) [][]byte {
	var raws [][]byte
	for i := from; i <= to; i++ {
		raws = append(raws, submission(i, fmt.Sprintf("Comment number %d about encryption.", i)))
	}
	return raws
}

// Dovecot goes away under an idling daemon; meanwhile mail keeps coming
// and waits in Postfix's queue. Everything is handled once when Dovecot is
// back.
func TestFaultDovecotRestartIdle(t *testing.T) {
	t.Parallel()
	env := startFaultEnv(t)
	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	d, _, _ := runDaemon(t, env.cfg, logs, fastOutbox)
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", numberedSubmissions(1, 10))
	waitFiled(t, env.dc.IMAPAddr, modmail.FolderSubmissions, 10, "$Pending")

	env.dc.Stop()
	for i, raw := range numberedSubmissions(11, 20) {
		if err := sendSMTP(env.pf.SMTPAddr, fmt.Sprintf("c%d@people.example", 11+i), "moderator+uk-meta-encryption@forum.example", raw); err != nil {
			t.Fatalf("submit while dovecot is down: %v", err)
		}
	}
	time.Sleep(time.Second) // the daemon's reconnects fail meanwhile
	env.dc.Restart(t)
	checkSubmissionsOnce(t, env, 1, 20)
	if st := d.Watcher.Stats(); st.Reconnects == 0 {
		t.Errorf("watcher reports no reconnect: %+v", st)
	}
}

// Dovecot is killed twice while the daemon is in the middle of fetching
// a 300 message batch, right after it handled the 60th message and one
// after the 150th: the messages handled but not yet filed are offered
// again, recognised, and filed once.
func TestFaultDovecotRestartMidFetch(t *testing.T) {
	t.Parallel()
	const n = 300
	env := startFaultEnv(t)
	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	// Large messages, so that the FETCH is still streaming when Dovecot
	// dies, rather than already sitting in socket buffers.
	var raws [][]byte
	for i := 1; i <= n; i++ {
		raws = append(raws, largeSubmission(i))
	}
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", raws)

	// The handler pauses right after handling a message, in the middle
	// of the watcher's FETCH, while Dovecot is killed: after the 60th,
	// and after the first from the 150th on that is made on a new
	// connection (what the old one had buffered is handled first).
	stops := []func(k int64, reconnects uint64) bool{
		func(k int64, _ uint64) bool { return k == 60 },
		func(k int64, reconnects uint64) bool { return k >= 150 && reconnects == 1 },
	}
	reached := make(chan int64)
	resume := make(chan struct{})
	var handled atomic.Int64
	d, _, _ := runDaemon(t, env.cfg, logs, func(d *Daemon) {
		fastOutbox(d)
		ph := &pausingHandler{Ingester: d.Ingester, after: func() {
			k := handled.Add(1)
			if len(stops) > 0 && stops[0](k, d.Watcher.Stats().Reconnects) {
				stops = stops[1:]
				select {
				case reached <- k:
					select {
					case <-resume:
					case <-time.After(30 * time.Second):
					}
				case <-time.After(30 * time.Second):
				}
			}
		}}
		ic := imapConfig(d.Config, d.Logger)
		ic.Flags = d.Store
		d.Watcher = modmail.NewWatcher(ic, d.Store, ph)
	})
	for range 2 {
		select {
		case k := <-reached:
			t.Logf("killing Dovecot after message %d", k)
		case <-time.After(30 * time.Second):
			t.Fatalf("the daemon did not handle the messages to stop at (%d so far)", handled.Load())
		}
		env.dc.Restart(t)
		resume <- struct{}{}
	}
	checkSubmissionsOnce(t, env, 1, n)
	if st := d.Watcher.Stats(); st.Reconnects < 2 {
		t.Errorf("watcher reports %d reconnects, want 2", st.Reconnects)
	}
	if got := len(logs.lines("imap connection failed")); got < 2 {
		t.Errorf("%d lost connections logged, want 2", got)
	}
}

// pausingHandler is the daemon's Ingester (batches and read-ahead
// included) with a call after each message it handles, so a test can
// break a server while the watcher is in the middle of a FETCH.
type pausingHandler struct {
	*queue.Ingester
	after func()
}

func (h *pausingHandler) Handle(ctx context.Context, f *modmail.Fetched) (modmail.Filing, error) {
	return h.then(h.Ingester.Handle(ctx, f))
}

// Prepare wraps what the Ingester prepares: the watcher hands a prepared
// message to that, not to Handle.
func (h *pausingHandler) Prepare(ctx context.Context, f *modmail.Fetched) modmail.Prepared {
	return pausingPrepared{h, h.Ingester.Prepare(ctx, f)}
}

func (h *pausingHandler) then(filing modmail.Filing, err error) (modmail.Filing, error) {
	if err == nil {
		h.after()
	}
	return filing, err
}

type pausingPrepared struct {
	h *pausingHandler
	p modmail.Prepared
}

func (p pausingPrepared) Handle(ctx context.Context) (modmail.Filing, error) {
	return p.h.then(p.p.Handle(ctx))
}

// delayRe finds the delay before the next login attempt in a log line.
var delayRe = regexp.MustCompile(`\bdelay=(\S+)`)

// A wrong IMAP password: one clear error a try, tries spaced out further
// and further, no crash, no password in the log; a daemon with the right
// one then handles what waited.
func testWrongPassword(t *testing.T, ms mailSystem, imapAddr, smtpAddr string) {
	const wrong = "not-the-password-4711"
	dir := t.TempDir()
	cfg := testConfig(t, dir, imapAddr, smtpAddr)
	cfg.IMAP.Password = wrong
	if err := ms.Append(inbox, "INBOX", submission(1, "Waiting for the right password.")); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	_, done, stop := runDaemon(t, cfg, logs, nil)
	// Three seconds cover at least two tries of the 1 s, 2 s, 4 s …
	// schedule, and a tight loop would show hundreds.
	eventually(t, 10*time.Second, "a second login attempt", func() (bool, string) {
		n := len(logs.lines("imap login refused"))
		return n >= 2, fmt.Sprintf("%d attempts", n)
	})
	time.Sleep(3 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("daemon stopped on a wrong password: %v", err)
	default:
	}
	stop()

	refused := logs.lines("imap login refused")
	if len(refused) < 2 || len(refused) > 6 {
		t.Errorf("%d login attempts in about 5 s; want a few, spaced by back-off:\n%s", len(refused), strings.Join(refused, "\n"))
	}
	var prev time.Duration
	for _, line := range refused {
		if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "check the username and password") ||
			!strings.Contains(line, "username="+inbox) {
			t.Errorf("login failure not reported clearly: %s", line)
		}
		m := delayRe.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("no delay in %s", line)
			continue
		}
		delay, err := time.ParseDuration(m[1])
		if err != nil {
			t.Errorf("delay %q: %v", m[1], err)
			continue
		}
		if delay < prev {
			t.Errorf("back-off shrank from %v to %v", prev, delay)
		}
		prev = delay
	}
	all := logs.String()
	if strings.Contains(all, wrong) || strings.Contains(all, password) {
		t.Errorf("the log contains a password:\n%s", all)
	}
	if other := len(strings.Split(strings.TrimSpace(all), "\n")) - len(refused); other > 4 {
		t.Errorf("%d other log lines besides the %d login failures (log spam?):\n%s", other, len(refused), all)
	}
	if countInbound(t, filepath.Join(dir, "modbot.db")) != 0 {
		t.Errorf("something was handled without logging in")
	}

	_, _, _ = runDaemon(t, testConfig(t, dir, imapAddr, smtpAddr), nil, nil)
	waitFiled(t, imapAddr, modmail.FolderSubmissions, 1, "$Pending")
}

func TestFaultWrongPasswordInProcess(t *testing.T) {
	t.Parallel()
	ms, imapAddr, smtpAddr := startDevmail(t)
	testWrongPassword(t, ms, imapAddr, smtpAddr)
}

func TestFaultWrongPasswordDovecot(t *testing.T) {
	t.Parallel()
	dc := dovecottest.Start(t, inbox, alice, bob, carol)
	testWrongPassword(t, dc, dc.IMAPAddr, dc.SMTPAddr)
}

// The MTA is down for a while: digests and notices wait in the outbox,
// tried again and again with growing delays; when it is back everything
// is delivered, once.
func TestFaultSMTPDown(t *testing.T) {
	t.Parallel()
	env := startFaultEnv(t)
	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	env.pf.Stop()
	_, _, _ = runDaemon(t, env.cfg, logs, fastOutbox)
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", numberedSubmissions(1, 5))
	waitFiled(t, env.dc.IMAPAddr, modmail.FolderSubmissions, 5, "$Pending")

	// 5 received notices and a digest for each moderator, all waiting.
	eventually(t, 20*time.Second, "7 messages tried 3 times", func() (bool, string) {
		rows := outboxRows(t, env.dbPath)
		ok := len(rows) >= 7
		for _, r := range rows {
			if r.State != "pending" || r.Attempts < 3 {
				ok = false
			}
		}
		return ok, fmt.Sprintf("%+v", rows)
	})
	before := outboxRows(t, env.dbPath)
	time.Sleep(3 * time.Second)
	after := outboxRows(t, env.dbPath)
	for i, r := range after {
		if r.State != "pending" || !strings.Contains(r.LastError, "connection refused") {
			t.Errorf("%s to %s while the MTA is down: state %s, last error %q; want pending, connection refused", r.Kind, r.To, r.State, r.LastError)
		}
		// With 200 ms doubling to 1 s, three seconds hold at most four
		// more tries; a loop without back-off would make dozens.
		if i < len(before) {
			if more := r.Attempts - before[i].Attempts; more < 1 || more > 5 {
				t.Errorf("%s to %s: %d more attempts in 3 s; want a few", r.Kind, r.To, more)
			}
		}
	}

	env.pf.Start(t)
	waitQuiet(t, env, 30*time.Second)
	for _, r := range outboxRows(t, env.dbPath) {
		if r.State != "sent" {
			t.Errorf("%s to %s: %s after the MTA came back (%s)", r.Kind, r.To, r.State, r.LastError)
		}
	}
	checkSubmissionsOnce(t, env, 1, 5)
}

// A 4xx at RCPT is retried until the MTA takes the message; a 5xx is
// recorded as failed, with the server's words, and never retried.
func TestFaultSMTPRefusals(t *testing.T) {
	t.Parallel()
	env := startFaultEnv(t)
	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	const (
		busy     = "c1@people.example"
		disabled = "c2@people.example"
	)
	env.pf.SetReply(busy, "450 4.2.1 mailbox busy (fault test)")
	env.pf.SetReply(disabled, "550 5.7.1 mailbox disabled (fault test)")
	_, _, _ = runDaemon(t, env.cfg, logs, fastOutbox)
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", numberedSubmissions(1, 3))

	noticeTo := func(addr string) outboxRow {
		for _, r := range outboxRows(t, env.dbPath) {
			if r.To == addr && r.Kind == "notice" {
				return r
			}
		}
		return outboxRow{}
	}
	eventually(t, 20*time.Second, "the 4xx retried and the 5xx failed", func() (bool, string) {
		b, d := noticeTo(busy), noticeTo(disabled)
		return b.Attempts >= 3 && d.State == "failed", fmt.Sprintf("busy %+v; disabled %+v", b, d)
	})
	b := noticeTo(busy)
	if b.State != "pending" || !strings.Contains(b.LastError, "450") || !strings.Contains(b.LastError, "4.2.1") ||
		!strings.Contains(b.LastError, "mailbox busy (fault test)") {
		t.Errorf("notice to %s after a 450: %+v; want pending with the server's text", busy, b)
	}
	d := noticeTo(disabled)
	if d.Attempts != 1 || !strings.Contains(d.LastError, "550") || !strings.Contains(d.LastError, "5.7.1") ||
		!strings.Contains(d.LastError, "mailbox disabled (fault test)") {
		t.Errorf("notice to %s after a 550: %+v; want failed after 1 attempt with the server's text", disabled, d)
	}

	env.pf.SetReply(busy, "")
	eventually(t, 20*time.Second, "the deferred notice sent", func() (bool, string) {
		r := noticeTo(busy)
		return r.State == "sent", fmt.Sprintf("%+v", r)
	})
	waitQuiet(t, env, 30*time.Second)
	got := checkDeliveredOnce(t, env)
	if n := got[carol][trimAngle(d.MessageID)]; n != 0 {
		t.Errorf("the refused notice arrived %d times", n)
	}
	if n := env.pf.RcptAttempts(disabled); n != 1 {
		t.Errorf("RCPT TO:<%s> given %d times after a 550; want 1", disabled, n)
	}
	if n := env.pf.RcptAttempts(busy); n < 4 {
		t.Errorf("RCPT TO:<%s> given %d times; want the 450s and the success", busy, n)
	}
}

// The inbox is recreated, as when an admin restores it from a backup: a
// new UIDVALIDITY, UIDs from 1 again, messages already handled back in it
// beside new ones. None is handled twice, none is skipped.
func TestFaultUIDValidityChange(t *testing.T) {
	t.Parallel()
	env := startFaultEnv(t)
	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	_, _, stop := runDaemon(t, env.cfg, logs, fastOutbox)
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", numberedSubmissions(1, 10))
	waitFiled(t, env.dc.IMAPAddr, modmail.FolderSubmissions, 10, "$Pending")
	waitQuiet(t, env, 30*time.Second)
	stop()
	oldValidity := uidValidity(t, env.dc.IMAPAddr)

	// Back into the inbox: five handled ones, as the backup had them, and
	// five new ones, interleaved.
	handled, err := env.dc.Messages(inbox, modmail.FolderSubmissions)
	if err != nil {
		t.Fatal(err)
	}
	var raws [][]byte
	restored := map[string]bool{}
	for i, raw := range numberedSubmissions(11, 15) {
		raws = append(raws, handled[2*i], raw)
		restored[readHeader(handled[2*i]).MessageID] = true
	}
	env.dc.Stop()
	// Dovecot keeps UIDs and UIDVALIDITY in these files; without them it
	// numbers the maildir afresh, with UIDVALIDITY the current time.
	maildir := filepath.Join(env.dc.Dir, "mail", inbox, "Maildir")
	state, _ := filepath.Glob(filepath.Join(maildir, "dovecot*"))
	if len(state) == 0 {
		t.Fatalf("no dovecot-uidlist or index in %s: the layout of dovecottest changed", maildir)
	}
	for _, f := range state {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	for time.Now().Unix() <= int64(oldValidity) {
		time.Sleep(100 * time.Millisecond) // a new UIDVALIDITY must differ
	}
	env.dc.Restart(t)
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", raws)
	if v := uidValidity(t, env.dc.IMAPAddr); v == oldValidity {
		t.Fatalf("UIDVALIDITY still %d after recreating the inbox", v)
	}

	_, _, _ = runDaemon(t, testConfig(t, env.dir, env.dc.IMAPAddr, env.pf.SMTPAddr), logs, fastOutbox)
	eventually(t, 30*time.Second, "the recreated inbox emptied", func() (bool, string) {
		_, n, err := folderFlags(env.dc.IMAPAddr, modmail.FolderSubmissions)
		return err == nil && n == 0, fmt.Sprintf("%d in INBOX, err %v", n, err)
	})
	if len(logs.lines("UIDVALIDITY changed")) == 0 {
		t.Errorf("the daemon did not log the UIDVALIDITY change")
	}
	// The five restored messages are filed again beside their first
	// copies: the same messages, with the one outcome they had.
	checkSubmissions(t, env, 1, 15, restored)
}

// uidValidity is the inbox's UIDVALIDITY.
func uidValidity(t *testing.T, imapAddr string) uint32 {
	t.Helper()
	c, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(inbox, password).Wait(); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return st.UIDValidity
}

// The database is locked by another process for longer than the busy
// timeout while mail arrives and a retried notice goes out: the errors
// are logged, nothing is half-recorded, and everything is done, once,
// when the lock goes.
func TestFaultSQLiteBusy(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a lock past the 10 s busy timeout")
	}
	t.Parallel()
	env := startFaultEnv(t)
	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	// The first notices are deferred, so that retries are due while the
	// lock is held.
	env.pf.SetReply("", "450 4.3.0 try again later (fault test)")
	_, _, _ = runDaemon(t, env.cfg, logs, fastOutbox)
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", numberedSubmissions(1, 3))
	eventually(t, 20*time.Second, "the first notices deferred", func() (bool, string) {
		rows := outboxRows(t, env.dbPath)
		return len(rows) >= 5 && rows[0].Attempts >= 1, fmt.Sprintf("%+v", rows)
	})

	db, err := sql.Open("sqlite", "file:"+env.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	env.pf.SetReply("", "")
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", numberedSubmissions(4, 6))
	time.Sleep(12 * time.Second)
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	if len(logs.lines("database is locked")) == 0 {
		t.Errorf("no error says the database is locked")
	}
	checkSubmissionsOnce(t, env, 1, 6)
	checkConsistent(t, env.dbPath)
}

// checkConsistent asserts that no outcome was recorded without what it
// causes, nor the other way round.
func checkConsistent(t *testing.T, dbPath string) {
	t.Helper()
	s, err := queue.OpenReadOnly(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for what, q := range map[string]string{
		"queued inbound rows without a submission": `SELECT COUNT(*) FROM inbound i WHERE i.outcome = 'queued' AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.inbound_id = i.id)`,
		"submissions without a received notice":    `SELECT COUNT(*) FROM submissions s WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.submission_id = s.id AND o.notice = 'received')`,
		"submissions with two received notices":    `SELECT COUNT(*) FROM (SELECT submission_id FROM outbox WHERE notice = 'received' GROUP BY submission_id HAVING COUNT(*) > 1)`,
	} {
		var n int
		if err := s.DB().Get(&n, q); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
}

// The disk under the database fills up while mail arrives and a retried
// notice goes out: the errors are logged, and everything is done, once,
// when there is room again.
func TestFaultDiskFull(t *testing.T) {
	t.Parallel()
	env := startFaultEnv(t)
	mnt := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (%v); needs root and CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	env.dbPath = filepath.Join(mnt, "modbot.db")
	env.cfg.Store.DSN = env.dbPath

	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	_, _, _ = runDaemon(t, env.cfg, logs, fastOutbox)
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", numberedSubmissions(1, 3))
	waitFiled(t, env.dc.IMAPAddr, modmail.FolderSubmissions, 3, "$Pending")
	waitQuiet(t, env, 30*time.Second)

	// The next notice is deferred, so that its retry comes while the
	// disk is full.
	env.pf.SetReply("c4@people.example", "450 4.3.0 try again later (fault test)")
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", numberedSubmissions(4, 4))
	eventually(t, 20*time.Second, "the notice to c4 deferred", func() (bool, string) {
		for _, r := range outboxRows(t, env.dbPath) {
			if r.To == "c4@people.example" && r.Attempts >= 1 {
				return true, ""
			}
		}
		return false, "not yet"
	})
	filler := filepath.Join(mnt, "filler")
	fillDisk(t, filler)
	env.pf.SetReply("c4@people.example", "")
	appendMany(t, env.dc.IMAPAddr, inbox, "INBOX", numberedSubmissions(5, 6))
	eventually(t, 30*time.Second, "an error saying the disk is full", func() (bool, string) {
		return len(logs.lines("full")) > 0, "none yet"
	})
	time.Sleep(2 * time.Second) // retries meet the full disk again
	if n := countInbound(t, env.dbPath); n != 4 {
		t.Errorf("%d inbound rows with the disk full; want the first 4", n)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	checkSubmissionsOnce(t, env, 1, 6)
	checkConsistent(t, env.dbPath)
}

// fillDisk writes path until the file system has no room left.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	// Whatever a small write still fits.
	for {
		if _, err := f.Write(buf[:512]); err != nil {
			break
		}
	}
}

// cutProxy forwards TCP connections to target. The first time the
// server's side of a connection carries marker, it forwards the bytes up
// to the marker's end and then cuts the connection, as a network or a
// server dying in the middle of a message would; afterwards it forwards
// everything.
type cutProxy struct {
	ln     net.Listener
	target string
	marker []byte
	cut    atomic.Bool
}

func startCutProxy(t *testing.T, target, marker string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, marker: []byte(marker)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		io.Copy(server, client)
		server.Close()
	}()
	buf := make([]byte, 32<<10)
	var window []byte // the stream's last bytes, for a marker split across reads
	for {
		n, err := server.Read(buf)
		chunk := buf[:n]
		if n > 0 && !p.cut.Load() {
			seen := append(window, chunk...)
			if i := bytes.Index(seen, p.marker); i >= 0 && p.cut.CompareAndSwap(false, true) {
				client.Write(chunk[:max(0, i+len(p.marker)-len(window))])
				return
			}
			window = append([]byte(nil), seen[max(0, len(seen)-len(p.marker)):]...)
		}
		if n > 0 {
			if _, werr := client.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// The connection to the IMAP server breaks in the middle of a message's
// body. What was received of that message must not be taken for all of
// it: the comment is queued with its whole text, once.
func TestFaultConnectionCutMidMessage(t *testing.T) {
	t.Parallel()
	ms, imapAddr, smtpAddr := startDevmail(t)
	proxy := startCutProxy(t, imapAddr, "CUT-HERE")
	for i := 1; i <= 5; i++ {
		body := fmt.Sprintf("Comment number %d about encryption.", i)
		if i == 3 {
			body = "The first half of this comment arrives. CUT-HERE " +
				strings.Repeat("The second half is long enough to need more reads. ", 200) + "END-OF-COMMENT-3"
		}
		if err := ms.Append(inbox, "INBOX", submission(i, body)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	logs := &logBuffer{}
	dumpLogOnFailure(t, logs)
	_, _, _ = runDaemon(t, testConfig(t, dir, proxy.addr(), smtpAddr), logs, nil)
	waitFiled(t, imapAddr, modmail.FolderSubmissions, 5, "$Pending")
	if !proxy.cut.Load() {
		t.Fatal("the connection was never cut")
	}

	s, err := queue.OpenReadOnly(context.Background(), filepath.Join(dir, "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var bodies []string
	if err := s.DB().Select(&bodies, `SELECT body FROM submissions WHERE message_id = 'sub-3@people.example'`); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || !strings.Contains(bodies[0], "END-OF-COMMENT-3") {
		for i, b := range bodies {
			bodies[i] = "…" + b[max(0, len(b)-80):]
		}
		t.Errorf("comment 3 was recorded %d times, ending %q; want once, whole", len(bodies), bodies)
	}
}
