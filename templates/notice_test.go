package templates

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
)

const (
	seedSlug  = "uk-meta-encryption"
	seedTitle = "UK accuses Meta of empowering child sexual abusers with encryption rollout"
	rule11    = "Please do not post in all Caps."
	rule12    = "If you wish to link to a serious and relevant media article, legitimate advocacy group or other pertinent web site / document, please provide the full link. No abbreviated / obfuscated links. Posts that include a URL may take considerably longer to be approved."
)

// testNotice returns a notice of kind as the queue would fill it in,
// with the seed's post and rules.
func testNotice(kind string) *Notice {
	body := "What they really mean is the power for the government to snoop on what is being said.\n\nTHEY WILL NEVER STOP SPYING ON US. NEVER!\n\nSee bit.ly/3xyz."
	n := &Notice{
		Kind:       kind,
		SiteName:   "Example Forum",
		BaseURL:    "http://127.0.0.1:8080",
		AuthorName: "Concerned Citizen",
		PostTitle:  seedTitle,
		PostURL:    "http://127.0.0.1:8080/posts/" + seedSlug,
		CommentID:  1042,
		Body:       body,
		Received:   time.Date(2023, 12, 7, 14, 5, 0, 0, time.UTC),
	}
	switch kind {
	case NoticeReceived:
		n.ReviseAddress = testReviseAddress
		n.ExpectedWait = "about 6 hours"
		n.Hits = []Hit{
			hit(body, "THEY WILL NEVER STOP SPYING ON US. NEVER!", 11, "Please do not post in all Caps", "flag", "a passage of 30 letters is 100% capitals"),
			hit(body, "bit.ly/3xyz", 12, "Full links only, no abbreviated / obfuscated links", "flag", "shortened link (bit.ly) hides where it goes; the rule asks for the full link"),
		}
	case NoticeApproved:
		n.Body = "What they really mean is the power for the government to snoop on what is being said.\n\nThey will never stop spying on us. Never!"
		n.Edited = true
		n.CommentURL = "http://127.0.0.1:8080/posts/" + seedSlug + "#c1042"
	case NoticeRejected:
		n.Rules = []Rule{
			{Number: 11, Title: "Please do not post in all Caps", Text: rule11},
			{Number: 12, Title: "Full links only", Text: rule12},
		}
		n.Reason = "Please write the link in full and without the capitals; we would be glad to publish it then."
	case NoticeRevised, NoticeNotRevised:
		n.ReviseAddress = testReviseAddress
	case NoticeReply:
		n.Subject = "Why was my comment not published?"
		n.ReplyText = "Your comment #1042 was held because it used a shortened link.\nPlease send it again with the full link and we will look at it."
		n.QuotedText = "I posted yesterday and it is still not there.\n\nrule 12?"
		n.Received = time.Date(2023, 12, 7, 11, 0, 0, 0, time.UTC)
	}
	return n
}

const testReviseAddress = "moderator+r-mfrggzdfmztwq2lknnwg23tpobyxe43u@forum.example"

var noticeKinds = []string{NoticeReceived, NoticeApproved, NoticeRejected, NoticeReply, NoticeRevised, NoticeNotRevised}

func TestNoticeGolden(t *testing.T) {
	s := mustLoad(t, "")
	for _, kind := range noticeKinds {
		t.Run(kind, func(t *testing.T) {
			r, err := s.Notice(testNotice(kind))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "notice_"+kind+".subject.golden", r.Subject+"\n")
			golden(t, "notice_"+kind+".txt.golden", r.Text)
			golden(t, "notice_"+kind+".html.golden", r.HTML)
		})
	}
}

