package mail

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testSite = SiteAddress{Address: "moderator@forum.example"}

// summarize is one line of expect.golden: what Parse and Classify made of
// one message.
func summarize(name string, m *Message, err error) string {
	var b strings.Builder
	b.WriteString(name)
	if err != nil {
		fmt.Fprintf(&b, "\terror=%q", err.Error())
		return b.String()
	}
	c := Classify(m, testSite)
	fmt.Fprintf(&b, "\tkind=%s reason=%q", c.Kind, c.Reason)
	if c.PostVia != ViaNone || c.PostSlug != "" {
		fmt.Fprintf(&b, " post=%s via=%s", c.PostSlug, c.PostVia)
	}
	if c.AuthorName != "" {
		fmt.Fprintf(&b, " author=%q", c.AuthorName)
	}
	if c.ParentID != "" {
		fmt.Fprintf(&b, " parent=%q", c.ParentID)
	}
	if c.DigestToken != "" {
		fmt.Fprintf(&b, " token=%s", c.DigestToken)
	}
	if m.From != nil {
		fmt.Fprintf(&b, " from=%q", m.From.Name+" <"+m.From.Addr+">")
	}
	text := []rune(m.Text)
	if len(text) > 40 {
		fmt.Fprintf(&b, " text=%q…", string(text[:40]))
	} else {
		fmt.Fprintf(&b, " text=%q", string(text))
	}
	if m.HTMLOnly {
		b.WriteString(" html-only")
	}
	for _, a := range m.Attachments {
		fmt.Fprintf(&b, " attachment=%q:%s:%d", a.Filename, a.ContentType, a.Size)
	}
	if len(m.Warnings) > 0 {
		fmt.Fprintf(&b, " warnings=%q", m.Warnings)
	}
	return b.String()
}

