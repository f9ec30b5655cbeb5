package mail

// This file turns decoded body text into what a person reads: line ends,
// format=flowed and HTML.

import (
	"bytes"
	"strings"

	"github.com/k3a/html2text"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// normalizeText turns CRLF and lone CR into LF and drops NUL bytes, which
// no text needs and some databases refuse.
func normalizeText(s string) string {
	if strings.ContainsRune(s, '\r') {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// unflow undoes format=flowed (RFC 3676): a line ending in a space
// continues on the next line of the same quote depth.
func unflow(s string, delsp bool) string {
	lines := strings.Split(s, "\n")
	var (
		out    bytes.Buffer
		para   strings.Builder
		pDepth = -1 // quote depth of the open paragraph, -1 for none
	)
	flush := func() {
		if pDepth < 0 {
			return
		}
		if pDepth > 0 {
			out.WriteString(strings.Repeat(">", pDepth))
			out.WriteByte(' ')
		}
		out.WriteString(para.String())
		out.WriteByte('\n')
		para.Reset()
		pDepth = -1
	}
	for i, line := range lines {
		if i == len(lines)-1 && line == "" {
			break // the text's final line end
		}
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		content := strings.TrimPrefix(line[depth:], " ") // space-stuffing
		if pDepth >= 0 && depth != pDepth {
			flush()
		}
		flowed := strings.HasSuffix(content, " ") && content != "-- "
		if flowed && delsp {
			content = content[:len(content)-1]
		}
		para.WriteString(content)
		pDepth = depth
		if !flowed {
			flush()
		}
	}
	flush()
	res := out.String()
	if !strings.HasSuffix(s, "\n") {
		res = strings.TrimSuffix(res, "\n")
	}
	return res
}

// htmlToText turns an HTML body into the text a person sees. The HTML is
// first rewritten from the tokens of a real HTML tokenizer into plain
// markup html2text handles well: html2text scans tags naively, and
// script or style content must never reach the text. The tokenizer,
// unlike the tree parser, has no nesting limit and works in linear time.
func htmlToText(s string) string {
	var (
		b     strings.Builder
		z     = html.NewTokenizer(strings.NewReader(s))
		hide  atom.Atom // the hidden element being skipped, if any
		links []bool    // for each open <a>: whether it was written out
		brk   = true    // the last thing written ends a line
	)
	lineBreak := func() {
		if !brk {
			b.WriteString("<br>")
			brk = true
		}
	}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		name, hasAttr := z.TagName()
		a := atom.Lookup(name)
		if hide != 0 {
			if tt == html.EndTagToken && a == hide {
				hide = 0
			}
			continue
		}
		switch tt {
		case html.TextToken:
			t := z.Text()
			b.WriteString(html.EscapeString(string(t)))
			if len(bytes.TrimSpace(t)) > 0 {
				brk = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			switch {
			case isHidden(a):
				if tt == html.StartTagToken {
					hide = a
				}
			case a == atom.Br:
				b.WriteString("<br>")
				brk = true
			case a == atom.P || a == atom.Li || isHeading(a):
				b.WriteString("<" + a.String() + ">")
			case a == atom.A && tt == html.StartTagToken:
				href := linkHref(z, hasAttr)
				if href != "" {
					b.WriteString(`<a href="` + html.EscapeString(href) + `">`)
				}
				links = append(links, href != "")
			case isBlock(a):
				lineBreak()
			}
		case html.EndTagToken:
			switch {
			case a == atom.P || a == atom.Li || isHeading(a):
				b.WriteString("</" + a.String() + ">")
			case a == atom.A && len(links) > 0:
				if links[len(links)-1] {
					b.WriteString("</a>")
				}
				links = links[:len(links)-1]
			case isBlock(a):
				lineBreak()
			}
		}
	}
	t := html2text.HTML2TextWithOptions(b.String(), html2text.WithUnixLineBreaks(), html2text.WithLinksInnerText())
	return tidyLines(t)
}

// isHidden reports whether an element's content is never shown as text.
func isHidden(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Template, atom.Iframe,
		atom.Object, atom.Noembed, atom.Noframes, atom.Svg, atom.Math:
		return true
	}
	return false
}

func isHeading(a atom.Atom) bool {
	switch a {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return true
	}
	return false
}

// isBlock reports whether an element starts and ends a line, which
// html2text does not do for it by itself.
func isBlock(a atom.Atom) bool {
	switch a {
	case atom.Div, atom.Tr, atom.Blockquote, atom.Pre, atom.Table, atom.Section,
		atom.Article, atom.Header, atom.Footer, atom.Dd, atom.Dt, atom.Address,
		atom.Ul, atom.Ol, atom.Hr:
		return true
	}
	return false
}

// linkHref returns the href of the current <a> tag when it is worth
// showing; links without one would make html2text hide the text after
// them.
func linkHref(z *html.Tokenizer, more bool) string {
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		if string(k) == "href" {
			href := strings.TrimSpace(string(v))
			if href == "" || strings.HasPrefix(strings.ToLower(href), "javascript:") {
				return ""
			}
			return href
		}
	}
	return ""
}

// tidyLines trims each line and keeps at most one blank line in a row.
func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
