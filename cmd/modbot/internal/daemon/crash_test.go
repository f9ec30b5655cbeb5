//go:build linux

package daemon

// The crash harness: the modbot binary runs against Dovecot and Postfix
// while a thousand submissions and hundreds of moderator replies flow,
// and is killed with SIGKILL at random moments, again and again. Then it
// runs until it is quiet, and everything users see is checked: nothing
// lost, nothing applied twice, duplicates counted.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	modmail "modbot/mail"
	"modbot/queue"
)

var (
	crashSeed   = flag.Uint64("crash.seed", 0, "seed of the crash harness's random choices (0: from the clock)")
	crashResend = flag.Bool("crash.resend-in-doubt", true, "the daemon's smtp.resend_in_doubt: false trusts the MTA with mail handed over at a kill (0 duplicates, at most once)")
)

const (
	crashSubmissions = 1000
	crashReplies     = 300
	crashKills       = 50
)

// harnessConfig is testConfig's configuration with decisions' notices
// held back only a second, so that they go out while the harness runs.
func harnessConfig(t *testing.T, dir, imapAddr, smtpAddr string) string {
	path := writeTestConfig(t, dir, imapAddr, smtpAddr, `undo_grace = "1s"`)
	if !*crashResend {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(src, []byte("[smtp]\n")) {
			t.Fatalf("no [smtp] table in the test configuration to set resend_in_doubt in:\n%s", src)
		}
		src = bytes.Replace(src, []byte("[smtp]\n"), []byte("[smtp]\nresend_in_doubt = false\n"), 1)
		if err := os.WriteFile(path, src, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// crashProcess runs modbot processes one after another, its log appended
// to one file.
type crashProcess struct {
	bin, config, logPath string
	cmd                  *exec.Cmd
}

func (p *crashProcess) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(p.bin, "run", "-config", p.config)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.cmd = cmd
}

func (p *crashProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	p.cmd = nil
}

// stop ends the process as a service manager would, and reports whether
// it exited cleanly within 20 s.
func (p *crashProcess) stop() error {
	if p.cmd == nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	defer func() { p.cmd = nil }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-done
		return fmt.Errorf("modbot did not stop within 20s of SIGTERM")
	}
}

func (p *crashProcess) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 16<<10 {
		b = b[len(b)-16<<10:]
	}
	return string(b)
}

// smtpFeeder hands messages to the MTA over one connection, reconnecting
// when it drops.
type smtpFeeder struct {
	addr string
	c    *smtp.Client
}

func (f *smtpFeeder) send(from, to string, raw []byte) error {
	for attempt := 0; ; attempt++ {
		if f.c == nil {
			c, err := smtp.Dial(f.addr)
			if err != nil {
				return err
			}
			if err := c.Hello("harness.people.example"); err != nil {
				c.Close()
				return err
			}
			f.c = c
		}
		err := f.transaction(from, to, raw)
		if err == nil || attempt == 2 {
			return err
		}
		f.c.Close()
		f.c = nil
	}
}

func (f *smtpFeeder) transaction(from, to string, raw []byte) error {
	if err := f.c.Mail(from, nil); err != nil {
		return err
	}
	if err := f.c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := f.c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	return w.Close()
}

func (f *smtpFeeder) close() {
	if f.c != nil {
		f.c.Quit()
		f.c.Close()
	}
}

// digestSeen is a digest as its moderator read it: the token to reply
// to, and what its numbers stand for.
type digestSeen struct {
	msg   *modmail.Message
	items map[int]int64 // number → submission id
}

var digestNumberRe = regexp.MustCompile(`(?m)^\s*(\d+)\. #(\d+)\b`)

// inboxReader reads a moderator's new mail as it arrives, over one IMAP
// connection.
type inboxReader struct {
	addr, user string
	c          *imapclient.Client
	last       imap.UID
}

func (r *inboxReader) next() ([][]byte, error) {
	if r.c == nil {
		c, err := imapclient.DialInsecure(r.addr, nil)
		if err != nil {
			return nil, err
		}
		if err := c.Login(r.user, password).Wait(); err != nil {
			c.Close()
			return nil, err
		}
		r.c = c
	}
	if _, err := r.c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		r.c.Close()
		r.c = nil
		return nil, err
	}
	set := imap.UIDSet{imap.UIDRange{Start: r.last + 1, Stop: 0}}
	msgs, err := r.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		r.c.Close()
		r.c = nil
		return nil, err
	}
	var out [][]byte
	for _, m := range msgs {
		if m.UID <= r.last {
			continue // "last+1:*" returns the last message when nothing is new
		}
		r.last = max(r.last, m.UID)
		for _, b := range m.BodySection {
			out = append(out, b.Bytes)
		}
	}
	return out, nil
}

