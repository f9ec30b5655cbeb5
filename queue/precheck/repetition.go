package precheck

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Repetition finds copied and repeated text, comparing runs of five words
// ("shingles") with case and punctuation ignored:
//   - a comment of at least MinChars that is mostly (Similarity) the same
//     as an earlier comment of the thread: the evidence is the comment;
//   - a passage of at least BlockChars copied from an earlier comment;
//   - a passage of at least RepeatChars repeated within the comment (what
//     repeats, the first time not counted);
//   - a passage of at least ArticleChars copied from the article, with
//     ArticleSeverity (quoting a line of the article is normal, pasting
//     it whole is not).
//
// The zero value uses the defaults.
type Repetition struct {
	Rule     int      // default RuleRepetition
	Title    string   // default TitleRepetition
	Severity Severity // default Flag

	MinChars        int      // default 200
	Similarity      float64  // default 0.8
	BlockChars      int      // default 300
	RepeatChars     int      // default 150
	ArticleChars    int      // default 600
	ArticleSeverity Severity // default Note
}

// shingleWords is how many words make a shingle.
const shingleWords = 5

// word is a word's hash and its place.
type word struct {
	h          uint64
	start, end int
}

// repScratch holds a check's working memory, reused between comments.
type repScratch struct {
	words, other []word
	shingles     []uint64 // hash of the shingle starting at each word
	next         []int32  // next shingle with the same hash, or -1
	tail         []int32  // for a hash's first shingle: its last one
	table        []int32  // open addressing: first shingle of a hash, +1
	covered      []bool
}

var repPool = sync.Pool{New: func() any { return new(repScratch) }}

// Check implements Check.
func (c *Repetition) Check(in *Input) []Hit {
	minChars := orDefault(c.MinChars, 200)
	blockChars := orDefault(c.BlockChars, 300)
	repeatChars := orDefault(c.RepeatChars, 150)
	articleChars := orDefault(c.ArticleChars, 600)
	body := in.Body
	// Nothing to find: too short to repeat itself, and nothing to copy from.
	if len(body) < 2*repeatChars && len(in.Thread) == 0 && (in.PostText == "" || len(body) < articleChars) {
		return nil
	}
	sc := repPool.Get().(*repScratch)
	defer repPool.Put(sc)
	sc.words = appendWords(sc.words[:0], body)
	words := sc.words
	if len(words) < shingleWords {
		return nil
	}
	sc.index()
	covered := sc.covered

	var hits []Hit
	hit := func(sev Severity, start, end int, why string) {
		hits = append(hits, Hit{
			Rule:        orDefault(c.Rule, RuleRepetition),
			Title:       orDefault(c.Title, TitleRepetition),
			Severity:    sev,
			Start:       start,
			End:         end,
			Evidence:    body[start:end],
			Explanation: why,
		})
	}
	sev := orDefault(c.Severity, Flag)

	// Repeated within the comment: index marked them.
	for _, r := range blocks(covered, words) {
		if r[1]-r[0] >= repeatChars {
			hit(sev, r[0], r[1], fmt.Sprintf("a passage of %d characters is repeated within the comment", r[1]-r[0]))
		}
	}

	// Copied from an earlier comment.
	dup := false
	for _, t := range in.Thread {
		clear(covered)
		n := sc.coverage(t.Body)
		if n == 0 {
			continue
		}
		who := "an earlier comment"
		if name := strings.TrimSpace(t.AuthorName); name != "" {
			who = fmt.Sprintf("an earlier comment by %q", name)
		}
		if share := float64(n) / float64(len(sc.shingles)); !dup && len(body) >= minChars && share >= orDefault(c.Similarity, 0.8) {
			s, e := trimSpan(body, 0, len(body))
			hit(sev, s, e, fmt.Sprintf("%d%% the same as %s", int(share*100), who))
			dup = true
			continue
		}
		for _, r := range blocks(covered, words) {
			if r[1]-r[0] >= blockChars {
				hit(sev, r[0], r[1], fmt.Sprintf("a passage of %d characters copied from %s", r[1]-r[0], who))
			}
		}
	}

	// Copied from the article.
	if in.PostText != "" && len(body) >= articleChars {
		clear(covered)
		if sc.coverage(in.PostText) > 0 {
			for _, r := range blocks(covered, words) {
				if r[1]-r[0] >= articleChars {
					hit(orDefault(c.ArticleSeverity, Note), r[0], r[1], fmt.Sprintf("a passage of %d characters copied from the article", r[1]-r[0]))
				}
			}
		}
	}
	return hits
}

