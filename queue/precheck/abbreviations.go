package precheck

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Abbreviations finds abbreviations in capitals ("FTR", "PFRs") that are
// not expanded: not next to words whose initials spell them ("Failure To
// Register (FTR)", "FTR, failure to register") in this comment, the
// article or an earlier comment of the thread. Common ones ("UK", "FBI")
// are left alone, and so are words in a shouted sentence (rule 11 covers
// those) and bill or section names ("AB 1234"). Each abbreviation is reported once, where it first appears.
// The zero value uses the defaults.
type Abbreviations struct {
	Rule     int      // default RuleAbbreviations
	Title    string   // default TitleAbbreviations
	Severity Severity // default Note

	// Common abbreviations need no expansion (default
	// DefaultCommonAbbreviations); compared in capitals.
	Common []string

	once   sync.Once
	common map[string]bool
}

// DefaultCommonAbbreviations are known to nearly every reader.
var DefaultCommonAbbreviations = []string{
	"UK", "US", "USA", "EU", "UN", "FBI", "CIA", "NSA", "KGB", "CSAM", "NCA",
	"OK", "TV", "PDF", "URL", "DNA", "ID", "AI", "CEO", "DOJ", "IRS", "DMV",
	"GPS", "ATM", "PC", "FAQ", "PS", "AM", "PM", "BC", "AD", "ASAP", "FYI",
	"LOL", "OMG", "BTW", "IMO", "IMHO", "TBH", "AKA", "NASA", "NATO", "HIV",
	"AIDS", "COVID", "SMS", "HTML", "PIN", "VPN", "II", "III", "IV", "VI",
	"VII", "VIII", "IX", "XI", "XII", "WWII", "DC", "NYC", "LA", "SF", "TX",
	"CA", "NY", "FL", "MR", "MRS", "MS", "DR", "JR", "SR",
}

// smallWords may sit inside an expansion without giving a letter:
// "Person Forced to Register" is PFR.
var smallWords = setOf("of", "the", "and", "for", "to", "in", "on", "a", "an", "at", "by", "or", "&")

// Check implements Check.
func (c *Abbreviations) Check(in *Input) []Hit {
	t := newText(in.Body)
	defer t.release()
	return c.checkText(in, t)
}

func (c *Abbreviations) checkText(in *Input, t *text) []Hit {
	c.once.Do(func() {
		c.common = map[string]bool{}
		for _, a := range orDefaultSlice(c.Common, DefaultCommonAbbreviations) {
			c.common[strings.ToUpper(a)] = true
		}
	})
	body := in.Body
	var hits []Hit
	var seen map[string]bool
	for i, tk := range t.tokens() {
		abbr, ok := c.candidate(body[tk.start:tk.end])
		if !ok || seen[abbr] {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[abbr] = true
		if numbered(body, tk.end) || shouted(body, tk.start) || inCapsRun(body, t.tokens(), i) || inLink(t, tk.start, tk.end) || c.expandedAnywhere(in, abbr) {
			continue
		}
		hits = append(hits, Hit{
			Rule:        orDefault(c.Rule, RuleAbbreviations),
			Title:       orDefault(c.Title, TitleAbbreviations),
			Severity:    orDefault(c.Severity, Note),
			Start:       tk.start,
			End:         tk.end,
			Evidence:    body[tk.start:tk.end],
			Explanation: `"` + abbr + `" is not expanded here or earlier in the thread; spell it out the first time it is used`,
		})
	}
	return hits
}

// candidate returns the abbreviation a word is, without a plural "s":
// two to eight capital letters and no digits.
func (c *Abbreviations) candidate(w string) (string, bool) {
	if len(w) < 2 || len(w) > 9 {
		return "", false
	}
	if n := len(w); n > 2 && w[n-1] == 's' {
		w = w[:n-1]
	}
	for _, r := range w {
		if !unicode.IsUpper(r) {
			return "", false
		}
	}
	if utf8.RuneCountInString(w) < 2 || c.common[w] {
		return "", false
	}
	return w, true
}

// numbered reports whether a number follows: "AB 1234" and "PC 290" name
// a bill or a section, and readers look those up rather than expand them.
func numbered(body string, end int) bool {
	rest := strings.TrimPrefix(body[end:], " ")
	return rest != "" && rest[0] >= '0' && rest[0] <= '9'
}

// inCapsRun reports whether toks[i] is one of three or more words in
// capitals in a row: "NO MORE REGISTRY" is shouting, not abbreviations.
func inCapsRun(body string, toks []token, i int) bool {
	caps := func(k int) bool { return isUpperWord(body[toks[k].start:toks[k].end]) }
	adjacent := func(k int) bool { return body[toks[k].end:toks[k+1].start] == " " }
	a, b := i, i
	for a > 0 && adjacent(a-1) && caps(a-1) {
		a--
	}
	for b+1 < len(toks) && adjacent(b) && caps(b+1) {
		b++
	}
	return b-a+1 >= 3
}

// shouted reports whether the sentence around i is mostly capitals.
func shouted(body string, i int) bool {
	start := i
	for start > 0 {
		r, w := utf8.DecodeLastRuneInString(body[:start])
		if r == '\n' || isSentenceEnd(r) {
			break
		}
		start -= w
	}
	end := i
	for end < len(body) {
		r, w := utf8.DecodeRuneInString(body[end:])
		if r == '\n' || isSentenceEnd(r) {
			break
		}
		end += w
	}
	n := countLetters(body[start:end])
	return n.total() >= 12 && n.loud(0.6)
}

func (c *Abbreviations) expandedAnywhere(in *Input, abbr string) bool {
	if expandedIn(in.Body, abbr) || expandedIn(in.PostText, abbr) {
		return true
	}
	for _, t := range in.Thread {
		if expandedIn(t.Body, abbr) {
			return true
		}
	}
	return false
}

// expandedIn reports whether abbr is expanded next to any of its
// occurrences in s.
func expandedIn(s, abbr string) bool {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], abbr)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(abbr)
		off = j
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[j:])
		if i > 0 && isAlnum(before) || j < len(s) && isAlnum(after) && after != 's' {
			continue
		}
		if expandedNear(s, i, j, abbr) {
			return true
		}
	}
	return false
}