func (r *inboxReader) close() {
	if r.c != nil {
		r.c.Close()
	}
}

// crashReply is a moderator's reply to a digest: commands typed above
// the quoted digest, as a mail client sends it.
func crashReply(digest *modmail.Message, from, msgID, commands string) []byte {
	var quoted strings.Builder
	for _, line := range strings.Split(digest.Text, "\n") {
		quoted.WriteString("> " + line + "\r\n")
	}
	return []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Re: %s\r\nMessage-ID: <%s>\r\n"+
		"In-Reply-To: <%s>\r\nReferences: <%s>\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"%s\r\n\r\nOn Mon, 2 Jan 2026 at 15:04, Test Forum moderation wrote:\r\n%s",
		from, digest.ReplyTo[0].Addr, digest.Subject, msgID, digest.MessageID, digest.MessageID,
		time.Now().Format(time.RFC1123Z), commands, quoted.String()))
}

// moderate plays one moderator: it reads each digest as it arrives and
// answers digests with one to three commands on their items, until the
// shared budget of replies is spent. It returns the Message-IDs of its
// replies and the submissions they targeted.
func moderate(ctx context.Context, imapAddr, smtpAddr, mod string, budget *atomic.Int64, rng *rand.Rand) (replies []string, targeted []int64, err error) {
	r := &inboxReader{addr: imapAddr, user: mod}
	defer r.close()
	f := &smtpFeeder{addr: smtpAddr}
	defer f.close()
	var digests []digestSeen
	name := strings.SplitN(mod, "@", 2)[0]
	for ctx.Err() == nil {
		raws, err := r.next()
		if err != nil {
			return replies, targeted, fmt.Errorf("%s reads mail: %w", mod, err)
		}
		for _, raw := range raws {
			m, err := modmail.Parse(bytes.NewReader(raw), nil)
			if err != nil || !strings.Contains(m.Subject, "to moderate") || len(m.ReplyTo) == 0 {
				continue
			}
			d := digestSeen{msg: m, items: map[int]int64{}}
			for _, sm := range digestNumberRe.FindAllStringSubmatch(m.Text, -1) {
				n, _ := strconv.Atoi(sm[1])
				id, _ := strconv.ParseInt(sm[2], 10, 64)
				d.items[n] = id
			}
			if len(d.items) > 0 {
				digests = append(digests, d)
			}
		}
		if len(digests) == 0 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if budget.Add(-1) < 0 {
			return replies, targeted, nil
		}
		// Mostly the newest digest, sometimes an older one, as people do.
		d := digests[len(digests)-1]
		if rng.IntN(4) == 0 {
			d = digests[rng.IntN(len(digests))]
		}
		numbers := make([]int, 0, len(d.items))
		for n := range d.items {
			numbers = append(numbers, n)
		}
		var cmds []string
		for _, i := range rng.Perm(len(numbers))[:min(len(numbers), 1+rng.IntN(3))] {
			n := numbers[i]
			switch rng.IntN(3) {
			case 0:
				cmds = append(cmds, fmt.Sprintf("approve %d", n))
			case 1:
				cmds = append(cmds, fmt.Sprintf("reject %d rule 11", n))
			default:
				cmds = append(cmds, fmt.Sprintf("hold %d", n))
			}
			targeted = append(targeted, d.items[n])
		}
		id := fmt.Sprintf("reply-%s-%d@mods.example", name, len(replies)+1)
		raw := crashReply(d.msg, mod, id, strings.Join(cmds, "\r\n"))
		if err := f.send(mod, d.msg.ReplyTo[0].Addr, raw); err != nil {
			return replies, targeted, fmt.Errorf("%s replies: %w", mod, err)
		}
		replies = append(replies, id)
		time.Sleep(time.Duration(100+rng.IntN(200)) * time.Millisecond)
	}
	return replies, targeted, ctx.Err()
}

