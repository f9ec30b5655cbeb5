package queue

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"modbot/mail"
)

// answer sends a reply from addr to a mail modbot sent, with text typed
// above the quote, and returns the inbound outcome.
func (m *moderation) answer(to *mail.Message, from, text string, extra ...string) inboundView {
	m.t.Helper()
	m.seq++
	raw := msg(from, "moderator@forum.example", "Re: "+to.Subject, fmt.Sprintf("ans%d@people.example", m.seq),
		text+"\n\nOn Sun, 1 Mar 2026, Test Forum wrote:\n> "+strings.ReplaceAll(strings.TrimSpace(to.Text), "\n", "\n> "),
		append([]string{"In-Reply-To: <" + to.MessageID + ">", "References: <" + to.MessageID + ">"}, extra...)...)
	if _, err := m.in.Handle(context.Background(), fetched(raw)); err != nil {
		m.t.Fatal(err)
	}
	return lastInbound(m.t, m.s)
}

func (m *moderation) submit(from, body string, extra ...string) {
	m.t.Helper()
	m.seq++
	raw := msg(from, "moderator+uk-meta-encryption@forum.example", "comment", fmt.Sprintf("sub%d@people.example", m.seq), body, extra...)
	if _, err := m.in.Handle(context.Background(), fetched(raw)); err != nil {
		m.t.Fatal(err)
	}
}

// approveAll approves every pending comment through a fresh digest and
// lets the grace period pass.
func (m *moderation) approveAll() {
	m.t.Helper()
	d := newDigester(m.t, m.s)
	d.MaxItems = 0
	m.now = m.now.Add(time.Second)
	d.SendDue(context.Background())
	ds := digestsTo(m.t, m.s, "alice@mods.example")
	tok := strings.TrimSuffix(strings.TrimPrefix(ds[len(ds)-1].ReplyTo[0].Addr, "moderator+d-"), "@forum.example")
	if got := m.reply("Alice <alice@mods.example>", tok, "approve all"); got.Outcome != OutcomeReply {
		m.t.Fatalf("approve all: %+v", got)
	}
	m.now = m.now.Add(6 * time.Minute)
}

func (m *moderation) notices(kind, rcpt string) []*mail.Message {
	m.t.Helper()
	var raws [][]byte
	m.s.pool.Select(&raws, `SELECT raw FROM outbox WHERE kind = 'notice' AND notice = ? AND rcpt_to = ? ORDER BY id`, kind, rcpt)
	var out []*mail.Message
	for _, r := range raws {
		msg, err := mail.Parse(strings.NewReader(string(r)), nil)
		if err != nil {
			m.t.Fatal(err)
		}
		out = append(out, msg)
	}
	return out
}