// expansionWindow is how many words on either side of an abbreviation
// its expansion may be in.
const expansionWindow = 12

// expandedNear reports whether words near s[i:j] spell abbr by their
// initials, small words inside allowed.
func expandedNear(s string, i, j int, abbr string) bool {
	var letters [16]rune
	n := 0
	for _, r := range abbr {
		if n == len(letters) {
			return false
		}
		letters[n] = r
		n++
	}
	var wb [expansionWindow]string
	before := lastWords(wb[:0], s[:i])
	for k := range before {
		if spells(before[k:], letters[:n]) {
			return true
		}
	}
	after := firstWords(wb[:0], s[j:])
	for k := range after {
		if spells(after[k:], letters[:n]) {
			return true
		}
	}
	return false
}

// spells reports whether the initials of words, from the first, spell
// letters; small words may be skipped ("Person Forced to Register").
func spells(words []string, letters []rune) bool {
	p := 0
	for _, w := range words {
		if p == len(letters) {
			return true
		}
		first, _ := utf8.DecodeRuneInString(w)
		if unicode.ToUpper(first) == letters[p] {
			p++
			continue
		}
		if p > 0 && smallWords[strings.ToLower(w)] {
			continue
		}
		return false
	}
	return p == len(letters)
}

// isExpansionRune reports whether r is part of a word of an expansion.
func isExpansionRune(r rune) bool { return isAlnum(r) || r == '\'' || r == '’' }

// lastWords appends the last words of s, up to cap(dst), in order.
func lastWords(dst []string, s string) []string {
	n := cap(dst)
	dst = dst[:n]
	k := n
	end := len(s)
	for i := len(s); i > 0 && k > 0; {
		r, w := utf8.DecodeLastRuneInString(s[:i])
		if !isExpansionRune(r) {
			if end > i {
				k--
				dst[k] = s[i:end]
			}
			i -= w
			end = i
			continue
		}
		i -= w
		if i == 0 && end > 0 {
			k--
			dst[k] = s[:end]
		}
	}
	return dst[k:]
}

// firstWords appends the first words of s, up to cap(dst).
func firstWords(dst []string, s string) []string {
	start := -1
	for i, r := range s {
		if len(dst) == cap(dst) {
			return dst
		}
		if isExpansionRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			dst = append(dst, s[start:i])
			start = -1
		}
	}
	if start >= 0 && len(dst) < cap(dst) {
		dst = append(dst, s[start:])
	}
	return dst
}
