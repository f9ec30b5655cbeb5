package queue

import (
	"context"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests try issue 11 §3: commenter text crafted to look like the
// digest's own structure (an item header, a rule, the footer, a quote)
// must not change which item a moderator's interleaved command answers.
// Each builds the digest with the real ingest, prechecks, digest and
// templates, quotes it as a mail client does, types a bare "approve"
// under item 1, and checks which comment is published.

// hostileComment is one submission: its sender's display name and body.
type hostileComment struct{ name, body string }

// newHostileModeration is newModeration with chosen display names and
// bodies, and no feedback item.
func newHostileModeration(t *testing.T, comments ...hostileComment) *moderation {
	t.Helper()
	in, s := newIngester(t)
	m := &moderation{t: t, in: in, s: s, now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), token: map[string]string{}}
	s.SetClock(func() time.Time { return m.now })
	ctx := context.Background()
	for i, c := range comments {
		from := fmt.Sprintf("%s <c%d@people.example>", mime.QEncoding.Encode("utf-8", c.name), i)
		raw := msg(from, "moderator+uk-meta-encryption@forum.example", "comment", fmt.Sprintf("c%d@people.example", i), c.body)
		if _, err := in.Handle(ctx, fetched(raw)); err != nil {
			t.Fatal(err)
		}
		m.now = m.now.Add(time.Minute)
	}
	m.firstDigests()
	return m
}

// hostileCases are display names and bodies for item 1 (#1001) that
// imitate the digest. Item 2 (#1002) is the comment the attacker wants
// published unseen.
var hostileCases = []hostileComment{
	// A long display name is precheck evidence, wrapped onto a line of
	// its own: "Wrapping" words of several lengths so that one of them
	// puts "2. #1002 — " at the start of a wrapped line.
	{"Ann Wrappingwor 2. #1002 — Trustworthy Person", "Fine."},
	{"Ann Wrappingword 2. #1002 — Trustworthy Person", "Fine."},
	{"Ann Wrappingwords 2. #1002 — Trustworthy Person", "Fine."},
	{"Ann Wrappingwordsx 2. #1002 — Trustworthy Person", "Fine."},
	{"2. #1002 — UK accuses Meta", "Fine."},
	{"> 2. #1002 — UK accuses Meta approve all HOW TO REPLY", "Fine."},
	{"Ann Wrappingwords > 2 #1002 — On Mon, Mar 2, 2026 Forum wrote:", "Fine."},
	// Bodies with the item header in the text part's and the HTML
	// part's shape, behind quote markers, after a rule.
	{"Ann", "Fine.\n2. #1002 — UK accuses Meta\nmore"},
	{"Ann", "Fine.\n2 #1002 — UK accuses Meta\nmore"},
	{"Ann", "Fine.\n> 2. #1002 — UK accuses Meta\n>> 2 #1002 — x"},
	{"Ann", "Fine.\n======================================================================\n2. #1002 — UK accuses Meta"},
	{"Ann", "Fine.\n\u2028" + "2. #1002 — x\u2029" + "2 #1002 — y\u0085" + "2 #1002 — z\v2 #1002 — w\f2 #1002 — v"},
	// Rules, "approve all", an attribution and the digest's own footer.
	{"Ann", "Fine.\n----------\napprove all\nOn Mon, Mar 2, 2026 at 10:00 AM Forum <moderator@forum.example> wrote:\n> approve 2"},
	{"Ann", "Fine.\nHOW TO REPLY\napprove 1 3          approve 1-3, 5       approve all\nreject 2 rule 11     reject 4: off topic  reject 2 rule 3 rule 12: note\n" +
		"FEEDBACK for the moderators. Answer one with \"reply N: your text\".\n2. From Eve <eve@evil.example>\nDECIDED BY OTHER MODERATORS since your last digest:"},
}

// quoteText quotes a digest's text part as a plain text client does and
// types cmd between item 1 and item 2.
func quoteText(digest, cmd string) string {
	var b strings.Builder
	b.WriteString("On Mon, Mar 2, 2026 at 10:00 AM Test Forum <moderator@forum.example> wrote:\n")
	rules := 0
	for _, l := range strings.Split(strings.TrimRight(digest, "\n"), "\n") {
		if strings.HasPrefix(l, "=====") {
			if rules++; rules == 2 {
				b.WriteString("\n" + cmd + "\n\n")
			}
		}
		b.WriteString(strings.TrimRight("> "+l, " ") + "\n")
	}
	return b.String()
}

var itemDivRE = regexp.MustCompile(`<div style="border-top`)

// quoteHTML quotes a digest's HTML part as Gmail does when one types into
// the quote: the blockquote is split at each item, and cmd is typed
// between item 1 and item 2.
func quoteHTML(digest, cmd string) string {
	body := regexp.MustCompile(`(?s)<body[^>]*>(.*)</body>`).FindStringSubmatch(digest)[1]
	parts := itemDivRE.Split(body, -1)
	var b strings.Builder
	b.WriteString(`<div dir="ltr"><br></div><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Mar 2, 2026 at 10:00 AM Test Forum wrote:<br></div>`)
	for i, p := range parts {
		if i > 0 {
			p = `<div style="border-top` + p
		}
		b.WriteString(`<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">` + p + "</blockquote>")
		if i == 1 {
			b.WriteString("<div>" + cmd + "</div>")
		}
	}
	b.WriteString("</div>")
	return b.String()
}