// TestInboundGolden parses and classifies every message in
// testdata/inbound and compares with expect.golden (-update rewrites it).
func TestInboundGolden(t *testing.T) {
	var lines []string
	for _, f := range inboundFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(bytes.NewReader(raw), nil)
		lines = append(lines, summarize(filepath.Base(f), m, err))
	}
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "inbound", "expect.golden")
	if updating() {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d:\n got: %s\nwant: %s", i+1, g, w)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	from := &Address{Name: "Jane Doe", Addr: "jane@example.org"}
	msg := func(from *Address, header map[string]string, edit func(*Message)) *Message {
		m := &Message{From: from, Header: make(map[string][]string), To: []Address{{Addr: "moderator@forum.example"}}}
		for k, v := range header {
			m.Header[canonicalKey(k)] = []string{v}
		}
		if v := m.Get("Subject"); v != "" {
			m.Subject = v
		}
		if edit != nil {
			edit(m)
		}
		return m
	}
	to := func(addrs ...string) func(*Message) {
		return func(m *Message) {
			m.To = nil
			for _, a := range addrs {
				m.To = append(m.To, Address{Addr: a})
			}
		}
	}
	tests := []struct {
		name string
		m    *Message
		want Classification
	}{
		{"nil", nil, Classification{Kind: KindMalformed, Reason: "no message"}},

		// Automatic mail, strong signals.
		{"auto-submitted", msg(from, map[string]string{"Auto-Submitted": "Auto-Replied; owner=x"}, nil),
			Classification{Kind: KindAuto, Reason: "Auto-Submitted: auto-replied"}},
		{"auto-submitted no", msg(from, map[string]string{"Auto-Submitted": "no"}, nil),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"precedence bulk", msg(from, map[string]string{"Precedence": "Bulk"}, nil),
			Classification{Kind: KindAuto, Reason: "Precedence: bulk"}},
		{"precedence junk", msg(from, map[string]string{"Precedence": "junk"}, nil),
			Classification{Kind: KindAuto, Reason: "Precedence: junk"}},
		{"precedence first-class", msg(from, map[string]string{"Precedence": "first-class"}, nil),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"list-id", msg(from, map[string]string{"List-Id": "<x.example>"}, nil),
			Classification{Kind: KindAuto, Reason: "list mail (List-Id)"}},
		{"list-unsubscribe", msg(from, map[string]string{"List-Unsubscribe": "<mailto:u@x>"}, nil),
			Classification{Kind: KindAuto, Reason: "list mail (List-Unsubscribe)"}},
		{"delivery status", msg(from, nil, func(m *Message) { m.ContentType, m.ReportType = "multipart/report", "delivery-status" }),
			Classification{Kind: KindAuto, Reason: "delivery status report"}},
		{"mdn", msg(from, nil, func(m *Message) { m.ContentType, m.ReportType = "multipart/report", "disposition-notification" }),
			Classification{Kind: KindAuto, Reason: "disposition notification (read receipt)"}},
		{"mailer-daemon", msg(&Address{Addr: "Mailer-Daemon@mx.example"}, nil, nil),
			Classification{Kind: KindAuto, Reason: "mail from mailer-daemon"}},
		{"postmaster", msg(&Address{Addr: "POSTMASTER@mx.example"}, nil, nil),
			Classification{Kind: KindAuto, Reason: "mail from postmaster"}},
		{"no from, null return path", msg(nil, map[string]string{"Return-Path": "<>"}, nil),
			Classification{Kind: KindAuto, Reason: "no From and null Return-Path"}},
		{"x-autoreply", msg(from, map[string]string{"X-Autoreply": "yes"}, nil),
			Classification{Kind: KindAuto, Reason: "X-Autoreply: yes"}},
		{"x-autorespond", msg(from, map[string]string{"X-Autorespond": "1"}, nil),
			Classification{Kind: KindAuto, Reason: "X-Autorespond: 1"}},
		{"x-failed-recipients", msg(from, map[string]string{"X-Failed-Recipients": "a@b"}, nil),
			Classification{Kind: KindAuto, Reason: "delivery failure (X-Failed-Recipients)"}},
		{"auto beats digest reply", msg(from, map[string]string{"Auto-Submitted": "auto-replied"}, to("moderator+d-Ab3dEf9hXk2mN4pQ@forum.example")),
			Classification{Kind: KindAuto, Reason: "Auto-Submitted: auto-replied"}},

		// Weak signals need a second one.
		{"oof subject alone", msg(from, map[string]string{"Subject": "Out of Office: back Monday"}, nil),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"suppress alone", msg(from, map[string]string{"X-Auto-Response-Suppress": "All"}, nil),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"oof subject and suppress", msg(from, map[string]string{"Subject": "Automatic reply: hi", "X-Auto-Response-Suppress": "DR, OOF"}, nil),
			Classification{Kind: KindAuto, Reason: `auto-reply (X-Auto-Response-Suppress, subject "Automatic reply")`}},
		{"auto subject and null return path", msg(from, map[string]string{"Subject": "AUTO: away", "Return-Path": "<>"}, nil),
			Classification{Kind: KindAuto, Reason: `auto-reply (subject "AUTO", null Return-Path)`}},

		// Digest replies.
		{"digest reply", msg(from, nil, to("Moderator+d-Ab3dEf9hXk2mN4pQ@Forum.Example")),
			Classification{Kind: KindReply, Reason: "digest reply", DigestToken: "Ab3dEf9hXk2mN4pQ"}},
		{"digest reply in cc", msg(from, nil, func(m *Message) { m.Cc = []Address{{Addr: "moderator+d-12345678@forum.example"}} }),
			Classification{Kind: KindReply, Reason: "digest reply", DigestToken: "12345678"}},
		{"digest reply by delivered-to", msg(from, nil, func(m *Message) { m.DeliveredTo = []string{"moderator+d-abcdefgh@forum.example"} }),
			Classification{Kind: KindReply, Reason: "digest reply", DigestToken: "abcdefgh"}},
		{"digest reply without from", msg(nil, nil, to("moderator+d-abcdefgh@forum.example")),
			Classification{Kind: KindReply, Reason: "digest reply", DigestToken: "abcdefgh"}},
		{"token too short", msg(from, nil, to("moderator+d-abc@forum.example")),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"token with symbols", msg(from, nil, to("moderator+d-abcd_efgh@forum.example")),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"token at another domain", msg(from, nil, to("moderator+d-abcdefgh@elsewhere.example")),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"token for another local part", msg(from, nil, to("admin+d-abcdefgh@forum.example")),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},

		// Revisions: moderator+r-<token>@, the token lower-cased.
		{"revision", msg(from, nil, to("Moderator+r-Ab3dEf9hXk2mN4pQ@Forum.Example")),
			Classification{Kind: KindRevision, Reason: "mail to a comment's revision address", RevisionToken: "ab3def9hxk2mn4pq"}},
		{"revision without from", msg(nil, nil, to("moderator+r-abcdefgh@forum.example")),
			Classification{Kind: KindRevision, Reason: "mail to a comment's revision address", RevisionToken: "abcdefgh"}},
		{"revision token too short", msg(from, nil, to("moderator+r-abc@forum.example")),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"r- is no post", msg(from, map[string]string{"X-Comment-Post": "r-abc"}, nil),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		// Return paths: a report or reply about one message modbot sent.
		{"report to a return path", msg(&Address{Addr: "MAILER-DAEMON@mx.example"}, nil, to("Moderator+b-Abcdefgh12345678@forum.example")),
			Classification{Kind: KindAuto, Reason: "mail from mailer-daemon", BounceToken: "abcdefgh12345678"}},
		{"person writing to a return path", msg(from, nil, to("moderator+b-abcdefgh12345678@forum.example")),
			Classification{Kind: KindAuto, Reason: "mail to a return path", BounceToken: "abcdefgh12345678"}},
		{"b- is never a post", msg(from, map[string]string{"X-Comment-Post": "b-abc"}, to("moderator+b-x@forum.example")),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},

		// No usable sender.
		{"no from", msg(nil, nil, nil), Classification{Kind: KindMalformed, Reason: "no From address"}},
		{"from without address", msg(&Address{Name: "Eve"}, nil, nil), Classification{Kind: KindMalformed, Reason: "no From address"}},

		// Submissions.
		{"plus slug", msg(from, nil, to("moderator+UK-Meta-Encryption@forum.example")),
			Classification{Kind: KindSubmission, Reason: "post named by plus address", PostSlug: "uk-meta-encryption", PostVia: ViaPlus, AuthorName: "Jane Doe"}},
		{"plus slug beats header", msg(from, map[string]string{"X-Comment-Post": "other"}, to("moderator+first@forum.example")),
			Classification{Kind: KindSubmission, Reason: "post named by plus address", PostSlug: "first", PostVia: ViaPlus, AuthorName: "Jane Doe"}},
		{"plus slug too long", msg(from, nil, to("moderator+"+strings.Repeat("a", 65)+"@forum.example")),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"header slug", msg(from, map[string]string{"X-Comment-Post": " Post-1 ", "X-Comment-Name": "  Sam   S.  ", "X-Comment-Parent": "#1042"}, nil),
			Classification{Kind: KindSubmission, Reason: "post named by X-Comment-Post", PostSlug: "post-1", PostVia: ViaHeader, AuthorName: "Sam S.", ParentID: "#1042"}},
		{"header slug invalid", msg(from, map[string]string{"X-Comment-Post": "../etc", "Subject": "[ok] x"}, nil),
			Classification{Kind: KindSubmission, Reason: "post named in subject", PostSlug: "ok", PostVia: ViaSubject, AuthorName: "Jane Doe"}},
		{"subject slug", msg(from, map[string]string{"Subject": "  [UK-Meta-Encryption] my view"}, nil),
			Classification{Kind: KindSubmission, Reason: "post named in subject", PostSlug: "uk-meta-encryption", PostVia: ViaSubject, AuthorName: "Jane Doe"}},
		{"subject slug after Re", msg(from, map[string]string{"Subject": "Re: AW: [post] reply"}, nil),
			Classification{Kind: KindSubmission, Reason: "post named in subject", PostSlug: "post", PostVia: ViaSubject, AuthorName: "Jane Doe"}},
		{"subject slug not at start", msg(from, map[string]string{"Subject": "About [post]"}, nil),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
		{"author from local part", msg(&Address{Addr: "jd@example.org"}, nil, nil),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "jd"}},

		// Replies to modbot's own mail.
		{"reply to notice", msg(from, nil, func(m *Message) { m.InReplyTo = []string{"notice.1042.abc@modbot.forum.example"} }),
			Classification{Kind: KindFeedback, Reason: "reply to a modbot message"}},
		{"reference to notice", msg(from, nil, func(m *Message) { m.References = []string{"x@y", "notice.1.abc@MODBOT.forum.example"} }),
			Classification{Kind: KindFeedback, Reason: "reply to a modbot message"}},
		{"reply to notice naming a post", msg(from, nil, func(m *Message) {
			m.InReplyTo = []string{"notice.1042.abc@modbot.forum.example"}
			to("moderator+post@forum.example")(m)
		}), Classification{Kind: KindSubmission, Reason: "post named by plus address", PostSlug: "post", PostVia: ViaPlus, AuthorName: "Jane Doe"}},
		{"reply to someone else", msg(from, nil, func(m *Message) { m.InReplyTo = []string{"abc@modbot-like.example"} }),
			Classification{Kind: KindSubmission, Reason: "no post named", AuthorName: "Jane Doe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.m, testSite); got != tt.want {
				t.Errorf("Classify =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestClassifyWithoutSiteAddress(t *testing.T) {
	m := &Message{From: &Address{Addr: "a@example.org"}, To: []Address{{Addr: "moderator+post@forum.example"}}, Subject: "[other] hi"}
	got := Classify(m, SiteAddress{})
	if got.PostSlug != "other" || got.PostVia != ViaSubject {
		t.Errorf("Classify = %+v, want the subject's slug when no plus address can be matched", got)
	}
}

func TestMessageIDs(t *testing.T) {
	id := NewMessageID("notice.1042", "Forum.Example")
	if !strings.HasPrefix(id, "notice.1042.") || !strings.HasSuffix(id, "@modbot.forum.example") || strings.ContainsAny(id, "<> ") {
		t.Errorf("NewMessageID = %q", id)
	}
	if id2 := NewMessageID("notice.1042", "forum.example"); id2 == id {
		t.Errorf("NewMessageID returned %q twice", id)
	}
	if id := NewMessageID("we ird<kind>", ""); !strings.HasPrefix(id, "we-ird-kind-.") || !strings.HasSuffix(id, "@modbot.invalid") {
		t.Errorf("NewMessageID with odd input = %q", id)
	}
	tests := []struct {
		id, domain string
		want       bool
	}{
		{id, "forum.example", true},
		{"<" + id + ">", "forum.example", true},
		{id, "", true},
		{id, "other.example", false},
		{"x@modbot.", "", false},
		{"@modbot.forum.example", "", false},
		{"x@modbotforum.example", "", false},
		{"x@mail.modbot.forum.example", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := IsOwnMessageID(tt.id, tt.domain); got != tt.want {
			t.Errorf("IsOwnMessageID(%q, %q) = %v, want %v", tt.id, tt.domain, got, tt.want)
		}
	}
}
