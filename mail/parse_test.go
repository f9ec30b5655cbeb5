package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func init() {
	// Other test files of this package may register -update as well;
	// whoever comes first registers it, the rest read it through updating.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

// updating reports whether the test run was asked to rewrite golden files.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func readInbound(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "inbound", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseInbound(t testing.TB, name string) *Message {
	t.Helper()
	m, err := Parse(bytes.NewReader(readInbound(t, name)), nil)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return m
}

func TestParseHeaderFields(t *testing.T) {
	m := parseInbound(t, "01-plus-address.eml")
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"MessageID", m.MessageID, "20250303101500.1234@mail.example.org"},
		{"From", *m.From, Address{Name: "Jane Doe", Addr: "jane@example.org"}},
		{"To", m.To, []Address{{Addr: "moderator+uk-meta-encryption@forum.example"}}},
		{"DeliveredTo", m.DeliveredTo, []string{"moderator+uk-meta-encryption@forum.example"}},
		{"Subject", m.Subject, "My comment"},
		{"Date", m.Date.UTC(), time.Date(2025, 3, 3, 10, 15, 0, 0, time.UTC)},
		{"ContentType", m.ContentType, "text/plain"},
		{"Text", m.Text, "End-to-end encryption protects everyone, including the people who\nwrite these laws.\n\nJane\n"},
		{"Header Return-Path", m.Get("return-path"), "<jane@example.org>"},
		{"Warnings", len(m.Warnings), 0},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
		}
	}

	m = parseInbound(t, "30-reply-to-notice.eml")
	if got, want := m.References, []string{"20250303101500.1234@mail.example.org", "notice.1044.a1b2c3@modbot.forum.example"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("References = %q, want %q", got, want)
	}
	if got, want := m.InReplyTo, []string{"notice.1044.a1b2c3@modbot.forum.example"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("InReplyTo = %q, want %q", got, want)
	}

	m = parseInbound(t, "02-comment-post-header.eml")
	if len(m.ReplyTo) != 1 || m.ReplyTo[0] != (Address{Name: "Sam Commenter", Addr: "sam@example.net"}) {
		t.Errorf("ReplyTo = %#v", m.ReplyTo)
	}
}

// TestParseText pins the body text a person sees for each way of
// encoding it.
func TestParseText(t *testing.T) {
	tests := []struct {
		file, subject, text string
		htmlOnly            bool
	}{
		{"05-format-flowed.eml", "flowed", "This paragraph was written as one long line and wrapped by the mail client into several lines that end in a space, so the reader joins them again.\nFrom the start of a line, stuffed.\n> A quoted line that flows too.\n\n-- \nTom\n", false},
		{"06-quoted-printable.eml", "Café talk", "It’s a long line that the sender’s client broke with a soft line break, and an equals sign: 1+1=2.\n", false},
		{"07-base64.eml", "Verschlüsselung", "Ein Kommentar auf Deutsch: Verschlüsselung schützt uns alle.\n", false},
		{"08-iso-8859-1.eml", "Réponse à l'article", "Très bien écrit, merci.\n", false},
		{"09-multipart-alternative.eml", "alternative", "Plain version of the comment.\n", false},
		{"10-html-only-script.eml", "html only", "First line of the comment.\n\nSecond & last line, see this page <https://example.net/x>.\n\nA named anchor and a script link.", true},
		// The line end before a boundary belongs to the boundary, also when
		// the boundary never comes.
		{"12-missing-closing-boundary.eml", "cut short", "This message was cut short after this text.", false},
		{"13-unknown-charset.eml", "strange", "A body in a charset nobody knows.\n", false},
		{"15-raw-8bit-headers.eml", "Grüße aus München", "Schöne Grüße.\n", false},
		{"18-empty-body.eml", "empty", "", false},
		{"19-nested-rfc822.eml", "Fwd: Fwd: a comment that was forwarded twice", "See the forwarded message.\n", false},
		{"23-unparsable-content-type.eml", "duplicate parameters", "Text under an unreadable Content-Type.", false},
		{"29-digest-reply.eml", "Re: [Example Forum] 3 comments to moderate", "approve 1 3\nreject 2 rule 11\n\nOn Fri, 7 Mar 2025, moderator@forum.example wrote:\n> 1. Jane Doe on uk-meta-encryption:\n> End-to-end encryption protects everyone.\n", false},
		{"33-mixed-with-attachment.eml", "with attachment", "See the attached paper.", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := parseInbound(t, tt.file)
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if m.Text != tt.text {
				t.Errorf("Text =\n%q\nwant\n%q", m.Text, tt.text)
			}
			if m.HTMLOnly != tt.htmlOnly {
				t.Errorf("HTMLOnly = %v, want %v", m.HTMLOnly, tt.htmlOnly)
			}
		})
	}
}

