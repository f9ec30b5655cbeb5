package precheck

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A lexicon holds the term lists of every check in an engine, so one pass
// over a comment's words finds the terms of all of them: each word is
// looked up once, by its letters with repeats collapsed, and the few
// entries under that key are compared letter run by letter run. A term
// list is a "set"; each match says which set and which term of it.
type lexicon struct {
	byKey map[string][]*entry // skeleton of the first word → entries
	stems []*entry
	sets  []*termSet
	// maybe says, by the first and last letter of a skeleton (a-z), of
	// which lengths (bit n-1, n up to 32) it has keys, so most words need
	// no map lookup. Other keys set other.
	maybe [26][26]uint32
	other bool
}

// lookup returns the entries under a skeleton.
func (l *lexicon) lookup(key []byte) []*entry {
	if !l.mayHave(key) {
		return nil
	}
	return l.byKey[string(key)]
}

// mayHave reports whether byKey may have the skeleton key.
func (l *lexicon) mayHave(key []byte) bool {
	n := len(key)
	if n == 0 {
		return false
	}
	a, b := key[0]-'a', key[n-1]-'a'
	if a >= 26 || b >= 26 || n > 32 {
		return l.other
	}
	return l.maybe[a][b]&(1<<(n-1)) != 0
}

// entry is one term (or one inflection of it) of one set.
type entry struct {
	set   int
	term  int     // index into the set's terms
	words [][]run // the term's folded words, run-length encoded
	caps  []caps  // per word: what case the text must have
	allow bool    // an allowed phrase: matches of the set under it are dropped
	stem  bool    // one word matched anywhere inside a word
}

// caps is the case a listed word asks of the text: a word listed with a
// capital ("Trump", "Labour") matches only a capitalised word, one listed
// in capitals ("RSO", "MAGA") only one in capitals.
type caps uint8

const (
	anyCase caps = iota
	initialCap
	allCaps
)

// termMatch is a term of a set found in the text, as a token range.
type termMatch struct {
	set, term  int
	tokA, tokB int // tokens [tokA, tokB)
	allow      bool
}

// run is a letter and how often it repeats.
type run struct {
	r rune
	n int
}

// termSet is one check's compiled term lists.
type termSet struct {
	terms   []string        // as listed, for explanations
	instead []string        // per term: the suggested wording, if any
	names   map[string]bool // folded words that are names when capitalised
	specs   []termSpec
}

// termSpec is a term to put in the lexicon.
type termSpec struct {
	text  string
	term  int
	allow bool
	stem  bool
}

// newTermSet compiles term lists: terms matched as whole words or
// phrases, stems inside words, allowed phrases that cancel matches under
// them, and names (words that are names when capitalised mid-sentence).
// instead maps a term to a suggestion.
func newTermSet(terms, stems, allow, names []string, instead map[string]string) *termSet {
	s := &termSet{names: map[string]bool{}}
	add := func(text string, allowed, stem bool) {
		s.specs = append(s.specs, termSpec{text: text, term: len(s.terms), allow: allowed, stem: stem})
		s.terms = append(s.terms, text)
		s.instead = append(s.instead, instead[text])
	}
	for _, t := range terms {
		add(t, false, false)
	}
	for _, t := range stems {
		add(t, false, true)
	}
	for _, t := range allow {
		add(t, true, false)
	}
	for _, n := range names {
		s.names[string(foldString(n))] = true
	}
	return s
}

// checkTerm says why a listed term cannot be matched, or "".
func checkTerm(t string, stem bool) string {
	if strings.Contains(t, "*") {
		return "contains '*': starred words never match"
	}
	toks := tokenize(t)
	if len(toks) == 0 {
		return "has no letters or digits"
	}
	if !toks[0].wordlike {
		return "must start with a word that has a letter"
	}
	if stem && len(toks) != 1 {
		return "a stem must be one word"
	}
	return ""
}

func newLexicon() *lexicon {
	return &lexicon{byKey: map[string][]*entry{}}
}

