package mail

// This file turns the HTML part of a reply into lines of text that know
// how deeply they are quoted, from the elements mail programs quote with.

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlReplyLines renders an HTML body as the lines a reader sees, each
// with the number of quoting elements around it. Elements that start
// Outlook's unmarked quote make everything after them quoted. ok is false
// when the HTML cannot be parsed (nested deeper than 512 elements).
func htmlReplyLines(src string) (lines []rline, ok bool) {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return nil, false
	}
	w := &htmlLiner{}
	w.node(doc)
	w.endLine()
	for i, l := range w.lines {
		// A reply written as HTML may still quote with "&gt;" (Hotmail).
		if d, rest := quoteDepth(l.text); d > 0 {
			w.lines[i] = rline{text: rest, depth: l.depth + d}
		}
	}
	return w.lines, true
}

type htmlLiner struct {
	lines []rline

	cur      strings.Builder
	curDepth int
	has      bool // the line holds text, perhaps only no-break spaces
	space    bool // white space is pending before the next text

	depth int  // quoting elements open around the current node
	cut   bool // a reply header was met: the rest is quoted
	pre   int  // <pre> elements open
	// containers holds, for each open Gmail quote container, whether a
	// blockquote in it has ended: text in the container before that is
	// the attribution, after it the sender's interleaved text.
	containers []bool
}

// textDepth is the quote depth of text written now.
func (w *htmlLiner) textDepth() int {
	d := w.depth
	if n := len(w.containers); n > 0 && !w.containers[n-1] {
		d++
	}
	if w.cut && d == 0 {
		d = 1
	}
	return d
}

func (w *htmlLiner) endLine() {
	if !w.has {
		w.cur.Reset()
		w.space = false
		return
	}
	w.emit()
}

// lineBreak ends the current line even when it is empty: <br>.
func (w *htmlLiner) lineBreak() {
	if !w.has {
		w.curDepth = w.textDepth()
	}
	w.emit()
}

func (w *htmlLiner) emit() {
	w.lines = append(w.lines, rline{text: strings.TrimRight(w.cur.String(), " "), depth: w.curDepth})
	w.cur.Reset()
	w.has, w.space = false, false
}

func (w *htmlLiner) blank() {
	w.endLine()
	if n := len(w.lines); n > 0 && w.lines[n-1].text != "" {
		w.lines = append(w.lines, rline{depth: w.textDepth()})
	}
}

func (w *htmlLiner) text(s string) {
	for _, r := range s {
		switch r {
		case '\n':
			if w.pre > 0 {
				w.lineBreak()
				continue
			}
			w.space = true
		case ' ', '\t', '\r', '\f':
			if w.pre > 0 {
				w.write(' ')
				continue
			}
			w.space = true
		case '\u00a0':
			// A no-break space is visible: a paragraph of one is a
			// blank line.
			w.write(' ')
		default:
			w.write(r)
		}
	}
}

func (w *htmlLiner) write(r rune) {
	if !w.has {
		w.curDepth = w.textDepth()
		w.has = true
		w.space = false
	}
	if w.space && r != ' ' {
		w.cur.WriteByte(' ')
	}
	w.space = false
	w.cur.WriteRune(r)
}

func (w *htmlLiner) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.DocumentNode:
		w.children(n)
		return
	case html.ElementNode:
	default:
		return
	}
	if htmlHidden(n) {
		return
	}
	a := n.DataAtom
	if w.depth == 0 && htmlStartsQuote(n) {
		w.endLine()
		w.cut = true
	}
	switch a {
	case atom.Br:
		w.lineBreak()
		return
	case atom.Hr:
		w.endLine()
		return
	case atom.Td, atom.Th:
		w.space = true
		w.children(n)
		w.space = true
		return
	case atom.Img:
		return
	}
	quote := htmlIsQuote(n)
	container := htmlIsQuoteContainer(n)
	block := quote || container || htmlIsBlock(a)
	if block {
		w.endLine()
	}
	if quote {
		w.depth++
	}
	if container {
		w.containers = append(w.containers, false)
	}
	if a == atom.Pre {
		w.pre++
	}
	w.children(n)
	if a == atom.Pre {
		w.pre--
	}
	if block {
		w.endLine()
	}
	if container {
		w.containers = w.containers[:len(w.containers)-1]
	}
	if quote {
		w.depth--
		if a == atom.Blockquote && len(w.containers) > 0 {
			w.containers[len(w.containers)-1] = true
		}
	}
	if a == atom.P && !htmlHasClass(n, "MsoNormal") {
		w.blank()
	}
}