func TestThreadsSubscriptionsAndUnsubscribe(t *testing.T) {
	m := newModeration(t)
	// Carol comments and asks for replies to her comments; Dave asks for
	// every new comment.
	m.submit("Carol <carol@people.example>", "Encryption protects everyone.", "X-Comment-Notify: replies")
	m.submit("Dave <dave@people.example>", "I follow this.", "X-Comment-Notify: all")
	confirm := m.notices("subscribe", "carol@people.example")
	if len(confirm) != 1 || !strings.Contains(confirm[0].Text, "http://forum.example/subscriptions/confirm/") {
		t.Fatalf("no confirmation mail for carol: %v", confirm)
	}
	// Nothing is active before the address confirms.
	if n := m.count(`SELECT COUNT(*) FROM subscriptions WHERE state = 'active'`); n != 0 {
		t.Fatalf("%d subscriptions active before confirmation", n)
	}
	// Carol confirms by reply; Dave through the page (the store call the
	// web's POST makes). A stranger replying "confirm" to carol's mail
	// confirms nothing.
	if got := m.answer(confirm[0], "Eve <eve@evil.example>", "confirm"); got.Outcome == OutcomeSubscription {
		t.Errorf("a stranger confirmed carol's subscription: %+v", got)
	}
	if got := m.answer(confirm[0], "Carol <carol@people.example>", "confirm"); got.Outcome != OutcomeSubscription {
		t.Fatalf("carol's confirm: %+v", got)
	}
	dconf := m.notices("subscribe", "dave@people.example")[0]
	tok := dconf.Text[strings.Index(dconf.Text, "/subscriptions/confirm/")+len("/subscriptions/confirm/"):]
	tok = strings.Fields(tok)[0]
	if _, err := m.s.ConfirmSubscription(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	m.approveAll()

	// Erin answers carol's "published" notice by mail: a threaded reply.
	published := m.notices("approved", "carol@people.example")
	if len(published) != 1 {
		t.Fatalf("carol's published notices: %d", len(published))
	}
	for _, h := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"} {
		if published[0].Get(h) == "" {
			t.Errorf("notice lacks %s", h)
		}
	}
	if got := m.answer(published[0], "Erin <erin@people.example>", "I agree with Carol."); got.Outcome != OutcomeQueued {
		t.Fatalf("reply by mail: %+v", got)
	}
	var parent *int64
	var body string
	m.s.pool.QueryRow(`SELECT parent_id, body FROM submissions ORDER BY id DESC LIMIT 1`).Scan(&parent, &body)
	var carolComment int64
	m.s.pool.Get(&carolComment, `SELECT c.id FROM comments c JOIN submissions s ON s.id = c.submission_id WHERE s.author_email = 'carol@people.example'`)
	if parent == nil || *parent != carolComment || strings.TrimSpace(body) != "I agree with Carol." {
		t.Errorf("threaded reply: parent %v (want %d), body %q", parent, carolComment, body)
	}
	m.approveAll()
	// Carol hears of the reply; Dave of a new comment; Erin of nothing
	// about her own comment.
	if n := len(m.notices("new_reply", "carol@people.example")); n != 1 {
		t.Errorf("carol got %d reply notices, want 1", n)
	}
	if n := len(m.notices("new_comment", "dave@people.example")); n != 2 {
		t.Errorf("dave got %d new-comment notices, want 2 (carol's and erin's; not his own)", n)
	}
	if n := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'erin@people.example' AND notice IN ('new_comment', 'new_reply')`); n != 0 {
		t.Errorf("erin was told about her own comment")
	}

	// Dave unsubscribes through the mailto of List-Unsubscribe.
	lu := m.notices("new_comment", "dave@people.example")[0].Get("List-Unsubscribe")
	mailto := lu[strings.Index(lu, "mailto:")+len("mailto:") : strings.Index(lu, "?")]
	m.seq++
	if _, err := m.in.Handle(context.Background(), fetched(msg("Dave <dave@people.example>", mailto, "unsubscribe", "unsub@people.example", ""))); err != nil {
		t.Fatal(err)
	}
	if got := lastInbound(t, m.s); got.Outcome != OutcomeSubscription {
		t.Errorf("mailto unsubscribe: %+v", got)
	}
	m.submit("Frank <frank@people.example>", "One more.")
	m.approveAll()
	if n := len(m.notices("new_comment", "dave@people.example")); n != 2 {
		t.Errorf("dave still gets notices after unsubscribing: %d", n)
	}
	// Unsubscribing again is harmless.
	token := strings.TrimPrefix(strings.Split(mailto, "@")[0], "moderator+u-")
	if _, err := m.s.Unsubscribe(context.Background(), token); err != nil {
		t.Errorf("second unsubscribe: %v", err)
	}
}

func TestFixItYourself(t *testing.T) {
	m := newModeration(t)
	m.submit("Carol <carol@people.example>", "What a load of shit.")
	received := m.notices("received", "carol@people.example")[0]
	if !strings.Contains(received.Text, "Swear words should be starred out such as f*k") || !strings.Contains(received.Text, "corrected comment") {
		t.Errorf("received notice does not quote the rule or offer a fix:\n%s", received.Text)
	}
	// The digest lists it; then carol corrects it.
	d := newDigester(t, m.s)
	d.SendDue(context.Background())
	m.now = m.now.Add(time.Minute)
	if got := m.writeTo("Carol <carol@people.example>", reviseAddress(t, received), "What a load of s**t."); got.Outcome != OutcomeRevised {
		t.Fatalf("correction: %+v", got)
	}
	var body string
	var id int64
	m.s.pool.QueryRow(`SELECT id, body FROM submissions WHERE author_email = 'carol@people.example'`).Scan(&id, &body)
	if id != 1001 || strings.TrimSpace(body) != "What a load of s**t." {
		t.Errorf("revised #%d: %q", id, body)
	}
	if n := m.count(`SELECT COUNT(*) FROM precheck_hits WHERE submission_id = 1001 AND rule = 3`); n != 0 {
		t.Errorf("the old swear-word hit survived the correction")
	}
	// Moderators get it again, marked revised, with only the new text.
	d.SendDue(context.Background())
	ds := digestsTo(t, m.s, "alice@mods.example")
	last := ds[len(ds)-1].Text
	if !strings.Contains(last, "#1001") || !strings.Contains(strings.ToLower(last), "revised") || strings.Contains(last, "load of shit") {
		t.Errorf("digest after the correction:\n%s", last)
	}
	// Someone else cannot correct carol's comment.
	if got := m.writeTo("Eve <eve@evil.example>", reviseAddress(t, received), "Spam instead."); got.Outcome == OutcomeRevised {
		t.Errorf("a stranger revised carol's comment")
	}
}

func TestAppealIsFeedback(t *testing.T) {
	m := newModeration(t, "Off topic stuff.")
	m.reply("Alice <alice@mods.example>", m.token["alice@mods.example"], "reject 1 rule 5: off topic")
	rejected := m.notices("rejected", "c0@people.example")[0]
	got := m.answer(rejected, "C0 <c0@people.example>", "But it was on topic!")
	if got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, "appeal") {
		t.Errorf("appeal: %+v", got)
	}
}
