package mail

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/textproto"
)

var composeDate = time.Date(2025, 3, 7, 14, 30, 0, 0, time.FixedZone("", 3600))

func composeCases() map[string]*Outgoing {
	bot := Address{Name: "Example Forum", Addr: "moderator@forum.example"}
	return map[string]*Outgoing{
		"plain": {
			From:      bot,
			To:        []Address{{Name: "Jane Doe", Addr: "jane@example.org"}},
			Subject:   "Your comment was received",
			MessageID: "notice.1042.abc123@modbot.forum.example",
			Date:      composeDate,
			Text:      "Thank you, your comment on \"UK vs Meta\" is waiting for a moderator.\n\nA line that is long enough that quoted-printable has to break it with a soft line break somewhere.\nTrailing space \n",
		},
		"digest": {
			From:          bot,
			To:            []Address{{Name: "Alice", Addr: "alice@mods.example"}},
			ReplyTo:       []Address{{Name: "Example Forum moderation", Addr: "moderator+d-Ab3dEf9hXk2mN4pQ@forum.example"}},
			Subject:       "[Example Forum] 3 comments to moderate",
			MessageID:     "digest.17.q8w7e6@modbot.forum.example",
			Date:          composeDate,
			AutoSubmitted: "auto-generated",
			Headers: map[string]string{
				"List-Id":         "Example Forum moderation <moderation.forum.example>",
				"X-Modbot-Digest": "17",
			},
			Text: "1. Jane Doe on uk-meta-encryption (#1042)\n   End-to-end encryption protects everyone.\n",
			HTML: "<ol><li><b>Jane Doe</b> on uk-meta-encryption (#1042)<br>End-to-end encryption protects everyone.</li></ol>\n",
		},
		"international": {
			From:       bot,
			To:         []Address{{Name: "François Prévost", Addr: "francois@example.fr"}, {Name: "Doe, John", Addr: "john@example.com"}},
			Cc:         []Address{{Addr: "copy@example.com"}},
			Subject:    "Réponse à votre commentaire sur « Verschlüsselung » — une très longue ligne d'objet",
			MessageID:  "<notice.1043.zz@modbot.forum.example>",
			InReplyTo:  "<latin1.1@example.fr>",
			References: []string{"latin1.1@example.fr", "bad id with spaces", "notice.1042.abc123@modbot.forum.example"},
			Date:       composeDate,
			Text:       "Très bien — merci ✓\r\nSecond line\r\n",
		},
		"inline": {
			From:      bot,
			To:        []Address{{Addr: "admin@forum.example"}},
			ReplyTo:   []Address{{Addr: "moderator+d-r3p0rtT0ken@forum.example"}},
			Subject:   "[Example Forum] Daily report",
			MessageID: "report.1.zz9@modbot.forum.example",
			Date:      composeDate,
			Headers:   map[string]string{"X-Modbot-Report": "daily"},
			Text:      "Received  12\n",
			HTML:      "<p>Received 12</p>\n<img src=\"cid:chart.daily@forum.example\" width=\"600\" height=\"240\" alt=\"chart\">\n",
			Inline: []InlinePart{{
				ContentID: "chart.daily@forum.example", ContentType: "image/png", Filename: "chart.png",
				Data: inlineData(),
			}},
		},
	}
}

// inlineData is long enough for several lines of base64, with every
// byte value in it.
func inlineData() []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	for i := range 256 {
		b = append(b, byte(i))
	}
	return b
}

// TestComposeGolden compares Bytes with testdata/compose/<case>.eml
// (-update rewrites them).
func TestComposeGolden(t *testing.T) {
	for name, o := range composeCases() {
		t.Run(name, func(t *testing.T) {
			got, err := o.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "compose", name+".eml")
			if updating() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Bytes() differs from %s:\n%s", golden, got)
			}
			again, _ := o.Bytes()
			if !bytes.Equal(got, again) {
				t.Errorf("Bytes() is not deterministic")
			}
			checkWireFormat(t, got)
		})
	}
}

// checkWireFormat checks line ends and lengths.
func checkWireFormat(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Errorf("message does not end in CRLF")
	}
	for i, line := range bytes.Split(b, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes long", i+1, len(line))
		}
		for _, c := range line {
			if c >= 0x80 {
				t.Errorf("line %d holds 8-bit data: %q", i+1, line)
				break
			}
		}
	}
}

