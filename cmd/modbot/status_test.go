package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modbot/queue"
)

func init() {
	// Other test files of this package may register -update as well.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func goldenUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if goldenUpdate() {
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

// The table a person reads, from known numbers.
func TestStatusTable(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	st := &queue.Status{
		Pending: 3, Held: 1, OldestPending: &queue.Waiting{ID: 1042, Since: *at(2*time.Hour + 5*time.Minute)},
		Outbox:    queue.OutboxInfo{Waiting: 2, Retrying: 1, Failed: 0, Sent: 154, LastError: "smtp rcpt: 451 4.3.0\n try later"},
		Mailboxes: []queue.Mailbox{{Name: "INBOX", UIDValidity: 7, LastUID: 1234, SyncedAt: at(12 * time.Second)}},
		Digests:   queue.DigestInfo{Sent: 12, LastSent: at(40 * time.Minute), Waiting: 1},
		Published: 130,
		Inbound:   map[string]int64{"queued": 120, "feedback": 4, "ignored": 10, "quarantined": 1},
	}
	var out bytes.Buffer
	if err := writeStatus(&out, st, now); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "status.golden", out.String())
}

func TestStatusCmd(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "127.0.0.1:1", "127.0.0.1:1", "")
	ctx := context.Background()
	var out bytes.Buffer
	err := statusCmd(ctx, &out, []string{"-config", cfgPath})
	if err == nil || !strings.Contains(err.Error(), "has modbot run") {
		t.Errorf("status without a database: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "modbot.db")); err == nil {
		t.Error("status created the database")
	}

	if err := importCmd(ctx, &out, &out, []string{"-config", cfgPath, sampleWXR}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := statusCmd(ctx, &out, []string{"-config", cfgPath}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"queue      0 pending\n", "imap       no sync yet\n", "published  6 comments\n", "inbound    none yet\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := statusCmd(ctx, &out, []string{"-config", cfgPath, "-json"}); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Now       time.Time `json:"now"`
		Pending   int64     `json:"pending"`
		Published int64     `json:"published"`
		Outbox    struct {
			Failed int64 `json:"failed"`
		} `json:"outbox"`
		Mailboxes []any `json:"mailboxes"`
	}
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if v.Now.IsZero() || v.Published != 6 || v.Mailboxes == nil {
		t.Errorf("json %+v:\n%s", v, out.String())
	}
}
