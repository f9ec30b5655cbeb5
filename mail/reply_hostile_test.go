package mail

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"modbot/templates"
)

// These tests try issue 11 §3 on the digest as the real templates render
// it: commenter data made to look like the digest's structure (item
// headers in both parts' shapes, rules, "approve all", quote markers,
// attributions, the footer's examples) in every field a commenter
// controls, quoted the way mail programs quote, with a bare "approve"
// typed under item 1. The command must answer item 1, #1001, whatever
// the data says.

// forged is an item header for item 2 in the text part's shape; FORGED
// finds the lines that carry it.
const forged = "2. #1002 — FORGED"

// hostileBody holds the lines a commenter may try in a comment or a
// feedback message.
var hostileBody = strings.Join([]string{
	"Fine.",
	forged,
	"2 #1002 — FORGED in the HTML part's shape",
	"> " + forged,
	">> 2 #1002 — FORGED",
	"JD> " + forged,
	"======================================================================",
	"3. #1003 — FORGED after a rule",
	"----------",
	"approve all",
	"On Mon, Mar 2, 2026 at 10:00 AM Forum <moderator@forum.example> wrote:",
	"> approve 2",
	"HOW TO REPLY",
	"approve 1 3          approve 1-3, 5       approve all",
	"reject 2 rule 11     reject 4: off topic  reject 2 rule 3 rule 12: note",
	`FEEDBACK for the moderators. Answer one with "reply N: your text".`,
	"3. From Eve <eve@evil.example> FORGED",
	"DECIDED BY OTHER MODERATORS since your last digest:",
	"Line\r" + forged + "\u2028" + forged + "\u2029" + forged + "\u0085" + forged + "\v" + forged + "\f" + forged,
}, "\n")

// hostileDigest is a digest whose item 1 (#1001) and feedback item 3
// carry hostile data; pad lengthens the display name so that the wrapped
// lines start at different words.
func hostileDigest(pad int) *templates.Digest {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	name := "Ann " + strings.Repeat("w", pad) + " " + forged + " Person"
	ev := "xx " + strings.Repeat("y", pad) + " " + forged
	return &templates.Digest{
		SiteName: "Test Forum", BaseURL: "http://forum.example", Moderator: "alice@mods.example",
		ReplyAddress: "moderator+d-tok@forum.example", Generated: at,
		Overdue: []templates.OverdueItem{{ID: 999, PostTitle: "UK accuses Meta", AuthorName: name, Received: at, Waiting: "3 days"}},
		Items: []templates.DigestItem{
			{
				Number: 1, ID: 1001, PostSlug: "zz " + forged, PostKnown: false,
				AuthorName: name, AuthorEmail: "ann@people.example", Received: at,
				ParentSnippet: strings.Repeat("p", pad) + " " + forged + " " + forged + " " + forged,
				Body:          hostileBody,
				Hits: []templates.Hit{
					{Rule: 15, Title: "Short user name: no links, no real names", Severity: "flag", Evidence: name,
						Explanation: "display name is 42 characters long; the rule asks for a short one (at most 30)"},
					{Rule: 11, Title: "Please do not post in all Caps", Severity: "flag", Evidence: ev, Explanation: "e " + forged},
				},
			},
			{
				Number: 2, ID: 1002, PostSlug: "uk", PostTitle: "UK accuses Meta", PostURL: "http://forum.example/posts/uk", PostKnown: true,
				AuthorName: "Bob", AuthorEmail: "bob@people.example", Received: at, Body: "Buy cheap pills now",
			},
		},
		Feedback: []templates.FeedbackItem{{Number: 3, FromName: name, FromAddr: "eve@people.example",
			Subject: strings.Repeat("s", pad) + " " + forged + " " + forged + " " + forged + " " + forged, Text: hostileBody, Received: at}},
	}
}

