package mail

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func replyFiles(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "replies", "*.eml"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(names) == 0 {
		tb.Fatal("no replies in testdata/replies")
	}
	return names
}

func parseReplyFile(tb testing.TB, name string) *Message {
	tb.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := Parse(bytes.NewReader(raw), nil)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return m
}

// TestReplyGolden reads each reply in testdata/replies, written in the
// style of a mail program and quoting the golden digest, and compares the
// commands found with NAME.golden (-update rewrites them).
func TestReplyGolden(t *testing.T) {
	for _, name := range replyFiles(t) {
		base := strings.TrimSuffix(filepath.Base(name), ".eml")
		t.Run(base, func(t *testing.T) {
			r := ExtractReply(parseReplyFile(t, name))
			got := FormatCommands(ParseCommands(r))
			golden := strings.TrimSuffix(name, ".eml") + ".golden"
			if updating() {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("commands differ from %s\n--- got:\n%s--- want:\n%s--- own text:\n%s", golden, got, want, r.Text)
			}
		})
	}
}

// digestExamples are the commands the digest's own text shows; they must
// never be read from a quoted digest.
var digestExamples = regexp.MustCompile(`(?m)^(approve 1 3|approve 1-3, 5|approve all|reject 2 rule 11|reject 4: off topic|` +
	`reject 2 rule 3 rule 12: note|edit 5: <replacement text to publish>|hold 6|spam 7|undo|undo #1042|reply 8: <text>)\b`)

