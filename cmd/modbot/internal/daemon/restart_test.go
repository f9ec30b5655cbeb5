package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"modbot/mail"
	"modbot/queue"
)

const restartN = 200

// countInbound reads how many inbound messages have an outcome.
// It never creates or migrates the database: the daemon under test does.
func countInbound(t *testing.T, dbPath string) int {
	t.Helper()
	s, err := queue.OpenReadOnly(context.Background(), dbPath)
	if err != nil {
		return 0 // not created yet
	}
	defer s.Close()
	var n int
	if err := s.DB().Get(&n, `SELECT COUNT(*) FROM inbound`); err != nil {
		return 0 // not migrated yet
	}
	return n
}

// checkExactlyOnce asserts what a restart must never break: every message
// has one outcome and one folder, and the digests (as the moderator
// receives them) name each item once.
func checkExactlyOnce(t *testing.T, ms mailSystem, imapAddr, dbPath string) {
	t.Helper()
	waitFiled(t, imapAddr, mail.FolderSubmissions, restartN, "$Pending")
	s, err := queue.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows, distinct int
	if err := s.DB().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT message_id) FROM inbound`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != restartN || distinct != restartN {
		t.Errorf("inbound rows %d, distinct Message-IDs %d; want %d of each", rows, distinct, restartN)
	}
	var subs int
	if err := s.DB().Get(&subs, `SELECT COUNT(*) FROM submissions`); err != nil {
		t.Fatal(err)
	}
	if subs != restartN {
		t.Errorf("%d submissions, want %d", subs, restartN)
	}

	// Wait for the digests to settle, then count ids across alice's mail.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	idRe := regexp.MustCompile(`(?m)^\s*\d+\. #(\d+)\b`)
	seen := map[string]int{}
	for ctx.Err() == nil {
		msgs, err := ms.Messages(alice, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		seen = map[string]int{}
		ids := map[string]bool{}
		for _, raw := range msgs {
			m, err := mail.Parse(bytes.NewReader(raw), nil)
			if err != nil {
				t.Fatal(err)
			}
			// A crash between SMTP's 250 and marking the row sent
			// resends the same digest with the same Message-ID (at
			// least once, by design); count each digest once.
			if ids[m.MessageID] {
				continue
			}
			ids[m.MessageID] = true
			for _, sm := range idRe.FindAllStringSubmatch(m.Text, -1) {
				seen[sm[1]]++
			}
		}
		if len(seen) >= restartN {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(seen) != restartN {
		t.Errorf("alice's digests name %d distinct items, want %d", len(seen), restartN)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("item #%s appears in %d digests, want 1", id, n)
		}
	}
}

func appendSubmissions(t *testing.T, ms mailSystem) {
	t.Helper()
	for i := 1; i <= restartN; i++ {
		if err := ms.Append(inbox, "INBOX", submission(i, fmt.Sprintf("Comment number %d about encryption.", i))); err != nil {
			t.Fatal(err)
		}
	}
}

func waitCount(t *testing.T, dbPath string, atLeast int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if countInbound(t, dbPath) >= atLeast {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d messages handled in 30s (%d)", atLeast, countInbound(t, dbPath))
}

// TestRestartCancel stops the daemon by cancelling its context in the
// middle of a batch and starts it again.
func TestRestartCancel(t *testing.T) {
	ms, imapAddr, smtpAddr := startDevmail(t)
	appendSubmissions(t, ms)
	dir := t.TempDir()
	cfg := testConfig(t, dir, imapAddr, smtpAddr)
	dbPath := filepath.Join(dir, "modbot.db")
	_, stop := startDaemon(t, cfg)
	waitCount(t, dbPath, 40)
	stop()
	if n := countInbound(t, dbPath); n >= restartN {
		t.Logf("all %d handled before the stop; the restart still must not double anything", n)
	}
	_, _ = startDaemon(t, testConfig(t, dir, imapAddr, smtpAddr))
	checkExactlyOnce(t, ms, imapAddr, dbPath)
}

// TestRestartSIGKILL kills a modbot process with SIGKILL in the middle of
// a batch, runs it again, and checks nothing was lost or doubled.
func TestRestartSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "modbot")
	build := exec.Command("go", "build", "-o", bin, "modbot/cmd/modbot")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ms, imapAddr, smtpAddr := startDevmail(t)
	appendSubmissions(t, ms)
	dir := t.TempDir()
	testConfig(t, dir, imapAddr, smtpAddr)
	dbPath := filepath.Join(dir, "modbot.db")
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "run", "-config", filepath.Join(dir, "modbot.toml"))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cmd := run()
	waitCount(t, dbPath, 40)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	cmd = run()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("modbot did not stop within 20s of SIGTERM")
		}
	})
	checkExactlyOnce(t, ms, imapAddr, dbPath)
}