func TestParseHTMLOnlyDropsHiddenContent(t *testing.T) {
	m := parseInbound(t, "10-html-only-script.eml")
	if !strings.Contains(m.HTML, "SCRIPT-SECRET") {
		t.Fatalf("HTML should keep the raw HTML, got %q", m.HTML)
	}
	if strings.Contains(m.Text, "SECRET") {
		t.Errorf("Text shows hidden content: %q", m.Text)
	}
}

func TestParseAttachments(t *testing.T) {
	m := parseInbound(t, "33-mixed-with-attachment.eml")
	want := []Attachment{{Filename: "paperü.pdf", ContentType: "application/pdf", Size: 48}}
	if fmt.Sprint(m.Attachments) != fmt.Sprint(want) {
		t.Errorf("Attachments = %+v, want %+v", m.Attachments, want)
	}
	if m.HTML != "<p>See the attached paper.</p>" {
		t.Errorf("HTML = %q", m.HTML)
	}
	if m.To[0].Addr != "moderator+UK-Meta-Encryption@forum.example" {
		t.Errorf("To = %q: want the local part as written and the domain lower-cased", m.To[0].Addr)
	}

	m = parseInbound(t, "19-nested-rfc822.eml")
	if len(m.Attachments) != 1 || m.Attachments[0].ContentType != "message/rfc822" || m.Attachments[0].Filename != "forwarded.eml" {
		t.Errorf("Attachments = %+v, want the one attached message", m.Attachments)
	}
}

// TestParseNoHeaderInjection checks that nothing read from a header can
// carry a line break on into a header modbot writes later.
func TestParseNoHeaderInjection(t *testing.T) {
	m := parseInbound(t, "24-crlf-injection-name.eml")
	if m.From == nil || m.From.Addr != "eve@example.org" {
		t.Fatalf("From = %+v", m.From)
	}
	if m.From.Name != "Eve  Bcc: x@y" {
		t.Errorf("From.Name = %q, want CR and LF replaced by spaces", m.From.Name)
	}
	if m.Subject != "Hello  Bcc: victim@example.com" {
		t.Errorf("Subject = %q", m.Subject)
	}
	for k, vs := range m.Header {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Errorf("Header[%s] = %q holds a control character", k, v)
			}
		}
	}
}

func TestParseWarnings(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"12-missing-closing-boundary.eml", []string{"part 1: missing closing boundary, kept what was read"}},
		{"13-unknown-charset.eml", []string{`header: unknown charset "x-unknown-cs", bytes kept undecoded`, `body: unknown charset "x-unknown-cs", read as UTF-8`}},
		{"15-raw-8bit-headers.eml", []string{"header From: raw 8-bit bytes, read as Latin-1", "header Subject: raw 8-bit bytes, read as Latin-1", "header X-Comment-Name: raw 8-bit bytes, read as UTF-8", "body: text is not valid UTF-8, read as Latin-1"}},
		{"17-from-without-address.eml", []string{"header From: \"Eve\": mail: missing '@' or angle-addr"}},
		{"23-unparsable-content-type.eml", []string{
			`body: malformed Content-Type "multipart/alternative; boundary=\"first\"; boundary=\"second\"; charset=", read leniently`,
			`part 1: unreadable Content-Type "???", read as text/plain`,
			`part 2: malformed Content-Type "text/html; charset=utf-8; charset=iso-8859-1", read leniently`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := parseInbound(t, tt.file)
			if strings.Join(m.Warnings, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Warnings =\n%s\nwant\n%s", strings.Join(m.Warnings, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"11-broken-boundary.eml", `body: no part found for boundary "declared"`},
		{"14-unknown-transfer-encoding.eml", "part 2: unknown transfer encoding x-foo"},
		{"20-too-deep.eml", "MIME nesting deeper than 10"},
		{"21-too-many-parts.eml", "more than 100 parts"},
		{"22-empty-boundary.eml", "body: multipart/mixed without boundary"},
		{"31-malformed-header-line.eml", "parse header: malformed MIME header line: This line has no colon and breaks the header"},
		{"37-malformed-part-header.eml", "part 1: malformed MIME header line: this line in the part header has no colon"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Parse(bytes.NewReader(readInbound(t, tt.file)), nil)
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if strings.HasPrefix(tt.want, "parse header") {
				if m != nil {
					t.Errorf("got a Message with an unreadable header")
				}
			} else if m == nil || m.MessageID == "" {
				t.Errorf("want the header that was read with the error, got %+v", m)
			}
		})
	}
}