// TestCrashHarness kills the daemon at random moments while mail flows
// and checks that nothing was lost or applied twice.
func TestCrashHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash harness takes minutes")
	}
	env := startFaultEnv(t)
	bin := filepath.Join(t.TempDir(), "modbot")
	if out, err := exec.Command("go", "build", "-o", bin, "modbot/cmd/modbot").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p := &crashProcess{bin: bin, config: harnessConfig(t, env.dir, env.dc.IMAPAddr, env.pf.SMTPAddr),
		logPath: filepath.Join(env.dir, "modbot.log")}
	t.Cleanup(func() {
		if p.cmd != nil {
			p.kill()
		}
		if t.Failed() {
			t.Logf("modbot's log, the end:\n%s", p.logTail())
		}
	})
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-crash.seed repeats the choices; the timing differs)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var feedErr error
	var fed atomic.Int64
	wg.Add(1)
	go func() { // commenters, about 25 a second
		defer wg.Done()
		f := &smtpFeeder{addr: env.pf.SMTPAddr}
		defer f.close()
		for i := 1; i <= crashSubmissions && ctx.Err() == nil; i++ {
			raw := submission(i, fmt.Sprintf("Comment number %d about encryption.", i))
			if err := f.send(fmt.Sprintf("c%d@people.example", i), "moderator+uk-meta-encryption@forum.example", raw); err != nil {
				feedErr = fmt.Errorf("submission %d: %w", i, err)
				return
			}
			fed.Add(1)
			time.Sleep(40 * time.Millisecond)
		}
	}()
	var budget atomic.Int64
	budget.Store(crashReplies)
	type modResult struct {
		replies  []string
		targeted []int64
		err      error
	}
	results := make([]modResult, 2)
	for i, mod := range []string{alice, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, tg, err := moderate(ctx, env.dc.IMAPAddr, env.pf.SMTPAddr, mod, &budget, rand.New(rand.NewPCG(seed, uint64(i+2))))
			results[i] = modResult{r, tg, err}
		}()
	}
	flowing := make(chan struct{})
	go func() { wg.Wait(); close(flowing) }()

	// The killer: run, wait a random moment, SIGKILL, run again, until
	// everything is fed and at least crashKills kills were made.
	kills := 0
	for {
		p.start(t)
		up := time.Duration(200+rng.IntN(1300)) * time.Millisecond
		select {
		case <-time.After(up):
		case <-ctx.Done():
			p.kill()
			t.Fatalf("the flow did not end within 4 minutes: %d submissions fed, %d replies left, %d kills", fed.Load(), budget.Load(), kills)
		}
		p.kill()
		kills++
		done := false
		select {
		case <-flowing:
			done = true
		default:
		}
		if done && kills >= crashKills {
			break
		}
	}
	if feedErr != nil {
		t.Fatal(feedErr)
	}
	var replies []string
	targeted := map[int64]bool{}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("moderator %d: %v", i, r.err)
		}
		replies = append(replies, r.replies...)
		for _, id := range r.targeted {
			targeted[id] = true
		}
	}
	if len(replies) != crashReplies {
		t.Fatalf("%d replies sent, want %d", len(replies), crashReplies)
	}

	// The daemon runs until it has nothing left to do.
	p.start(t)
	waitQuietCount(t, env, crashSubmissions+crashReplies, 3*time.Minute)
	if err := p.stop(); err != nil {
		t.Errorf("modbot after SIGTERM: %v", err)
	}

	lost, dups := checkAfterCrashes(t, env, replies, targeted)
	t.Logf("faults injected %d, messages lost %d, duplicates %d", kills, lost, dups)
}

// waitQuietCount waits until n inbound messages have outcomes and the
// daemon is quiet.
func waitQuietCount(t *testing.T, env *faultEnv, n int, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("%d messages handled", n), func() (bool, string) {
		c := countInbound(t, env.dbPath)
		return c >= n, fmt.Sprintf("%d handled", c)
	})
	waitQuiet(t, env, timeout)
}

