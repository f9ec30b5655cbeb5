package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"modbot/mail"
)

var reviseAddrRE = regexp.MustCompile(`moderator\+r-[a-z0-9]+@forum\.example`)

// reviseAddress is the revision address a "received" notice gives.
func reviseAddress(t *testing.T, notice *mail.Message) string {
	t.Helper()
	a := reviseAddrRE.FindString(notice.Text)
	if a == "" {
		t.Fatalf("the received notice gives no revision address:\n%s", notice.Text)
	}
	return a
}

// writeTo sends a fresh mail (not a reply) from addr to to.
func (m *moderation) writeTo(from, to, body string) inboundView {
	m.t.Helper()
	m.seq++
	raw := msg(from, to, "my comment", fmt.Sprintf("w%d@people.example", m.seq), body)
	if _, err := m.in.Handle(context.Background(), fetched(raw)); err != nil {
		m.t.Fatal(err)
	}
	return lastInbound(m.t, m.s)
}

// digestNow sends the digests due and returns the token and text of
// alice's newest one.
func (m *moderation) digestNow() (token, text string) {
	m.t.Helper()
	m.now = m.now.Add(time.Second)
	d := newDigester(m.t, m.s)
	d.MaxItems = 0
	if _, _, err := d.SendDue(context.Background()); err != nil {
		m.t.Fatal(err)
	}
	ds := digestsTo(m.t, m.s, "alice@mods.example")
	last := ds[len(ds)-1]
	return strings.TrimSuffix(strings.TrimPrefix(last.ReplyTo[0].Addr, "moderator+d-"), "@forum.example"), last.Text
}

func (m *moderation) published() []string {
	var bodies []string
	if err := m.s.pool.Select(&bodies, `SELECT body FROM comments ORDER BY id`); err != nil {
		m.t.Fatal(err)
	}
	for i := range bodies {
		bodies[i] = strings.TrimSpace(bodies[i])
	}
	return bodies
}

// The attack of issue 11 §1: carol's comment is in alice's digest;
// carol then changes it; alice's decision from the digest that showed
// the old text must not apply to the new one, whichever command and
// however it names the item.
func TestDecisionOnARevisedCommentIsRefused(t *testing.T) {
	for _, command := range []string{"approve 1", "approve all", "approve #1001", "edit 1: Harmless.", "reject 1 rule 5", "hold 1", "spam 1"} {
		// No "#" in a test's name: it ends up in the store's path.
		t.Run(strings.ReplaceAll(command, "#", "id "), func(t *testing.T) {
			m := newModeration(t)
			m.submit("Carol <carol@people.example>", "A harmless first text.")
			received := m.notices("received", "carol@people.example")[0]
			old, oldText := m.digestNow()
			if !strings.Contains(oldText, "A harmless first text.") {
				t.Fatalf("digest:\n%s", oldText)
			}
			m.now = m.now.Add(time.Minute)
			if got := m.writeTo("Carol <carol@people.example>", reviseAddress(t, received), "Buy pills at http://spam.example"); got.Outcome != OutcomeRevised {
				t.Fatalf("revision: %+v", got)
			}
			m.now = m.now.Add(time.Minute)
			if got := m.reply("Alice <alice@mods.example>", old, command); got.Outcome != OutcomeReply {
				t.Fatalf("reply: %+v", got)
			}
			if st := m.state(1001); st != "pending" {
				t.Errorf("%q from the old digest made #1001 %s", command, st)
			}
			if p := m.published(); len(p) != 0 {
				t.Errorf("published unseen: %q", p)
			}
			if n := m.count(`SELECT COUNT(*) FROM decisions`); n != 0 {
				t.Errorf("%d decisions recorded from a stale digest", n)
			}
			conf := m.lastMail("confirmation", "alice@mods.example")
			if want := "#1001 was revised after this digest; the new text is in your next digest"; !strings.Contains(strings.Join(strings.Fields(conf.Text), " "), want) {
				t.Errorf("confirmation lacks %q:\n%s", want, conf.Text)
			}
			// The next digest shows the new text at once (no reminder
			// wait), and a decision from it applies.
			tok, text := m.digestNow()
			if !strings.Contains(text, "Buy pills at") || strings.Contains(text, "A harmless first text.") {
				t.Fatalf("next digest:\n%s", text)
			}
			m.reply("Alice <alice@mods.example>", tok, "approve 1")
			if p := m.published(); len(p) != 1 || p[0] != "Buy pills at http://spam.example" {
				t.Errorf("published %q, want the new text", p)
			}
			var version int
			m.s.pool.Get(&version, `SELECT version FROM decisions WHERE submission_id = 1001 AND action = 'approve'`)
			if version != 2 {
				t.Errorf("the decision records version %d, want 2", version)
			}
		})
	}
}

