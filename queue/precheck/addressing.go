package precheck

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"modbot/internal/editdist"
)

// Addressing finds a commenter addressed by a name that nearly but not
// exactly matches a display name in the thread: "@tim moore", "@TimMoore",
// "@Tim Moor" or a comment starting "Tim," when the name is "Tim Moore".
// The forms looked at are "@name" anywhere and a name (after "Dear",
// "Hi" or "Hello") ending in a comma or colon at the start of the
// comment. A name no display name comes close to is left alone.
// The zero value uses the defaults.
type Addressing struct {
	Rule     int      // default RuleAddressing
	Title    string   // default TitleAddressing
	Severity Severity // default Flag

	// MaxDistance is the most letters a name may differ by to count as
	// a misspelling of a display name (default: 1 for names of up to 5
	// letters, 2 up to 10, 3 beyond).
	MaxDistance int
}

// leadWords may start a comment with a comma after them without
// addressing anyone.
var leadWords = setOf("so", "well", "yes", "yeah", "no", "nope", "ok", "okay",
	"sure", "indeed", "however", "also", "again", "agreed", "thanks", "actually",
	"honestly", "sadly", "unfortunately", "meanwhile", "first", "second",
	"finally", "anyway", "look", "listen", "oh", "ah", "wow", "sir", "folks",
	"friends", "everyone", "all", "guys", "now", "still", "besides", "frankly",
	"personally", "again", "true", "right", "exactly", "correct", "interesting",
	"question", "note", "update", "edit", "ps", "p.s", "fyi")

// greetings may come before the name at the start of a comment.
var greetings = setOf("dear", "hi", "hello", "hey", "to")