// TestComposeRoundTrip reads composed mail back with Parse.
func TestComposeRoundTrip(t *testing.T) {
	for name, o := range composeCases() {
		t.Run(name, func(t *testing.T) {
			b, err := o.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(bytes.NewReader(b), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Warnings) > 0 {
				t.Errorf("Warnings = %q", m.Warnings)
			}
			if *m.From != o.From {
				t.Errorf("From = %+v, want %+v", *m.From, o.From)
			}
			if !slices.Equal(m.To, o.To) || !slices.Equal(m.Cc, o.Cc) || !slices.Equal(m.ReplyTo, o.ReplyTo) {
				t.Errorf("To, Cc, Reply-To = %+v %+v %+v, want %+v %+v %+v", m.To, m.Cc, m.ReplyTo, o.To, o.Cc, o.ReplyTo)
			}
			if m.Subject != o.Subject {
				t.Errorf("Subject = %q, want %q", m.Subject, o.Subject)
			}
			if want := trimBrackets(o.MessageID); m.MessageID != want {
				t.Errorf("MessageID = %q, want %q", m.MessageID, want)
			}
			if !m.Date.Equal(o.Date) {
				t.Errorf("Date = %v, want %v", m.Date, o.Date)
			}
			if want := normalizeText(o.Text); m.Text != want {
				t.Errorf("Text = %q, want %q", m.Text, want)
			}
			if m.HTML != o.HTML {
				t.Errorf("HTML = %q, want %q", m.HTML, o.HTML)
			}
			if got := m.Get("Auto-Submitted"); got != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", got)
			}
			for k, v := range o.Headers {
				if got := m.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if c := Classify(m, testSite); c.Kind != KindAuto {
				t.Errorf("modbot's own mail classifies as %s, want auto (no mail loops)", c.Kind)
			}
		})
	}
	o := composeCases()["international"]
	b, _ := o.Bytes()
	m, _ := Parse(bytes.NewReader(b), nil)
	if want := []string{"latin1.1@example.fr", "notice.1042.abc123@modbot.forum.example"}; !slices.Equal(m.References, want) {
		t.Errorf("References = %q, want %q (the invalid one dropped)", m.References, want)
	}
	if want := []string{"latin1.1@example.fr"}; !slices.Equal(m.InReplyTo, want) {
		t.Errorf("InReplyTo = %q, want %q", m.InReplyTo, want)
	}
}

// headerKeys returns the field names of a message's header, in order.
func headerKeys(t testing.TB, b []byte) []string {
	t.Helper()
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("composed header does not parse: %v\n%s", err, b)
	}
	var keys []string
	for f := h.Fields(); f.Next(); {
		keys = append(keys, f.Key())
	}
	return keys
}

