package queue

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/queue/precheck"
	"modbot/templates"
)

func newIngester(t *testing.T) (*Ingester, *Store) {
	t.Helper()
	s := openTestStore(t)
	if err := s.SyncPosts(context.Background(), []Post{{Slug: "uk-meta-encryption", Title: "UK accuses Meta", Text: "James Cleverly said."}}); err != nil {
		t.Fatal(err)
	}
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return &Ingester{
		Templates: tmpl, Rules: precheck.DefaultRuleset().Rules(), NotifyReceived: true, UndoGrace: 5 * time.Minute,
		Store: s, Site: Site{Name: "Test Forum", BaseURL: "http://forum.example", Address: "moderator@forum.example"},
		Moderators: []string{"alice@mods.example", "bob@mods.example"}, TokenTTL: 14 * 24 * time.Hour,
		Prechecks: precheck.DefaultRuleset().Engine(),
	}, s
}

var uidSeq uint32

func fetched(raw string) *mail.Fetched {
	uidSeq++
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	return &mail.Fetched{Mailbox: "INBOX", UIDValidity: 1, UID: uidSeq, Size: int64(len(raw)), Raw: []byte(raw)}
}

func msg(from, to, subject, id, body string, extra ...string) string {
	h := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s>\nDate: Mon, 02 Jan 2026 15:04:05 +0000\n", from, to, subject, id)
	for _, e := range extra {
		h += e + "\n"
	}
	return h + "Content-Type: text/plain; charset=utf-8\n\n" + body + "\n"
}

type inboundView struct {
	Outcome string `db:"outcome"`
	Reason  string `db:"reason"`
	Folder  string `db:"folder"`
}

