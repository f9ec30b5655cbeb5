package queue

import (
	"context"
	"slices"
	"strings"
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
			p, ok := in.Prepare(ctx, f).(*prepared)
			if !ok || !p.checked {
				t.Fatalf("Prepare ran no prechecks: %+v", p)
			}
			// Mark the prepared result, to see whether Handle used it.
			p.hits = []precheck.Hit{sentinel}
			f.Prepared = p
			if tc.publish {
				if _, err := s.pool.Exec(`INSERT INTO comments (post_slug, author_name, body, published_at) VALUES ('uk-meta-encryption', 'Dave', ?, ?)`,
					copied, s.now()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := in.Handle(ctx, f); err != nil {
				t.Fatal(err)
			}
			if got := hitRules(t, s); !slices.Equal(got, tc.wantRules) {
				t.Errorf("hits of rules %v, want %v", got, tc.wantRules)
			}
		})
	}
}

// A prepared result travels with the message it was made from only.
func TestPreparedForAnotherMessageIsIgnored(t *testing.T) {
	ctx := context.Background()
	in, s := newIngester(t)
	a := fetched(msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "a@x", "First comment."))
	b := fetched(msg("Eve <eve@evil.example>", "moderator@forum.example", "Out of office", "b@x", "Away.", "Auto-Submitted: auto-replied"))
	b.Prepared = in.Prepare(ctx, a)
	if f, err := in.Handle(ctx, b); err != nil || f.Folder != mail.FolderIgnored {
		t.Fatalf("b handled as %+v, %v; want it ignored as the auto-reply it is", f, err)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM submissions`); n != 0 {
		t.Errorf("%d submissions from a message that is not one", n)
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