// checkAfterCrashes checks what users see after the harness and returns
// how many messages were lost (it fails the test if any) and how many
// duplicate deliveries there were.
func checkAfterCrashes(t *testing.T, env *faultEnv, replies []string, targeted map[int64]bool) (lost, dups int) {
	t.Helper()
	s, err := queue.OpenReadOnly(context.Background(), env.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.DB()

	// Inbound: one outcome a message, one folder, the inbox empty.
	want := map[string]string{} // Message-ID → folder
	for i := 1; i <= crashSubmissions; i++ {
		want[fmt.Sprintf("sub-%d@people.example", i)] = modmail.FolderSubmissions
	}
	for _, id := range replies {
		want[id] = modmail.FolderReplies
	}
	var inbound []struct {
		MessageID string `db:"message_id"`
		Folder    string `db:"folder"`
		Outcome   string `db:"outcome"`
	}
	if err := db.Select(&inbound, `SELECT message_id, folder, outcome FROM inbound`); err != nil {
		t.Fatal(err)
	}
	rows := map[string]int{}
	for _, r := range inbound {
		rows[r.MessageID]++
		if w, ok := want[r.MessageID]; !ok {
			t.Errorf("an inbound message nobody sent: %s (%s)", r.MessageID, r.Outcome)
		} else if r.Folder != w {
			t.Errorf("%s: outcome %s in %s, want %s", r.MessageID, r.Outcome, r.Folder, w)
		}
	}
	inFolders := map[string]int{}
	for _, folder := range []string{modmail.FolderSubmissions, modmail.FolderReplies, modmail.FolderFeedback,
		modmail.FolderIgnored, modmail.FolderQuarantine, "INBOX"} {
		for id, n := range messageIDs(t, env.dc, inbox, folder) {
			if folder == "INBOX" {
				t.Errorf("%s still in INBOX", id)
			}
			inFolders[id] += n
		}
	}
	for id := range want {
		if rows[id] == 0 {
			t.Errorf("%s has no outcome", id)
			lost++
		} else if rows[id] > 1 {
			t.Errorf("%s has %d outcomes", id, rows[id])
		}
		if inFolders[id] != 1 {
			t.Errorf("%s filed %d times", id, inFolders[id])
			if inFolders[id] == 0 {
				lost++
			}
		}
	}

	// Decisions: each reply decides an item at most once; an item has at
	// most one hold and one final decision, and its state is the last
	// one's; every item a reply named was decided by someone.
	var ds []struct {
		SubmissionID int64  `db:"submission_id"`
		ReplyID      string `db:"reply_message_id"`
		Action       string `db:"action"`
		From         string `db:"from_state"`
		To           string `db:"to_state"`
		State        string `db:"state"`
	}
	if err := db.Select(&ds, `SELECT d.submission_id, d.reply_message_id, d.action, d.from_state, d.to_state, s.state
		FROM decisions d JOIN submissions s ON s.id = d.submission_id WHERE d.undone_at IS NULL AND d.action <> 'undo' ORDER BY d.id`); err != nil {
		t.Fatal(err)
	}
	perReply := map[string]int{}
	holds, finals := map[int64]int{}, map[int64]int{}
	lastTo := map[int64]string{}
	for _, d := range ds {
		perReply[fmt.Sprint(d.SubmissionID, " ", d.ReplyID)]++
		if d.Action == queue.ActionHold {
			holds[d.SubmissionID]++
		} else {
			finals[d.SubmissionID]++
		}
		prev, ok := lastTo[d.SubmissionID]
		if !ok {
			prev = "pending"
		}
		if prev != d.From {
			t.Errorf("#%d: decision %s from %s, but it was %s", d.SubmissionID, d.Action, d.From, prev)
		}
		lastTo[d.SubmissionID] = d.To
	}
	for k, n := range perReply {
		if n > 1 {
			t.Errorf("submission and reply %s: decided %d times", k, n)
		}
	}
	for id, n := range holds {
		if n > 1 {
			t.Errorf("#%d held %d times", id, n)
		}
	}
	for id, n := range finals {
		if n > 1 {
			t.Errorf("#%d decided %d times", id, n)
		}
	}
	for _, d := range ds {
		if lastTo[d.SubmissionID] != d.State {
			t.Errorf("#%d is %s, but its last decision made it %s", d.SubmissionID, d.State, lastTo[d.SubmissionID])
		}
	}
	for id := range targeted {
		if _, ok := lastTo[id]; !ok {
			t.Errorf("#%d was named in a reply and never decided", id)
			lost++
		}
	}

	// Notices: every received, published and not-published notice is in
	// the commenter's mailbox at least once; count what came twice.
	got := deliveredIDs(t, env.dc, alice, bob, carol)
	var notices []struct {
		MessageID    string `db:"message_id"`
		To           string `db:"rcpt_to"`
		Notice       string `db:"notice"`
		State        string `db:"state"`
		SubmissionID int64  `db:"submission_id"`
		SubState     string `db:"sub_state"`
	}
	if err := db.Select(&notices, `SELECT o.message_id, o.rcpt_to, o.notice, o.state, o.submission_id, s.state AS sub_state
		FROM outbox o JOIN submissions s ON s.id = o.submission_id WHERE o.kind = 'notice'`); err != nil {
		t.Fatal(err)
	}
	noticed := map[string]bool{}
	for _, n := range notices {
		if got[mailboxOf(n.To)][trimAngle(n.MessageID)] == 0 {
			t.Errorf("the %s notice of #%d to %s (%s) never arrived", n.Notice, n.SubmissionID, n.To, n.State)
			lost++
		}
		noticed[fmt.Sprint(n.SubmissionID, " ", n.Notice)] = true
	}
	var subs []struct {
		ID    int64  `db:"id"`
		State string `db:"state"`
	}
	if err := db.Select(&subs, `SELECT id, state FROM submissions`); err != nil {
		t.Fatal(err)
	}
	if len(subs) != crashSubmissions {
		t.Errorf("%d submissions, want %d", len(subs), crashSubmissions)
	}
	for _, sub := range subs {
		for _, want := range noticesFor(sub.State) {
			if !noticed[fmt.Sprint(sub.ID, " ", want)] {
				t.Errorf("#%d is %s and has no %s notice", sub.ID, sub.State, want)
				lost++
			}
		}
	}
	// Everything else the daemon wrote (digests, confirmations) arrived
	// too, and each reply was confirmed once.
	for _, r := range outboxRows(t, env.dbPath) {
		if r.State != "sent" {
			t.Errorf("%s %s to %s: %s after %d attempts (%s)", r.Kind, r.MessageID, r.To, r.State, r.Attempts, r.LastError)
		}
		if got[mailboxOf(r.To)][trimAngle(r.MessageID)] == 0 {
			t.Errorf("%s %s to %s never arrived", r.Kind, r.MessageID, r.To)
			lost++
		}
	}
	confirmations := map[string]map[string]bool{} // reply → confirmation Message-IDs
	for _, mod := range []string{alice, bob} {
		raws, err := env.dc.Messages(mod, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range raws {
			h := readHeader(raw)
			if confirmations[h.InReplyTo] == nil {
				confirmations[h.InReplyTo] = map[string]bool{}
			}
			confirmations[h.InReplyTo][h.MessageID] = true
		}
	}
	for _, id := range replies {
		if n := len(confirmations[id]); n != 1 {
			t.Errorf("reply %s was confirmed %d times, want once", id, n)
			if n == 0 {
				lost++
			}
		}
	}
	// Duplicates: the same Message-ID twice in a mailbox. The daemon sends
	// at least once: a kill after the final dot and before the MTA's
	// answer was recorded sends it again. The outbox marks exactly those
	// messages in doubt, so a resend of any other is a bug.
	var doubtful []string
	if err := db.Select(&doubtful, `SELECT message_id FROM outbox WHERE in_doubt_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	inDoubt := map[string]bool{}
	for _, id := range doubtful {
		inDoubt[trimAngle(id)] = true
	}
	accepted := env.pf.Accepted()
	resent := 0
	for user, ids := range got {
		for id, n := range ids {
			if n > 1 {
				dups += n - 1
				if accepted[id] > 1 {
					resent += n - 1
					if !inDoubt[id] {
						t.Errorf("%s: resent although the outbox never had it in doubt", id)
					}
				}
				t.Logf("%s received %s %d times (the MTA took it %d times; in doubt: %v)", user, id, n, accepted[id], inDoubt[id])
			}
		}
	}
	t.Logf("%d messages left in doubt by a kill (handed over, no answer recorded); smtp.resend_in_doubt = %v", len(doubtful), *crashResend)
	var decided, holdsN int
	for _, d := range ds {
		if d.Action == queue.ActionHold {
			holdsN++
		} else {
			decided++
		}
	}
	t.Logf("%d submissions, %d replies naming %d of them; %d final decisions and %d holds in force; %d notices; %d duplicates, %d of them resent by the daemon",
		len(subs), len(replies), len(targeted), decided, holdsN, len(notices), dups, resent)
	return lost, dups
}

// noticesFor is what a commenter hears about a comment in state.
func noticesFor(state string) []string {
	switch state {
	case "approved":
		return []string{"received", "approved"}
	case "rejected":
		return []string{"received", "rejected"}
	}
	return []string{"received"}
}