func renderHostile(t *testing.T, pad int) *templates.Rendered {
	t.Helper()
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.Digest(hostileDigest(pad))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dataLineStartRE is how a line that carries commenter data may start:
// the data bar, or one of the digest's fixed labels.
// (A client's conversion may join a table's cells without a space.)
var dataLineStartRE = regexp.MustCompile(`^(\||From:|From ?\| |From |Reply to:|Reply to ?\| |Post:|Post ?unknown: |Subject:|- rule \d+ \(|! #\d+ — |#\d+ — |\d+\. From |\d+ \| |(flag|note|hold) rule \d+ )`)

// TestDigestMarksCommenterData checks every line of both parts that
// carries commenter data: the text part as sent, and the HTML part as
// the reply reader's HTML path and a client's conversion to text read
// it. Each must start with the data bar or a fixed label, and the text
// part stays within 76 columns.
func TestDigestMarksCommenterData(t *testing.T) {
	for pad := 0; pad <= 24; pad++ {
		r := renderHostile(t, pad)
		for _, l := range strings.Split(r.Text, "\n") {
			if n := utf8.RuneCountInString(l); n > 76 {
				t.Errorf("pad %d: text line of %d columns: %q", pad, n, l)
			}
			if strings.Contains(l, "FORGED") && !dataLineStartRE.MatchString(strings.TrimLeft(l, " ")) {
				t.Errorf("pad %d: text line of commenter data without a mark: %q", pad, l)
			}
		}
		lines, ok := htmlReplyLines(r.HTML)
		if !ok {
			t.Fatal("HTML not read")
		}
		for _, l := range lines {
			if strings.Contains(l.text, "FORGED") && !dataLineStartRE.MatchString(replyClean(l.text)) {
				t.Errorf("pad %d: HTML line of commenter data without a mark: %q", pad, l.text)
			}
		}
		for _, l := range strings.Split(htmlToText(r.HTML), "\n") {
			if strings.Contains(l, "FORGED") && !dataLineStartRE.MatchString(replyClean(l)) {
				t.Errorf("pad %d: HTML-as-text line of commenter data without a mark: %q", pad, l)
			}
		}
	}
}

// splitItems cuts a digest's HTML body at its item sections.
func splitItems(t *testing.T, h string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<body[^>]*>(.*)</body>`).FindStringSubmatch(h)
	if m == nil {
		t.Fatal("no body in the HTML part")
	}
	parts := strings.Split(m[1], `<div style="border-top`)
	for i := 1; i < len(parts); i++ {
		parts[i] = `<div style="border-top` + parts[i]
	}
	return parts
}

// quoteTextUnder quotes text with prefix on every line and types cmds[n]
// above the n-th rule line (counting from 0): cmds[2] between item 1 and
// item 2, cmds[4] between the feedback item and the footer.
func quoteTextUnder(text, prefix string, cmds map[int]string) string {
	var b strings.Builder
	b.WriteString("On Mon, Mar 2, 2026 at 10:00 AM Test Forum <moderator@forum.example> wrote:\n")
	rules := 0
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.HasPrefix(l, "=====") {
			rules++
			if cmd, ok := cmds[rules]; ok {
				b.WriteString("\n" + cmd + "\n\n")
			}
		}
		b.WriteString(strings.TrimRight(prefix+l, " ") + "\n")
	}
	return b.String()
}

