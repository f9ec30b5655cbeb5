package precheck

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// text is a comment analysed once and shared by every check of one run:
// its words, folded, and its links. Fields fill in on first use.
type text struct {
	body string

	toks     []token
	tokDone  bool
	runes    []rune // backing store of the tokens' folded runes
	lnks     []link
	lnkDone  bool
	matches  []termMatch // the engine's lexicon matches, grouped by set
	setStart []int       // matches of set i are matches[setStart[i]:setStart[i+1]]
}

var textPool = sync.Pool{New: func() any { return new(text) }}

// newText returns an empty analysis of body from the pool; put it back
// with release once no hit refers to its buffers.
func newText(body string) *text {
	t := textPool.Get().(*text)
	t.body = body
	return t
}

func (t *text) release() {
	// Very long comments would pin their large buffers in the pool.
	if cap(t.runes) > 1<<16 {
		*t = text{}
	} else {
		*t = text{toks: t.toks[:0], runes: t.runes[:0], lnks: t.lnks[:0],
			matches: t.matches[:0], setStart: t.setStart[:0]}
	}
	textPool.Put(t)
}

// tokens returns the words of the body.
func (t *text) tokens() []token {
	if !t.tokDone {
		t.toks, t.runes = appendTokens(t.toks[:0], t.runes[:0], t.body)
		t.tokDone = true
	}
	return t.toks
}

// links returns the links of the body.
func (t *text) links() []link {
	if !t.lnkDone {
		t.lnks = appendLinks(t.lnks[:0], t.body)
		t.lnkDone = true
	}
	return t.lnks
}

// token is a word-like run of the body.
type token struct {
	start, end int
	folded     []rune // lower-cased, leetspeak undone, marks dropped
	starred    bool   // contains '*' inside
	wordlike   bool   // has at least one letter, '@' or '$'
}

// tokenize splits s into words.
func tokenize(s string) []token {
	toks, _ := appendTokens(nil, nil, s)
	return toks
}

// appendTokens appends the words of s to toks, their folded runes to buf.
// Leetspeak symbols count as part of a word only inside it ("sh!t" but
// not "shit!"), stars too ("f*k", "a**").
func appendTokens(toks []token, buf []rune, s string) ([]token, []rune) {
	// The tokens' folded runes are slices of one buffer. Should it grow,
	// earlier tokens keep pointing into the old one, which stays valid.
	if cap(buf) < len(s) {
		buf = make([]rune, 0, len(s)+16)
	}
	buf = buf[:0]
	i := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if !asciiWord[c] {
				i++
				continue
			}
		} else if r, w := utf8.DecodeRuneInString(s[i:]); !isWordRune(r) {
			i += w
			continue
		}
		start := i
		for i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				if !asciiWord[c] {
					break
				}
				i++
				continue
			}
			r, w := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				break
			}
			i += w
		}
		var t token
		var ok bool
		if t, buf, ok = newToken(s, start, i, buf); ok {
			toks = append(toks, t)
		}
	}
	return toks, buf
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// newToken trims symbols that are punctuation at the ends of a word and
// folds what is left, appending the folded runes to buf.
func newToken(s string, start, end int, buf []rune) (token, []rune, bool) {
	// Most words are plain ASCII letters and digits: fold them in one
	// pass, and start again the long way at the first byte that is not.
	t := token{start: start, end: end}
	n0 := len(buf)
	for k := start; k < end; k++ {
		c := s[k]
		if c >= utf8.RuneSelf || !asciiPlain[c] {
			buf = buf[:n0]
			t.wordlike = false
			break
		}
		if c > '9' {
			t.wordlike = true
		}
		buf = append(buf, asciiFold[c])
		if k == end-1 {
			t.folded = buf[n0:len(buf):len(buf)]
			return t, buf, true
		}
	}
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
		return token{}, buf, false
	}
	t = token{start: start, end: end}
	for _, r := range s[start:end] {
		if r == '*' {
			t.starred = true
			continue
		}
		if r == '@' || r == '$' || unicode.IsLetter(r) {
			t.wordlike = true
		}
		buf = appendFolded(buf, r)
	}
	if len(buf) == n0 {
		return token{}, buf, false
	}
	t.folded = buf[n0:len(buf):len(buf)]
	return t, buf, true
}

var leet = map[rune]rune{
	'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't',
	'@': 'a', '$': 's', '!': 'i', '|': 'i', '+': 't',
}

// asciiPlain marks ASCII letters and digits.
var asciiPlain = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	return t
}()

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

func foldString(s string) []rune {
	var out []rune
	for _, r := range s {
		out = appendFolded(out, r)
	}
	return out
}

// isUpperWord reports whether w has at least two letters, all upper case.
func isUpperWord(w string) bool {
	n := 0
	for _, r := range w {
		if !unicode.IsLetter(r) {
			continue
		}
		if !unicode.IsUpper(r) {
			return false
		}
		n++
	}
	return n >= 2
}

// isCapitalised reports whether w starts with an upper-case letter and
// has a lower-case letter after it ("Mark", "McConnell", not "NSA").
func isCapitalised(w string) bool {
	r, n := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) && !unicode.IsTitle(r) {
		return false
	}
	for _, r := range w[n:] {
		if unicode.IsLower(r) {
			return true
		}
	}
	return false
}

// sentenceStart reports whether a word starting at i begins a sentence:
// nothing but space, quotes or brackets since the start of s, the end of
// a sentence or a blank line.
func sentenceStart(s string, i int) bool {
	j := i
	for j > 0 {
		r, w := utf8.DecodeLastRuneInString(s[:j])
		switch {
		case r == '\n':
			return true
		case unicode.IsSpace(r), unicode.In(r, unicode.Pi, unicode.Ps), r == '"', r == '\'', r == '-', r == '—', r == '–', r == '*', r == '>':
			j -= w
			continue
		}
		return isSentenceEnd(r) || r == ':' || isClosing(r) && j-w > 0 && endsSentence(s[:j-w])
	}
	return true
}

// endsSentence reports whether s ends with sentence punctuation, looking
// through closing quotes and brackets.
func endsSentence(s string) bool {
	for s != "" {
		r, w := utf8.DecodeLastRuneInString(s)
		if isSentenceEnd(r) {
			return true
		}
		if !isClosing(r) {
			return false
		}
		s = s[:len(s)-w]
	}
	return false
}

// containsWord reports whether w occurs in s with no letter or digit
// right before or after it.
func containsWord(s, w string) bool {
	if w == "" {
		return false
	}
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(w)
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[j:])
		if (i == 0 || !isAlnum(before)) && (j == len(s) || !isAlnum(after)) {
			return true
		}
		off = i + 1
	}
	return false
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
