package templates

import (
	"html"
	htmltemplate "html/template"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BodySpan is a piece of a line of a comment: plain text, or a link when URL
// is set (then Text is the address as the commenter wrote it).
type BodySpan struct {
	Text, URL string
}

// BodyLine is one line of a paragraph.
type BodyLine []BodySpan

// BodyParagraph is a run of lines between blank lines.
type BodyParagraph []BodyLine

// Linkify cuts a comment body into paragraphs and lines and finds the
// http and https addresses in it. It returns pieces, never markup: the
// template escapes each of them, so nothing the commenter wrote can
// become a tag, an attribute or another kind of link.
func Linkify(body string) []BodyParagraph {
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
	var paras []BodyParagraph
	var cur BodyParagraph
	for _, l := range strings.Split(body, "\n") {
		if strings.TrimSpace(l) == "" {
			if len(cur) > 0 {
				paras = append(paras, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, linkifyLine(strings.TrimRight(l, " \t")))
	}
	if len(cur) > 0 {
		paras = append(paras, cur)
	}
	return paras
}

func linkifyLine(s string) BodyLine {
	var out BodyLine
	text := 0 // start of the text not yet emitted
	for i := 0; i < len(s); {
		j := urlStart(s, i)
		if j < 0 {
			break
		}
		end := j + urlLen(s[j:])
		link := s[j:end]
		if !linkable(link) {
			i = end
			if i == j {
				i++
			}
			continue
		}
		if text < j {
			out = append(out, BodySpan{Text: s[text:j]})
		}
		out = append(out, BodySpan{Text: link, URL: link})
		text, i = end, end
	}
	if text < len(s) {
		out = append(out, BodySpan{Text: s[text:]})
	}
	return out
}

// urlStart finds the next "http://" or "https://" at or after i that does
// not continue a word (so "xhttp://" is not a link).
func urlStart(s string, i int) int {
	for i < len(s) {
		k := indexFold(s[i:], "http")
		if k < 0 {
			return -1
		}
		at := i + k
		rest := s[at:]
		if (hasPrefixFold(rest, "http://") || hasPrefixFold(rest, "https://")) && !wordBefore(s, at) {
			return at
		}
		i = at + 4
	}
	return -1
}

func wordBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '/' || r == '.' || r == '@'
}

// urlLen is the length of the address that starts s: up to white space,
// a control or formatting character (bidi overrides, zero-width spaces),
// or a character that cannot be in an address, without trailing
// punctuation and unmatched closing brackets.
func urlLen(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
			strings.ContainsRune("<>\"`{}|\\^", r) {
			break
		}
		n += size
	}
	for n > 0 {
		u := s[:n]
		last := u[n-1]
		switch {
		case strings.IndexByte(".,:;!?'*_~", last) >= 0:
			n--
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"),
			last == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
			n--
		default:
			return n
		}
	}
	return n
}

// linkable reports whether an address found in text may become a link:
// http or https with a host, and no user name, which is how
// "https://bank.example@evil.example" passes for a bank.
func linkable(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Host == "" || u.Hostname() == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if hasPrefixFold(s[i:], sub) {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// BodyHTML is a comment body as HTML: paragraphs, line breaks and links,
// every character the commenter wrote escaped. It is built here rather
// than by a template loop because a page of thousands of comments spends
// most of its time there; linkTarget is the links' target attribute
// ("" for none).
func BodyHTML(body, linkTarget string) htmltemplate.HTML {
	var b strings.Builder
	b.Grow(len(body) + len(body)/8 + 16)
	target := ""
	if linkTarget != "" {
		target = ` target="` + html.EscapeString(linkTarget) + `"`
	}
	for _, p := range Linkify(body) {
		b.WriteString("<p>")
		for i, line := range p {
			if i > 0 {
				b.WriteString("<br>\n")
			}
			for _, sp := range line {
				if sp.URL == "" {
					b.WriteString(html.EscapeString(sp.Text))
					continue
				}
				b.WriteString(`<a href="`)
				b.WriteString(html.EscapeString(sp.URL))
				b.WriteString(`" rel="nofollow ugc noopener"`)
				b.WriteString(target)
				b.WriteString(`>`)
				b.WriteString(html.EscapeString(sp.Text))
				b.WriteString(`</a>`)
			}
		}
		b.WriteString("</p>\n")
	}
	return htmltemplate.HTML(b.String()) //nolint:gosec // built from escaped pieces above
}
