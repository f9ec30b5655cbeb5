package precheck

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Swearing finds swear words that are not starred out. Words are matched
// whole ("Scunthorpe", "assessment" and "class" are fine), case-folded,
// with leetspeak ("sh1t", "@ss", "$hit"), spaced letters ("s h i t") and
// stretched letters ("shiiit") folded first. A word with a star in it is
// already starred out ("f*k", "s*t", "a**") unless the stars only wrap it
// ("*shit*"). The zero value uses the defaults.
type Swearing struct {
	Rule     int      // default RuleSwearing
	Title    string   // default TitleSwearing
	Severity Severity // default Flag

	// Words are matched as whole words, every inflection listed
	// (default DefaultSwearWords).
	Words []string
	// Stems are matched anywhere inside a word, for roots that make
	// compounds but hide in no innocent word (default DefaultSwearStems).
	Stems []string
	// Innocent words contain a stem but are not swearing (default
	// DefaultInnocentWords).
	Innocent []string
	// Names are words that are also first names: written with a capital
	// in the middle of a sentence ("Dick Cheney") they are not counted
	// (default DefaultSwearNames).
	Names []string

	once sync.Once
	m    *matcher
}

// DefaultSwearWords are the whole words Swearing looks for.
var DefaultSwearWords = []string{
	"ass", "asses", "assed", "asshole", "assholes", "arse", "arsehole", "arseholes",
	"dumbass", "jackass", "smartass", "badass", "halfassed",
	"bitch", "bitches", "bitched", "bitching", "bitchy",
	"bastard", "bastards",
	"bollocks",
	"crap", "craps", "crapped", "crapping", "crappy",
	"cunt", "cunts",
	"damn", "damned", "damnit", "dammit", "goddamn", "goddamned", "goddam",
	"dick", "dicks", "dickhead", "dickheads",
	"piss", "pissed", "pisses", "pissing",
	"twat", "twats", "wanker", "wankers",
	"wtf", "stfu",
}

// DefaultSwearStems are matched inside words, so "motherfucking" and
// "bullshit" need no entry of their own.
var DefaultSwearStems = []string{"fuck", "shit"}

// DefaultInnocentWords contain a stem and are not swearing.
var DefaultInnocentWords = []string{"shiitake", "shitake", "shittim", "shittah"}

// DefaultSwearNames are swear words that are also first names.
var DefaultSwearNames = []string{"dick", "dicks"}

// Check implements Check. A Swearing must not be copied after its first
// Check.
func (s *Swearing) Check(in *Input) []Hit {
	s.once.Do(func() { s.m = s.matcher() })
	m := s.m
	body := in.Body
	toks := tokenize(body)
	var hits []Hit
	for i := 0; i < len(toks); i++ {
		// Spaced letters: a run of single-letter tokens separated by one
		// space, dot or dash is tried as a word. The shortest sub-run
		// that matches wins, so a stray "a" before it stays out, and is
		// then stretched to the right ("f u c k e r").
		if j := spacedRun(body, toks, i); j-i >= 3 {
			if a, b, ok := spacedMatch(m, toks[i:j]); ok {
				hits = append(hits, s.hit(body, toks[i+a].start, toks[i+b-1].end))
			}
			i = j - 1
			continue
		}
		t := toks[i]
		if t.starred || !t.wordlike {
			continue
		}
		if m.match(t.folded) && !m.looksLikeName(body, t) {
			hits = append(hits, s.hit(body, t.start, t.end))
		}
	}
	return hits
}

func (s *Swearing) hit(body string, start, end int) Hit {
	ev := body[start:end]
	return Hit{
		Rule:        orDefault(s.Rule, RuleSwearing),
		Title:       orDefault(s.Title, TitleSwearing),
		Severity:    orDefault(s.Severity, Flag),
		Start:       start,
		End:         end,
		Evidence:    ev,
		Explanation: fmt.Sprintf("swear word not starred out (starred: %s)", starred(ev)),
	}
}

// starred shows how the word would look starred out: first and last
// letter kept, the rest stars, like the rule's own "f*k" and "s*t".
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

// token is a word-like run of the body.
type token struct {
	start, end int
	folded     []rune // lower-cased, leetspeak undone, marks dropped
	starred    bool   // contains '*' inside
	wordlike   bool   // has at least one letter, '@' or '$'
}

