package queue

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"modbot/queue/precheck"
	"modbot/templates"
)

// worstText is n bytes that grow the most when rendered: HTML escapes,
// and non-ASCII that quoted-printable writes as three bytes a byte, and
// shouted words and short links that the prechecks mark.
func worstText(n int) string {
	unit := `<"é&'> ÉÉÉ bit.ly/x ШШШ `
	return strings.ToValidUTF8(strings.Repeat(unit, n/len(unit)+1)[:n], "")
}

// The largest digest and notice the bounds allow, built from the worst
// inputs: submissions and feedback of 1 MiB of text that renders big, a
// display name and subject of 10 KB, and 300 stored hits each with
// long evidence and explanation (as rows stored before the caps). The
// sizes are logged, and asserted against the bounds the README gives.
func TestWorstCaseSizes(t *testing.T) {
	ctx := context.Background()
	in, s := newIngester(t)
	body := worstText(1 << 20)
	name := strings.Repeat("Ш<", 5000)
	const subs = 12
	for i := 0; i < subs; i++ {
		raw := msg(fmt.Sprintf("=?utf-8?q?%s?= <w%d@people.example>", strings.Repeat("=D0=A8", 60), i),
			"moderator+uk-meta-encryption@forum.example", strings.Repeat("subject Ш ", 1000), fmt.Sprintf("w%d@x", i), body,
			"X-Comment-Author: "+name)
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
		var hits []precheck.Hit
		for j := 0; j < 300; j++ {
			hits = append(hits, precheck.Hit{Rule: 1 + j%22, Title: "t", Severity: precheck.Hold, Start: j, End: j + 1,
				Evidence: strings.Repeat("Ш", 2000), Explanation: strings.Repeat("why <é> ", 500)})
		}
		id := int64(1001 + i)
		if err := s.tx(ctx, func(tx *sqlx.Tx) error { return insertHits(ctx, tx, id, hits) }); err != nil {
			t.Fatal(err)
		}
		raw = msg(fmt.Sprintf("F%d <f%d@people.example>", i, i), "moderator+d-abcdefghijklmnop@forum.example", strings.Repeat("feedback Ш ", 1000), fmt.Sprintf("f%d@x", i), body)
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
	}
	var notice int
	if err := s.pool.Get(&notice, `SELECT MAX(LENGTH(raw)) FROM outbox WHERE kind = 'notice'`); err != nil {
		t.Fatal(err)
	}
	t.Logf("largest received notice: %d bytes", notice)
	if notice > maxNoticeBytes {
		t.Errorf("a notice of %d bytes, want at most %d", notice, maxNoticeBytes)
	}

	d := newDigester(t, s)
	d.Moderators = []string{"alice@mods.example"}
	d.MaxItems = 50
	sizes := []int{}
	listed := map[string]int{}
	for round := 0; round < 3*subs; round++ {
		n, _, err := d.SendDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		var size int
		if err := s.pool.Get(&size, `SELECT LENGTH(raw) FROM outbox WHERE kind = 'digest' ORDER BY id DESC LIMIT 1`); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, size)
		ds := digestsTo(t, s, "alice@mods.example")
		text := ds[len(ds)-1].Text
		for i := 0; i < subs; i++ {
			if strings.Contains(text, fmt.Sprintf(". #%d — ", 1001+i)) {
				listed[fmt.Sprint(1001+i)]++
			}
		}
		listed["feedback"] += strings.Count(text, ". From F")
	}
	t.Logf("digest sizes (default budget %d bytes): %v", DefaultDigestMaxBytes, sizes)
	largest := 0
	for _, n := range sizes {
		largest = max(largest, n)
	}
	if largest > DefaultDigestMaxBytes {
		t.Errorf("a digest of %d bytes, over the budget of %d", largest, DefaultDigestMaxBytes)
	}
	for i := 0; i < subs; i++ {
		if listed[fmt.Sprint(1001+i)] != 1 {
			t.Errorf("#%d listed in %d digests, want 1", 1001+i, listed[fmt.Sprint(1001+i)])
		}
	}
	if listed["feedback"] != subs {
		t.Errorf("%d feedback items listed, want %d", listed["feedback"], subs)
	}

	// One item alone: the largest digest item there can be.
	d.MaxItems = 1
	if _, err := s.pool.Exec(`DELETE FROM digest_items; UPDATE feedback SET answered_at = created_at`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	var one int
	if err := s.pool.Get(&one, `SELECT LENGTH(raw) FROM outbox WHERE kind = 'digest' ORDER BY id DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	t.Logf("largest one-item digest: %d bytes", one)
	if one > maxItemDigestBytes {
		t.Errorf("a one-item digest of %d bytes, want at most %d", one, maxItemDigestBytes)
	}
}

const maxItemDigestBytes = 256 << 10

// A digest over its byte budget leaves out the heaviest item, not the
// last ones: the comments around a flood still go, numbered 1, 2 in the
// digest and in digest_items alike, so "approve 2" means what it shows.
func TestDigestBudgetLeavesOutTheHeaviest(t *testing.T) {
	ctx := context.Background()
	in, s := newIngester(t)
	for i, body := range []string{"First calm comment.", floodBody(), "Second calm comment."} {
		raw := msg(fmt.Sprintf("C%d <c%d@people.example>", i, i), "moderator+uk-meta-encryption@forum.example", "hi", fmt.Sprintf("b%d@x", i), body)
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
	}
	d := newDigester(t, s)
	d.Moderators = []string{"alice@mods.example"}
	d.MaxBytes = 40 << 10
	n, full, err := d.SendDue(ctx)
	if err != nil || n != 1 || !full {
		t.Fatalf("SendDue = %d, %v, %v; want 1 digest, more to come", n, full, err)
	}
	text := digestsTo(t, s, "alice@mods.example")[0].Text
	if !strings.Contains(text, "1. #1001 — ") || !strings.Contains(text, "2. #1003 — ") || strings.Contains(text, "#1002") ||
		!strings.Contains(text, "1 more waiting") {
		t.Errorf("digest over budget:\n%s", text)
	}
	var numbering []struct {
		Number int   `db:"number"`
		ID     int64 `db:"submission_id"`
	}
	if err := s.pool.Select(&numbering, `SELECT number, submission_id FROM digest_items ORDER BY number`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(numbering) != "[{1 1001} {2 1003}]" {
		t.Errorf("digest_items %v, want 1 → #1001, 2 → #1003", numbering)
	}
	// The flood follows alone, cut to the budget.
	if _, _, err := d.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	ds := digestsTo(t, s, "alice@mods.example")
	if len(ds) != 2 || !strings.Contains(ds[1].Text, "1. #1002 — ") {
		t.Fatalf("the flood did not follow in the next digest")
	}
	var size int
	if err := s.pool.Get(&size, `SELECT LENGTH(raw) FROM outbox WHERE kind = 'digest' ORDER BY id DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if size > d.MaxBytes {
		t.Errorf("the flood's own digest is %d bytes, over the budget of %d", size, d.MaxBytes)
	}
}

// A long comment, once approved, is not mailed whole: the author's
// "published" notice and the notices to subscribers quote at most
// NoticeBodyMax of it, and the rest is on the page.
func TestPublishedNoticesAreBounded(t *testing.T) {
	m := newModeration(t)
	m.submit("Dave <dave@people.example>", "I follow this.", "X-Comment-Notify: all")
	conf := m.notices("subscribe", "dave@people.example")
	if len(conf) != 1 {
		t.Fatalf("dave's confirmations: %d", len(conf))
	}
	if got := m.answer(conf[0], "Dave <dave@people.example>", "confirm"); got.Outcome != OutcomeSubscription {
		t.Fatalf("dave's confirm: %+v", got)
	}
	long := strings.Repeat("A long but civil comment about encryption. ", 20000) // 860 KiB
	m.submit("Carol <carol@people.example>", long)
	m.approveAll()
	for _, tc := range []struct{ kind, rcpt string }{
		{"approved", "carol@people.example"},
		{"new_comment", "dave@people.example"},
	} {
		ns := m.notices(tc.kind, tc.rcpt)
		if len(ns) == 0 {
			t.Fatalf("no %s notice to %s", tc.kind, tc.rcpt)
		}
		n := ns[len(ns)-1]
		if len(n.Text) > NoticeBodyMax+8<<10 || len(n.HTML) > 4*NoticeBodyMax+16<<10 {
			t.Errorf("%s notice to %s: text %d bytes, html %d bytes; want the comment cut to %d", tc.kind, tc.rcpt, len(n.Text), len(n.HTML), NoticeBodyMax)
		}
		// Carol has not proven her address: her notice has the guarded
		// 200-character excerpt instead.
		if !strings.Contains(n.Text, "[cut: ") && !strings.Contains(n.Text, "at most 200 characters") {
			t.Errorf("%s notice to %s does not say it was cut:\n%.300s", tc.kind, tc.rcpt, n.Text)
		}
	}
}

// A hit past the cut of a long comment loses its highlight: its offsets
// would otherwise mark the text of the note that replaces the rest.
func TestCutItemUnmarksHitsPastTheCut(t *testing.T) {
	it := templates.DigestItem{ID: 1042, Body: strings.Repeat("word ", 4000), Hits: []templates.Hit{
		{Rule: 3, Start: 10, End: 14, Evidence: "word"},
		{Rule: 3, Start: 19990, End: 19994, Evidence: "word"},
	}}
	boundItem(&it)
	var marked []int
	for _, h := range it.Hits {
		if h.End > h.Start {
			marked = append(marked, h.Start)
		}
	}
	if len(it.Hits) != 2 || len(marked) != 1 || marked[0] != 10 {
		t.Errorf("marked hits start at %v of %d hits, want only the one at 10 (the other is past the cut of %d bytes)", marked, len(it.Hits), DigestBodyMax)
	}
}