func TestComposeNoHeaderInjection(t *testing.T) {
	evil := []string{
		"Eve\r\nBcc: victim@example.com",
		"Eve\nBcc: victim@example.com",
		"Eve\rBcc: victim@example.com",
		"Eve\r\n\r\nbody injected",
		"Eve\u2028Bcc: x@y",
		"Eve\x00\x0bBcc: x@y",
		"=?utf-8?q?Eve=0D=0ABcc=3A_x=40y?=",
		"Ève\r\nBcc: victim@example.com",
	}
	want := []string{"Date", "From", "To", "Reply-To", "Subject", "Message-Id", "Auto-Submitted", "X-Note", "Mime-Version", "Content-Type", "Content-Transfer-Encoding"}
	for _, s := range evil {
		o := &Outgoing{
			From:          Address{Name: s, Addr: "moderator@forum.example"},
			To:            []Address{{Name: s, Addr: "jane@example.org"}},
			ReplyTo:       []Address{{Name: s, Addr: "moderator+d-abcdefgh@forum.example"}},
			Subject:       s,
			MessageID:     "n.1@modbot.forum.example",
			Date:          composeDate,
			AutoSubmitted: "auto-replied\r\nBcc: x@y",
			Headers:       map[string]string{"X-Note": s},
			Text:          s,
		}
		b, err := o.Bytes()
		if err != nil {
			t.Fatalf("Bytes with name %q: %v", s, err)
		}
		if got := headerKeys(t, b); !slices.Equal(got, want) {
			t.Errorf("with %q the header fields are %q, want %q", s, got, want)
		}
		m, err := Parse(bytes.NewReader(b), nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(m.Subject+m.From.Name, "\r\n") {
			t.Errorf("a line break survived: %q %q", m.Subject, m.From.Name)
		}
		if got := m.Get("Auto-Submitted"); got != "auto-replied Bcc: x@y" {
			t.Errorf("Auto-Submitted = %q", got)
		}
	}
}

func TestComposeErrors(t *testing.T) {
	ok := func() *Outgoing {
		return &Outgoing{From: Address{Addr: "moderator@forum.example"}, To: []Address{{Addr: "jane@example.org"}}, Text: "x"}
	}
	tests := []struct {
		name string
		edit func(*Outgoing)
		want string
	}{
		{"from with CRLF", func(o *Outgoing) { o.From.Addr = "a@b.example\r\nBcc: x@y" }, "compose: From: invalid address"},
		{"from empty", func(o *Outgoing) { o.From.Addr = "" }, "compose: From: invalid address"},
		{"to with space", func(o *Outgoing) { o.To[0].Addr = "jane doe@example.org" }, "compose: To: invalid address"},
		{"to without @", func(o *Outgoing) { o.To[0].Addr = "jane.example.org" }, "compose: To: invalid address"},
		{"to with two @", func(o *Outgoing) { o.To[0].Addr = "a@b@example.org" }, "compose: To: invalid address"},
		{"to with angle", func(o *Outgoing) { o.To[0].Addr = "a@b.example>, <c@d.example" }, "compose: To: invalid address"},
		{"cc with comma", func(o *Outgoing) { o.Cc = []Address{{Addr: "a@b,c@d"}} }, "compose: Cc: invalid address"},
		{"reply-to with LF", func(o *Outgoing) { o.ReplyTo = []Address{{Addr: "a@b\n"}} }, "compose: Reply-To: invalid address"},
		{"dots", func(o *Outgoing) { o.To[0].Addr = "a..b@example.org" }, "compose: To: invalid address"},
		{"no recipients", func(o *Outgoing) { o.To = nil }, "compose: no recipients"},
		{"message-id with space", func(o *Outgoing) { o.MessageID = "a b@c" }, "compose: invalid Message-ID"},
		{"message-id with CRLF", func(o *Outgoing) { o.MessageID = "a@c\r\nBcc: x@y" }, "compose: invalid Message-ID"},
		{"owned header", func(o *Outgoing) { o.Headers = map[string]string{"bcc": "x@y"} }, "compose: header field bcc is set from Outgoing's fields"},
		{"owned header content-type", func(o *Outgoing) { o.Headers = map[string]string{"Content-Type": "text/html"} }, "compose: header field Content-Type is set"},
		{"header name with colon", func(o *Outgoing) { o.Headers = map[string]string{"X-A: b\r\nBcc": "x"} }, "compose: invalid header field name"},
		{"header name with space", func(o *Outgoing) { o.Headers = map[string]string{"X A": "x"} }, "compose: invalid header field name"},
		{"inline without html", func(o *Outgoing) {
			o.Inline = []InlinePart{{ContentID: "a@b", ContentType: "image/png"}}
		}, "compose: inline parts without an HTML part"},
		{"inline content-id with CRLF", func(o *Outgoing) {
			o.HTML = "<p>x</p>"
			o.Inline = []InlinePart{{ContentID: "a@b\r\nBcc: x@y", ContentType: "image/png"}}
		}, "compose: inline part: invalid Content-ID"},
		{"inline content-id twice", func(o *Outgoing) {
			o.HTML = "<p>x</p>"
			o.Inline = []InlinePart{{ContentID: "a@b", ContentType: "image/png"}, {ContentID: "<a@b>", ContentType: "image/png"}}
		}, "compose: inline part: Content-ID a@b used twice"},
		{"inline multipart", func(o *Outgoing) {
			o.HTML = "<p>x</p>"
			o.Inline = []InlinePart{{ContentID: "a@b", ContentType: "multipart/mixed"}}
		}, "compose: inline part a@b: invalid Content-Type"},
		{"inline type with parameters", func(o *Outgoing) {
			o.HTML = "<p>x</p>"
			o.Inline = []InlinePart{{ContentID: "a@b", ContentType: "image/png\r\nBcc: x@y"}}
		}, "compose: inline part a@b: invalid Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok()
			tt.edit(o)
			b, err := o.Bytes()
			if err == nil {
				t.Fatalf("Bytes succeeded:\n%s", b)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to start with %q", err, tt.want)
			}
		})
	}
	if _, err := ok().Bytes(); err != nil {
		t.Errorf("valid message: %v", err)
	}
	o := ok()
	o.To[0].Addr = "bad"
	if _, err := o.Bytes(); !errors.Is(err, errBadAddress) {
		t.Errorf("error %v does not wrap errBadAddress", err)
	}
}

