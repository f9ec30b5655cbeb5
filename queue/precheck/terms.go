package precheck

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Terms finds listed words and phrases. Matching is by whole words
// ("gun" is not found in "begun"), with case folded, accents and
// full-width forms reduced, leetspeak ("g0n"), spaced letters ("g u n")
// and stretched letters ("guuun") undone, and regular plurals found
// without being listed ("guns"). A term listed with a capital matches only
// a capitalised word ("Trump", not "trump card"); one listed in capitals
// only a word in capitals ("RSO"). A word with a star inside counts as
// starred out and never matches. Phrases match across spaces and a little
// punctuation ("paypal.me"), not across the end of a sentence.
type Terms struct {
	Rule     int
	Title    string
	Severity Severity // default Flag

	// Terms are words and phrases matched whole.
	Terms []string
	// Stems are matched anywhere inside a word ("fuck" in
	// "motherfucking"); keep them for roots that hide in no innocent word.
	Stems []string
	// Allow lists phrases under which a match does not count: idioms
	// ("smoking gun") and innocent words that hold a stem ("shiitake").
	Allow []string
	// Names are words that are also names: written with a capital in the
	// middle of a sentence ("Dick Cheney") they do not count.
	Names []string
	// Explain is the hit's explanation; {match} is replaced by the text
	// found, {term} by the listed term, {starred} by the match starred
	// out. Default: `"{match}" is on this rule's list`.
	Explain string

	compiled compiledTerms
}

// compiledTerms is a term check's lists, compiled on first use.
type compiledTerms struct {
	once sync.Once
	set  *termSet
	lex  *lexicon // the set alone, for Check outside an engine
}

func (c *compiledTerms) get(build func() *termSet) *termSet {
	c.once.Do(func() {
		c.set = build()
		c.lex = newLexicon()
		c.lex.add(c.set)
	})
	return c.set
}

// termUser is a check whose work is finding terms. The engine puts the
// lists of all of them in one lexicon and scans each comment once.
type termUser interface {
	Check
	terms() *termSet
	termHits(t *text, ms []termMatch) []Hit
}

// checkTerms runs a term check on its own.
func checkTerms(u termUser, c *compiledTerms, in *Input) []Hit {
	u.terms() // compiles c
	t := newText(in.Body)
	defer t.release()
	return u.termHits(t, c.lex.scan(t.body, t.tokens(), nil))
}

func (c *Terms) terms() *termSet {
	return c.compiled.get(func() *termSet {
		return newTermSet(c.Terms, c.Stems, c.Allow, c.Names, nil)
	})
}

// Check implements Check. A Terms must not be copied after first use.
func (c *Terms) Check(in *Input) []Hit { return checkTerms(c, &c.compiled, in) }

func (c *Terms) termHits(t *text, ms []termMatch) []Hit {
	explain := orDefault(c.Explain, `"{match}" is on this rule's list`)
	return c.terms().hits(t, ms, func(h *Hit, term int) {
		h.Rule, h.Title, h.Severity = c.Rule, c.Title, orDefault(c.Severity, Flag)
		h.Explanation = c.terms().explain(explain, h.Evidence, term)
	})
}

// Labels finds derogatory labels for people and names the person-first
// wording to use instead ("sex offender" → "person required to
// register"). Matching is as for Terms.
type Labels struct {
	Rule     int      // default RuleLabels
	Title    string   // default TitleLabels
	Severity Severity // default Flag

	// Labels maps each label to its person-first alternative.
	Labels map[string]string
	// Allow lists phrases in which a label is the name of a thing, not
	// of a person ("sex offender registry").
	Allow []string
	// Explain is the explanation; {match}, {term} and {instead} are
	// replaced. Default: `"{match}" is a label; use person-first
	// language, e.g. "{instead}"`.
	Explain string

	compiled compiledTerms
}

