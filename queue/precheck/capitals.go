package precheck

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Capitals finds comments, or sentence- and paragraph-sized parts of them,
// written in capitals. Only letters that have case count, so digits,
// punctuation and scripts without case neither shout nor whisper; a lone
// acronym ("NSA", "KGB") never has enough letters to count.
// The zero value uses the defaults.
type Capitals struct {
	Rule     int      // default RuleCapitals
	Title    string   // default TitleCapitals
	Severity Severity // default Flag

	// MinLetters is how many cased letters a span needs before its share
	// of capitals means anything (default 20).
	MinLetters int
	// MinShare is the share of capitals among cased letters from which a
	// span is shouted (default 0.7).
	MinShare float64
}

// letterCount counts cased letters.
type letterCount struct{ upper, lower int }

func (c letterCount) total() int { return c.upper + c.lower }

func (c letterCount) loud(share float64) bool {
	return c.total() > 0 && float64(c.upper) >= share*float64(c.total())
}

func (c letterCount) add(d letterCount) letterCount {
	return letterCount{c.upper + d.upper, c.lower + d.lower}
}

// Check implements Check.
func (c *Capitals) Check(in *Input) []Hit {
	minLetters := orDefault(c.MinLetters, 20)
	share := orDefault(c.MinShare, 0.7)
	body := in.Body

	segs := segments(body)
	var whole letterCount
	for _, seg := range segs {
		whole = whole.add(seg.n)
	}
	if whole.total() >= minLetters && whole.loud(share) {
		start, end := trimSpan(body, 0, len(body))
		return []Hit{c.hit(body, start, end, fmt.Sprintf(
			"the whole comment is in capitals (%d%% of %d letters)",
			percent(whole), whole.total()))}
	}

	// Otherwise look for runs of consecutive loud sentences or lines; a
	// run is a hit once it has enough letters. Segments without cased
	// letters ("2023.", "--") neither start, end nor break a run.
	var hits []Hit
	runStart, runEnd := -1, -1
	var run letterCount
	flush := func() {
		if runStart >= 0 && run.total() >= minLetters {
			s, e := trimSpan(body, runStart, runEnd)
			hits = append(hits, c.hit(body, s, e, fmt.Sprintf(
				"a passage of %d letters is %d%% capitals", run.total(), percent(run))))
		}
		runStart, runEnd, run = -1, -1, letterCount{}
	}
	for _, seg := range segs {
		n := seg.n
		switch {
		case n.total() == 0:
		case n.loud(share):
			if runStart < 0 {
				runStart = seg.start
			}
			runEnd = seg.end
			run = run.add(n)
		default:
			flush()
		}
	}
	flush()
	return hits
}

func (c *Capitals) hit(body string, start, end int, why string) Hit {
	return Hit{
		Rule:        orDefault(c.Rule, RuleCapitals),
		Title:       orDefault(c.Title, TitleCapitals),
		Severity:    orDefault(c.Severity, Flag),
		Start:       start,
		End:         end,
		Evidence:    body[start:end],
		Explanation: why,
	}
}

func percent(n letterCount) int {
	return n.upper * 100 / n.total()
}

func countLetters(s string) letterCount {
	var n letterCount
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				n.upper++
			} else if 'a' <= r && r <= 'z' {
				n.lower++
			}
			continue
		}
		switch {
		case unicode.IsUpper(r), unicode.IsTitle(r):
			n.upper++
		case unicode.IsLower(r):
			n.lower++
		}
	}
	return n
}

// segment is a sentence or line and its cased letters.
type segment struct {
	start, end int
	n          letterCount
}

// segments splits s into sentences and lines and counts their letters: a
// segment ends after a run of sentence punctuation followed by white
// space, or at a line break. Splitting at every line break keeps
// hard-wrapped mail text usable, since the caller joins consecutive loud
// segments again.
func segments(s string) []segment {
	segs := make([]segment, 0, len(s)/64+1)
	start := 0
	var n letterCount
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c != '\n' && c != '.' && c != '!' && c != '?' {
			// The common case, without decoding.
			if 'A' <= c && c <= 'Z' {
				n.upper++
			} else if 'a' <= c && c <= 'z' {
				n.lower++
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		end := -1
		switch {
		case r == '\n':
			end = i + w
		case isSentenceEnd(r):
			j := i + w
			for j < len(s) {
				r2, w2 := utf8.DecodeRuneInString(s[j:])
				if !isSentenceEnd(r2) && !isClosing(r2) {
					break
				}
				j += w2
			}
			if j == len(s) {
				end = j
			} else if r2, _ := utf8.DecodeRuneInString(s[j:]); unicode.IsSpace(r2) {
				end = j
			} else {
				// Not the end of a sentence ("U.S."): count what was
				// skipped and go on.
				n = n.add(countLetters(s[i:j]))
				i = j
				continue
			}
		default:
			n = n.add(countLetters(s[i : i+w]))
		}
		if end < 0 {
			i += w
			continue
		}
		n = n.add(countLetters(s[i:end]))
		segs = append(segs, segment{start, end, n})
		start, i, n = end, end, letterCount{}
	}
	if start < len(s) {
		segs = append(segs, segment{start, len(s), n})
	}
	return segs
}

func isSentenceEnd(r rune) bool {
	switch r {
	case '.', '!', '?', '…', '。', '！', '？':
		return true
	}
	return false
}

func isClosing(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '”', '’', '»':
		return true
	}
	return false
}

// trimSpan narrows [start, end) of s to exclude surrounding white space.
func trimSpan(s string, start, end int) (int, int) {
	for start < end {
		r, w := utf8.DecodeRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += w
	}
	for end > start {
		r, w := utf8.DecodeLastRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= w
	}
	return start, end
}
