package precheck

import (
	"slices"
	"sort"
	"strings"
)

// ArrestLinks finds links to articles about arrests, charges or
// accusations: a link whose address has such a word in it
// (".../man-arrested-after-...") is a hit with Severity; a link with such
// words next to it, in the same line or the sentence that leads into it,
// is one with ContextSeverity. The evidence is the link. Words are
// matched as in Terms. The zero value finds nothing: Terms is required.
type ArrestLinks struct {
	Rule            int      // default RuleArrestLinks
	Title           string   // default TitleArrestLinks
	Severity        Severity // for a word in the address (default Hold)
	ContextSeverity Severity // for a word next to the link (default Flag)

	// Terms are words and phrases about arrests and accusations.
	Terms []string
	// Allow lists phrases under which a term does not count.
	Allow []string

	compiled compiledTerms
}

func (c *ArrestLinks) terms() *termSet {
	return c.compiled.get(func() *termSet { return newTermSet(c.Terms, nil, c.Allow, nil, nil) })
}

// Check implements Check. An ArrestLinks must not be copied after first
// use.
func (c *ArrestLinks) Check(in *Input) []Hit { return checkTerms(c, &c.compiled, in) }

// contextBefore is how far before a link its lead-in may start.
const contextBefore = 160

func (c *ArrestLinks) termHits(t *text, ms []termMatch) []Hit {
	if len(ms) == 0 {
		return nil
	}
	var links []link
	for _, l := range t.links() {
		if l.kind != linkBare {
			links = append(links, l)
		}
	}
	if len(links) == 0 {
		return nil
	}
	// The set's own filtering (allowed phrases, overlaps) first; the hits
	// it returns are the matched words.
	words := c.terms().hits(t, ms, func(*Hit, int) {})
	slices.SortStableFunc(words, func(a, b Hit) int { return a.Start - b.Start })
	body := t.body
	// Which words are in a link, and for each word the next one that is
	// not: with links and words both in order, every link looks only at
	// the words inside it, those up to contextBefore (plus the longest
	// word) before it, and the first free word after it. Linear in the
	// links and words, where comparing each link with every word was
	// quadratic (cubic with inAnyLink) in a comment made of links.
	inLink := make([]bool, len(words))
	maxLen := 0
	for i, w := range words {
		inLink[i] = inAnyLink(links, w.Start, w.End)
		maxLen = max(maxLen, w.End-w.Start)
	}
	nextFree := make([]int, len(words)+1)
	nextFree[len(words)] = len(words)
	for i := len(words) - 1; i >= 0; i-- {
		nextFree[i] = nextFree[i+1]
		if !inLink[i] {
			nextFree[i] = i
		}
	}
	var hits []Hit
	for _, l := range links {
		inURL, near := "", ""
		i, _ := slices.BinarySearchFunc(words, l.start-contextBefore-maxLen, func(w Hit, at int) int { return w.Start - at })
		for ; i < len(words) && words[i].Start < l.end; i++ {
			w := words[i]
			switch {
			case w.Start >= l.start && w.End <= l.end:
				if inURL == "" && w.Start > l.start+hostEnd(body[l.start:l.end]) {
					inURL = w.Evidence
				}
			case near == "" && !inLink[i] && nearLink(body, l, w.Start, w.End):
				near = w.Evidence
			}
		}
		if j := nextFree[i]; near == "" && j < len(words) && nearLink(body, l, words[j].Start, words[j].End) {
			near = words[j].Evidence
		}
		h := Hit{
			Rule:  orDefault(c.Rule, RuleArrestLinks),
			Title: orDefault(c.Title, TitleArrestLinks),
			Start: l.start, End: l.end, Evidence: body[l.start:l.end],
		}
		const only = "the site links to convictions only, not arrests or accusations"
		switch {
		case inURL != "":
			h.Severity = orDefault(c.Severity, Hold)
			h.Explanation = `the link's address says "` + oneLine(inURL) + `"; ` + only
		case near != "":
			h.Severity = orDefault(c.ContextSeverity, Flag)
			h.Explanation = `the text with the link says "` + oneLine(near) + `"; ` + only
		default:
			continue
		}
		hits = append(hits, h)
	}
	return hits
}

// hostEnd returns the offset in a link's text where its path starts.
func hostEnd(u string) int {
	start := 0
	if i := strings.Index(u, "//"); i >= 0 {
		start = i + 2
	}
	if i := strings.IndexAny(u[start:], "/?#"); i >= 0 {
		return start + i
	}
	return len(u)
}

// inAnyLink reports whether [start, end) overlaps one of links, which
// are in order and do not overlap each other.
func inAnyLink(links []link, start, end int) bool {
	i := sort.Search(len(links), func(i int) bool { return links[i].end > start })
	return i < len(links) && links[i].start < end
}

// nearLink reports whether [start, end) is on the link's line, or leads
// into it: before it, within contextBefore bytes, with no blank line or
// other link between.
func nearLink(body string, l link, start, end int) bool {
	if start >= l.end {
		return !strings.Contains(body[l.end:start], "\n")
	}
	if l.start-end > contextBefore {
		return false
	}
	return !strings.Contains(body[end:l.start], "\n\n")
}
