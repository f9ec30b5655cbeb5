package mail

// This file finds what a moderator typed in a reply to a digest: their
// own lines, without quotes, attributions, forwarded messages, the
// digest quoted back without quote marks, and signatures.

import (
	"strings"
)

// Reply is what a person wrote in a reply, without what their mail
// program quoted.
type Reply struct {
	// Text is the sender's own text, quotes and signature removed; where
	// quoted text stood between own lines there is a blank line.
	Text string
	// Lines are Text's lines, each with its context.
	Lines []ReplyLine
	// FromHTML is set when the own text was read from the HTML part
	// because the message has no usable plain text part.
	FromHTML bool
}

// ReplyLine is one line of a Reply.
type ReplyLine struct {
	Text string
	// Item is the digest item number of the quoted item this line stands
	// under in an interleaved reply (0 when none): "approve" typed under
	// the quoted "3. #1042 — ..." means item 3.
	Item int
	// ItemID is the stable id printed with Item in that quoted header
	// (1042 above), 0 for a feedback item. A command that takes its
	// number from the quote carries both, and the digest's item 3 must
	// be #1042 for it to apply.
	ItemID int64
}

// ExtractReply returns what the sender of m wrote themselves.
//
// The plain text part is read when it carries text; the HTML part only
// when there is no plain part or it is an empty stub, and then the HTML
// quoting elements of Gmail, Apple Mail, Thunderbird, Outlook, Yahoo and
// ProtonMail mark the quote. Dropped are: lines quoted with ">" at any
// depth and the attribution above them ("On <date>, <name> wrote:" and
// its translations); everything from an original-message separator, a
// rule line, Outlook's "From: … Sent: …" block or an attribution above
// unmarked text on (such quotes have no marks); everything from the first
// line of modbot's own digest or confirmation quoted without marks on;
// the "-- " signature and everything after it; paragraphs of one-line
// phone signatures ("Sent from my iPhone"). Own lines between quoted ones
// are kept, with the number and the #id of the digest item quoted above
// them; an item header counts only in the digest's own shape at the start
// of a quoted line, never on a line of commenter data (see quoted).
//
// ExtractReply never fails: HTML it cannot read (nested deeper than 512
// elements) gives an empty Reply, which holds no commands.
func ExtractReply(m *Message) Reply {
	return extractReply(m, extractOptions{})
}

type extractOptions struct {
	// keepSignature leaves signatures in: measuring against corpora that
	// keep them.
	keepSignature bool
}

func extractReply(m *Message, opts extractOptions) Reply {
	if m == nil {
		return Reply{}
	}
	text := normalizeText(m.Text)
	if m.HTML == "" || !m.HTMLOnly && !isStubText(text) {
		return classifyReply(textReplyLines(text), opts)
	}
	lines, ok := htmlReplyLines(m.HTML)
	if !ok {
		return Reply{FromHTML: true}
	}
	r := classifyReply(lines, opts)
	r.FromHTML = true
	return r
}

// isStubText reports a plain part that stands in for the HTML one: empty,
// or one short line about HTML.
func isStubText(s string) bool {
	s = replyClean(s)
	if s == "" {
		return true
	}
	return len(s) < 200 && !strings.Contains(s, "\n") && strings.Contains(strings.ToLower(s), "html")
}

// rline is one line of a reply before classification.
type rline struct {
	text  string // the line without its quote markers
	depth int    // how deeply it is quoted: ">" markers, or HTML quoting elements around it
}

// textReplyLines splits a plain text body into lines and reads their
// quote markers.
func textReplyLines(text string) []rline {
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	raw := strings.Split(text, "\n")
	lines := make([]rline, len(raw))
	for i, l := range raw {
		d, rest := quoteDepth(l)
		lines[i] = rline{text: rest, depth: d}
	}
	return lines
}

// quoteDepth counts the quote markers a line starts with: ">" (up to
// three spaces before the first, any between them), or the initials
// Supercite puts before one ("JD>"). rest is the line after them and the
// space that follows them.
func quoteDepth(s string) (depth int, rest string) {
	i := 0
	for j := 0; j < 3 && i < len(s) && s[i] == ' '; j++ {
		i++
	}
	if i < len(s) && s[i] != '>' {
		// Supercite: one to three capitals, then ">".
		k := i
		for k < len(s) && k-i < 3 && s[k] >= 'A' && s[k] <= 'Z' {
			k++
		}
		if k > i && k < len(s) && s[k] == '>' {
			i = k
		}
	}
	if i >= len(s) || s[i] != '>' {
		return 0, s
	}
	end := i
	for end < len(s) {
		if s[end] == '>' {
			depth++
			end++
			for end < len(s) && (s[end] == ' ' || s[end] == '\t') && end+1 < len(s) && s[end+1] == '>' {
				end++
			}
			continue
		}
		break
	}
	return depth, strings.TrimPrefix(s[end:], " ")
}