// TestNoticeSays checks what each kind must tell the commenter, in both
// parts, and what it must leave out when the data is absent.
func TestNoticeSays(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		edit    func(n *Notice)
		subject string
		want    []string // in the text part and in the HTML part's text
		not     []string // in neither
	}{
		{
			name: "received", kind: NoticeReceived, edit: func(*Notice) {},
			subject: "Your comment on “" + seedTitle + "” was received",
			want: []string{
				"waiting for one of the volunteer moderators",
				"You can expect a decision in about 6 hours",
				`rule 11 (Please do not post in all Caps): "THEY WILL NEVER STOP SPYING ON US. NEVER!" — a passage of 30 letters is 100% capitals`,
				"not a decision",
				"reply to this mail: your reply reaches the moderators and does not change your comment",
				"send the corrected comment to the revision address",
				"write the whole new text in a new mail from the address you used for it, to",
				testReviseAddress,
				"#1042",
				"See bit.ly/3xyz.",
			},
		},
		{
			name: "received, no revision address", kind: NoticeReceived, edit: func(n *Notice) { n.ReviseAddress = "" },
			subject: "Your comment on “" + seedTitle + "” was received",
			not:     []string{"revision address", "new mail", "moderator+r-"},
		},
		{
			name: "revised", kind: NoticeRevised, edit: func(*Notice) {},
			subject: "Your comment #1042 on “" + seedTitle + "” was changed",
			want:    []string{"Your comment #1042 on \"" + seedTitle + "\" now has your new text; moderators will see it", testReviseAddress},
			not:     []string{"Concerned Citizen", "snoop"},
		},
		{
			name: "not revised", kind: NoticeNotRevised, edit: func(*Notice) {},
			subject: "Your message about comment #1042 reached the moderators",
			want: []string{"Your message reached the moderators as feedback; your comment #1042 on \"" + seedTitle + "\" was not changed",
				"To change your comment while it waits, write the whole new text in a new mail from the address you used for it, to", testReviseAddress},
			not: []string{"Concerned Citizen", "snoop", "already decided"},
		},
		{
			name: "not revised, decided", kind: NoticeNotRevised, edit: func(n *Notice) { n.ReviseAddress = "" },
			subject: "Your message about comment #1042 reached the moderators",
			want:    []string{"was not changed", "already decided on it"},
			not:     []string{"moderator+r-", "write the whole new text"},
		},
		{
			name: "received without hits or wait", kind: NoticeReceived,
			edit:    func(n *Notice) { n.Hits, n.ExpectedWait, n.PostTitle, n.PostURL = nil, "", "", "" },
			subject: "Your comment to Example Forum was received",
			want:    []string{"We will write to you again when a moderator has decided."},
			not:     []string{"automatic checks", "You can expect", "“”"},
		},
		{
			name: "approved, edited", kind: NoticeApproved, edit: func(*Notice) {},
			subject: "Your comment on “" + seedTitle + "” was published",
			want: []string{
				"has been published",
				"http://127.0.0.1:8080/posts/uk-meta-encryption#c1042",
				"A moderator edited your comment",
				"They will never stop spying on us. Never!",
			},
		},
		{
			name: "approved as sent, no comment link", kind: NoticeApproved,
			edit:    func(n *Notice) { n.Edited = false; n.CommentURL = "" },
			subject: "Your comment on “" + seedTitle + "” was published",
			want:    []string{"http://127.0.0.1:8080/posts/uk-meta-encryption"},
			not:     []string{"edited", "#c1042"},
		},
		{
			name: "rejected", kind: NoticeRejected, edit: func(*Notice) {},
			subject: "Your comment on “" + seedTitle + "” was not published",
			want: []string{
				"was not published",
				"these rules of the site",
				rule11,
				rule12, // the full text, not the title
				"we would be glad to publish it then",
				"reply to this mail: your reply reaches the moderators",
				"THEY WILL NEVER STOP SPYING ON US. NEVER!", // the comment, to rework
			},
		},
		{
			name: "rejected, one rule by title only, no reason", kind: NoticeRejected,
			edit: func(n *Notice) {
				n.Rules = []Rule{{Number: 3, Title: "Swear words should be starred out"}}
				n.Reason = ""
			},
			subject: "Your comment on “" + seedTitle + "” was not published",
			want:    []string{"this rule of the site", "Swear words should be starred out"},
			not:     []string{"note:", rule12},
		},
		{
			name: "reply", kind: NoticeReply, edit: func(*Notice) {},
			subject: "Re: Why was my comment not published?",
			want: []string{
				"Your comment #1042 was held because it used a shortened link.",
				"The moderators of Example Forum",
				"you wrote:",
				"I posted yesterday and it is still not there.",
			},
		},
		{
			name: "reply to a reply", kind: NoticeReply,
			edit:    func(n *Notice) { n.Subject = "RE: Re: re:Why?" },
			subject: "Re: Why?",
		},
		{
			name: "reply without a subject", kind: NoticeReply,
			edit:    func(n *Notice) { n.Subject = "  " },
			subject: "Re: your message to the moderators of Example Forum",
		},
	}
	s := mustLoad(t, "")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := testNotice(tc.kind)
			tc.edit(n)
			r, err := s.Notice(n)
			if err != nil {
				t.Fatal(err)
			}
			if r.Subject != tc.subject {
				t.Errorf("subject %q, want %q", r.Subject, tc.subject)
			}
			// The HTML part uses typographic quotes where the text part
			// may use straight ones.
			straight := strings.NewReplacer("“", `"`, "”", `"`)
			text := straight.Replace(unwrapText(r.Text))
			htmlText := straight.Replace(htmlText(t, r.HTML))
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("text part lacks %q", w)
				}
				if !strings.Contains(htmlText, w) {
					t.Errorf("HTML part lacks %q", w)
				}
			}
			for _, w := range tc.not {
				w = straight.Replace(w)
				if strings.Contains(text, w) || strings.Contains(htmlText, w) {
					t.Errorf("notice says %q", w)
				}
			}
			checkWidth(t, r.Text)
		})
	}
}

