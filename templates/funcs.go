package templates

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// funcs are available to every template, text and HTML alike.
var funcs = map[string]any{
	"oneline":  oneline,
	"clip":     clip,
	"wrap":     wrap,
	"quote":    quote,
	"lines":    lines,
	"datetime": datetime,
	"plural":   plural,
	"join":     strings.Join,
	"marked":   marked,
	// markedLines is marked, cut into lines: the digest starts each
	// line of a comment with the data bar.
	"markedLines": markedLines,
}

// oneline turns s into one line: runs of white space and control
// characters become one space, so a display name or subject cannot add
// lines to a message.
func oneline(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
	}), " ")
}

// clip is oneline, cut to at most n runes with an ellipsis in the middle
// so both the start and the end of long evidence stay visible.
func clip(n int, s string) string {
	s = oneline(s)
	r := []rune(s)
	if len(r) <= n || n < 5 {
		return s
	}
	head := (n - 1) / 2
	tail := n - 1 - head
	return strings.TrimRight(string(r[:head]), " ") + "…" + strings.TrimLeft(string(r[len(r)-tail:]), " ")
}

// wrap breaks each line of s at spaces so that no line is longer than
// width runes where a break is possible, starting the first line with
// first and every other with rest. Words longer than the width (links)
// are kept whole.
func wrap(width int, first, rest, s string) string {
	var b strings.Builder
	prefix := first
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		for {
			room := width - utf8.RuneCountInString(prefix)
			cut := breakAt(line, room)
			b.WriteString(prefix)
			b.WriteString(line[:cut])
			b.WriteByte('\n')
			prefix = rest
			if cut == len(line) {
				break
			}
			line = strings.TrimLeft(line[cut:], " ")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// breakAt returns where to end a line of at most room runes taken from
// the start of s: at the last space that fits, or after the first word
// when even that does not fit.
func breakAt(s string, room int) int {
	if utf8.RuneCountInString(s) <= room {
		return len(s)
	}
	last := -1
	n := 0
	for i, r := range s {
		if n > room {
			break
		}
		if r == ' ' && i > 0 {
			last = i
		}
		n++
	}
	if last > 0 && strings.TrimLeft(s[:last], " ") != "" {
		return last
	}
	if i := strings.IndexByte(strings.TrimLeft(s, " "), ' '); i >= 0 {
		return len(s) - len(strings.TrimLeft(s, " ")) + i
	}
	return len(s)
}

// quote shows a text someone else wrote in the text part: every line
// starts with "   | ", so nothing in it can pass for a heading of the
// digest or for a moderator's command, and long lines are wrapped.
func quote(s string) string {
	s = strings.TrimRight(breaksToLF(s), "\n \t")
	return wrap(76, "   "+DataBar+" ", "   "+DataBar+" ", s)
}

// lines splits s into its lines for the HTML part, which joins them with
// <br> so the breaks survive clients that ignore white-space: pre-wrap.
func lines(s string) []string {
	return strings.Split(breaksToLF(s), "\n")
}

// lineBreaks are the characters a reader or a mail program may show as
// a line break: each starts a line of its own, so that the line gets the
// marking of the text around it.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\v", "\n", "\f", "\n",
	"\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

// breaksToLF turns every line break into "\n".
func breaksToLF(s string) string {
	if strings.ContainsAny(s, "\r\v\f\u0085\u2028\u2029") {
		return lineBreaks.Replace(s)
	}
	return s
}

// datetime formats t for people, in t's own time zone.
func datetime(t time.Time) string {
	if t.IsZero() {
		return "unknown time"
	}
	return t.Format("Mon 2 Jan 2006 15:04 MST")
}

// plural returns "1 comment" or "3 comments".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// segment is a piece of a comment body, marked when a precheck hit
// covers it.
type segment struct {
	Text  string
	Mark  bool
	Rules string // "rule 3, rule 12" for a marked segment
}

// marked cuts body into segments so the HTML part can highlight the
// evidence of hits. Hits whose offsets do not fit the body (it may have
// been edited since) are left out; overlapping hits make one mark.
func marked(body string, hits []Hit) []segment {
	type span struct {
		start, end int
		rules      []int
	}
	var spans []span
	for _, h := range hits {
		if h.Start < 0 || h.Start >= h.End || h.End > len(body) ||
			!utf8.ValidString(body[h.Start:h.End]) || !boundary(body, h.Start) || !boundary(body, h.End) {
			continue
		}
		spans = append(spans, span{h.Start, h.End, []int{h.Rule}})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var merged []span
	for _, s := range spans {
		if n := len(merged); n > 0 && s.start < merged[n-1].end {
			m := &merged[n-1]
			m.end = max(m.end, s.end)
			m.rules = append(m.rules, s.rules...)
			continue
		}
		merged = append(merged, s)
	}
	var out []segment
	at := 0
	for _, s := range merged {
		if at < s.start {
			out = append(out, segment{Text: body[at:s.start]})
		}
		out = append(out, segment{Text: body[s.start:s.end], Mark: true, Rules: ruleList(s.rules)})
		at = s.end
	}
	if at < len(body) {
		out = append(out, segment{Text: body[at:]})
	}
	return out
}

// markedLines is marked(body, hits) cut at line breaks: one slice of
// segments a line, so that a template can start every line of a comment
// with a mark of its own, also inside a highlighted passage.
func markedLines(body string, hits []Hit) [][]segment {
	out := [][]segment{nil}
	for _, seg := range marked(body, hits) {
		for i, l := range lines(seg.Text) {
			if i > 0 {
				out = append(out, nil)
			}
			if l != "" {
				s := seg
				s.Text = l
				out[len(out)-1] = append(out[len(out)-1], s)
			}
		}
	}
	return out
}

func boundary(s string, i int) bool {
	return i == len(s) || utf8.RuneStart(s[i])
}

func ruleList(rules []int) string {
	sort.Ints(rules)
	var parts []string
	for i, r := range rules {
		if i > 0 && rules[i-1] == r {
			continue
		}
		parts = append(parts, fmt.Sprintf("rule %d", r))
	}
	return strings.Join(parts, ", ")
}