// TestReplyNeverReadsTheDigest checks what every reply in testdata must
// satisfy whatever its golden says: no line of the own text is a line of
// the digest, in particular none of the grammar's example commands.
func TestReplyNeverReadsTheDigest(t *testing.T) {
	digestLines := map[string]bool{}
	for _, f := range []string{"digest.txt.golden"} {
		b, err := os.ReadFile(filepath.Join("..", "templates", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); len(l) > 12 {
				digestLines[l] = true
			}
		}
	}
	h, err := os.ReadFile(filepath.Join("..", "templates", "testdata", "digest.html.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(htmlToText(string(h)), "\n") {
		if l = strings.TrimSpace(l); len(l) > 12 {
			digestLines[l] = true
		}
	}
	for _, name := range replyFiles(t) {
		r := ExtractReply(parseReplyFile(t, name))
		for _, l := range r.Lines {
			s := strings.TrimSpace(l.Text)
			if digestLines[s] || digestExamples.MatchString(s) && strings.Contains(s, "  ") {
				t.Errorf("%s: own text holds the digest's line %q", filepath.Base(name), s)
			}
		}
	}
}

func replyTextMsg(s string) *Message { return &Message{Text: s} }

func replyOwnText(m *Message) string { return ExtractReply(m).Text }

func TestExtractReplyText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"nothing quoted", "approve 1\nhold 2\n", "approve 1\nhold 2"},
		{"quote depths", "approve 1\n> a\n>> b\n> > c\n>>> > d\n  > e\n", "approve 1"},
		{"quote between own lines", "approve 1\n> quoted\nhold 2", "approve 1\n\nhold 2"},
		{"gmail", "approve 1\n\nOn Thu, Dec 7, 2023 at 4:00 PM Example Forum <\nmoderator+d-x@forum.example> wrote:\n\n> approve all\n", "approve 1"},
		{"attribution one line", "approve 1\nOn 7 Dec 2023, at 16:00, Forum <m@forum.example> wrote:\n> approve all", "approve 1"},
		{"german", "approve 1\n\nAm 07.12.2023 um 16:00 schrieb Forum <m@forum.example>:\n> approve all", "approve 1"},
		{"german gmail", "approve 1\n\nForum <m@forum.example> schrieb am Do., 7. Dez. 2023,\n16:00:\n\n> approve all", "approve 1"},
		{"french", "approve 1\n\nLe jeu. 7 déc. 2023 à 16:00, Forum <m@forum.example> a écrit :\n> approve all", "approve 1"},
		{"french nbsp", "approve 1\n\nLe 07/12/2023 à 16:00, Forum a écrit\u00a0:\n> approve all", "approve 1"},
		{"spanish", "approve 1\n\nEl jue, 7 dic 2023 a las 16:00, Forum (<m@forum.example>) escribió:\n> approve all", "approve 1"},
		{"dutch", "approve 1\n\nOp do 7 dec 2023 om 16:00 schreef Forum <m@forum.example>:\n> approve all", "approve 1"},
		{"dutch apple", "approve 1\n\nOp 7 dec. 2023 om 16:00 heeft Forum <m@forum.example> het volgende geschreven:\n> approve all", "approve 1"},
		{"italian", "approve 1\n\nIl giorno gio 7 dic 2023 alle ore 16:00 Forum <m@forum.example> ha scritto:\n> approve all", "approve 1"},
		{"portuguese", "approve 1\n\nEm qui., 7 de dez. de 2023 às 16:00, Forum <m@forum.example> escreveu:\n> approve all", "approve 1"},
		{"attribution over three lines", "approve 1\nLe 4 janv. 2016 19:03, \"Forum\"\n<m@forum.example>\na écrit :\n\n> approve all", "approve 1"},
		{"attribution without verb above quote", "approve 1\n\n26.06.2014, 14:41, \"Forum\" <m@forum.example>:\n> approve all", "approve 1"},
		{"attribution above unmarked quote", "approve 1\n\nOn Thu, Dec 7, 2023 at 4:08 PM +0100, \"Forum\" <m@forum.example> wrote:\n\napprove all\n", "approve 1"},
		{"a sentence is no attribution", "approve 1\nOn Monday I wrote: this is fine\n> approve all\nhold 2", "approve 1\nOn Monday I wrote: this is fine\n\nhold 2"},
		{"command is no attribution", "reject 2: see what 10:30 wrote:\n> approve all", "reject 2: see what 10:30 wrote:"},
		{"outlook header", "approve 1\n\nFrom: Forum <m@forum.example>\nSent: Thursday, December 7, 2023 4:00 PM\nTo: Alice\nSubject: digest\n\napprove all\n", "approve 1"},
		{"outlook header bold", "approve 1\n\n*From:* Forum\n*Sent:* 2023-12-07\n*To:* Alice\n*Subject:* digest\n\napprove all\n", "approve 1"},
		{"outlook german", "approve 1\n\nVon: Forum <m@forum.example>\nGesendet: Donnerstag, 7. Dezember 2023 16:00\nAn: Alice\nBetreff: digest\n\napprove all", "approve 1"},
		{"outlook french", "approve 1\n\nDe : Forum <m@forum.example>\nEnvoyé : jeudi 7 décembre 2023 16:00\nÀ : Alice\nObjet : digest\n\napprove all", "approve 1"},
		{"outlook spanish", "approve 1\n\nDe: Forum <m@forum.example>\nEnviado el: jueves, 7 de diciembre de 2023 16:00\nPara: Alice\nAsunto: digest\n\napprove all", "approve 1"},
		{"outlook dutch", "approve 1\n\nVan: Forum <m@forum.example>\nVerzonden: donderdag 7 december 2023 16:00\nAan: Alice\nOnderwerp: digest\n\napprove all", "approve 1"},
		{"two header fields are not a block", "approve 1\nTo: Tim\nSubject: your comment\nhold 2", "approve 1\nTo: Tim\nSubject: your comment\nhold 2"},
		{"original message", "approve 1\n-----Original Message-----\napprove all", "approve 1"},
		{"ursprüngliche nachricht", "approve 1\n-----Ursprüngliche Nachricht-----\napprove all", "approve 1"},
		{"message d'origine", "approve 1\n-------- Message d'origine --------\napprove all", "approve 1"},
		{"mensaje original", "approve 1\n-----Mensaje original-----\napprove all", "approve 1"},
		{"oorspronkelijk bericht", "approve 1\n-----Oorspronkelijk bericht-----\napprove all", "approve 1"},
		{"proton", "approve 1\n------- Original Message -------\napprove all", "approve 1"},
		{"underscore rule", "approve 1\n________________________________\napprove all", "approve 1"},
		{"forwarded", "approve 1\n---------- Forwarded message ---------\nFrom: x\napprove all", "approve 1"},
		{"supercite", "approve 1\nJD> approve all\nhold 2", "approve 1\n\nhold 2"},
		{"zoho", "approve 1\n\n---- On Thu, 07 Dec 2023 16:00:00 +0100 Forum<m@forum.example> wrote ----\n\napprove all", "approve 1"},
		{"old gmail date", "approve 1\n\n2023/12/7 Forum <m@forum.example>\n\n| approve all", "approve 1"},
		{"mutt star attribution", "approve 1\n* Forum <m@forum.example> [231207 15:00]:\n> approve all", "approve 1"},
		{"attribution at the top above unmarked text", "On Thu, Dec 7, 2023 at 4:08 PM, Forum <m@forum.example> wrote:\n\napprove all", ""},
		{"forward with nothing typed", "---------- Forwarded message ---------\nFrom: F\nDate: today\nSubject: s\nTo: m\n\napprove 1", ""},
		{"apple forward", "approve 1\n\nBegin forwarded message:\n\nFrom: F\napprove all", "approve 1"},
		{"signature delimiter", "approve 1\n-- \nAlice\napprove all", "approve 1"},
		{"signature delimiter without space", "approve 1\n--\nAlice\napprove all", "approve 1"},
		{"iphone", "approve 1\n\nSent from my iPhone", "approve 1"},
		{"ipad", "approve 1\n\nSent from my iPad\n", "approve 1"},
		{"outlook android", "approve 1\n\nGet Outlook for Android<https://aka.ms/ghei36>", "approve 1"},
		{"outlook ios", "approve 1\n\nGet Outlook for iOS", "approve 1"},
		{"mail for windows", "approve 1\n\nSent from Mail for Windows", "approve 1"},
		{"german iphone", "approve 1\n\nVon meinem iPhone gesendet", "approve 1"},
		{"french iphone", "approve 1\n\nEnvoyé de mon iPhone", "approve 1"},
		{"spanish iphone", "approve 1\n\nEnviado desde mi iPhone", "approve 1"},
		{"dutch iphone", "approve 1\n\nVerzonden vanaf mijn iPhone", "approve 1"},
		{"signature-like line in a sentence", "reply 5: Your comment was\nsent by mistake\n\nSent from my iPhone", "reply 5: Your comment was\nsent by mistake"},
		{"code fence keeps its lines", "edit 1: code\n```\n#####\n-- \n```\nhold 2", "edit 1: code\n```\n#####\n--\n```\nhold 2"},
		{"unclosed code fence", "approve 1\n```\n#####\n\nFrom: F <m@forum.example>\nSent: today\nTo: A\nSubject: s\n\napprove all", "approve 1\n```\n#####"},
		{"digest in a code fence", "```\nExample Forum: 4 comments waiting for moderation (3 new).\n   | approve all\n```", "```"},
		{"indentation kept", "    indented\nhold 2", "    indented\nhold 2"},
		{"crlf", "approve 1\r\n> quoted\r\n", "approve 1"},
		{"invisible characters are blank", "approve 1\n\u200b\n\u1427\n--\nAlice", "approve 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replyOwnText(replyTextMsg(tt.in)); got != tt.want {
				t.Errorf("own text of\n%s\n--- got:\n%s\n--- want:\n%s", tt.in, got, tt.want)
			}
		})
	}
}

