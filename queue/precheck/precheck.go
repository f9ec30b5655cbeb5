package precheck

import (
	"fmt"
	"log/slog"
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
	// Evidence is Body[Start:End]. When Start == End the evidence is not
	// in the body (for example the author's name) and says so itself.
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
}

// New returns an engine running checks in the given order.
func New(checks ...Check) *Engine {
	return &Engine{checks: append([]Check(nil), checks...)}
}

// Default returns the engine for the seed site's rules: swear words
// (rule 3), capitals (rule 11) and links (rule 12).
func Default() *Engine {
	return New(&Swearing{}, &Capitals{}, &Links{})
}

// Run runs every check and returns their hits sorted by Start, then Rule.
// A check that panics is logged and skipped so one bad check cannot stop
// a comment from reaching the moderators; hits with offsets outside the
// body or inside a rune are dropped for the same reason.
func (e *Engine) Run(in *Input) []Hit {
	if in == nil {
		return nil
	}
	var hits []Hit
	for _, c := range e.checks {
		for _, h := range runCheck(c, in) {
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
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.End < b.End
	})
	return hits
}

func runCheck(c Check, in *Input) (hits []Hit) {
	defer func() {
		if v := recover(); v != nil {
			slog.Error("precheck: check panicked; skipped",
				"check", fmt.Sprintf("%T", c), "panic", fmt.Sprint(v))
			hits = nil
		}
	}()
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
