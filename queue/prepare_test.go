package queue

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"modbot/mail"
	"modbot/queue/precheck"
)

// copied is long enough for rule 10 to call it a copy of a published
// comment, and breaks no other rule.
var copied = strings.Repeat("Encryption protects journalists and their sources in every country. ", 4)

func hitRules(t *testing.T, s *Store) []int {
	t.Helper()
	var rules []int
	if err := s.pool.Select(&rules, `SELECT DISTINCT rule FROM precheck_hits ORDER BY rule`); err != nil {
		t.Fatal(err)
	}
	return rules
}

// What Prepare worked out ahead is used only while the post's published
// comments are the ones it ran the prechecks against.
func TestPreparedPrechecksHoldOnlyWhileTheThreadDoes(t *testing.T) {
	sentinel := precheck.Hit{Rule: 99, Title: "from Prepare", Severity: precheck.Note}
	for _, tc := range []struct {
		name      string
		publish   bool // a comment is published between Prepare and Handle
		wantRules []int
	}{
		{"thread unchanged: prepared hits used", false, []int{99}},
		{"comment published meanwhile: prechecks run again", true, []int{precheck.RuleRepetition}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			in, s := newIngester(t)
			in.NotifyReceived = false
			f := fetched(msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "p1@x", copied))
			p := in.prepare(ctx, f)
			if !p.checked {
				t.Fatalf("Prepare ran no prechecks: %+v", p)
			}
			// Mark the prepared result, to see whether Handle used it.
			p.hits = []precheck.Hit{sentinel}
			if tc.publish {
				if _, err := s.pool.Exec(`INSERT INTO comments (post_slug, author_name, body, published_at) VALUES ('uk-meta-encryption', 'Dave', ?, ?)`,
					copied, s.now()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := p.Handle(ctx); err != nil {
				t.Fatal(err)
			}
			if got := hitRules(t, s); !slices.Equal(got, tc.wantRules) {
				t.Errorf("hits of rules %v, want %v", got, tc.wantRules)
			}
		})
	}
}

// On the watcher's read-ahead path each message is parsed and classified
// once: Prepare does it ahead, and the Handle of what it returned goes on
// from there. Handle alone (nothing prepared) parses once too, and both
// paths reach the same outcomes.
func TestEachMessageParsedOnce(t *testing.T) {
	raws := []string{
		msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "once1@x", copied),
		msg("Dave <dave@people.example>", "moderator+no-such-post@forum.example", "hi", "once2@x", "A comment on a post modbot does not know."),
		msg("Eve <eve@people.example>", "moderator@forum.example", "Out of office", "once3@x", "Away.", "Auto-Submitted: auto-replied"),
		msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "again", "once1@x", "The same Message-ID again."),
		"From: a@b.example\nThis is not a header\n\nbody\n",
		"",
	}
	const oversize = "From: Frank <frank@people.example>\nSubject: big\nMessage-ID: <once7@x>\n\n"
	for _, tc := range []struct {
		name    string
		prepare bool
	}{
		{"read-ahead: Prepare, then the Handle of what it returned", true},
		{"Handle alone", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, in, _ := inBatch(t)
			var parses atomic.Int64
			in.onParse = func() { parses.Add(1) }
			var fs []*mail.Fetched
			for _, raw := range raws {
				fs = append(fs, fetched(raw))
			}
			big := fetched(oversize)
			big.Oversize, big.Size = true, 1<<30
			fs = append(fs, big)

			// As the watcher does: Prepare on a goroutine of its own,
			// then each message's turn, in order, on this one.
			turns := make([]func(context.Context) (mail.Filing, error), len(fs))
			for i, f := range fs {
				turns[i] = func(ctx context.Context) (mail.Filing, error) { return in.Handle(ctx, f) }
			}
			if tc.prepare {
				done := make(chan struct{})
				go func() {
					defer close(done)
					for i, f := range fs {
						turns[i] = in.Prepare(ctx, f).Handle
					}
				}()
				<-done
			}
			var got []string
			for i, turn := range turns {
				filing, err := turn(ctx)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				got = append(got, filing.Folder+" "+filing.Keyword)
			}
			if err := in.EndBatch(ctx); err != nil {
				t.Fatal(err)
			}
			// Every message but the empty one is parsed: the oversize one
			// for its header.
			if n := parses.Load(); n != int64(len(fs)-1) {
				t.Errorf("%d parses for %d messages to parse", n, len(fs)-1)
			}
			want := []string{
				mail.FolderSubmissions + " $Pending", mail.FolderSubmissions + " $Pending", mail.FolderIgnored + " $Ignored",
				mail.FolderIgnored + " $Duplicate", mail.FolderQuarantine + " $Quarantined", mail.FolderQuarantine + " $Quarantined",
				mail.FolderQuarantine + " $Quarantined",
			}
			if !slices.Equal(got, want) {
				t.Errorf("filed as\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// Whatever Prepare is given, it changes nothing: it may run beside a batch.
func TestPrepareWritesNothing(t *testing.T) {
	ctx := context.Background()
	in, s := newIngester(t)
	for _, raw := range []string{
		msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "w1@x", copied),
		"not a message at all",
		"",
	} {
		in.Prepare(ctx, fetched(raw))
	}
	if n := count(t, s, `SELECT (SELECT COUNT(*) FROM inbound) + (SELECT COUNT(*) FROM submissions) + (SELECT COUNT(*) FROM outbox)`); n != 0 {
		t.Errorf("Prepare wrote %d rows", n)
	}
}