// TestExtractReplyUnmarkedDigest quotes the golden digest, text and HTML,
// and the golden confirmations, without quote marks below an own line, as
// Outlook and others do: only the own line may be read.
func TestExtractReplyUnmarkedDigest(t *testing.T) {
	txt, err := os.ReadFile(filepath.Join("..", "templates", "testdata", "digest.txt.golden"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := os.ReadFile(filepath.Join("..", "templates", "testdata", "digest.html.golden"))
	if err != nil {
		t.Fatal(err)
	}
	htmlText := htmlToText(string(h))
	outlook := "From: Example Forum moderation <moderator@forum.example>\nSent: Thursday, December 7, 2023 4:00 PM\nTo: Alice\nSubject: digest\n\n"
	tests := []struct {
		name string
		m    *Message
	}{
		{"text digest", replyTextMsg("hold 2\n\n" + string(txt))},
		{"text digest, no blank line", replyTextMsg("hold 2\n" + string(txt))},
		{"text digest after outlook header", replyTextMsg("hold 2\n\n" + outlook + string(txt))},
		{"text digest after attribution", replyTextMsg("hold 2\n\nOn Thu, Dec 7, 2023, Forum <m@forum.example> wrote:\n\n" + string(txt))},
		{"html digest as text", replyTextMsg("hold 2\n\n" + htmlText)},
		{"html digest as text, indented", replyTextMsg("hold 2\n\n" + regexp.MustCompile(`(?m)^`).ReplaceAllString(htmlText, "  "))},
		{"html digest", &Message{HTML: "<div>hold 2</div>" + string(h), HTMLOnly: true}},
		{"html digest in outlook", &Message{HTML: `<div>hold 2</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> x</div>` + string(h), HTMLOnly: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ExtractReply(tt.m)
			if r.Text != "hold 2" {
				t.Errorf("own text:\n%s", r.Text)
			}
		})
	}
	for _, name := range []string{"confirmation.txt.golden", "confirmation_empty.txt.golden"} {
		conf, err := os.ReadFile(filepath.Join("..", "templates", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []*Message{replyTextMsg("undo\n\n" + outlook + string(conf)), replyTextMsg("undo\n\n" + string(conf))} {
			if r := ExtractReply(m); r.Text != "undo" {
				t.Errorf("own text of a reply to %s:\n%s", name, r.Text)
			}
		}
		if r := ExtractReply(replyTextMsg("On Thu, Dec 7, 2023 at 4:08 PM +0100, Forum <m@forum.example> wrote:\n\n" + string(conf))); r.Text != "" {
			t.Errorf("own text of a bare %s:\n%s", name, r.Text)
		}
	}
	// A moderator who typed nothing: nothing is read, whatever the
	// digest's comments and examples say.
	for _, m := range []*Message{replyTextMsg(string(txt)), replyTextMsg(outlook + string(txt)), replyTextMsg(htmlText),
		replyTextMsg("On Thu, Dec 7, 2023 at 4:08 PM +0100, Forum <m@forum.example> wrote:\n\n" + string(txt)),
		replyTextMsg("---------- Forwarded message ---------\n" + outlook + htmlText),
		{HTML: string(h), HTMLOnly: true}} {
		if r := ExtractReply(m); r.Text != "" {
			t.Errorf("own text of a bare digest:\n%s", r.Text)
		}
	}
}

// TestExtractReplyItems checks which digest item interleaved lines answer.
func TestExtractReplyItems(t *testing.T) {
	txt, err := os.ReadFile(filepath.Join("..", "templates", "testdata", "digest.txt.golden"))
	if err != nil {
		t.Fatal(err)
	}
	// Quote the digest and type a line after each item and at the end.
	var b strings.Builder
	b.WriteString("top\n")
	b.WriteString("On Thu, Dec 7, 2023 at 4:00 PM Forum <m@forum.example> wrote:\n")
	for _, l := range strings.Split(strings.TrimSpace(string(txt)), "\n") {
		if strings.HasPrefix(l, "=====") {
			b.WriteString("after\n")
		}
		b.WriteString("> " + l + "\n")
	}
	b.WriteString("bottom\n")
	r := ExtractReply(replyTextMsg(b.String()))
	var got []int
	for _, l := range r.Lines {
		if l.Text != "" {
			got = append(got, l.Item)
		}
	}
	// top, after the header, after items 1-4, after feedback item 5,
	// after the decided section, bottom.
	want := []int{0, 0, 1, 2, 3, 4, 5, 0, 0}
	if !replyEqualInts(got, want) {
		t.Errorf("items of own lines = %v, want %v\n%s", got, want, r.Text)
	}

	h, err := os.ReadFile(filepath.Join("..", "templates", "testdata", "digest.html.golden"))
	if err != nil {
		t.Fatal(err)
	}
	// The same in HTML: split the blockquote at each item, as Gmail does
	// when one types into a quote.
	body := regexp.MustCompile(`(?s)<body[^>]*>(.*)</body>`).FindStringSubmatch(string(h))[1]
	parts := regexp.MustCompile(`<div style="border-top`).Split(body, -1)
	var hb strings.Builder
	hb.WriteString(`<div>top</div><div class="gmail_quote"><div class="gmail_attr">On Thu, Forum wrote:</div>`)
	for i, p := range parts {
		if i > 0 {
			p = `<div style="border-top` + p
		}
		hb.WriteString("<blockquote>" + p + "</blockquote><div>after</div>")
	}
	hb.WriteString("</div>")
	r = ExtractReply(&Message{HTML: hb.String(), HTMLOnly: true})
	got = got[:0]
	for _, l := range r.Lines {
		if l.Text != "" {
			got = append(got, l.Item)
		}
	}
	want = []int{0, 0, 1, 2, 3, 4, 5, 0, 0}
	if !replyEqualInts(got, want) {
		t.Errorf("HTML: items of own lines = %v, want %v\n%s", got, want, r.Text)
	}
}

func replyEqualInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestExtractReplyHTML(t *testing.T) {
	const digest = `<h1>Example Forum: 2 comments to moderate</h1><p>To decide, reply to this mail</p><pre>approve 1 3          approve 1-3, 5       approve all</pre>`
	tests := []struct {
		name, html, want string
	}{
		{"blockquote", `<div>approve 1</div><blockquote>approve all</blockquote>`, "approve 1"},
		{"apple", `<div>approve 1</div><div><br><blockquote type="cite"><div>On 7 Dec 2023, at 16:00, F &lt;m@f.example&gt; wrote:</div><div>approve all</div></blockquote></div>`, "approve 1"},
		{"gmail", `<div dir="ltr">approve 1</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Thu, F wrote:<br></div><blockquote class="gmail_quote">approve all</blockquote></div>`, "approve 1"},
		{"old gmail attribution", `<div>approve 1</div><div class="gmail_quote">On Thu, Dec 7, 2023 at 4:00 PM F &lt;m@f.example&gt; wrote:<br><blockquote>approve all</blockquote></div>`, "approve 1"},
		{"gmail forward", `<div>approve 1</div><div class="gmail_quote"><div class="gmail_attr">---------- Forwarded message ---------<br>From: F</div><br>approve all</div>`, "approve 1"},
		{"thunderbird", `approve 1<br><div class="moz-cite-prefix">On 07/12/2023 16:00, F wrote:<br></div><blockquote type="cite">approve all</blockquote>`, "approve 1"},
		{"outlook web", `<div>approve 1</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> F<br><b>Sent:</b> today</div><div>approve all</div>`, "approve 1"},
		{"outlook web prefixed ids", `<div>approve 1</div><div id="x_divRplyFwdMsg"><b>From:</b> F</div><div>approve all</div>`, "approve 1"},
		{"outlook desktop", `<p class="MsoNormal">approve 1</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>From:</b> F</p></div><p class="MsoNormal">approve all</p>`, "approve 1"},
		{"outlook message header", `<div>approve 1</div><div class="OutlookMessageHeader">From: F</div><div>approve all</div>`, "approve 1"},
		{"outlook header without separator", `<p class="MsoNormal">approve 1</p><p class="MsoNormal"><b>From:</b> F<br><b>Sent:</b> today<br><b>To:</b> A<br><b>Subject:</b> x</p><p>approve all</p>`, "approve 1"},
		{"yahoo", `<div>approve 1</div><div id="yahoo_quoted_123" class="yahoo_quoted"><div>On Thursday, F wrote:</div><div>approve all</div></div>`, "approve 1"},
		{"protonmail", `<div>approve 1</div><div class="protonmail_quote">------- Original Message -------<br><blockquote class="protonmail_quote">approve all</blockquote></div>`, "approve 1"},
		{"hotmail rule", `<div>approve 1<hr id="stopSpelling">Date: x<br>approve all</div>`, "approve 1"},
		{"unmarked digest", `<div>approve 1</div>` + digest, "approve 1"},
		{"hidden text", `<div style="display: none">approve all</div><div>approve 1</div><script>approve 2</script><style>p{}</style>`, "approve 1"},
		{"entities and nbsp", `<div>approve&nbsp;1</div><div>reject 2: &lt;b&gt; &amp; co</div>`, "approve 1\nreject 2: <b> & co"},
		{"paragraphs", `<p>approve 1</p><p>hold 2</p>`, "approve 1\n\nhold 2"},
		{"outlook paragraphs", `<p class=MsoNormal>edit 1: a<o:p></o:p></p><p class=MsoNormal>b<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>hold 2<o:p></o:p></p>`, "edit 1: a\nb\n\nhold 2"},
		{"pre", `<pre>approve 1
hold   2</pre>`, "approve 1\nhold   2"},
		{"br", `approve 1<br>hold 2<br><br>Alice`, "approve 1\nhold 2\n\nAlice"},
		{"quoted with gt", `<div>approve 1<br>&gt; approve all</div>`, "approve 1"},
		{"interleaved blockquotes", `<div>approve 1</div><blockquote>x</blockquote><div>hold 2</div><blockquote>y</blockquote>`, "approve 1\n\nhold 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ExtractReply(&Message{HTML: tt.html, Text: htmlToText(tt.html), HTMLOnly: true})
			if !r.FromHTML {
				t.Error("FromHTML not set")
			}
			if r.Text != tt.want {
				t.Errorf("own text:\n%s\n--- want:\n%s", r.Text, tt.want)
			}
		})
	}
}

func TestExtractReplyPartChoice(t *testing.T) {
	tests := []struct {
		name string
		m    *Message
		want string
		html bool
	}{
		{"plain preferred", &Message{Text: "approve 1\n", HTML: "<div>approve 2</div>"}, "approve 1", false},
		{"plain preferred even when all quote", &Message{Text: "> approve 1\n", HTML: "<div>approve 2</div>"}, "", false},
		{"empty plain part", &Message{Text: "\n \n", HTML: "<div>approve 2</div>"}, "approve 2", true},
		{"stub plain part", &Message{Text: "This message is in HTML format.", HTML: "<div>approve 2</div>"}, "approve 2", true},
		{"html only", &Message{Text: "approve 2", HTML: "<div>approve 2</div><blockquote>hold 3</blockquote>", HTMLOnly: true}, "approve 2", true},
		{"nil", nil, "", false},
		{"too deep", &Message{HTML: strings.Repeat("<div>", 600) + "approve 1", HTMLOnly: true}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ExtractReply(tt.m)
			if r.Text != tt.want || r.FromHTML != tt.html {
				t.Errorf("got %q (html %v), want %q (html %v)", r.Text, r.FromHTML, tt.want, tt.html)
			}
		})
	}
}

// BenchmarkExtractReply reads the own text of every reply in
// testdata/replies, parsed beforehand.
func BenchmarkExtractReply(b *testing.B) {
	var msgs []*Message
	for _, name := range replyFiles(b) {
		msgs = append(msgs, parseReplyFile(b, name))
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, m := range msgs {
			ExtractReply(m)
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "replies/s")
}