// nested builds a message with depth multiparts inside each other around
// one text part.
func nested(depth int) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\nContent-Type: multipart/mixed; boundary=b0\n\n")
	for i := 1; i < depth; i++ {
		fmt.Fprintf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\n\nhello\n", depth-1)
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	return b.String()
}

// manyParts builds a multipart message with n text parts.
func manyParts(n int) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\nContent-Type: multipart/mixed; boundary=p\n\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "--p\n\npart %d\n", i)
	}
	b.WriteString("--p--\n")
	return b.String()
}

// attachedMessages builds depth message/rfc822 parts inside each other.
func attachedMessages(depth int) string {
	s := "From: in@example.com\n\ninnermost\n"
	for i := 0; i < depth; i++ {
		s = "From: a@example.com\nContent-Type: message/rfc822\n\n" + s
	}
	return s
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		opts    *ParseOptions
		wantErr string
	}{
		// The text part of nested(n) sits inside n containers.
		{"depth at limit", nested(10), nil, ""},
		{"depth over limit", nested(11), nil, "MIME nesting deeper than 10"},
		{"depth option", nested(3), &ParseOptions{MaxDepth: 2}, "MIME nesting deeper than 2"},
		{"attached messages at limit", attachedMessages(10), nil, ""},
		{"attached messages over limit", attachedMessages(11), nil, "MIME nesting deeper than 10"},
		{"parts at limit", manyParts(100), nil, ""},
		{"parts over limit", manyParts(101), nil, "more than 100 parts"},
		{"parts option", manyParts(6), &ParseOptions{MaxParts: 5}, "more than 5 parts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(strings.NewReader(tt.msg), tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if m.Text == "" && m.ContentType != "message/rfc822" {
					t.Errorf("Text is empty")
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrMalformed) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseMaxTextBytes(t *testing.T) {
	// "é" is two bytes: a cut after 5 bytes must not split the third one.
	msg := "From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\néééééééé\n"
	m, err := Parse(strings.NewReader(msg), &ParseOptions{MaxTextBytes: 5})
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "éé" {
		t.Errorf("Text = %q, want %q", m.Text, "éé")
	}
	if want := []string{"body: text longer than 5 bytes, the rest dropped"}; fmt.Sprint(m.Warnings) != fmt.Sprint(want) {
		t.Errorf("Warnings = %q, want %q", m.Warnings, want)
	}
}

// TestParseLargeAttachment parses a message with a 20 MB attachment,
// which must be streamed through and counted, never held.
func TestParseLargeAttachment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 27 MB message")
	}
	const size = 20 << 20
	var msg bytes.Buffer
	msg.WriteString("From: Big <big@example.com>\r\nTo: moderator+uk-meta-encryption@forum.example\r\nSubject: big\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"big\"\r\n\r\n" +
		"--big\r\nContent-Type: text/plain\r\n\r\nSee attachment.\r\n" +
		"--big\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"big.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	line := make([]byte, 57) // 76 base64 characters a line
	for i := range line {
		line[i] = byte(i * 7)
	}
	enc := make([]byte, base64.StdEncoding.EncodedLen(len(line)))
	base64.StdEncoding.Encode(enc, line)
	for n := 0; n < size; n += len(line) {
		if size-n < len(line) {
			msg.WriteString(base64.StdEncoding.EncodeToString(line[:size-n]))
		} else {
			msg.Write(enc)
		}
		msg.WriteString("\r\n")
	}
	msg.WriteString("--big--\r\n")
	raw := msg.Bytes()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := Parse(bytes.NewReader(raw), nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Size != size || m.Attachments[0].Filename != "big.bin" {
		t.Errorf("Attachments = %+v, want one of %d bytes", m.Attachments, size)
	}
	if m.Text != "See attachment." {
		t.Errorf("Text = %q", m.Text)
	}
	// Streaming allocates buffers of a few KiB; holding the attachment
	// would allocate at least its 20 MiB.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Parse allocated %d bytes", alloc)
	if alloc > 2<<20 {
		t.Errorf("Parse allocated %d bytes for a %d byte attachment: it is held, not streamed", alloc, size)
	}
}

type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("connection reset")
	for _, prefix := range []string{"From: a@example.com\nSubj", "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\ntext"} {
		_, err := Parse(&failingReader{r: strings.NewReader(prefix), err: boom}, nil)
		if !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) error = %v, want the read error, not ErrMalformed", prefix, err)
		}
	}
}

