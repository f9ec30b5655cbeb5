package precheck

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on what one comment can make the engine find and do. They are
// constants, not settings: they bound what a moderator is asked to read
// and what one message may cost, which does not vary by site, and keeping
// them here means `modbot check` shows exactly what the digest will.
const (
	// MaxHitsPerRule is how many hits of one rule are listed one by
	// one; the rest of that rule's hits become one summary hit ("and
	// 812 more"). Ten show a pattern as well as ten thousand do.
	MaxHitsPerRule = 10
	// MaxHitsPerComment is how many hits one comment keeps, summary
	// hits included: the most severe are kept and the rest become one
	// more summary hit. About two screens of a digest item.
	MaxHitsPerComment = 40
	// MaxCheckedBytes is how much of a comment's text goes through the
	// checks: of a longer one only the first MaxCheckedBytes are checked
	// and a hit of RuleEngine says where checking stopped, so the
	// moderator reads the rest. 64 KiB is about 10,000 words, far more
	// than any real comment, and keeps the worst case per message small.
	MaxCheckedBytes = 64 << 10
)

// RuleEngine is the rule number of the engine's own hits, which belong to
// no rule of the site's: "only the first 64 KiB were checked".
const RuleEngine = 0

// counted is a hit that may stand for more hits than itself.
type counted struct {
	Hit
	more int    // hits it stands for besides itself
	why  string // its explanation before it became a summary
}

// capHits keeps at most MaxHitsPerRule hits of each rule, then at most
// MaxHitsPerComment in all, preferring the most severe and then the
// earliest. The hits left out are summarised in one hit for each rule and
// one for the comment, which quotes the first hit left out and says how
// many more there are. hits must be sorted by Start; so is the result.
func capHits(hits []Hit) []Hit {
	perRule := map[int]int{}
	over := len(hits) > MaxHitsPerComment
	for _, h := range hits {
		perRule[h.Rule]++
		over = over || perRule[h.Rule] > MaxHitsPerRule
	}
	if !over {
		return hits
	}
	byRule := map[int][]counted{}
	var rules []int
	for _, h := range hits {
		if _, ok := byRule[h.Rule]; !ok {
			rules = append(rules, h.Rule)
		}
		byRule[h.Rule] = append(byRule[h.Rule], counted{Hit: h, why: h.Explanation})
	}
	var kept []counted
	for _, r := range rules {
		kept = append(kept, keepMost(byRule[r], MaxHitsPerRule)...)
	}
	if len(kept) > MaxHitsPerComment {
		kept = keepMost(kept, MaxHitsPerComment-1)
	}
	out := make([]Hit, len(kept))
	for i, c := range kept {
		out[i] = c.Hit
	}
	sortHits(out)
	return out
}

// keepMost keeps the n most severe of hs (the earliest first among
// equals) and turns the rest into one summary hit: the first of them,
// with its explanation followed by "; and 812 more hits of rule 12, not
// listed". Two or more hits are needed to make a summary.
func keepMost(hs []counted, n int) []counted {
	if len(hs) <= n+1 {
		return hs
	}
	slices.SortStableFunc(hs, func(a, b counted) int {
		if d := severityRank[b.Severity] - severityRank[a.Severity]; d != 0 {
			return d
		}
		return a.Start - b.Start
	})
	rest := hs[n:]
	sum := rest[0]
	rules := []int{sum.Rule}
	for _, c := range rest[1:] {
		sum.more += 1 + c.more
		if !slices.Contains(rules, c.Rule) {
			rules = append(rules, c.Rule)
		}
	}
	slices.Sort(rules)
	of := "rule " + ruleNumbers(rules)
	if len(rules) > 1 {
		of = "rules " + ruleNumbers(rules)
	}
	sum.Explanation = fmt.Sprintf("%s; and %d more %s of %s, not listed",
		strings.TrimSuffix(firstClause(sum.why), "."), sum.more, plural(sum.more, "hit", "hits"), of)
	return append(hs[:n:n], sum)
}

// firstClause keeps an explanation short enough to carry a count: its
// first 120 bytes, cut on a rune boundary.
func firstClause(s string) string {
	if len(s) <= 120 {
		return s
	}
	cut := 120
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func ruleNumbers(rs []int) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprint(r)
	}
	return strings.Join(parts, ", ")
}

// CapHits applies the engine's caps to hits from elsewhere (stored before
// the caps existed), sorted by Start then Rule as Run returns them.
func CapHits(hits []Hit) []Hit {
	hits = slices.Clone(hits)
	sortHits(hits)
	return capHits(hits)
}

// sortHits sorts hits by Start, then Rule, then End.
func sortHits(hits []Hit) {
	slices.SortStableFunc(hits, func(a, b Hit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		if a.Rule != b.Rule {
			return a.Rule - b.Rule
		}
		return a.End - b.End
	})
}

// checkedPart returns the part of body the checks read: all of it, or
// its first MaxCheckedBytes cut after the last white space before the
// limit (on a rune boundary when there is none), with a hit saying where
// checking stopped.
func checkedPart(body string) (string, *Hit) {
	if len(body) <= MaxCheckedBytes {
		return body, nil
	}
	cut := MaxCheckedBytes
	if i := strings.LastIndexAny(body[:cut], " \t\n"); i >= cut*3/4 {
		cut = i + 1
	} else {
		for cut > 0 && !onBoundary(body, cut) {
			cut--
		}
	}
	end := min(len(body), cut+40)
	for end > cut && !onBoundary(body, end) {
		end--
	}
	return body[:cut], &Hit{
		Rule: RuleEngine, Title: "Too long to check whole", Severity: Flag,
		Start: cut, End: end, Evidence: body[cut:end],
		Explanation: fmt.Sprintf("only the first %d KiB of this %d KiB comment were checked; the rest, from here, was not",
			(cut+1023)>>10, (len(body)+1023)>>10),
	}
}