// TestNoticeHostile feeds markup, line breaks and ampersands through
// every field a commenter or moderator controls.
func TestNoticeHostile(t *testing.T) {
	s := mustLoad(t, "")
	for _, kind := range noticeKinds {
		t.Run(kind, func(t *testing.T) {
			n := testNotice(kind)
			n.AuthorName = "Jane <script>alert(1)</script>\r\nBcc: victim@example.com"
			n.PostTitle = "Ruling <b>today</b>\r\nX-Evil: 1"
			n.Subject = "Help\r\nBcc: victim@example.com <img src=x>"
			n.Body = "<img src=x onerror=alert(1)> & more\r\n<iframe>"
			n.Rules = []Rule{{Number: 7, Title: "Off topic", Text: "Stay on topic & keep it <civil>"}}
			n.Reason = "<b>no</b>"
			n.ReplyText = "<script>x</script>"
			n.QuotedText = "<style>body{}</style>"
			r, err := s.Notice(n)
			if err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(r.Subject, "\r\n") {
				t.Errorf("subject has a line break: %q", r.Subject)
			}
			checkNoElements(t, r.HTML)
			if kind == NoticeRejected {
				if !strings.Contains(r.HTML, "Stay on topic &amp; keep it &lt;civil&gt;") {
					t.Error("rule text not escaped in the HTML part")
				}
				if !strings.Contains(r.Text, "Stay on topic & keep it <civil>") {
					t.Error("rule text escaped or missing in the text part")
				}
			}
			if kind == NoticeRevised || kind == NoticeNotRevised {
				// These echo nothing of the commenter's, not even a name.
				if strings.Contains(r.Text+r.HTML, "Jane") || strings.Contains(r.Text+r.HTML, "img") {
					t.Error("the notice echoes the commenter's data")
				}
				return
			}
			if !strings.Contains(htmlText(t, r.HTML), "Hello Jane <script>alert(1)</script> Bcc: victim@example.com,") {
				t.Error("display name not shown as one line of text in the HTML part")
			}
			if !strings.Contains(r.Text, "Hello Jane <script>alert(1)</script> Bcc: victim@example.com,") {
				t.Error("display name not shown on one line in the text part")
			}
		})
	}
}

var addressRE = regexp.MustCompile(`[^\s<>"'(),;:]+@[^\s<>"'(),;:]+`)

// TestNoticeNoModeratorAddress: commenters hear from "the moderators"
// only; no address but the comment's own revision address appears in a
// notice (the data has no other, so any address would come from a
// template).
func TestNoticeNoModeratorAddress(t *testing.T) {
	s := mustLoad(t, "")
	for _, kind := range noticeKinds {
		r, err := s.Notice(testNotice(kind))
		if err != nil {
			t.Fatal(err)
		}
		for part, text := range map[string]string{"subject": r.Subject, "text": r.Text, "html": r.HTML} {
			text = strings.ReplaceAll(text, testReviseAddress, "")
			text = strings.ReplaceAll(text, strings.ReplaceAll(testReviseAddress, "+", "&#43;"), "")
			if m := addressRE.FindString(text); m != "" {
				t.Errorf("%s notice, %s part: address %q", kind, part, m)
			}
		}
		if !strings.Contains(r.Text, "The moderators of Example Forum") {
			t.Errorf("%s notice not signed by the moderators", kind)
		}
	}
}

func TestNoticeErrors(t *testing.T) {
	s := mustLoad(t, "")
	if _, err := s.Notice(nil); err == nil {
		t.Error("nil notice rendered")
	}
	for _, kind := range []string{"", "published", "../digest", "Received"} {
		if _, err := s.Notice(&Notice{Kind: kind}); err == nil || !strings.Contains(err.Error(), "unknown notice kind") {
			t.Errorf("kind %q: err = %v", kind, err)
		}
	}
}

func TestReSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Hello", "Re: Hello"},
		{"Re: Hello", "Re: Hello"},
		{"RE:re: Hello", "Re: Hello"},
		{"Re:", ""},
		{"Reply needed", "Re: Reply needed"},
		{"a\r\nBcc: b", "Re: a Bcc: b"},
	}
	for _, tc := range tests {
		if got := reSubject(tc.in); got != tc.want {
			t.Errorf("reSubject(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// unwrapText joins the wrapped lines of a text part and drops the
// quote bars, so a test can look for a sentence wherever it was broken.
func unwrapText(s string) string {
	var words []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		l = strings.TrimPrefix(l, "| ")
		l = strings.TrimPrefix(l, "> ")
		words = append(words, strings.Fields(l)...)
	}
	return strings.Join(words, " ")
}

// htmlText is the text a reader sees in an HTML part, white space
// collapsed, with <br> as a space.
func htmlText(t *testing.T, s string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && (n.Data == "br" || n.Data == "p" || n.Data == "li" || n.Data == "title"):
			b.WriteString(" ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkNoElements fails when an HTML part holds an element that only
// hostile data could have put there.
func checkNoElements(t *testing.T, s string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "b", "img", "iframe", "style", "civil":
				t.Errorf("element <%s> in the HTML part", n.Data)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") || a.Key == "src" {
					t.Errorf("attribute %s on <%s>", a.Key, n.Data)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

// checkWidth fails on a text line over 76 columns, unless it holds a word
// that cannot be broken.
func checkWidth(t *testing.T, text string) {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(line); n > 76 && !hasLongWord(line, 40) {
			t.Errorf("line %d has %d columns: %q", i+1, n, line)
		}
	}
}