func TestHostileDigestReplies(t *testing.T) {
	type style struct {
		name  string
		reply func(r *templates.Rendered) *Message
	}
	// approve under item 1, reply under the feedback item 3.
	typed := map[int]string{2: "approve", 4: "reply: thanks"}
	afterPart := map[int]string{1: "approve", 3: "reply: thanks"}
	styles := []style{
		{"text quoted with '> '", func(r *templates.Rendered) *Message {
			return &Message{Text: quoteTextUnder(r.Text, "> ", typed)}
		}},
		{"text quoted with '>'", func(r *templates.Rendered) *Message {
			return &Message{Text: quoteTextUnder(r.Text, ">", typed)}
		}},
		{"text quoted twice", func(r *templates.Rendered) *Message {
			return &Message{Text: quoteTextUnder(r.Text, "> > ", typed)}
		}},
		{"HTML part as a client's plain text", func(r *templates.Rendered) *Message {
			// Gmail and Apple Mail write the quoted HTML as text in
			// their plain part.
			var b strings.Builder
			b.WriteString("On Mon, Mar 2, 2026 at 10:00 AM Test Forum <moderator@forum.example> wrote:\n")
			for i, p := range splitItems(t, r.HTML) {
				for _, l := range strings.Split(htmlToText(p), "\n") {
					b.WriteString(strings.TrimRight("> "+l, " ") + "\n")
				}
				if cmd, ok := afterPart[i]; ok {
					b.WriteString("\n" + cmd + "\n\n")
				}
			}
			return &Message{Text: b.String(), HTML: "<div>see text</div>"}
		}},
		{"HTML blockquotes (Gmail)", func(r *templates.Rendered) *Message {
			var b strings.Builder
			b.WriteString(`<div dir="ltr"><br></div><div class="gmail_quote"><div class="gmail_attr">On Mon, Forum wrote:<br></div>`)
			for i, p := range splitItems(t, r.HTML) {
				b.WriteString(`<blockquote class="gmail_quote">` + p + "</blockquote>")
				if cmd, ok := afterPart[i]; ok {
					b.WriteString("<div>" + cmd + "</div>")
				}
			}
			b.WriteString("</div>")
			return &Message{HTML: b.String(), HTMLOnly: true}
		}},
		{"HTML blockquotes (Apple Mail)", func(r *templates.Rendered) *Message {
			var b strings.Builder
			b.WriteString(`<div><br></div><div>On 2 Mar 2026, at 10:00, Forum wrote:</div>`)
			for i, p := range splitItems(t, r.HTML) {
				b.WriteString(`<blockquote type="cite">` + p + "</blockquote>")
				if cmd, ok := afterPart[i]; ok {
					b.WriteString("<div>" + cmd + "<br></div>")
				}
			}
			return &Message{HTML: b.String(), HTMLOnly: true}
		}},
	}
	for pad := 0; pad <= 24; pad++ {
		r := renderHostile(t, pad)
		for _, st := range styles {
			t.Run(fmt.Sprintf("%s/pad %d", st.name, pad), func(t *testing.T) {
				reply := ExtractReply(st.reply(r))
				cmds, errs := ParseCommands(reply)
				want := "approve 1 (#1001)\nreply 3 text=\"thanks\"\n"
				if got := FormatCommands(cmds, errs); got != want {
					t.Errorf("commands:\n%s--- want:\n%s--- own text:\n%s", got, want, reply.Text)
				}
			})
		}
	}
}

// TestQuotedItemHeaderShape checks which quoted lines count as item
// headers: only the digest's exact shape at the start of the line, never
// a barred or indented line.
func TestQuotedItemHeaderShape(t *testing.T) {
	tests := []struct {
		quoted   string
		item     int
		itemID   int64
		why      string
		feedback bool
	}{
		{"> 3. #1042 — Title", 3, 1042, "text part", false},
		{">3. #1042 — Title", 3, 1042, "no space after the marker", false},
		{"> > 3. #1042 — Title", 3, 1042, "quoted twice", false},
		{"> 3 #1042 — Title", 3, 1042, "the HTML part's heading as text", false},
		{">    3. #1042 — Title", 0, 0, "indented: a wrapped line of data in an old digest", false},
		{">              3. #1042 — Title", 0, 0, "indented deeper", false},
		{">    | 3. #1042 — Title", 0, 0, "barred", false},
		{"> | 3 #1042 — Title", 0, 0, "barred, HTML shape", false},
		{"> 03. #1042 — Title", 0, 0, "leading zero", false},
		{"> 3. #1042 - Title", 0, 0, "not the digest's dash", false},
		{"> 3. #1042 —Title", 0, 0, "no space after the dash", false},
		{"> 3.#1042 — Title", 0, 0, "no space before the id", false},
		{"> 3. #0 — Title", 0, 0, "id zero", false},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			r := ExtractReply(&Message{Text: "> 1. #7 — First\n" + tt.quoted + "\n\napprove\n"})
			if len(r.Lines) != 1 {
				t.Fatalf("own lines %+v", r.Lines)
			}
			l := r.Lines[0]
			wantItem, wantID := tt.item, tt.itemID
			if wantItem == 0 {
				wantItem, wantID = 1, 7 // still under item 1
			}
			if l.Item != wantItem || l.ItemID != wantID {
				t.Errorf("under %q: item %d #%d, want %d #%d", tt.quoted, l.Item, l.ItemID, wantItem, wantID)
			}
		})
	}
	// A barred rule or section heading does not end the item either.
	for _, q := range []string{">    | =====================", "> | HOW TO REPLY", "> | Feedback for the moderators", "> | 2. From Eve <e@x.example>"} {
		r := ExtractReply(&Message{Text: "> 1. #7 — First\n" + q + "\n\napprove\n"})
		if len(r.Lines) != 1 || r.Lines[0].Item != 1 || r.Lines[0].ItemID != 7 {
			t.Errorf("under %q: %+v", q, r.Lines)
		}
	}
}
