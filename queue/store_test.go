package queue

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenAppliesMigrationsAndPragmas(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "modbot.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s.pool.Get(&mode, `PRAGMA journal_mode`); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.pool.Get(&fk, `PRAGMA foreign_keys`); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v", fk, err)
	}
	var timeout int
	if err := s.pool.Get(&timeout, `PRAGMA busy_timeout`); err != nil || timeout < 1000 {
		t.Errorf("busy_timeout = %d, %v", timeout, err)
	}
	// Savepoints' sub-journals in memory, not in temporary files.
	var temp int
	if err := s.pool.Get(&temp, `PRAGMA temp_store`); err != nil || temp != 2 {
		t.Errorf("temp_store = %d, %v; want 2 (memory)", temp, err)
	}
	s.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("database mode %v, want 0600", st.Mode().Perm())
	}
	// Opening again applies nothing new and keeps working.
	s, err = Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestMailboxState(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	v, last, err := s.MailboxState(ctx, "INBOX")
	if err != nil || v != 0 || last != 0 {
		t.Fatalf("empty state = %d %d %v", v, last, err)
	}
	if err := s.SetMailboxState(ctx, "INBOX", 7, 42); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMailboxState(ctx, "INBOX", 7, 43); err != nil {
		t.Fatal(err)
	}
	v, last, _ = s.MailboxState(ctx, "INBOX")
	if v != 7 || last != 43 {
		t.Errorf("state = %d %d, want 7 43", v, last)
	}
}

// A "#", "?" or "%" in the path is part of the file name, not the end of
// it: the store opens the file it was given, with its pragmas.
func TestOpenPathWithURLCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site #1?new 100%")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "modbot.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the path given: %v", err)
	}
	var mode string
	if err := s.pool.Get(&mode, `PRAGMA journal_mode`); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	ro, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
}