// add puts a set's terms in the lexicon and returns the set's number.
// Terms that cannot be matched are left out (the ruleset loader reports
// them before it gets here).
func (l *lexicon) add(s *termSet) int {
	id := len(l.sets)
	l.sets = append(l.sets, s)
	// Listed terms go in before plurals, so a listed plural keeps its own
	// suggestion ("sex offenders" → "people required to register").
	var plural []*entry
	for _, sp := range s.specs {
		if checkTerm(sp.text, sp.stem) != "" {
			continue
		}
		toks := tokenize(sp.text)
		e := &entry{set: id, term: sp.term, allow: sp.allow, stem: sp.stem}
		for _, tk := range toks {
			e.words = append(e.words, rle(tk.folded))
			e.caps = append(e.caps, capsOf(sp.text[tk.start:tk.end]))
		}
		if sp.stem {
			l.stems = append(l.stems, e)
			continue
		}
		l.put(e)
		// Plurals need no entries of their own: "gun" matches "guns",
		// "sex offender" matches "sex offenders".
		for _, p := range plurals(toks[len(toks)-1].folded) {
			v := *e
			v.words = append(append([][]run(nil), e.words[:len(e.words)-1]...), rle(p))
			plural = append(plural, &v)
		}
	}
	for _, e := range plural {
		l.put(e)
	}
	return id
}

func (l *lexicon) put(e *entry) {
	k := skeleton(e.words[0])
	if n := len(k); n > 32 || k[0]-'a' >= 26 || k[n-1]-'a' >= 26 {
		l.other = true
	} else {
		l.maybe[k[0]-'a'][k[n-1]-'a'] |= 1 << (n - 1)
	}
	for _, o := range l.byKey[k] {
		if o.set == e.set && o.allow == e.allow && sameWords(o.words, e.words) {
			return // a listed inflection that a plural already covers
		}
	}
	l.byKey[k] = append(l.byKey[k], e)
}

func sameWords(a, b [][]run) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k := range a[i] {
			if a[i][k] != b[i][k] {
				return false
			}
		}
	}
	return true
}

// plurals returns the regular plurals of a folded word.
func plurals(w []rune) [][]rune {
	n := len(w)
	if n < 2 || !unicode.IsLetter(w[n-1]) {
		return nil
	}
	with := func(suffix string) []rune { return append(append([]rune(nil), w...), []rune(suffix)...) }
	last, prev := w[n-1], w[n-2]
	switch {
	case last == 's' || last == 'x' || last == 'z' || (last == 'h' && (prev == 'c' || prev == 's')):
		return [][]rune{with("es")}
	case last == 'y' && !strings.ContainsRune("aeiou", prev):
		return [][]rune{append(append([]rune(nil), w[:n-1]...), 'i', 'e', 's'), with("s")}
	}
	return [][]rune{with("s")}
}

func capsOf(word string) caps {
	if isUpperWord(word) {
		return allCaps
	}
	r, _ := utf8.DecodeRuneInString(word)
	if unicode.IsUpper(r) {
		return initialCap
	}
	return anyCase
}

// capsOK reports whether the word w of the text has the case c asks for.
func capsOK(c caps, w string) bool {
	switch c {
	case initialCap:
		r, _ := utf8.DecodeRuneInString(w)
		return unicode.IsUpper(r) || unicode.IsTitle(r)
	case allCaps:
		// A plural's "s" may be lower-case: "RSOs".
		if n := len(w); n > 2 && w[n-1] == 's' {
			w = w[:n-1]
		}
		return isUpperWord(w)
	}
	return true
}

// scan appends every match of every set in toks to out.
func (l *lexicon) scan(body string, toks []token, out []termMatch) []termMatch {
	var rb [32]run
	var kb [64]byte
	spacedEnd := 0
	for i := 0; i < len(toks); i++ {
		// Spaced letters: a run of single-letter tokens separated by one
		// space, dot or dash is tried as a word ("s h i t"). The shortest
		// sub-run that matches wins, so a stray "a" before it stays out,
		// and is then stretched to the right ("f u c k e r").
		// Each run is tried once, from its start.
		if i >= spacedEnd {
			if j := spacedRun(body, toks, i); j-i >= 3 {
				out = l.spaced(toks, i, j, out)
				spacedEnd = j
			}
		}
		t := &toks[i]
		if t.starred || !t.wordlike {
			continue
		}
		rl := appendRLE(rb[:0], t.folded)
		key := appendSkeleton(kb[:0], rl)
		for _, e := range l.lookup(key) {
			if !wordMatches(rl, e.words[0]) || !capsOK(e.caps[0], body[t.start:t.end]) {
				continue
			}
			if b, ok := l.phraseEnd(body, toks, i, e); ok {
				out = append(out, termMatch{set: e.set, term: e.term, tokA: i, tokB: b, allow: e.allow})
			}
		}
		for _, e := range l.stems {
			if containsRLE(rl, e.words[0]) {
				out = append(out, termMatch{set: e.set, term: e.term, tokA: i, tokB: i + 1})
			}
		}
	}
	return out
}

