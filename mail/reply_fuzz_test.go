package mail

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"
)

// FuzzExtractReply checks that no message makes ExtractReply or
// ParseCommands panic, that every own line comes from the message's text
// (from the HTML's text, in order, when read from HTML), and that the
// commands' line numbers point into the reply.
func FuzzExtractReply(f *testing.F) {
	for _, name := range replyFiles(f) {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(bytes.NewReader(raw), &ParseOptions{MaxTextBytes: 64 << 10})
		if err != nil {
			return
		}
		r := ExtractReply(m)
		var htmlText string
		if r.FromHTML {
			htmlText = htmlTextContent(m.HTML)
		}
		for i, l := range r.Lines {
			if strings.ContainsRune(l.Text, '\n') {
				t.Fatalf("line %d %q holds a line break", i, l.Text)
			}
			if l.Text == "" {
				continue
			}
			if r.FromHTML {
				if !replyIsSubsequence(replyWithoutSpace(l.Text), htmlText) {
					t.Fatalf("own line %q is not text of the HTML", l.Text)
				}
			} else if !strings.Contains(m.Text, l.Text) {
				t.Fatalf("own line %q is not in the text", l.Text)
			}
		}
		cmds, errs := ParseCommands(r)
		for _, c := range cmds {
			if c.Line < 1 || c.Line > len(r.Lines) || c.Raw != r.Lines[c.Line-1].Text {
				t.Fatalf("command %v at line %d of %d", c, c.Line, len(r.Lines))
			}
		}
		for _, e := range errs {
			if e.Line < 1 || e.Line > len(r.Lines) || e.Raw != r.Lines[e.Line-1].Text {
				t.Fatalf("error %v at line %d of %d", e, e.Line, len(r.Lines))
			}
		}
	})
}

// htmlTextContent is every text node of the parsed HTML, in order,
// without white space.
func htmlTextContent(src string) string {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(replyWithoutSpace(n.Data))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String()
}

func replyWithoutSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// replyIsSubsequence reports whether the runes of s appear in t in order.
func replyIsSubsequence(s, t string) bool {
	for _, r := range s {
		i := strings.IndexRune(t, r)
		if i < 0 {
			return false
		}
		t = t[i+len(string(r)):]
	}
	return true
}

// FuzzParseCommands checks that no text makes ParseCommands panic and that
// the normalised form of every command reads back as the same command.
func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{
		"approve 1 3\nreject 2 rule 11\napprove 1-3, 5\napprove all",
		"reject 4: off topic\nreject 2 rule 3 rule 12: note",
		"edit 5: new text\ngoes on\n\nhold 6\nspam 7\nundo\nundo #1042",
		"reply 8: thanks\nAprove 1\napprove 1-\n- approve #1042\n\tapprove",
		"approve 3 (#1042)\nreject 2(#7), 4 rule 3: x\napprove 1-2 (#3)\nhold 5 (#",
		`reject 2 rule=3 rule=12 reason="a \"b\"\n"` + "\n" + `edit 3 text="x\ty"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var r Reply
		for i, l := range strings.Split(s, "\n") {
			// Every third line stands under a quoted item, with or
			// without its #id.
			r.Lines = append(r.Lines, ReplyLine{Text: l, Item: i % 3, ItemID: int64(i%5) * 1000})
		}
		cmds, _ := ParseCommands(r)
		for _, c := range cmds {
			norm := c.String()
			back, errs := ParseCommands(Reply{Lines: []ReplyLine{{Text: norm}}})
			if len(errs) > 0 || len(back) != 1 {
				t.Fatalf("%q from %q reads back as %v, %v", norm, c.Raw, back, errs)
			}
			b := back[0]
			b.Line, b.Raw = c.Line, c.Raw
			if !reflect.DeepEqual(b, c) {
				t.Fatalf("%q reads back as %#v, want %#v", norm, b, c)
			}
			if len(c.Expand()) != max(1, len(c.Targets)) {
				t.Fatalf("%v expands to %d commands", c, len(c.Expand()))
			}
		}
	})
}