// index hashes the comment's shingles into the table and marks in
// covered those that repeat an earlier one they do not overlap.
func (sc *repScratch) index() {
	sc.shingles = sc.shingles[:0]
	forShingles(sc.words, func(h uint64, _ int) { sc.shingles = append(sc.shingles, h) })
	n := len(sc.shingles)
	size := 16
	for size < 2*n {
		size *= 2
	}
	sc.table = slices.Grow(sc.table[:0], size)[:size]
	clear(sc.table)
	sc.next = slices.Grow(sc.next[:0], n)[:n]
	sc.tail = slices.Grow(sc.tail[:0], n)[:n]
	sc.covered = slices.Grow(sc.covered[:0], n)[:n]
	clear(sc.covered)
	mask := uint64(size - 1)
	for i, h := range sc.shingles {
		sc.next[i] = -1
		for k := h & mask; ; k = (k + 1) & mask {
			first := sc.table[k] - 1
			if first < 0 {
				sc.table[k] = int32(i) + 1
				sc.tail[i] = int32(i)
				break
			}
			if sc.shingles[first] != h {
				continue
			}
			last := sc.tail[first]
			sc.next[last], sc.tail[first] = int32(i), int32(i)
			// Not overlapping the first: "no more registry no more
			// registry" repeats every three words.
			if i-int(first) >= shingleWords {
				sc.covered[i] = true
			}
			break
		}
	}
}

// coverage marks the comment's shingles that occur in s and returns how
// many it marked.
func (sc *repScratch) coverage(s string) int {
	n := 0
	mask := uint64(len(sc.table) - 1)
	sc.other = appendWords(sc.other[:0], s)
	forShingles(sc.other, func(h uint64, _ int) {
		for k := h & mask; ; k = (k + 1) & mask {
			first := sc.table[k] - 1
			if first < 0 {
				return
			}
			if sc.shingles[first] != h {
				continue
			}
			if sc.covered[first] {
				return // the whole chain is marked already
			}
			for i := first; i >= 0; i = sc.next[i] {
				if !sc.covered[i] {
					sc.covered[i] = true
					n++
				}
			}
			return
		}
	})
	return n
}

// blocks returns the byte spans of the runs of covered shingles.
func blocks(covered []bool, words []word) [][2]int {
	var out [][2]int
	for i := 0; i < len(covered); {
		if !covered[i] {
			i++
			continue
		}
		j := i
		for j < len(covered) && covered[j] {
			j++
		}
		out = append(out, [2]int{words[i].start, words[j-1+shingleWords-1].end})
		i = j
	}
	return out
}

// appendWords appends the words of s (runs of letters and digits) with
// their case-folded hashes.
func appendWords(dst []word, s string) []word {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	in := false
	var w word
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		var alnum bool
		if r < utf8.RuneSelf {
			alnum = asciiAlnum[r]
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		} else {
			r, n = utf8.DecodeRuneInString(s[i:])
			alnum = unicode.IsLetter(r) || unicode.IsDigit(r)
			r = unicode.ToLower(r)
		}
		switch {
		case alnum && !in:
			in, w = true, word{h: offset, start: i}
			fallthrough
		case alnum:
			w.h = (w.h ^ uint64(r)) * prime
		case in:
			in, w.end = false, i
			dst = append(dst, w)
		}
		i += n
	}
	if in {
		w.end = len(s)
		dst = append(dst, w)
	}
	return dst
}

var asciiAlnum = func() (t [utf8.RuneSelf]bool) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		t[r] = r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return t
}()

// forShingles calls fn with the hash of each run of shingleWords words
// and the index of its first word.
func forShingles(words []word, fn func(h uint64, i int)) {
	const p = 0x100000001b3
	var pk uint64 = 1 // p to the power shingleWords
	for range shingleWords {
		pk *= p
	}
	var h uint64
	for i, w := range words {
		h = h*p + w.h
		if i >= shingleWords {
			h -= words[i-shingleWords].h * pk
		}
		if i >= shingleWords-1 {
			fn(h, i-shingleWords+1)
		}
	}
}