// classifier walks the lines of a reply once, top to bottom.
type classifier struct {
	lines []rline
	clean []string // each line as replyClean leaves it
	kinds []int8   // each line's header field kind, -1 until known
	opts  extractOptions

	out      []ReplyLine
	item     int   // digest item quoted above the current position
	itemID   int64 // the #id printed with item in its header
	feedback bool  // in the quoted digest's feedback section
	gap      bool  // quoted or dropped lines since the last kept line
}

func classifyReply(lines []rline, opts extractOptions) Reply {
	c := &classifier{lines: lines, opts: opts, clean: make([]string, len(lines)), kinds: make([]int8, len(lines))}
	for i, l := range lines {
		c.clean[i] = replyClean(l.text)
		c.kinds[i] = -1
	}
	c.run()
	out := c.out
	if !opts.keepSignature {
		out = dropSignatures(out)
	}
	out = tidyReplyLines(out)
	var b strings.Builder
	for i, l := range out {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.Text)
	}
	return Reply{Text: b.String(), Lines: out}
}

func (c *classifier) run() {
	fence := false
	for i := 0; i < len(c.lines); {
		l, s := c.lines[i], c.clean[i]
		if l.depth > 0 {
			c.quoted(i)
			c.gap = true
			i++
			continue
		}
		if s == "" {
			c.out = append(c.out, ReplyLine{Item: c.item, ItemID: c.itemID})
			i++
			continue
		}
		if isDigestLine(s, l.text) {
			return
		}
		if isFence(s) {
			fence = !fence
		}
		if isCommandLine(s) || isFence(s) {
			c.keep(i)
			i++
			continue
		}
		// In a code block, rules and "--" are code; everything else
		// below still ends the own text.
		if !fence && isSigDelimiter(l.text) {
			if !c.opts.keepSignature {
				return
			}
			c.keep(i)
			i++
			continue
		}
		if !fence && isRuleLine(s) {
			return
		}
		if separator(s) {
			// An original or forwarded message, even with nothing
			// typed above it: forwarded text is not what the sender
			// typed.
			return
		}
		if c.headerBlock(i) > i {
			return
		}
		if end := c.attribution(i); end >= i {
			if c.quoteFollows(end + 1) {
				i = end + 1
				c.gap = true
				continue
			}
			// Above unmarked text the attribution starts a quote
			// (Outlook's mobile apps), even with nothing typed
			// above it.
			return
		}
		if isWeakAttribution(s) && c.quoteFollows(i+1) {
			i++
			c.gap = true
			continue
		}
		c.keep(i)
		i++
	}
}

// keep adds line i to the own lines.
func (c *classifier) keep(i int) {
	if c.gap && len(c.out) > 0 {
		c.out = append(c.out, ReplyLine{Item: c.item, ItemID: c.itemID})
	}
	c.gap = false
	c.out = append(c.out, ReplyLine{Text: strings.TrimRight(c.lines[i].text, " \t\u00a0"), Item: c.item, ItemID: c.itemID})
}

// quoted follows the quoted digest to know which item own lines after
// line i answer. Only the digest's own structure counts: a line of
// commenter data, which the digest marks with a bar ("| "), is skipped
// whatever it says, and an item header must start its line (after the
// quote markers) in exactly the shape the digest prints, "3. #1042 — "
// in the text part or "3 #1042 — " as the HTML part reads, so that text
// the digest indents (wrapped names, subjects, evidence of digests from
// before the bar) is never taken for one.
func (c *classifier) quoted(i int) {
	s := c.clean[i]
	if s == "" || isDataLine(s) {
		return
	}
	raw := c.lines[i].text
	if n, id, ok := digestItemHeader(raw); ok {
		c.item, c.itemID = n, id
		c.feedback = false
		return
	}
	if isRuleLine(s) {
		c.item, c.itemID = 0, 0
		return
	}
	if fb, ok := digestSection(s); ok {
		c.item, c.itemID, c.feedback = 0, 0, fb
		return
	}
	if !c.feedback {
		return
	}
	if m := digestFeedbackRE.FindStringSubmatch(raw); m != nil {
		c.item, c.itemID = atoiSmall(m[1]), 0
		return
	}
	// The HTML digest heads a feedback message with its number and
	// subject; the next line starts "From".
	if m := digestHTMLFbRE.FindStringSubmatch(raw); m != nil {
		for j := i + 1; j < len(c.lines) && c.lines[j].depth > 0; j++ {
			if c.clean[j] == "" {
				continue
			}
			if strings.HasPrefix(c.clean[j], "From ") {
				c.item, c.itemID = atoiSmall(m[1]), 0
			}
			break
		}
	}
}

