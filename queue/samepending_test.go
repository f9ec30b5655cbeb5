package queue

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"modbot/queue/precheck"
)

func TestSameTextAsAWaitingCommentIsFlagged(t *testing.T) {
	spam := "Earn 500 a day from home with this one simple trick that the banks do not want you to know about, write to me today."
	ctx := context.Background()
	in, s := newIngester(t)
	in.NotifyReceived = false
	seq := 0
	submit := func(from, body string) int64 {
		t.Helper()
		seq++
		raw := msg(from, "moderator+uk-meta-encryption@forum.example", "comment", fmt.Sprintf("same%d@x", seq), body)
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := s.pool.Get(&id, `SELECT MAX(id) FROM submissions`); err != nil {
			t.Fatal(err)
		}
		return id
	}
	sameHit := func(id int64) string {
		t.Helper()
		var expl []string
		if err := s.pool.Select(&expl, `SELECT explanation FROM precheck_hits WHERE submission_id = ? AND rule = ? AND explanation LIKE 'the same text as comment%'`,
			id, precheck.RuleRepetition); err != nil {
			t.Fatal(err)
		}
		return strings.Join(expl, "; ")
	}

	first := submit("Bot One <bot1@people.example>", spam)
	if got := sameHit(first); got != "" {
		t.Errorf("the first copy was flagged: %s", got)
	}
	// Another address, other case and spacing: the same text.
	second := submit("Bot Two <bot2@people.example>", strings.ToUpper(spam[:20])+"  "+spam[20:])
	if got, want := sameHit(second), fmt.Sprintf("#%d,", first); !strings.Contains(got, want) {
		t.Errorf("second copy: %q, want it to name %s", got, want)
	}
	// Short texts repeat innocently.
	thanks := submit("Dave <dave@people.example>", "Thank you for this.")
	if again := submit("Erin <erin@people.example>", "Thank you for this."); sameHit(again) != "" || sameHit(thanks) != "" {
		t.Errorf("a short, common comment was flagged as a copy")
	}
	// Once the first copies are decided, a later copy is not compared with them.
	if _, err := s.pool.Exec(`UPDATE submissions SET state = 'rejected' WHERE id IN (?, ?)`, first, second); err != nil {
		t.Fatal(err)
	}
	if got := sameHit(submit("Bot Three <bot3@people.example>", spam)); got != "" {
		t.Errorf("compared with decided comments: %s", got)
	}
}