// tokenize splits s into words. Leetspeak symbols count as part of a word
// only inside it ("sh!t" but not "shit!"), stars too ("f*k", "a**").
func tokenize(s string) []token {
	toks := make([]token, 0, len(s)/6+1)
	// All tokens' folded runes share one buffer.
	buf := make([]rune, 0, len(s))
	i := 0
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += w
			continue
		}
		start := i
		for i < len(s) {
			r, w := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				break
			}
			i += w
		}
		if t, ok := newToken(s, start, i, buf); ok {
			buf = t.folded[len(t.folded):]
			t.folded = t.folded[:len(t.folded):len(t.folded)]
			toks = append(toks, t)
		}
	}
	return toks
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || strings.ContainsRune("@$!|+*", r)
}

// newToken trims symbols that are punctuation at the ends of a word and
// folds what is left, appending the folded runes to buf.
func newToken(s string, start, end int, buf []rune) (token, bool) {
	for start < end && strings.IndexByte("!|+", s[start]) >= 0 {
		start++
	}
	for end > start && strings.IndexByte("!|+@", s[end-1]) >= 0 {
		end--
	}
	// Stars that only wrap a word are emphasis, not starring out.
	inner := s[start:end]
	trimmed := strings.Trim(inner, "*")
	if trimmed != "" && !strings.Contains(trimmed, "*") {
		start += strings.Index(inner, trimmed)
		end = start + len(trimmed)
	}
	if start >= end {
		return token{}, false
	}
	t := token{start: start, end: end, folded: buf[:0]}
	for _, r := range s[start:end] {
		if r == '*' {
			t.starred = true
			continue
		}
		if unicode.IsLetter(r) || r == '@' || r == '$' {
			t.wordlike = true
		}
		t.folded = appendFolded(t.folded, r)
	}
	return t, true
}

var leet = map[rune]rune{
	'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't',
	'@': 'a', '$': 's', '!': 'i', '|': 'i', '+': 't',
}

// asciiFold and asciiWord answer appendFolded and isWordRune for ASCII,
// which is nearly all of most comments, without map or table searches.
var asciiFold, asciiWord = func() (fold [utf8.RuneSelf]rune, word [utf8.RuneSelf]bool) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		fold[r] = unicode.ToLower(r)
		if l, ok := leet[r]; ok {
			fold[r] = l
		}
		word[r] = unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("@$!|+*", r)
	}
	return fold, word
}()

// appendFolded appends r lower-cased, with leetspeak undone and accents,
// ligatures and full-width forms reduced to their base letters.
func appendFolded(dst []rune, r rune) []rune {
	if r < utf8.RuneSelf {
		return append(dst, asciiFold[r])
	}
	if unicode.Is(unicode.Mn, r) {
		return dst // a combining accent: "s\u0301hit" is "shit"
	}
	var buf [utf8.UTFMax]byte
	d := norm.NFKD.Properties(utf8.AppendRune(buf[:0], r)).Decomposition()
	if d == nil {
		return append(dst, unicode.ToLower(r))
	}
	for len(d) > 0 {
		c, w := utf8.DecodeRune(d)
		d = d[w:]
		if !unicode.Is(unicode.Mn, c) {
			dst = append(dst, unicode.ToLower(c))
		}
	}
	return dst
}

// spacedRun returns the end index (exclusive) of the run of single-letter
// tokens starting at toks[i], each separated from the next by exactly one
// space, dot, dash or underscore; i when toks[i] is not a single letter.
func spacedRun(s string, toks []token, i int) int {
	j := i
	for j < len(toks) && len(toks[j].folded) == 1 && !toks[j].starred {
		if j > i {
			gap := s[toks[j-1].end:toks[j].start]
			if len(gap) != 1 || strings.IndexByte(" .-_", gap[0]) < 0 {
				break
			}
		}
		j++
	}
	return j
}

// spacedMatch finds the swear word in a run of single-letter tokens and
// returns its token range [a, b).
func spacedMatch(m *matcher, run []token) (a, b int, ok bool) {
	word := func(a, b int) []rune {
		var w []rune
		for _, t := range run[a:b] {
			w = append(w, t.folded...)
		}
		return w
	}
	// No listed word is longer than this, even stretched; the bound keeps
	// a long run of single letters from costing cubic time.
	const maxLetters = 24
	for n := 3; n <= len(run) && n <= maxLetters; n++ {
		for a := 0; a+n <= len(run); a++ {
			if !m.match(word(a, a+n)) {
				continue
			}
			b := a + n
			for b < len(run) && b-a < maxLetters && m.match(word(a, b+1)) {
				b++
			}
			return a, b, true
		}
	}
	return 0, 0, false
}

