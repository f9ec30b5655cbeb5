package precheck

import (
	_ "embed"
	"regexp"
	"strconv"
	"strings"
)

// Rule is one of a site's comment rules, as commenters read it.
type Rule struct {
	Number int
	Title  string // short form, for digests
	Text   string // the full text, quoted in rejection notices
}

//go:embed seedrules.txt
var seedRules string

var ruleLine = regexp.MustCompile(`^\s*(\d+)\.\s+(.+?)\s*$`)

// SeedRules returns the first customer's 22 rules, the default until a
// site configures its own ruleset.
func SeedRules() map[int]Rule {
	rules := map[int]Rule{}
	for _, line := range strings.Split(seedRules, "\n") {
		m := ruleLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		text := strings.Join(strings.Fields(m[2]), " ")
		rules[n] = Rule{Number: n, Title: shortTitle(text), Text: text}
	}
	for n, t := range map[int]string{RuleSwearing: TitleSwearing, RuleCapitals: TitleCapitals, RuleLinks: TitleLinks} {
		r := rules[n]
		r.Title = t
		rules[n] = r
	}
	return rules
}

// shortTitle is the rule's first sentence, cut at about 60 characters.
func shortTitle(text string) string {
	if i := strings.IndexAny(text, ".;"); i > 0 {
		text = text[:i]
	}
	if len(text) > 60 {
		cut := strings.LastIndexByte(text[:60], ' ')
		if cut < 30 {
			cut = 60
		}
		text = text[:cut] + "…"
	}
	return text
}
