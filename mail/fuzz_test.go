package mail

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that no input makes Parse or Classify panic, that
// every failure is reported as a malformed message, and that what Parse
// returns is safe to write into a header.
func FuzzParse(f *testing.F) {
	for _, name := range inboundFiles(f) {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		opts := &ParseOptions{MaxTextBytes: 4096}
		m, err := Parse(bytes.NewReader(raw), opts)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q holds a line break", err)
			}
			return
		}
		c := Classify(m, testSite)
		if c.Kind == "" {
			t.Fatalf("Classify returned no kind")
		}
		oneLine := func(what, s string) {
			if !utf8.ValidString(s) || strings.IndexFunc(s, isBreaking) >= 0 {
				t.Fatalf("%s %q is not one line of valid UTF-8", what, s)
			}
		}
		oneLine("Subject", m.Subject)
		oneLine("AuthorName", c.AuthorName)
		oneLine("PostSlug", c.PostSlug)
		oneLine("ParentID", c.ParentID)
		if c.RevisionToken != "" && !digestTokenRE.MatchString(c.RevisionToken) {
			t.Fatalf("revision token %q is not a token", c.RevisionToken)
		}
		for _, a := range slices.Concat(m.To, m.Cc, m.ReplyTo) {
			oneLine("name", a.Name)
			oneLine("address", a.Addr)
		}
		if m.From != nil {
			oneLine("From name", m.From.Name)
			oneLine("From address", m.From.Addr)
		}
		for k, vs := range m.Header {
			for _, v := range vs {
				oneLine(k, v)
			}
		}
		if int64(len(m.Text)) > opts.MaxTextBytes*2 && !m.HTMLOnly {
			// Latin-1 read as UTF-8 at most doubles.
			t.Fatalf("Text is %d bytes, more than MaxTextBytes allows", len(m.Text))
		}
		if !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
			t.Fatalf("Text or HTML is not valid UTF-8")
		}
	})
}

// FuzzCompose checks that no name, subject or field value adds a header
// field or breaks the message's form.
func FuzzCompose(f *testing.F) {
	f.Add("Jane Doe", "Your comment", "17")
	f.Add("Eve\r\nBcc: x@y", "Hi\r\n\r\nbody", "v\nX-Evil: 1")
	f.Add("=?utf-8?q?Eve=0D=0ABcc=3A_x=40y?=", "Ünïcödé "+strings.Repeat("long ", 40), "\u2028")
	f.Add("\"Doe, \\John\"", "\x00\x7f\xff", strings.Repeat("x", 1200))
	want := []string{"Date", "From", "To", "Subject", "Message-Id", "Auto-Submitted", "X-Value", "Mime-Version", "Content-Type", "Content-Transfer-Encoding"}
	f.Fuzz(func(t *testing.T, name, subject, value string) {
		o := &Outgoing{
			From:      Address{Name: name, Addr: "moderator@forum.example"},
			To:        []Address{{Name: name, Addr: "jane@example.org"}},
			Subject:   subject,
			MessageID: "n.1@modbot.forum.example",
			Date:      composeDate,
			Headers:   map[string]string{"X-Value": value},
			Text:      subject,
		}
		b, err := o.Bytes()
		if err != nil {
			t.Fatalf("Bytes: %v", err)
		}
		keys := headerKeys(t, b)
		if !slices.Equal(keys, want) {
			// Without a subject there is no Subject field; nothing else may differ.
			if i := slices.Index(want, "Subject"); !slices.Equal(keys, slices.Delete(slices.Clone(want), i, i+1)) {
				t.Fatalf("header fields %q, want %q\n%s", keys, want, b)
			}
		}
		checkWireFormat(t, b)
		m, err := Parse(bytes.NewReader(b), nil)
		if err != nil {
			t.Fatalf("Parse of composed mail: %v\n%s", err, b)
		}
		if m.From == nil || m.From.Addr != "moderator@forum.example" || len(m.To) != 1 || m.To[0].Addr != "jane@example.org" {
			t.Fatalf("addresses did not survive: From %+v To %+v\n%s", m.From, m.To, b)
		}
		// Names and subjects come back as written, up to whitespace and
		// length, unless they look like encoded-words themselves.
		clean := func(s string) string { return cleanText(strings.ToValidUTF8(s, "\uFFFD")) }
		norm := func(s string) string { return strings.Join(strings.Fields(clean(s)), " ") }
		if !strings.Contains(name, "=?") && len(clean(name)) <= maxNameBytes {
			if got, want := norm(m.From.Name), norm(name); got != want {
				t.Fatalf("From name = %q, want %q", got, want)
			}
		}
		if !strings.Contains(subject, "=?") && len(clean(subject)) <= maxTextBytes {
			if got, want := norm(m.Subject), norm(subject); got != want {
				t.Fatalf("Subject = %q, want %q", got, want)
			}
		}
	})
}