// Check implements Check.
func (c *Addressing) Check(in *Input) []Hit {
	if len(in.Thread) == 0 {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for _, t := range in.Thread {
		n := strings.TrimSpace(t.AuthorName)
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	body := in.Body
	var hits []Hit
	for i := 0; i < len(body); i++ {
		k := strings.IndexByte(body[i:], '@')
		if k < 0 {
			break
		}
		i += k
		if i > 0 {
			if r, _ := utf8.DecodeLastRuneInString(body[:i]); isAlnum(r) || r == '.' || r == '_' {
				continue // an e-mail address
			}
		}
		if h, ok := c.addressed(body, i, i+1, names); ok {
			hits = append(hits, h)
		}
	}
	if h, ok := c.leading(body, names); ok {
		hits = append(hits, h)
	}
	return hits
}

// leading checks a name that opens the comment and ends in ',' or ':'.
func (c *Addressing) leading(body string, names []string) (Hit, bool) {
	start := len(body) - len(strings.TrimLeftFunc(body, unicode.IsSpace))
	if start < len(body) && body[start] == '@' {
		return Hit{}, false // done as an @name
	}
	rest := body[start:]
	line, _, _ := strings.Cut(rest, "\n")
	end := strings.IndexAny(line, ",:")
	if end <= 0 || end > 60 {
		return Hit{}, false
	}
	words := strings.Fields(line[:end])
	if len(words) == 0 || len(words) > 5 {
		return Hit{}, false
	}
	from := start
	if greetings[strings.ToLower(words[0])] && len(words) > 1 {
		from = start + strings.Index(line, words[1])
		words = words[1:]
	}
	if leadWords[strings.ToLower(words[0])] {
		return Hit{}, false
	}
	cand := body[from : start+end]
	for _, n := range names {
		if cand == n {
			return Hit{}, false
		}
	}
	h, _, ok := c.judge(body, from, start+end, cand, names)
	return h, ok
}

// addressed checks the name after an '@' at body[at]: every prefix of up
// to five words of what follows is compared with the display names, and
// the one closest to a display name is taken as meant.
func (c *Addressing) addressed(body string, at, from int, names []string) (Hit, bool) {
	line := body[from:]
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	// The ends of the first five words, punctuation after them trimmed.
	var ends []int
	for i, words := 0, 0; i < len(line) && words < 5; words++ {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if j == i {
			break
		}
		e := j
		for e > i && strings.IndexByte(",:;!?.)'\"", line[e-1]) >= 0 {
			e--
		}
		for _, poss := range []string{"'s", "’s"} {
			if strings.HasSuffix(line[i:e], poss) {
				e -= len(poss)
			}
		}
		if e > i {
			ends = append(ends, e)
		}
		if e < j {
			break // punctuation ends the name
		}
		i = j
	}
	for _, e := range ends {
		for _, n := range names {
			if line[:e] == n {
				return Hit{}, false
			}
		}
	}
	var best Hit
	bestScore := -1
	for _, e := range ends {
		if h, score, ok := c.judge(body, at, from+e, line[:e], names); ok && (bestScore < 0 || score < bestScore) {
			best, bestScore = h, score
		}
	}
	return best, bestScore >= 0
}

// judge compares cand with the display names and makes a hit spanning
// body[start:end] for the closest near miss, with its score (lower is
// closer).
func (c *Addressing) judge(body string, start, end int, cand string, names []string) (Hit, int, bool) {
	bestName, bestWhy, bestScore := "", "", -1
	consider := func(n, why string, score int) {
		// Of equally close names, the one with as many words wins.
		score = score*10 + abs(len(strings.Fields(cand))-len(strings.Fields(n)))
		if bestScore < 0 || score < bestScore {
			bestName, bestWhy, bestScore = n, why, score
		}
	}
	lc := strings.ToLower(cand)
	for _, n := range names {
		if len(n) > maxNameBytes || len(cand) > maxNameBytes {
			continue // no display name is this long; distance would be slow
		}
		ln := strings.ToLower(n)
		switch {
		case cand == n:
			return Hit{}, 0, false
		case lc == ln:
			consider(n, "differs in case", 0)
		case squash(lc) == squash(ln):
			consider(n, "differs in spacing or punctuation", 1)
		case isWordPrefix(ln, lc) && utf8.RuneCountInString(lc) >= 3:
			consider(n, "is shortened", 4)
		default:
			if d := distance(squash(lc), squash(ln)); d > 0 && d <= c.maxDistance(ln) {
				consider(n, "is misspelt", 1+d)
			}
		}
	}
	if bestScore < 0 {
		return Hit{}, 0, false
	}
	ev := body[start:end]
	return Hit{
		Rule:        orDefault(c.Rule, RuleAddressing),
		Title:       orDefault(c.Title, TitleAddressing),
		Severity:    orDefault(c.Severity, Flag),
		Start:       start,
		End:         end,
		Evidence:    ev,
		Explanation: fmt.Sprintf("%q %s: the display name is %q", oneLine(ev), bestWhy, bestName),
	}, bestScore, true
}

// maxNameBytes is the longest name compared: longer ones are no one's
// display name, and the edit distance is quadratic.
const maxNameBytes = 100

func (c *Addressing) maxDistance(name string) int {
	if c.MaxDistance > 0 {
		return c.MaxDistance
	}
	switch k := utf8.RuneCountInString(squash(name)); {
	case k < 4:
		return 0
	case k <= 5:
		return 1
	case k <= 10:
		return 2
	}
	return 3
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// squash drops spaces and punctuation: "tim-moore" and "Tim Moore" meet.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if isAlnum(r) {
			return r
		}
		return -1
	}, s)
}

// isWordPrefix reports whether short is the first word or words of name,
// or one of its words.
func isWordPrefix(name, short string) bool {
	if short == name {
		return false
	}
	if strings.HasPrefix(name, short+" ") {
		return true
	}
	for _, w := range strings.Fields(name) {
		if w == short {
			return true
		}
	}
	return false
}

// distance is the optimal string alignment distance between a and b in
// runes, capped at 8 for strings of very different lengths.
func distance(a, b string) int {
	if d := utf8.RuneCountInString(a) - utf8.RuneCountInString(b); d > 8 || d < -8 {
		return 8
	}
	return editdist.OSA(a, b)
}