// A "#id" that is not an item of the digest replied to is held to what
// that moderator was last shown of the comment.
func TestDecisionByIDNeedsTheCurrentVersionShown(t *testing.T) {
	m := newModeration(t)
	bobFirst := m.token["bob@mods.example"] // sent before carol wrote
	m.submit("Carol <carol@people.example>", "First text.")
	received := m.notices("received", "carol@people.example")[0]
	m.digestNow() // both moderators see version 1
	m.now = m.now.Add(time.Minute)
	m.writeTo("Carol <carol@people.example>", reviseAddress(t, received), "Second text.")
	m.now = m.now.Add(time.Minute)
	m.reply("Bob <bob@mods.example>", bobFirst, "approve #1001")
	if st := m.state(1001); st != "pending" {
		t.Fatalf("bob approved #1001 having seen only version 1: %s", st)
	}
	if conf := m.lastMail("confirmation", "bob@mods.example"); !strings.Contains(conf.Text, "#1001 was revised") {
		t.Errorf("bob's confirmation:\n%s", conf.Text)
	}
	// Once bob's digest shows version 2, "#1001" through any of his
	// digests is a decision on what he saw.
	m.digestNow()
	m.reply("Bob <bob@mods.example>", bobFirst, "approve #1001")
	if p := m.published(); len(p) != 1 || p[0] != "Second text." {
		t.Errorf("published %q", p)
	}
	// A comment never shown to bob cannot be decided by "#id" at all.
	m.submit("Dave <dave@people.example>", "Never shown.")
	m.reply("Bob <bob@mods.example>", bobFirst, "approve #1002")
	if st := m.state(1002); st != "pending" {
		t.Errorf("bob approved #1002 unseen: %s", st)
	}
	if conf := m.lastMail("confirmation", "bob@mods.example"); !strings.Contains(strings.Join(strings.Fields(conf.Text), " "), "#1002 was never in a digest sent to you") {
		t.Errorf("bob's confirmation:\n%s", conf.Text)
	}
}