// matcher compares folded words against the lists. Each letter of a word
// may be stretched to three or more ("shiiit"), never just doubled, so
// "assess" does not pass for "asses".
type matcher struct {
	wordRLE  map[string][][]run // keyed by the letters without repeats
	stems    [][]run
	innocent map[string]bool
	names    map[string]bool
}

type run struct {
	r rune
	n int
}

func (s *Swearing) matcher() *matcher {
	m := &matcher{wordRLE: map[string][][]run{}, innocent: map[string]bool{}, names: map[string]bool{}}
	for _, w := range orDefaultSlice(s.Words, DefaultSwearWords) {
		rl := rle(foldString(w))
		k := skeleton(rl)
		m.wordRLE[k] = append(m.wordRLE[k], rl)
	}
	for _, w := range orDefaultSlice(s.Stems, DefaultSwearStems) {
		m.stems = append(m.stems, rle(foldString(w)))
	}
	for _, w := range orDefaultSlice(s.Innocent, DefaultInnocentWords) {
		m.innocent[string(foldString(w))] = true
	}
	for _, w := range orDefaultSlice(s.Names, DefaultSwearNames) {
		m.names[string(foldString(w))] = true
	}
	return m
}

// looksLikeName reports whether t is one of the names, capitalised and
// not at the start of a sentence.
func (m *matcher) looksLikeName(s string, t token) bool {
	if !m.names[string(t.folded)] {
		return false
	}
	word := s[t.start:t.end]
	first, w := utf8.DecodeRuneInString(word)
	if !unicode.IsUpper(first) || strings.ToLower(word[w:]) != word[w:] {
		return false
	}
	before := strings.TrimRightFunc(s[:t.start], unicode.IsSpace)
	if before == "" {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(before)
	return !isSentenceEnd(last) && last != ':' && last != '"' && last != '“'
}

func orDefaultSlice(v, def []string) []string {
	if v == nil {
		return def
	}
	return v
}

func foldString(s string) []rune {
	var out []rune
	for _, r := range s {
		out = appendFolded(out, r)
	}
	return out
}

func rle(word []rune) []run { return appendRLE(nil, word) }

func appendRLE(out []run, word []rune) []run {
	for _, r := range word {
		if len(out) > 0 && out[len(out)-1].r == r {
			out[len(out)-1].n++
			continue
		}
		out = append(out, run{r, 1})
	}
	return out
}

func skeleton(rl []run) string {
	var b strings.Builder
	for _, x := range rl {
		b.WriteRune(x.r)
	}
	return b.String()
}

// runMatches reports whether a run of n letters in the text stands for a
// run of want letters in a listed word.
func runMatches(n, want int) bool {
	return n == want || (n > want && n >= 3)
}

func (m *matcher) match(word []rune) bool {
	if len(word) == 0 {
		return false
	}
	// Every word of every comment comes through here: work in stack
	// buffers, and index the maps with string(bytes), which Go does
	// without allocating.
	var wb [64]byte
	w := wb[:0]
	for _, r := range word {
		w = utf8.AppendRune(w, r)
	}
	if m.innocent[string(w)] {
		return false
	}
	var rb [32]run
	rl := appendRLE(rb[:0], word)
	var sb [64]byte
	sk := sb[:0]
	for _, x := range rl {
		sk = utf8.AppendRune(sk, x.r)
	}
	for _, cand := range m.wordRLE[string(sk)] {
		ok := true
		for k := range cand {
			if !runMatches(rl[k].n, cand[k].n) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	for _, stem := range m.stems {
		if containsRLE(rl, stem) {
			return true
		}
	}
	return false
}

// containsRLE reports whether stem occurs in rl. The first and last runs
// of the stem may be part of longer runs of the word.
func containsRLE(rl, stem []run) bool {
	for i := 0; i+len(stem) <= len(rl); i++ {
		ok := true
		for k := range stem {
			x := rl[i+k]
			if x.r != stem[k].r {
				ok = false
				break
			}
			edge := k == 0 || k == len(stem)-1
			if !runMatches(x.n, stem[k].n) && !(edge && x.n >= stem[k].n) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