// quoteFollows reports whether the first non-blank line from i on is
// quoted.
func (c *classifier) quoteFollows(i int) bool {
	for ; i < len(c.lines); i++ {
		if c.lines[i].depth > 0 {
			return true
		}
		if c.clean[i] != "" {
			return false
		}
	}
	return false
}

// attribution returns the last line of the attribution that starts at
// line i, or -1. An attribution may be wrapped over a few lines, even
// with a blank line or a line the wrapping made look quoted ("> wrote:").
func (c *classifier) attribution(i int) int {
	s := c.clean[i]
	if !mayStartAttribution(s) {
		return -1
	}
	if isAttribution(s) {
		return i
	}
	joined := s
	blanks, more := 0, 0
	for j := i + 1; j < len(c.lines) && len(joined) <= 400; j++ {
		t := c.clean[j]
		if t == "" {
			if blanks++; blanks > 1 {
				break
			}
			continue
		}
		if c.lines[j].depth > 0 && len(t) > 12 || isCommandLine(t) {
			break
		}
		if more++; more > 3 {
			break
		}
		joined += " " + t
		if isAttribution(joined) {
			if !strongAttributionStart(s) && c.laterAttribution(i+1, j) {
				// "… from @elberet …" above "Op 16 aug. … het" /
				// "volgende geschreven:": the attribution starts
				// below.
				return -1
			}
			return j
		}
	}
	return -1
}

// laterAttribution reports whether an attribution that starts on one of
// the lines from..end ends at line end.
func (c *classifier) laterAttribution(from, end int) bool {
	for k := from; k <= end; k++ {
		if !mayStartAttribution(c.clean[k]) {
			continue
		}
		joined := c.clean[k]
		for j := k + 1; j <= end; j++ {
			if c.clean[j] != "" {
				joined += " " + c.clean[j]
			}
		}
		if isAttribution(joined) {
			return true
		}
	}
	return false
}

// maxHeaderBlock bounds the lines a header block may have, and so the work
// of looking for one at every line.
const maxHeaderBlock = 24

// headerBlock returns the end of the header block (exclusive) that
// starts at line i: at least three lines of header fields naming the
// sender and two of date, recipient and subject, as Outlook writes above
// its quote. It returns i when there is none.
func (c *classifier) headerBlock(i int) int {
	if c.fieldKind(i) == 0 {
		return i
	}
	var kinds [hdrSubject + 1]bool
	end, cont := i, 0
	for j := i; j < len(c.lines) && j < i+maxHeaderBlock && c.lines[j].depth == 0; j++ {
		s := c.clean[j]
		if s == "" {
			break
		}
		if k := c.fieldKind(j); k != 0 {
			kinds[k] = true
			end, cont = j+1, 0
			continue
		}
		// A wrapped value.
		if cont++; cont > 2 {
			break
		}
	}
	others := 0
	for _, k := range []int{hdrDate, hdrTo, hdrSubject} {
		if kinds[k] {
			others++
		}
	}
	if !kinds[hdrFrom] || others < 2 {
		return i
	}
	return end
}

// fieldKind is the header field kind line i starts with, or 0.
func (c *classifier) fieldKind(i int) int {
	if c.kinds[i] < 0 {
		c.kinds[i] = int8(headerFieldKind(c.clean[i]))
	}
	return int(c.kinds[i])
}

// dropSignatures removes paragraphs made only of one-line signatures
// ("Sent from my iPhone"); a signature-like line in a paragraph with other
// text is the sender's text.
func dropSignatures(lines []ReplyLine) []ReplyLine {
	out := lines[:0:0]
	for start := 0; start < len(lines); {
		if lines[start].Text == "" {
			out = append(out, lines[start])
			start++
			continue
		}
		end := start
		allSig := true
		for end < len(lines) && lines[end].Text != "" {
			if !isSignatureLine(replyClean(lines[end].Text)) {
				allSig = false
			}
			end++
		}
		if !allSig {
			out = append(out, lines[start:end]...)
		}
		start = end
	}
	return out
}

// tidyReplyLines drops blank lines at either end and keeps at most one
// in a row; lines of white space only count as blank.
func tidyReplyLines(lines []ReplyLine) []ReplyLine {
	out := lines[:0:0]
	blank := true // at the start, drop blank lines
	for _, l := range lines {
		if replyClean(l.Text) == "" {
			if blank {
				continue
			}
			blank = true
			out = append(out, ReplyLine{Item: l.Item, ItemID: l.ItemID})
			continue
		}
		blank = false
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1].Text == "" {
		out = out[:len(out)-1]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// atoiSmall reads up to six ASCII digits.
func atoiSmall(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}