func lastInbound(t *testing.T, s *Store) inboundView {
	t.Helper()
	var v inboundView
	if err := s.pool.Get(&v, `SELECT outcome, reason, folder FROM inbound ORDER BY id DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestIngestOutcomes(t *testing.T) {
	ctx := context.Background()
	in, s := newIngester(t)
	tests := []struct {
		name, raw   string
		wantOutcome string
		wantFolder  string
		wantReason  string
	}{
		{"submission", msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "a1@x", "Encryption matters."),
			OutcomeQueued, mail.FolderSubmissions, ""},
		{"unknown post", msg("Carol <carol@people.example>", "moderator+no-such-post@forum.example", "hi", "a2@x", "Hello."),
			OutcomeQueued, mail.FolderSubmissions, `unknown post "no-such-post"`},
		{"auto reply", msg("Dave <dave@people.example>", "moderator@forum.example", "Out of office", "a3@x", "Away.", "Auto-Submitted: auto-replied"),
			OutcomeIgnored, mail.FolderIgnored, "Auto-Submitted"},
		{"no from", "To: moderator@forum.example\nSubject: x\nMessage-ID: <a4@x>\n\nbody\n",
			OutcomeQuarantined, mail.FolderQuarantine, "From"},
		{"unreadable header", "From: a@b.example\nThis is not a header\n\nbody\n",
			OutcomeQuarantined, mail.FolderQuarantine, "unreadable message"},
		{"reply from non-moderator", msg("Eve <eve@evil.example>", "moderator+d-abcdefghijklmnop@forum.example", "Re: digest", "a5@x", "approve all"),
			OutcomeFeedback, mail.FolderFeedback, "eve@evil.example is not a moderator"},
		{"reply with unknown token", msg("Alice <alice@mods.example>", "moderator+d-abcdefghijklmnop@forum.example", "Re: digest", "a6@x", "approve all"),
			OutcomeFeedback, mail.FolderFeedback, "unknown digest token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := in.Handle(ctx, fetched(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			got := lastInbound(t, s)
			if got.Outcome != tt.wantOutcome || got.Folder != tt.wantFolder || f.Folder != tt.wantFolder {
				t.Errorf("outcome %q folder %q (filing %q), want %q %q", got.Outcome, got.Folder, f.Folder, tt.wantOutcome, tt.wantFolder)
			}
			if !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("reason %q does not contain %q", got.Reason, tt.wantReason)
			}
		})
	}
}

func TestIngestIsIdempotent(t *testing.T) {
	ctx := context.Background()
	in, s := newIngester(t)
	f := fetched(msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "same@x", "Once."))
	first, err := in.Handle(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	// The same UID again (a crash before filing), and the same bytes under
	// a new UIDVALIDITY: both get the first filing, nothing is recorded twice.
	again, err := in.Handle(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	renumbered := *f
	renumbered.UIDValidity, renumbered.UID = 2, 1
	third, err := in.Handle(ctx, &renumbered)
	if err != nil {
		t.Fatal(err)
	}
	if again != first || third != first {
		t.Errorf("filings %v %v %v differ", first, again, third)
	}
	var n int
	s.pool.Get(&n, `SELECT COUNT(*) FROM submissions`)
	if n != 1 {
		t.Errorf("%d submissions, want 1", n)
	}
	// The same Message-ID from the same sender with other trace headers
	// is a duplicate, recorded as such.
	other := fetched("Received: from elsewhere\n" + msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "same@x", "Once."))
	fd, err := in.Handle(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if fd.Keyword != "$Duplicate" || lastInbound(t, s).Outcome != OutcomeDuplicate {
		t.Errorf("redelivery filed %v outcome %q, want a duplicate", fd, lastInbound(t, s).Outcome)
	}
	s.pool.Get(&n, `SELECT COUNT(*) FROM submissions`)
	if n != 1 {
		t.Errorf("%d submissions after redelivery, want 1", n)
	}
}

func TestIngestOversizeIsQuarantinedWithReason(t *testing.T) {
	in, s := newIngester(t)
	f := fetched(msg("Carol <carol@people.example>", "moderator@forum.example", "big", "big@x", ""))
	f.Size, f.Oversize = 20<<20, true
	filing, err := in.Handle(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	got := lastInbound(t, s)
	if filing.Folder != mail.FolderQuarantine || got.Outcome != OutcomeQuarantined || !strings.Contains(got.Reason, "20971520 bytes") {
		t.Errorf("oversize: filing %v, row %+v", filing, got)
	}
}

func TestIngestRecordsPrecheckHits(t *testing.T) {
	in, s := newIngester(t)
	body := "What a load of shit. See https://bit.ly/x1y2z3"
	if _, err := in.Handle(context.Background(), fetched(msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "hits@x", body))); err != nil {
		t.Fatal(err)
	}
	var hits []struct {
		Rule     int    `db:"rule"`
		Evidence string `db:"evidence"`
		Start    int    `db:"start_offset"`
		End      int    `db:"end_offset"`
	}
	if err := s.pool.Select(&hits, `SELECT rule, evidence, start_offset, end_offset FROM precheck_hits ORDER BY start_offset`); err != nil {
		t.Fatal(err)
	}
	var text string
	s.pool.Get(&text, `SELECT body FROM submissions`)
	rules := map[int]bool{}
	for _, h := range hits {
		rules[h.Rule] = true
		if text[h.Start:h.End] != h.Evidence {
			t.Errorf("rule %d: body[%d:%d] = %q, evidence %q", h.Rule, h.Start, h.End, text[h.Start:h.End], h.Evidence)
		}
	}
	if !rules[3] || !rules[12] {
		t.Errorf("hits %+v, want rules 3 and 12", hits)
	}
}

// A panic anywhere in handling quarantines that message instead of
// crashing the daemon or retrying it forever.
func TestIngestPanicQuarantines(t *testing.T) {
	in, s := newIngester(t)
	in.Prechecks = nil // Run on a nil engine panics
	filing, err := in.Handle(context.Background(), fetched(msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "panic@x", "text")))
	if err != nil {
		t.Fatal(err)
	}
	got := lastInbound(t, s)
	if filing.Folder != mail.FolderQuarantine || !strings.Contains(got.Reason, "internal error") {
		t.Errorf("filing %v, row %+v", filing, got)
	}
}

func TestInsertHitsStoresEveryHitInOrder(t *testing.T) {
	ctx := context.Background()
	in, s := newIngester(t)
	if _, err := in.Handle(ctx, fetched(msg("Carol <carol@people.example>", "moderator+uk-meta-encryption@forum.example", "hi", "h1@x", "Plain."))); err != nil {
		t.Fatal(err)
	}
	var subID int64
	if err := s.pool.Get(&subID, `SELECT id FROM submissions`); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 3, 16, 17, 37} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s.pool.Exec(`DELETE FROM precheck_hits`)
			var hits []precheck.Hit
			for i := range n {
				hits = append(hits, precheck.Hit{Rule: 11, Title: "caps", Severity: precheck.Flag, Start: i, End: i + 1, Evidence: fmt.Sprint("e", i)})
			}
			err := s.tx(ctx, func(tx *sqlx.Tx) error { return insertHits(ctx, tx, subID, hits) })
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := s.pool.Select(&got, `SELECT evidence FROM precheck_hits WHERE submission_id = ? ORDER BY rowid`, subID); err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Fatalf("%d hits stored, want %d", len(got), n)
			}
			for i, e := range got {
				if e != fmt.Sprint("e", i) {
					t.Errorf("hit %d is %q", i, e)
				}
			}
		})
	}
}