// htmlReply is a reply with only an HTML part.
func htmlReply(from, token, id, html string) string {
	return fmt.Sprintf("From: %s\nTo: moderator+d-%s@forum.example\nSubject: Re: digest\nMessage-ID: <%s>\nDate: Mon, 02 Jan 2026 15:04:05 +0000\n"+
		"MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n", from, token, id, html)
}

// checkOnlyFirstPublished asserts that the bare approve under item 1
// published #1001 and nothing else.
func checkOnlyFirstPublished(t *testing.T, m *moderation) {
	t.Helper()
	if st := m.state(1001); st != "approved" {
		t.Errorf("#1001, under which approve was typed, is %s", st)
	}
	if st := m.state(1002); st != "pending" {
		t.Errorf("#1002 is %s: the commenter's text steered the approve to item 2", st)
	}
	var ids []int64
	m.s.pool.Select(&ids, `SELECT submission_id FROM comments ORDER BY id`)
	if len(ids) != 1 || ids[0] != 1001 {
		t.Errorf("published submissions %v, want only 1001", ids)
	}
}

func TestHostileCommentCannotSteerTextReply(t *testing.T) {
	for i, c := range hostileCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			m := newHostileModeration(t, c, hostileComment{"Bob", "Buy cheap pills now"})
			d := digestsTo(t, m.s, "alice@mods.example")[0]
			got := m.reply("Alice <alice@mods.example>", m.token["alice@mods.example"], quoteText(d.Text, "approve"))
			if got.Outcome != OutcomeReply {
				t.Fatalf("reply: %+v", got)
			}
			checkOnlyFirstPublished(t, m)
		})
	}
}

func TestHostileCommentCannotSteerHTMLReply(t *testing.T) {
	for i, c := range hostileCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			m := newHostileModeration(t, c, hostileComment{"Bob", "Buy cheap pills now"})
			d := digestsTo(t, m.s, "alice@mods.example")[0]
			m.seq++
			raw := htmlReply("Alice <alice@mods.example>", m.token["alice@mods.example"], fmt.Sprintf("reply%d@mods.example", m.seq), quoteHTML(d.HTML, "approve"))
			if _, err := m.in.Handle(context.Background(), fetched(raw)); err != nil {
				t.Fatal(err)
			}
			if got := lastInbound(t, m.s); got.Outcome != OutcomeReply {
				t.Fatalf("reply: %+v", got)
			}
			checkOnlyFirstPublished(t, m)
		})
	}
}

// A bare command carries the number and the #id of the item header
// quoted above it; when the digest's item of that number is another
// comment, nothing is applied and the confirmation says why.
func TestBareCommandCrossChecksNumberAndID(t *testing.T) {
	m := newHostileModeration(t, hostileComment{"Ann", "Fine."}, hostileComment{"Bob", "Buy cheap pills now"})
	alice := m.token["alice@mods.example"]
	// The quote shows item 2 as #1001, which it is not (a header
	// forged in a digest from before the marking, or a mangled quote).
	got := m.reply("Alice <alice@mods.example>", alice,
		"On Mon, Mar 2, 2026 at 10:00 AM Forum <moderator@forum.example> wrote:\n> 2. #1001 — UK accuses Meta\n\napprove\n")
	if got.Outcome != OutcomeReply {
		t.Fatalf("reply: %+v", got)
	}
	for _, id := range []int64{1001, 1002} {
		if st := m.state(id); st != "pending" {
			t.Errorf("#%d is %s after a mismatched bare approve", id, st)
		}
	}
	conf := m.lastMail("confirmation", "alice@mods.example")
	if conf == nil || !strings.Contains(conf.Text, "item 2 of this digest is #1002, not #1001") {
		t.Errorf("confirmation does not report the mismatch:\n%v", conf)
	}
	// Number and id agreeing, typed or quoted: applied.
	m.reply("Alice <alice@mods.example>", alice, "approve 2 (#1002)")
	m.reply("Alice <alice@mods.example>", alice, "> 1. #1001 — UK accuses Meta\n\nreject\n")
	if st := m.state(1002); st != "approved" {
		t.Errorf("approve 2 (#1002): #1002 is %s", st)
	}
	if st := m.state(1001); st != "rejected" {
		t.Errorf("reject under the true header of item 1: #1001 is %s", st)
	}
	// A typed number with another id is refused the same way.
	m.reply("Alice <alice@mods.example>", alice, "undo\nhold 1 (#1002)")
	conf = m.lastMail("confirmation", "alice@mods.example")
	if conf == nil || !strings.Contains(conf.Text, "item 1 of this digest is #1001, not #1002") {
		t.Errorf("typed mismatch not reported:\n%v", conf)
	}

}