func TestParseNotMail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "parse header: no header fields"},
		{"\n\nbody only", "parse header: no header fields"},
		{"\x00\x01\x02 binary", "parse header: malformed MIME header line: \x00\x01\x02 binary"},
		{" leading space: x\n\n", "parse header: malformed MIME header initial line:  leading space: x"},
		{"From: a@example.com\nX-Big: " + strings.Repeat("a", 1<<20) + "\n\nbody", "parse header: header larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		m, err := Parse(strings.NewReader(tt.in), nil)
		if err == nil || !errors.Is(err, ErrMalformed) || m != nil {
			t.Errorf("Parse(%q) = %+v, %v; want a malformed-message error", clip(tt.in, 40), m, err)
			continue
		}
		if want := clip(tt.want, 200); err.Error() != want {
			t.Errorf("Parse(%q) error = %q, want %q", clip(tt.in, 40), err, want)
		}
	}
}

func TestUnflow(t *testing.T) {
	tests := []struct {
		name, in string
		delsp    bool
		want     string
	}{
		{"plain", "a\nb\n", false, "a\nb\n"},
		{"joined", "one \ntwo \nthree\n", false, "one two three\n"},
		{"delsp", "one \ntwo\n", true, "onetwo\n"},
		{"signature not flowed", "text\n-- \nsig\n", false, "text\n-- \nsig\n"},
		{"quote depth change ends paragraph", "> a \n>> b\nc\n", false, "> a \n>> b\nc\n"},
		{"quoted flowed", ">> a \n>> b\n", false, ">> a b\n"},
		{"space stuffed", " From here\n >x\n", false, "From here\n>x\n"},
		{"flowed at end", "last \n", false, "last \n"},
		{"no final newline", "a \nb", false, "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unflow(tt.in, tt.delsp); got != tt.want {
				t.Errorf("unflow(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo"},
		{"divs", "<div>one</div><div>two</div>", "one\ntwo"},
		{"gmail blank line", "<div>one</div><div><br></div><div>two</div>", "one\n\ntwo"},
		{"link", `<a href="https://x.example/">x</a>`, "x <https://x.example/>"},
		{"anchor without href", `<a name="n">kept</a> and after`, "kept and after"},
		{"script", "a<script>if (a < b && c > d) { x = '</p>' }</script>b", "ab"},
		{"style", "<style>p{}</style>visible", "visible"},
		{"comment with tag", "a<!-- <b>hidden</b> -->b", "ab"},
		{"entities", "1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"},
		{"escaped script stays text", "&lt;script&gt;", "<script>"},
		{"unclosed script", "a<script>hidden", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlToText(tt.in); got != tt.want {
				t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func inboundFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "inbound", "*.eml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no inbound test messages: %v", err)
	}
	return files
}

func BenchmarkParseClassify(b *testing.B) {
	var msgs [][]byte
	var size int64
	for _, f := range inboundFiles(b) {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
		size += int64(len(raw))
	}
	site := SiteAddress{Address: "moderator@forum.example"}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, raw := range msgs {
			if m, err := Parse(bytes.NewReader(raw), nil); err == nil {
				Classify(m, site)
			}
		}
	}
}

// Two From fields, or two addresses in one, are counted: a DKIM verifier
// may have read another author than the first, which is all From holds.
func TestParseCountsAuthors(t *testing.T) {
	for _, tt := range []struct {
		head string
		want int
	}{
		{"From: Alice <alice@mods.example>\r\n", 1},
		{"From: Alice <alice@mods.example>\r\nFrom: Eve <eve@evil.example>\r\n", 2},
		{"From: Alice <alice@mods.example>, Eve <eve@evil.example>\r\n", 2},
		{"From: Alice <alice@mods.example>\r\nFrom: ???\r\n", 2},
		{"To: x@forum.example\r\n", 0},
	} {
		m, err := Parse(strings.NewReader(tt.head+"Subject: x\r\n\r\nbody\r\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.FromCount != tt.want {
			t.Errorf("%q: FromCount %d, want %d", tt.head, m.FromCount, tt.want)
		}
	}
}

// A sender chooses how many message IDs In-Reply-To and References
// hold, and each may cost a look-up: only the newest are kept.
func TestThreadIDsBounded(t *testing.T) {
	var refs []string
	for i := 0; i < 10000; i++ {
		refs = append(refs, fmt.Sprintf("<r%d@x.example>", i))
	}
	raw := "From: a@x.example\r\nTo: moderator@forum.example\r\nSubject: hi\r\n" +
		"In-Reply-To: " + strings.Join(refs[:100], " ") + "\r\nReferences: " + strings.Join(refs, " ") + "\r\n\r\nhello\r\n"
	m, err := Parse(strings.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.References) != maxThreadIDs || m.References[maxThreadIDs-1] != "r9999@x.example" {
		t.Errorf("References: %d kept, last %q; want the newest %d", len(m.References), m.References[len(m.References)-1], maxThreadIDs)
	}
	if len(m.InReplyTo) != maxThreadIDs {
		t.Errorf("In-Reply-To: %d kept, want %d", len(m.InReplyTo), maxThreadIDs)
	}
}
