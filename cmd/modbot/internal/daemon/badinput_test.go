package daemon

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"modbot/mail"
	"modbot/mail/dovecottest"
	"modbot/queue"
)

var update = flag.Bool("update", false, "rewrite golden files")

// hostileMessages returns the inbound test messages of package mail (the
// malformed, hostile and odd ones among them) and a 20 MB message made
// here, in the order they are appended.
func hostileMessages(t *testing.T) (names []string, raws [][]byte) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "..", "mail", "testdata", "inbound", "*.eml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("want at least 20 test messages, found %d (%v)", len(files), err)
	}
	sort.Strings(files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(f))
		raws = append(raws, raw)
	}
	var big bytes.Buffer
	big.WriteString("From: Big <big@people.example>\r\nTo: moderator+uk-meta-encryption@forum.example\r\n" +
		"Subject: a very large attachment\r\nMessage-ID: <big@people.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := strings.Repeat("QUFB", 19) + "\r\n"
	for big.Len() < 20<<20 {
		big.WriteString(line)
	}
	big.WriteString("--b--\r\n")
	names = append(names, "generated-20MB-attachment")
	raws = append(raws, big.Bytes())
	return names, raws
}

// testBadInput appends every hostile message, then one ordinary
// submission, and checks that each got exactly one recorded outcome and
// one folder, that nothing stayed in INBOX, and that the daemon went on
// working. The outcomes are compared with a golden file.
func testBadInput(t *testing.T, ms mailSystem, imapAddr, smtpAddr, goldenName string) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, imapAddr, smtpAddr)
	_, _ = startDaemon(t, cfg)
	names, raws := hostileMessages(t)
	for i, raw := range raws {
		if err := ms.Append(inbox, "INBOX", raw); err != nil {
			t.Fatalf("append %s: %v", names[i], err)
		}
	}
	// The daemon is still working: an ordinary submission after them all
	// is queued like any other.
	if err := ms.Append(inbox, "INBOX", submission(9999, "Still here.")); err != nil {
		t.Fatal(err)
	}
	waitCount(t, filepath.Join(dir, "modbot.db"), len(raws)+1)

	s, err := queue.Open(t.Context(), filepath.Join(dir, "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows []struct {
		UID     uint32 `db:"uid"`
		Outcome string `db:"outcome"`
		Folder  string `db:"folder"`
		Reason  string `db:"reason"`
	}
	if err := s.DB().Select(&rows, `SELECT uid, outcome, folder, reason FROM inbound ORDER BY uid`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(raws)+1 {
		t.Fatalf("%d outcomes for %d messages", len(rows), len(raws)+1)
	}
	var got strings.Builder
	perFolder := map[string]int{}
	for i, r := range rows {
		name := "ordinary-submission"
		if i < len(names) {
			name = names[i]
		}
		if r.UID != uint32(i+1) {
			t.Fatalf("row %d has uid %d: a message was skipped or handled twice", i, r.UID)
		}
		perFolder[r.Folder]++
		reason := r.Reason
		if len(reason) > 90 {
			reason = reason[:90] + "…"
		}
		fmt.Fprintf(&got, "%s\t%s\t%s\t%s\n", name, r.Outcome, r.Folder, reason)
	}
	golden := filepath.Join("testdata", goldenName)
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("outcomes differ from %s (run with -update to accept):\n%s", golden, got.String())
	}
	if rows[len(rows)-1].Outcome != queue.OutcomeQueued {
		t.Errorf("the ordinary submission after the hostile ones: %+v", rows[len(rows)-1])
	}
	// What an admin sees: every message in exactly the folder its row
	// names, with its keyword, and nothing left in INBOX.
	for _, folder := range []string{mail.FolderSubmissions, mail.FolderFeedback, mail.FolderIgnored, mail.FolderQuarantine, mail.FolderReplies} {
		if perFolder[folder] == 0 {
			continue
		}
		if folder == mail.FolderQuarantine {
			continue
		}
		keyword := map[string]string{mail.FolderSubmissions: "$Pending", mail.FolderFeedback: "$Feedback",
			mail.FolderIgnored: "$Ignored", mail.FolderReplies: "$Reply"}[folder]
		waitFiled(t, imapAddr, folder, perFolder[folder], keyword)
	}
	// Each quarantined message has a note beside it saying why.
	n := perFolder[mail.FolderQuarantine]
	deadline := time.Now().Add(30 * time.Second)
	var quarantined, notes int
	for time.Now().Before(deadline) {
		flags, _, err := folderFlags(imapAddr, mail.FolderQuarantine)
		quarantined, notes = 0, 0
		for _, f := range flags {
			switch {
			case hasFlag(f, "$Quarantined"):
				quarantined++
			case hasFlag(f, "$QuarantineNote"):
				notes++
			}
		}
		if err == nil && quarantined == n && notes == n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if quarantined != n || notes != n {
		t.Errorf("Modbot/Quarantine holds %d quarantined messages and %d notes, want %d of each", quarantined, notes, n)
	}
	raws, err = ms.Messages(inbox, mail.FolderQuarantine)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, raw := range raws {
		note, err := mail.Parse(bytes.NewReader(raw), nil)
		if err == nil && note.Subject == "Quarantined: a very large attachment" && len(note.InReplyTo) == 1 &&
			note.InReplyTo[0] == "big@people.example" && strings.Contains(note.Text, "over the limit") {
			found = true
		}
	}
	if !found {
		t.Errorf("no note threaded to the 20 MB message saying why it was quarantined")
	}
}

func TestBadInputInProcess(t *testing.T) {
	ms, imapAddr, smtpAddr := startDevmail(t)
	// imapmemserver serves an empty body for a message whose header it
	// cannot parse, so two of the cases read differently from Dovecot's.
	testBadInput(t, ms, imapAddr, smtpAddr, "badinput.devmail.golden")
}

func TestBadInputDovecot(t *testing.T) {
	dc := dovecottest.Start(t, inbox, alice, bob)
	testBadInput(t, dc, dc.IMAPAddr, dc.SMTPAddr, "badinput.dovecot.golden")
}
