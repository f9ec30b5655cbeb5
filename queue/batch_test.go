package queue

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"modbot/mail"
)

func count(t *testing.T, s *Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.pool.Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func submissionFrom(from string, i int) *mail.Fetched {
	return fetched(msg(from, "moderator+uk-meta-encryption@forum.example", "comment",
		fmt.Sprintf("batch%d.%d@people.example", uidSeq, i), fmt.Sprintf("Comment number %d on encryption.", i)))
}

// inBatch returns an Ingester with a batch begun.
func inBatch(t *testing.T) (context.Context, *Ingester, *Store) {
	t.Helper()
	ctx := context.Background()
	in, s := newIngester(t)
	if err := in.BeginBatch(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx, in, s
}

func mustHandle(t *testing.T, in *Ingester, f *mail.Fetched) mail.Filing {
	t.Helper()
	filing, err := in.Handle(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return filing
}

func TestBatchCommitsAtEndAndAnnouncesThen(t *testing.T) {
	ctx, in, s := inBatch(t)
	var arrived []string
	in.Arrived = func(o string) { arrived = append(arrived, o) }
	for i := range 3 {
		if f := mustHandle(t, in, submissionFrom("Carol <carol@people.example>", i)); f.Folder != mail.FolderSubmissions {
			t.Errorf("message %d filed in %q", i, f.Folder)
		}
	}
	// Another connection (the digest scheduler, the web page) sees
	// nothing yet, and nobody was told.
	if n := count(t, s, `SELECT COUNT(*) FROM inbound`); n != 0 {
		t.Errorf("%d inbound rows visible before the batch committed", n)
	}
	if len(arrived) != 0 {
		t.Errorf("arrivals announced before commit: %v", arrived)
	}
	if err := in.EndBatch(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM submissions WHERE state = 'pending'`); n != 3 {
		t.Errorf("%d pending submissions after commit, want 3", n)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM outbox WHERE notice = 'received'`); n != 3 {
		t.Errorf("%d received notices queued, want 3", n)
	}
	if strings.Join(arrived, ",") != "queued,queued,queued" {
		t.Errorf("announced %v after commit", arrived)
	}
}

// Rate limits, duplicates and "seen before" must count messages earlier
// in the same, uncommitted batch.
func TestBatchSeesItsOwnWrites(t *testing.T) {
	ctx, in, s := inBatch(t)
	in.Limits.SubmissionsPerHour = 2
	first := submissionFrom("Dave <dave@people.example>", 0)
	handle := func(f *mail.Fetched) mail.Filing { t.Helper(); return mustHandle(t, in, f) }
	handle(first)
	handle(submissionFrom("Dave <dave@people.example>", 1))
	handle(submissionFrom("Dave <dave@people.example>", 2)) // over the limit: held
	again := *first
	again.UID = 999 // the same bytes under another UID
	if f := handle(&again); f.Keyword != "$Pending" {
		t.Errorf("the same message again got %+v, want its first filing", f)
	}
	sameID := *first
	sameID.UID, sameID.Raw = 1000, append([]byte("X-Trace: relay2\r\n"), first.Raw...)
	if f := handle(&sameID); f.Keyword != "$Duplicate" {
		t.Errorf("same Message-ID and sender got %+v, want $Duplicate", f)
	}
	if err := in.EndBatch(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM submissions WHERE state = 'held'`); n != 1 {
		t.Errorf("%d held submissions, want 1 (the third within the hour)", n)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM inbound`); n != 4 {
		t.Errorf("%d inbound rows, want 4 (the repeat of the same bytes records nothing)", n)
	}
}

// A message that makes modbot panic is quarantined, and its half-written
// rows are undone without touching the rest of the batch.
func TestBatchPanicUndoesOnlyThatMessage(t *testing.T) {
	ctx, in, s := inBatch(t)
	mustHandle(t, in, submissionFrom("Carol <carol@people.example>", 0))
	tmpl := in.Templates
	in.Templates = nil // the received notice panics after the submission row is written
	f, err := in.Handle(ctx, submissionFrom("Mallory <mallory@people.example>", 1))
	in.Templates = tmpl
	if err != nil {
		t.Fatal(err)
	}
	if f.Folder != mail.FolderQuarantine {
		t.Errorf("panicking message filed in %q, want quarantine", f.Folder)
	}
	if _, err := in.Handle(ctx, submissionFrom("Erin <erin@people.example>", 2)); err != nil {
		t.Fatal(err)
	}
	if err := in.EndBatch(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM submissions WHERE author_email = 'mallory@people.example'`); n != 0 {
		t.Errorf("the panicking message left %d submission rows", n)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM submissions`); n != 2 {
		t.Errorf("%d submissions, want the 2 good ones", n)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM inbound WHERE outcome = ? AND reason LIKE 'internal error%'`, OutcomeQuarantined); n != 1 {
		t.Errorf("%d quarantined messages, want the one that panicked", n)
	}
}

// When the commit fails, EndBatch says so: the watcher then files none of
// the batch, and offering it again records it afresh.
func TestBatchCommitFailureLosesNothing(t *testing.T) {
	ctx, in, s := inBatch(t)
	f := submissionFrom("Carol <carol@people.example>", 0)
	if _, err := in.Handle(ctx, f); err != nil {
		t.Fatal(err)
	}
	// Make COMMIT fail: a foreign key violation checked only at commit.
	tx := in.batch.b.tx
	if _, err := tx.Exec(`PRAGMA defer_foreign_keys = ON`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO precheck_hits (submission_id, rule, title, severity, start_offset, end_offset, evidence, explanation)
		VALUES (424242, 1, 't', 'note', 0, 0, '', '')`); err != nil {
		t.Fatal(err)
	}
	if err := in.EndBatch(ctx); err == nil {
		t.Fatal("EndBatch reported success for a commit that failed")
	}
	if n := count(t, s, `SELECT COUNT(*) FROM inbound`); n != 0 {
		t.Fatalf("%d inbound rows after a failed commit", n)
	}
	// Offered again, outside any batch: recorded once.
	if got, err := in.Handle(ctx, f); err != nil || got.Folder != mail.FolderSubmissions {
		t.Fatalf("offered again: %+v, %v", got, err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM submissions`); n != 1 {
		t.Errorf("%d submissions, want 1", n)
	}
}

// A long batch is committed in slices so other writers wait at most
// batchHold; what each slice committed is visible at once.
func TestBatchCommitsInSlices(t *testing.T) {
	ctx, in, s := inBatch(t)
	mustHandle(t, in, submissionFrom("Carol <carol@people.example>", 0))
	in.batch.started = in.batch.started.Add(-2 * batchHold) // as if it had been open a while
	if _, err := in.Handle(ctx, submissionFrom("Carol <carol@people.example>", 1)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM inbound`); n != 1 {
		t.Errorf("%d inbound rows visible mid-batch, want the 1 committed when the hold ran out", n)
	}
	if err := in.EndBatch(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM inbound`); n != 2 {
		t.Errorf("%d inbound rows, want 2", n)
	}
}