// Every text a comment had is kept and exported; the confirmation of
// approve and edit quotes what was published.
func TestEveryVersionIsKeptAndExported(t *testing.T) {
	m := newModeration(t)
	m.submit("Carol <carol@people.example>", "Version one.")
	r := reviseAddress(t, m.notices("received", "carol@people.example")[0])
	m.now = m.now.Add(time.Minute)
	m.writeTo("Carol <carol@people.example>", r, "Version two.")
	m.now = m.now.Add(time.Minute)
	m.writeTo("Carol <carol@people.example>", r, "Version three.")
	tok, _ := m.digestNow()
	m.reply("Alice <alice@mods.example>", tok, "edit 1: Version three, edited.")
	conf := m.lastMail("confirmation", "alice@mods.example")
	if !strings.Contains(conf.Text, "Version three, edited.") {
		t.Errorf("the confirmation does not quote the published text:\n%s", conf.Text)
	}
	var buf bytes.Buffer
	if _, err := m.s.Export(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var v struct {
			Type    string `json:"type"`
			Version int    `json:"version"`
			Body    string `json:"body"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		if v.Type == "version" {
			versions = append(versions, fmt.Sprintf("%d %s", v.Version, strings.TrimSpace(v.Body)))
		}
		if v.Type == "decision" && v.Version != 3 {
			t.Errorf("exported decision on version %d, want 3: %s", v.Version, line)
		}
	}
	if want := []string{"1 Version one.", "2 Version two.", "3 Version three."}; fmt.Sprint(versions) != fmt.Sprint(want) {
		t.Errorf("exported versions %q, want %q", versions, want)
	}
}

// The approve confirmation quotes the published text.
func TestApproveConfirmationQuotesPublishedText(t *testing.T) {
	m := newModeration(t, "Exactly this text.")
	m.reply("Alice <alice@mods.example>", m.token["alice@mods.example"], "approve 1")
	conf := m.lastMail("confirmation", "alice@mods.example")
	if !strings.Contains(conf.Text, "Exactly this text.") || !strings.Contains(conf.HTML, "Exactly this text.") {
		t.Errorf("confirmation:\n%s\n%s", conf.Text, conf.HTML)
	}
}

// The attack of issue 11 §2: a question sent as a reply to the
// "received" notice replaced the comment. Now every reply to it is
// feedback, and the commenter is told so.
func TestAQuestionIsNotARevision(t *testing.T) {
	m := newModeration(t)
	m.submit("Carol <carol@people.example>", "My careful comment.")
	received := m.notices("received", "carol@people.example")[0]
	r := reviseAddress(t, received)
	got := m.answer(received, "Carol <CAROL@people.example>", "When will this be published? See http://carol.example")
	if got.Outcome != OutcomeFeedback {
		t.Errorf("question: %+v", got)
	}
	m.wantBody(1001, 1, "My careful comment.")
	told := m.notices("not_revised", "carol@people.example")
	if len(told) != 1 {
		t.Fatalf("carol got %d notices about her question", len(told))
	}
	if text := strings.Join(strings.Fields(told[0].Text), " "); !strings.Contains(text, "your comment #1001 on") || !strings.Contains(text, "was not changed") || !strings.Contains(text, r) ||
		strings.Contains(text, "carol.example") || strings.Contains(text, "When will") {
		t.Errorf("notice about the question:\n%s", told[0].Text)
	}
	if n := m.count(`SELECT COUNT(*) FROM feedback WHERE body LIKE '%When will this be published%'`); n != 1 {
		t.Errorf("the question did not reach the moderators")
	}
	// A stranger answering carol's notice: feedback, nothing changed, and
	// nobody is mailed.
	m.answer(received, "Eve <eve@evil.example>", "Replacement text.")
	m.wantBody(1001, 1, "My careful comment.")
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'eve@evil.example'`); n != 0 {
		t.Errorf("eve was mailed")
	}
}

func (m *moderation) wantBody(id int64, version int, body string) {
	m.t.Helper()
	var got struct {
		Body    string `db:"body"`
		Version int    `db:"version"`
	}
	if err := m.s.pool.Get(&got, `SELECT body, version FROM submissions WHERE id = ?`, id); err != nil {
		m.t.Fatal(err)
	}
	if strings.TrimSpace(got.Body) != body || got.Version != version {
		m.t.Errorf("#%d is version %d %q, want %d %q", id, got.Version, got.Body, version, body)
	}
}

// Mail to the revision address changes the comment only with a valid
// token, from the author, while it waits.
func TestRevisionAddress(t *testing.T) {
	m := newModeration(t)
	m.submit("Carol <carol@people.example>", "Original.")
	received := m.notices("received", "carol@people.example")[0]
	r := reviseAddress(t, received)

	for _, c := range []struct{ name, from, to string }{
		{"another sender", "Eve <eve@evil.example>", r},
		{"a bad token", "Carol <carol@people.example>", "moderator+r-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@forum.example"},
		{"a token cut short", "Carol <carol@people.example>", strings.Replace(r, "+r-", "+r-x", 1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := m.writeTo(c.from, c.to, "Replaced."); got.Outcome != OutcomeFeedback {
				t.Errorf("outcome %+v, want feedback", got)
			}
			m.wantBody(1001, 1, "Original.")
		})
	}
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'eve@evil.example'`); n != 0 {
		t.Errorf("eve was mailed")
	}
	// The author, in another letter case and with a tag: a revision, and
	// she is told.
	if got := m.writeTo("Carol <Carol+x@People.example>", strings.ToUpper(r[:12])+r[12:], "Corrected."); got.Outcome != OutcomeRevised {
		t.Fatalf("carol's revision: %+v", got)
	}
	m.wantBody(1001, 2, "Corrected.")
	told := m.notices("revised", "carol@people.example")
	if len(told) != 1 || !strings.Contains(told[0].Text, "comment #1001") || !strings.Contains(strings.Join(strings.Fields(told[0].Text), " "), "now has your new text; moderators will see it") {
		t.Errorf("carol's revision notice: %v", told)
	} else if strings.Contains(told[0].Text, "Corrected.") {
		t.Errorf("the notice echoes the text:\n%s", told[0].Text)
	}
	// Once decided, the comment cannot change.
	tok, _ := m.digestNow()
	m.reply("Alice <alice@mods.example>", tok, "approve 1")
	if got := m.writeTo("Carol <carol@people.example>", r, "Too late."); got.Outcome != OutcomeFeedback {
		t.Errorf("revision after the decision: %+v", got)
	}
	m.wantBody(1001, 2, "Corrected.")
	if n := len(m.notices("not_revised", "carol@people.example")); n != 1 {
		t.Errorf("carol was told %d times that her late revision was feedback", n)
	}
}

// Migration 00014 keeps every existing text as version 1, and marks a
// digest that showed a text since revised (before versions were kept) as
// showing version 0, so a decision from it is refused.
func TestVersionsMigrationBackfills(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "modbot.db")
	db, err := openDB("file:" + path)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db.DB, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO inbound (id, mailbox, uid_validity, uid, hash, size, kind, outcome, folder, received_at) VALUES (1, 'INBOX', 1, 1, 'h1', 1, 'submission', 'queued', 'x', ?)`,
		`INSERT INTO inbound (id, mailbox, uid_validity, uid, hash, size, kind, outcome, folder, received_at) VALUES (2, 'INBOX', 1, 2, 'h2', 1, 'submission', 'queued', 'x', ?)`,
		`INSERT INTO submissions (id, inbound_id, post_known, author_name, author_email, body, state, created_at) VALUES (1001, 1, 1, 'A', 'a@x', 'Unrevised.', 'pending', ?)`,
		`INSERT INTO submissions (id, inbound_id, post_known, author_name, author_email, body, state, created_at, revised_at) VALUES (1002, 2, 1, 'B', 'b@x', 'Revised.', 'pending', ?, ?)`,
		`INSERT INTO digests (id, token, moderator, message_id, created_at) VALUES (1, 'tok1', 'alice@mods.example', 'd1', ?)`,
		`INSERT INTO digest_items (digest_id, number, submission_id) VALUES (1, 1, 1001), (1, 2, 1002)`,
	} {
		args := []any{}
		for range strings.Count(q, "?") {
			args = append(args, t0)
		}
		if strings.Contains(q, "revised_at") {
			args[1] = t0.Add(time.Hour)
		}
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var versions []string
	db.Select(&versions, `SELECT submission_id || ' ' || version || ' ' || body FROM submission_versions ORDER BY submission_id`)
	if fmt.Sprint(versions) != "[1001 1 Unrevised. 1002 1 Revised.]" {
		t.Errorf("versions %q", versions)
	}
	var shown []int
	db.Select(&shown, `SELECT version FROM digest_items ORDER BY number`)
	if fmt.Sprint(shown) != "[1 0]" {
		t.Errorf("digest items show versions %v, want [1 0]", shown)
	}
	// And back down.
	if _, err := p.DownTo(ctx, 13); err != nil {
		t.Fatalf("down: %v", err)
	}
	db.Close()
}

// A comment a moderator held, then revised by its author, comes back in
// the next digest: the hold was a decision on the old text.
func TestHeldCommentRevisedIsListedAgain(t *testing.T) {
	m := newModeration(t)
	m.submit("Carol <carol@people.example>", "Held text.")
	r := reviseAddress(t, m.notices("received", "carol@people.example")[0])
	tok, _ := m.digestNow()
	m.reply("Alice <alice@mods.example>", tok, "hold 1")
	if st := m.state(1001); st != "held" {
		t.Fatalf("state %s", st)
	}
	before := len(digestsTo(t, m.s, "alice@mods.example"))
	if _, text := m.digestNow(); len(digestsTo(t, m.s, "alice@mods.example")) != before {
		t.Fatalf("a held comment is listed again before any change:\n%s", text)
	}
	m.now = m.now.Add(time.Minute)
	if got := m.writeTo("Carol <carol@people.example>", r, "Better text."); got.Outcome != OutcomeRevised {
		t.Fatalf("revising a held comment: %+v", got)
	}
	tok, text := m.digestNow()
	if !strings.Contains(text, "Better text.") {
		t.Fatalf("the revised held comment is not in the next digest:\n%s", text)
	}
	m.reply("Alice <alice@mods.example>", tok, "approve 1")
	if p := m.published(); len(p) != 1 || p[0] != "Better text." {
		t.Errorf("published %q", p)
	}
}

// A revision replaces the rules' hits, not why the comment was held: a
// comment held by the submission rate stays held for that reason.
func TestRevisionKeepsTheRateLimitHold(t *testing.T) {
	m := newModeration(t)
	m.in.Limits.SubmissionsPerHour = 1
	m.submit("Carol <carol@people.example>", "First.")
	m.submit("Carol <carol@people.example>", "Second.")
	if st := m.state(1002); st != "held" {
		t.Fatalf("#1002 is %s, want held by the rate limit", st)
	}
	r := reviseAddress(t, m.notices("received", "carol@people.example")[1])
	if got := m.writeTo("Carol <carol@people.example>", r, "Second, corrected."); got.Outcome != OutcomeRevised {
		t.Fatalf("revision: %+v", got)
	}
	if n := m.count(`SELECT COUNT(*) FROM precheck_hits WHERE submission_id = 1002 AND rule = ? AND title = ?`, RuleRateLimit, rateLimitTitle); n != 1 {
		t.Errorf("the held comment's rate-limit hit is gone after the revision (%d left)", n)
	}
}
