package precheck

import (
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"unicode/utf8"
)

// Severity says how much a hit should weigh with the moderator.
type Severity string

// The severities, from mildest to strongest.
const (
	Note Severity = "note" // worth knowing, usually fine (a plain link)
	Flag Severity = "flag" // probably breaks the rule; look before approving
	Hold Severity = "hold" // should not be approved without a decision
)

// Hit is one place where a comment appears to break a rule.
type Hit struct {
	Rule     int      `json:"rule"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	// Start and End are byte offsets into Input.Body, on rune boundaries.
	Start int `json:"start"`
	End   int `json:"end"`
	// Evidence is Body[Start:End]. Checks of the commenter's display
	// name or e-mail address report Start == End == 0 and the name or
	// address itself as the evidence.
	Evidence    string `json:"evidence"`
	Explanation string `json:"explanation"` // one line
}

// Comment is an earlier comment in the same thread.
type Comment struct {
	AuthorName, Body string
}

// Input is a comment with the context a submission has.
type Input struct {
	Body, AuthorName, AuthorEmail string
	PostTitle, PostText           string
	Thread                        []Comment
}

// Check examines one comment. It must not modify in, must be safe for
// concurrent use, and returns hits in any order.
type Check interface {
	Check(in *Input) []Hit
}

// Engine runs a fixed list of checks. It is safe for concurrent use.
type Engine struct {
	checks []Check
	// The term lists of every termUser among the checks, in one lexicon;
	// sets[i] is the set number of checks[i], or -1.
	lex  *lexicon
	sets []int
}

// textChecker is a check that can work from the engine's shared analysis
// of the comment instead of analysing it again.
type textChecker interface {
	checkText(in *Input, t *text) []Hit
}

// New returns an engine running checks in the given order.
func New(checks ...Check) *Engine {
	e := &Engine{checks: append([]Check(nil), checks...), lex: newLexicon()}
	for _, c := range e.checks {
		id := -1
		if u, ok := c.(termUser); ok {
			id = e.lex.add(u.terms())
		}
		e.sets = append(e.sets, id)
	}
	return e
}

// Run runs every check and returns their hits sorted by Start, then Rule.
// At most MaxHitsPerRule hits of a rule and MaxHitsPerComment in all are
// listed; the rest are counted in a summary hit (see capHits). Of a body
// longer than MaxCheckedBytes only the start is checked, and a last hit
// of RuleEngine says where checking stopped.
// A check that panics is logged and skipped so one bad check cannot stop
// a comment from reaching the moderators; hits with offsets outside the
// body or inside a rune are dropped for the same reason. A hit inside
// another hit of the same rule, at most as severe, is dropped too.
func (e *Engine) Run(in *Input) []Hit {
	if in == nil {
		return nil
	}
	// Of a very long comment only the first MaxCheckedBytes are checked:
	// the hits' offsets stay valid in the whole body, and one hit says
	// where checking stopped.
	body, tooLong := checkedPart(in.Body)
	if tooLong != nil {
		part := *in
		part.Body = body
		in = &part
	}
	t := newText(in.Body)
	defer t.release()
	if len(e.lex.sets) > 0 {
		e.scanTerms(t)
	}
	var hits []Hit
	for i, c := range e.checks {
		for _, h := range e.runCheck(i, c, in, t) {
			if !validSpan(in.Body, h.Start, h.End) {
				slog.Warn("precheck: hit outside the body dropped",
					"check", fmt.Sprintf("%T", c), "rule", h.Rule, "start", h.Start, "end", h.End)
				continue
			}
			if h.Start < h.End {
				h.Evidence = in.Body[h.Start:h.End]
			}
			hits = append(hits, h)
		}
	}
	hits = dropCovered(hits)
	sortHits(hits)
	hits = capHits(hits)
	if tooLong != nil {
		hits = append(hits, *tooLong)
	}
	return hits
}

// severityRank orders severities from mildest to strongest.
var severityRank = map[Severity]int{Note: 1, Flag: 2, Hold: 3}

// dropCovered drops a hit whose span lies inside another hit of the same
// rule with at least its severity: when two checks of a rule find "you
// idiot" and "idiot", the moderator needs to see it once.
func dropCovered(hits []Hit) []Hit {
	if len(hits) < 2 {
		return hits
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.End > b.End
	})
	cover := map[int]Hit{} // per rule, the kept hit reaching furthest
	out := hits[:0]
	for _, h := range hits {
		if h.Start == h.End {
			out = append(out, h) // not in the body: nothing to cover
			continue
		}
		c, ok := cover[h.Rule]
		if ok && h.End <= c.End && severityRank[h.Severity] <= severityRank[c.Severity] {
			continue
		}
		out = append(out, h)
		if !ok || h.End > c.End {
			cover[h.Rule] = h
		}
	}
	return out
}

// scanTerms finds the terms of every set in one pass and groups the
// matches by set.
func (e *Engine) scanTerms(t *text) {
	ms := e.lex.scan(t.body, t.tokens(), t.matches[:0])
	n := len(e.lex.sets)
	t.setStart = append(t.setStart[:0], make([]int, n+1)...)
	for _, m := range ms {
		t.setStart[m.set+1]++
	}
	for i := 1; i <= n; i++ {
		t.setStart[i] += t.setStart[i-1]
	}
	// Matches are few: sorting them by set in place is cheap.
	slices.SortStableFunc(ms, func(a, b termMatch) int { return a.set - b.set })
	t.matches = ms
}

func (e *Engine) runCheck(i int, c Check, in *Input, t *text) (hits []Hit) {
	defer func() {
		if v := recover(); v != nil {
			slog.Error("precheck: check panicked; skipped",
				"check", fmt.Sprintf("%T", c), "panic", fmt.Sprint(v))
			hits = nil
		}
	}()
	if id := e.sets[i]; id >= 0 {
		return c.(termUser).termHits(t, t.matches[t.setStart[id]:t.setStart[id+1]])
	}
	if tc, ok := c.(textChecker); ok {
		return tc.checkText(in, t)
	}
	return c.Check(in)
}

// validSpan reports whether [start, end) lies within s and both ends fall
// where ranging over s would start a rune (or at its end).
func validSpan(s string, start, end int) bool {
	return 0 <= start && start <= end && end <= len(s) &&
		onBoundary(s, start) && onBoundary(s, end)
}

// onBoundary reports whether i is an offset at which ranging over s starts
// a rune, or len(s). Invalid bytes count as one-byte runes, as in range.
func onBoundary(s string, i int) bool {
	if i <= 0 || i >= len(s) || utf8.RuneStart(s[i]) {
		return i >= 0 && i <= len(s)
	}
	// s[i] is a continuation byte: it starts a rune only if the nearest
	// start byte before it decodes to a rune that ends at or before i.
	for j := i - 1; j >= 0 && j >= i-(utf8.UTFMax-1); j-- {
		if utf8.RuneStart(s[j]) {
			_, w := utf8.DecodeRuneInString(s[j:])
			return j+w <= i
		}
	}
	return true
}