func (w *htmlLiner) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c)
	}
}

// htmlHidden reports an element whose content no reader sees.
func htmlHidden(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Head, atom.Script, atom.Style, atom.Title, atom.Template, atom.Noscript,
		atom.Iframe, atom.Object, atom.Svg, atom.Math, atom.Noembed, atom.Noframes:
		return true
	}
	for _, at := range n.Attr {
		switch at.Key {
		case "hidden":
			return true
		case "style":
			st := strings.ReplaceAll(strings.ToLower(at.Val), " ", "")
			if strings.Contains(st, "display:none") {
				return true
			}
		}
	}
	return false
}

// htmlIsQuote reports an element whose content is a quote: <blockquote>
// (Apple Mail's type="cite", Gmail's, Thunderbird's and everyone else's),
// Gmail's attribution, Thunderbird's attribution and forward, Yahoo's,
// ProtonMail's, AOL's and Zoho's quote containers.
func htmlIsQuote(n *html.Node) bool {
	if n.DataAtom == atom.Blockquote {
		return true
	}
	for _, cl := range []string{"gmail_attr", "moz-cite-prefix", "moz-forward-container",
		"yahoo_quoted", "protonmail_quote", "zmail_extra", "apple-mail-quote"} {
		if htmlHasClass(n, cl) {
			return true
		}
	}
	id := htmlAttr(n, "id")
	return strings.HasPrefix(id, "AOLMsgPart") || strings.HasPrefix(id, "yahoo_quoted")
}

// htmlIsQuoteContainer reports Gmail's quote container: its text before
// the first blockquote is the attribution, but text between blockquotes
// is what the sender typed into the quote.
func htmlIsQuoteContainer(n *html.Node) bool {
	return htmlHasClass(n, "gmail_quote") && n.DataAtom != atom.Blockquote
}

// htmlStartsQuote reports an element after which Outlook and others put
// the quoted message, unmarked: Outlook's reply header (div#divRplyFwdMsg,
// div#appendonsend, div.OutlookMessageHeader, the "border-top" div above
// the "From:" block, OLK_SRC_BODY_SECTION) and the rules Hotmail and Zimbra
// draw above their quote.
func htmlStartsQuote(n *html.Node) bool {
	id := strings.TrimPrefix(htmlAttr(n, "id"), "x_")
	switch id {
	case "divRplyFwdMsg", "appendonsend", "OLK_SRC_BODY_SECTION", "stopSpelling", "zwchr":
		return true
	}
	if htmlHasClass(n, "OutlookMessageHeader") {
		return true
	}
	if n.DataAtom != atom.Div {
		return false
	}
	st := strings.ReplaceAll(strings.ToLower(htmlAttr(n, "style")), " ", "")
	i := strings.Index(st, "border-top")
	if i < 0 {
		return false
	}
	v := st[i+len("border-top"):]
	return !strings.HasPrefix(v, ":none") && !strings.HasPrefix(v, ":0;") && v != ":0" &&
		!strings.HasPrefix(v, "-width:0") && !strings.HasPrefix(v, "-style:none")
}

func htmlIsBlock(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Dd,
		atom.Details, atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Dt, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3,
		atom.H4, atom.H5, atom.H6, atom.Header, atom.Hgroup, atom.Li, atom.Main, atom.Nav,
		atom.Ol, atom.P, atom.Pre, atom.Section, atom.Summary, atom.Table, atom.Tbody,
		atom.Tfoot, atom.Thead, atom.Tr, atom.Ul, atom.Caption, atom.Body, atom.Html:
		return true
	}
	return false
}

func htmlAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// htmlHasClass reports whether n has class cl, also with the "x_" prefix
// Outlook on the web gives the classes of a message it quotes.
func htmlHasClass(n *html.Node, cl string) bool {
	for _, c := range strings.Fields(htmlAttr(n, "class")) {
		if c == cl || c == "x_"+cl {
			return true
		}
	}
	return false
}
