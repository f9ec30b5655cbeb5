package precheck

import "strings"

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
	body := t.body
	var hits []Hit
	for _, l := range links {
		inURL, near := "", ""
		for _, w := range words {
			switch {
			case w.Start >= l.start && w.End <= l.end:
				if inURL == "" && w.Start > l.start+hostEnd(body[l.start:l.end]) {
					inURL = w.Evidence
				}
			case near == "" && !inAnyLink(links, w.Start, w.End) && nearLink(body, l, w.Start, w.End):
				near = w.Evidence
			}
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

func inAnyLink(links []link, start, end int) bool {
	for _, l := range links {
		if l.start < end && start < l.end {
			return true
		}
	}
	return false
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
