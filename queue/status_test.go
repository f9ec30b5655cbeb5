package queue

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	m := newModeration(t, "one", "two", "three")
	ctx := context.Background()
	m.reply("Alice <alice@mods.example>", m.token["alice@mods.example"], "approve 1\nhold 2")
	if err := m.s.SetMailboxState(ctx, "INBOX", 9, 77); err != nil {
		t.Fatal(err)
	}
	synced := time.Date(2026, 3, 1, 9, 59, 0, 0, time.UTC)
	if err := m.s.RecordSync(ctx, "INBOX", synced); err != nil {
		t.Fatal(err)
	}
	// A digest that went out.
	m.s.pool.MustExec(`UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = (SELECT MIN(id) FROM outbox WHERE kind = 'digest')`, synced)
	m.s.pool.MustExec(`UPDATE outbox SET attempts = 2, last_error = 'smtp rcpt: 451 try later' WHERE id = (SELECT MAX(id) FROM outbox WHERE kind = 'digest')`)

	st, err := m.s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 1 || st.Held != 1 || st.OldestPending == nil || st.OldestPending.ID != 1003 || !st.OldestPending.Since.Equal(m.now) {
		t.Errorf("queue: %+v %+v", st, st.OldestPending)
	}
	if st.Digests.Sent != 1 || st.Digests.LastSent == nil || !st.Digests.LastSent.Equal(synced) || st.Digests.Waiting != 1 {
		t.Errorf("digests %+v", st.Digests)
	}
	if st.Outbox.Retrying != 1 || st.Outbox.Sent != 1 || st.Outbox.LastError != "smtp rcpt: 451 try later" || st.Outbox.Waiting < 2 {
		t.Errorf("outbox %+v", st.Outbox)
	}
	if len(st.Mailboxes) != 1 || st.Mailboxes[0].LastUID != 77 || st.Mailboxes[0].SyncedAt == nil || !st.Mailboxes[0].SyncedAt.Equal(synced) {
		t.Errorf("mailboxes %+v", st.Mailboxes)
	}
	if st.Published != 1 || st.Inbound["queued"] != 3 {
		t.Errorf("published %d inbound %v", st.Published, st.Inbound)
	}
}

// status reads a database another process owns: read-only, nothing
// created.
func TestStatusReadOnlyEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modbot.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st, err := ro.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 0 || st.OldestPending != nil || len(st.Mailboxes) != 0 || st.Digests.LastSent != nil {
		t.Errorf("empty status %+v", st)
	}
	if err := ro.RecordSync(context.Background(), "INBOX", time.Now()); err == nil {
		t.Error("a read-only store wrote")
	}
}