func TestComposeDefaults(t *testing.T) {
	o := &Outgoing{From: Address{Addr: "moderator@Forum.Example"}, To: []Address{{Addr: "jane@example.org"}}}
	b, err := o.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(bytes.NewReader(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !IsOwnMessageID(m.MessageID, "forum.example") {
		t.Errorf("generated Message-ID %q is not modbot's", m.MessageID)
	}
	if m.Date.IsZero() {
		t.Errorf("no Date")
	}
	if m.Get("Auto-Submitted") != "auto-generated" || m.Get("MIME-Version") != "1.0" {
		t.Errorf("Auto-Submitted = %q, MIME-Version = %q", m.Get("Auto-Submitted"), m.Get("MIME-Version"))
	}
	if _, ok := m.Header["Subject"]; ok {
		t.Errorf("empty subject written")
	}
}

func TestComposeLongValues(t *testing.T) {
	long := strings.Repeat("x", 2000)
	o := &Outgoing{
		From:    Address{Name: long, Addr: "moderator@forum.example"},
		To:      []Address{{Addr: "jane@example.org"}},
		Subject: long + " " + strings.Repeat("ü", 500),
		Headers: map[string]string{"X-Long": long},
		Date:    composeDate,
		Text:    long,
	}
	b, err := o.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	checkWireFormat(t, b)
}

func TestRecipients(t *testing.T) {
	o := &Outgoing{
		To:      []Address{{Addr: "a@x.example"}, {Addr: "b@x.example"}},
		Cc:      []Address{{Addr: "A@X.example"}, {Addr: "c@x.example"}},
		ReplyTo: []Address{{Addr: "r@x.example"}},
	}
	if got, want := o.Recipients(), []string{"a@x.example", "b@x.example", "c@x.example"}; !slices.Equal(got, want) {
		t.Errorf("Recipients = %q, want %q", got, want)
	}
}

// TestComposeInline reads the MIME tree of a message with an inline
// image: the HTML and the image are related parts of the HTML
// alternative, and the image comes back byte for byte under its
// Content-ID.
func TestComposeInline(t *testing.T) {
	o := composeCases()["inline"]
	o.Inline[0].Filename = "../../Grafik für Admins.png\r\nX-Evil: 1"
	b, err := o.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	checkWireFormat(t, b)
	var tree []string
	var data []byte
	var walk func(h textproto.Header, body io.Reader, depth int)
	walk = func(h textproto.Header, body io.Reader, depth int) {
		typ, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil {
			t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
		}
		line := strings.Repeat("  ", depth) + typ
		if id := h.Get("Content-Id"); id != "" {
			line += " " + id
		}
		if disp := h.Get("Content-Disposition"); disp != "" {
			dt, dp, err := mime.ParseMediaType(disp)
			if err != nil {
				t.Errorf("Content-Disposition %q: %v", disp, err)
			}
			line += fmt.Sprintf(" %s %q", dt, dp["filename"])
		}
		tree = append(tree, line)
		if strings.HasPrefix(typ, "multipart/") {
			mr := textproto.NewMultipartReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header, p, depth+1)
			}
		}
		if typ == "image/png" {
			if data, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	br := bufio.NewReader(bytes.NewReader(b))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		t.Fatal(err)
	}
	walk(h, br, 0)
	want := []string{
		"multipart/alternative",
		"  text/plain",
		"  multipart/related",
		"    text/html",
		// The name is a label: no path, no line break, non-ASCII encoded
		// as RFC 2231 says.
		`    image/png <chart.daily@forum.example> inline "Grafik für Admins.png  X-Evil: 1"`,
	}
	if !slices.Equal(tree, want) {
		t.Errorf("MIME tree:\n%s\nwant:\n%s", strings.Join(tree, "\n"), strings.Join(want, "\n"))
	}
	if !bytes.Equal(data, inlineData()) {
		t.Errorf("inline data = %q, want %q", data, inlineData())
	}
	// The relation names the HTML as its root type, as RFC 2387 asks.
	if !bytes.Contains(b, []byte(`type="text/html"`)) {
		t.Error("multipart/related without type=\"text/html\"")
	}
}