// phraseEnd checks the words of e after its first against the tokens
// after toks[i] and returns the end of the match.
func (l *lexicon) phraseEnd(body string, toks []token, i int, e *entry) (int, bool) {
	var rb [32]run
	j := i + 1
	for _, w := range e.words[1:] {
		if j >= len(toks) || !phraseGap(body[toks[j-1].end:toks[j].start]) || toks[j].starred {
			return 0, false
		}
		t := toks[j]
		if !wordMatches(appendRLE(rb[:0], t.folded), w) || !capsOK(e.caps[j-i], body[t.start:t.end]) {
			return 0, false
		}
		j++
	}
	return j, true
}

// phraseGap reports whether the words of a phrase may be this far apart:
// a little punctuation ("paypal.me", "sex-offender", "AK-47") but not the
// end of a sentence or a paragraph.
func phraseGap(g string) bool {
	if len(g) > 4 || strings.Contains(g, "\n\n") {
		return false
	}
	for i := 0; i+1 < len(g); i++ {
		if isSentenceEnd(rune(g[i])) && (g[i+1] == ' ' || g[i+1] == '\n') {
			return false
		}
	}
	return true
}

// spaced matches the single-letter tokens toks[i:j] against the one-word
// entries of every set.
func (l *lexicon) spaced(toks []token, i, j int, out []termMatch) []termMatch {
	letters := toks[i:j]
	var wb [maxSpaced]rune
	word := func(a, b int) []rune {
		w := wb[:0]
		for _, t := range letters[a:b] {
			w = append(w, t.folded...)
		}
		return w
	}
	a, b, ok := spacedMatch(l, letters, word)
	if !ok {
		return out
	}
	var rb [32]run
	rl := appendRLE(rb[:0], word(a, b))
	for _, e := range l.byKey[skeleton(rl)] {
		if len(e.words) == 1 && !e.allow && wordMatches(rl, e.words[0]) {
			out = append(out, termMatch{set: e.set, term: e.term, tokA: i + a, tokB: i + b})
		}
	}
	for _, e := range l.stems {
		if containsRLE(rl, e.words[0]) {
			out = append(out, termMatch{set: e.set, term: e.term, tokA: i + a, tokB: i + b})
		}
	}
	return out
}

// maxSpaced bounds the letters of a spaced-out word: no listed word is
// longer, even stretched, and the bound keeps a long run of single
// letters from costing cubic time.
const maxSpaced = 24

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

// spacedMatch finds a listed word in a run of single-letter tokens and
// returns its token range [a, b).
func spacedMatch(l *lexicon, letters []token, word func(a, b int) []rune) (a, b int, ok bool) {
	for n := 3; n <= len(letters) && n <= maxSpaced; n++ {
		for a := 0; a+n <= len(letters); a++ {
			if !l.matchesWord(word(a, a+n)) {
				continue
			}
			b := a + n
			for b < len(letters) && b-a < maxSpaced && l.matchesWord(word(a, b+1)) {
				b++
			}
			return a, b, true
		}
	}
	return 0, 0, false
}

// matchesWord reports whether a folded word matches a one-word term or a
// stem of any set.
func (l *lexicon) matchesWord(w []rune) bool {
	var rb [32]run
	var kb [64]byte
	rl := appendRLE(rb[:0], w)
	for _, e := range l.byKey[string(appendSkeleton(kb[:0], rl))] {
		if len(e.words) == 1 && !e.allow && wordMatches(rl, e.words[0]) {
			return true
		}
	}
	for _, e := range l.stems {
		if containsRLE(rl, e.words[0]) {
			return true
		}
	}
	return false
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

func skeleton(rl []run) string { return string(appendSkeleton(nil, rl)) }

func appendSkeleton(dst []byte, rl []run) []byte {
	for _, x := range rl {
		dst = utf8.AppendRune(dst, x.r)
	}
	return dst
}

// runMatches reports whether a run of n letters in the text stands for a
// run of want letters in a listed word: the same, or stretched to three
// or more ("shiiit"), never just doubled, so "assess" is not "asses".
func runMatches(n, want int) bool {
	return n == want || (n > want && n >= 3)
}

// wordMatches reports whether a word of the text matches a listed word
// with the same skeleton.
func wordMatches(rl, want []run) bool {
	if len(rl) != len(want) {
		return false
	}
	for k := range want {
		if rl[k].r != want[k].r || !runMatches(rl[k].n, want[k].n) {
			return false
		}
	}
	return true
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
