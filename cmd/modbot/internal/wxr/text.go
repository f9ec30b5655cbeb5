package wxr

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Text turns a comment's content, as WordPress stores it (text whose
// line breaks are the paragraphs, with the few tags WordPress lets
// commenters use), into the plain text the published store holds: tags
// go, links keep their address, quotes become "> " lines, and entities
// are decoded.
func Text(content string) string {
	z := html.NewTokenizer(strings.NewReader(content))
	w := &textWriter{lineStart: true}
	var hrefs []string // of the open <a> elements
	skip := 0          // inside <script> or <style>
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// io.EOF, or a tokenizer limit: what was read so far is the text.
			return w.String()
		case html.TextToken:
			if skip == 0 {
				w.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			end := tt == html.EndTagToken
			switch a {
			case atom.Script, atom.Style:
				if tt == html.StartTagToken {
					skip++
				} else if end && skip > 0 {
					skip--
				}
			case atom.Br:
				w.text("\n")
			case atom.P, atom.Div:
				w.paragraph()
			case atom.Blockquote:
				w.paragraph()
				if end {
					w.quote = max(w.quote-1, 0)
				} else {
					w.quote++
				}
			case atom.Li:
				if !end {
					w.newline()
					w.text("- ")
				}
			case atom.Ul, atom.Ol:
				w.newline()
			case atom.A:
				switch {
				case end && len(hrefs) > 0:
					href := hrefs[len(hrefs)-1]
					hrefs = hrefs[:len(hrefs)-1]
					if href != "" && !strings.Contains(w.lastText, href) {
						w.text(" (" + href + ")")
					}
				case tt == html.StartTagToken:
					href := ""
					for hasAttr {
						var k, v []byte
						k, v, hasAttr = z.TagAttr()
						if string(k) == "href" {
							href = strings.TrimSpace(string(v))
						}
					}
					if !strings.HasPrefix(href, "http://") && !strings.HasPrefix(href, "https://") {
						href = "" // a mailto: or javascript: link shows its text only
					}
					hrefs = append(hrefs, href)
					w.lastText = ""
				}
			}
		}
	}
}

// textWriter builds the text, prefixing quoted lines.
type textWriter struct {
	b         strings.Builder
	lineStart bool
	quote     int
	lastText  string // text since the last <a>, to see whether a link shows its address
}

func (w *textWriter) text(s string) {
	w.lastText += s
	for s != "" {
		if w.lineStart && w.quote > 0 && s[0] != '\n' {
			w.b.WriteString(strings.Repeat("> ", w.quote))
		}
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			w.b.WriteString(s)
			w.lineStart = false
			return
		}
		w.b.WriteString(s[:i+1])
		w.lineStart = true
		s = s[i+1:]
	}
}

func (w *textWriter) newline() {
	if !w.lineStart {
		w.text("\n")
	}
}

func (w *textWriter) paragraph() {
	w.newline()
	if w.b.Len() > 0 && !strings.HasSuffix(w.b.String(), "\n\n") {
		w.b.WriteString("\n")
	}
}

var (
	trailingSpace = regexp.MustCompile(`[ \t]+\n`)
	blankLines    = regexp.MustCompile(`\n{3,}`)
)

func (w *textWriter) String() string {
	s := strings.ReplaceAll(w.b.String(), "\r\n", "\n")
	s = trailingSpace.ReplaceAllString(s, "\n")
	s = blankLines.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}