func (c *Labels) terms() *termSet {
	return c.compiled.get(func() *termSet {
		labels := make([]string, 0, len(c.Labels))
		for l := range c.Labels {
			labels = append(labels, l)
		}
		// Longer labels first, so "registered sex offender" is explained
		// as itself rather than as "sex offender".
		slices.SortFunc(labels, func(a, b string) int {
			if d := len(b) - len(a); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		return newTermSet(labels, nil, c.Allow, nil, c.Labels)
	})
}

// Check implements Check. A Labels must not be copied after first use.
func (c *Labels) Check(in *Input) []Hit { return checkTerms(c, &c.compiled, in) }

func (c *Labels) termHits(t *text, ms []termMatch) []Hit {
	explain := orDefault(c.Explain, `"{match}" is a label; use person-first language, e.g. "{instead}"`)
	return c.terms().hits(t, ms, func(h *Hit, term int) {
		h.Rule = orDefault(c.Rule, RuleLabels)
		h.Title = orDefault(c.Title, TitleLabels)
		h.Severity = orDefault(c.Severity, Flag)
		h.Explanation = c.terms().explain(explain, h.Evidence, term)
	})
}

// hits turns the set's matches into hits: matches under an allowed
// phrase and names that only look like a listed word are dropped, and of
// overlapping matches the longest is kept. fill sets the hit's rule and
// explanation.
func (s *termSet) hits(t *text, ms []termMatch, fill func(h *Hit, term int)) []Hit {
	if len(ms) == 0 {
		return nil
	}
	toks := t.tokens()
	var allowed [][2]int
	kept := make([]termMatch, 0, len(ms))
	for _, m := range ms {
		if m.allow {
			allowed = append(allowed, [2]int{m.tokA, m.tokB})
		} else {
			kept = append(kept, m)
		}
	}
	slices.SortFunc(kept, func(a, b termMatch) int {
		if a.tokA != b.tokA {
			return a.tokA - b.tokA
		}
		if a.tokB != b.tokB {
			return b.tokB - a.tokB
		}
		return a.term - b.term
	})
	var hits []Hit
	end := -1
	for _, m := range kept {
		if m.tokA < end || underAllowed(allowed, m) {
			continue
		}
		if m.tokB-m.tokA == 1 && len(s.names) > 0 && s.names[string(toks[m.tokA].folded)] &&
			looksLikeName(t.body, toks[m.tokA]) {
			continue
		}
		end = m.tokB
		h := Hit{Start: toks[m.tokA].start, End: toks[m.tokB-1].end}
		h.Evidence = t.body[h.Start:h.End]
		fill(&h, m.term)
		hits = append(hits, h)
	}
	return hits
}

func underAllowed(allowed [][2]int, m termMatch) bool {
	for _, a := range allowed {
		if a[0] < m.tokB && m.tokA < a[1] {
			return true
		}
	}
	return false
}

// explain fills in an explanation template.
func (s *termSet) explain(tmpl, match string, term int) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	return strings.NewReplacer(
		"{match}", oneLine(match),
		"{term}", s.terms[term],
		"{instead}", s.instead[term],
		"{starred}", starred(match),
	).Replace(tmpl)
}

// oneLine joins the lines of s with spaces, for explanations.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// starred shows how a word would look starred out: first and last letter
// kept, the rest stars, like the rule's own "f*k" and "s*t".
func starred(word string) string {
	var letters []rune
	for _, r := range word {
		if !unicode.IsSpace(r) && r != '.' && r != '-' && r != '_' {
			letters = append(letters, r)
		}
	}
	if len(letters) < 3 {
		return strings.Repeat("*", len(letters))
	}
	return string(letters[0]) + strings.Repeat("*", len(letters)-2) + string(letters[len(letters)-1])
}

// looksLikeName reports whether t is capitalised and either followed by
// a capitalised word ("Dick Cheney") or not at the start of a sentence,
// as a name would be.
func looksLikeName(s string, t token) bool {
	word := s[t.start:t.end]
	first, w := utf8.DecodeRuneInString(word)
	if !unicode.IsUpper(first) || strings.ToLower(word[w:]) != word[w:] {
		return false
	}
	if rest, ok := strings.CutPrefix(s[t.end:], " "); ok {
		next := rest[:len(rest)-len(strings.TrimLeftFunc(rest, isAlnum))]
		if isCapitalised(next) {
			return true
		}
	}
	before := strings.TrimRightFunc(s[:t.start], unicode.IsSpace)
	if before == "" {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(before)
	return !isSentenceEnd(last) && last != ':' && last != '"' && last != '“'
}
