package mail

// This file recognises the lines of modbot's own mail to moderators and
// admins when a reply carries them without quote marks. What it
// recognises is read from the templates themselves (templates.Skeletons),
// not copied from them, so that editing a template cannot silently let
// its text through as a moderator's commands.

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"modbot/templates"
)

// ownLines recognises lines of modbot's mail. Each line of every skeleton
// gives one pattern: its fixed words in order, any run of digits standing
// for any number, any data for any text.
type ownLines struct {
	// flush is matched against a line as replyClean leaves it.
	flush patternSet
	// indented is matched against a line that starts with two spaces,
	// after them: the template indents it, and the indentation is part
	// of what tells it from a line a moderator typed.
	indented patternSet
}

// patternSet is the patterns of one kind of line. Those that start with
// fixed text are one anchored alternation, which gives up on a line at its
// first characters. Those that start with data (the site's name) would
// scan every line to its end, so each runs only on lines that hold its
// longest fixed word.
type patternSet struct {
	fixedStart *regexp.Regexp
	dataStart  []guardedPattern
}

type guardedPattern struct {
	word string
	re   *regexp.Regexp
}

func (ps *patternSet) match(s string) bool {
	if ps.fixedStart.MatchString(s) {
		return true
	}
	for _, g := range ps.dataStart {
		if strings.Contains(s, g.word) && g.re.MatchString(s) {
			return true
		}
	}
	return false
}

// newPatternSet compiles patterns made by linePattern.
func newPatternSet(set map[string]string) patternSet {
	var ps patternSet
	var fixed []string
	for p, word := range set {
		if !strings.HasPrefix(p, dataPattern) {
			fixed = append(fixed, p)
			continue
		}
		ps.dataStart = append(ps.dataStart, guardedPattern{word: word, re: regexp.MustCompile(`^(?:` + p + `)`)})
	}
	// Sorted, so that the expressions are the same on every start.
	slices.Sort(fixed)
	slices.SortFunc(ps.dataStart, func(a, b guardedPattern) int { return strings.Compare(a.re.String(), b.re.String()) })
	ps.fixedStart = regexp.MustCompile(`^(?:` + strings.Join(fixed, "|") + `)`)
	return ps
}

// dataPattern is what linePattern writes for data.
const dataPattern = `.*?`

// Thresholds of what a skeleton line must show to be recognised, in
// letters of its fixed text.
//
// A pattern stops at the first word that brings it to prefixLetters, so
// that a line a mail program rewrapped still matches; fewer letters make
// phrases a moderator may well type ("These comments …"). A line that
// starts in lower case continues a sentence and is cut only where it holds
// numbers, as the examples of commands do. An indented label before data
// ("   Post:      …", "   - rule 3 (…") of wholeLetters stops before
// the data, which may wrap anywhere.
//
// A line with less fixed text is recognised only whole: with
// wholeDataLetters ("Example Forum: daily report for …"), or with fewer
// when it says enough that a moderator would not type it: a heading
// without data of more than one word, with a colon or of headingLetters
// ("Applied:", "HOW TO REPLY", "Applied" as the HTML part's heading
// reads), an indented label with a number ("   Comment #1042:"), or an
// item header with its #id ("3. #1042 — …"). A short line with a number
// ("Approved 5" in a report's table) is not enough: it is one letter from
// a command.
const (
	prefixLetters    = 16
	wholeDataLetters = 12
	wholeLetters     = 4
	headingLetters   = 6
)

// loadOwnLines builds the patterns once, on the first reply read: from
// the embedded templates, text part and HTML part. A site's overrides
// (templates.dir) are not read: ExtractReply is given no template set,
// and the copies this replaced knew only the embedded text too.
var loadOwnLines = sync.OnceValue(buildOwnLines)

func buildOwnLines() *ownLines {
	skeletons, err := templates.Skeletons()
	if err != nil {
		// The embedded templates are parsed and rendered by the tests
		// of both packages; this cannot happen in a built binary.
		panic("mail: " + err.Error())
	}
	flush, indented := map[string]string{}, map[string]string{}
	addLine := func(raw string) {
		trimmed := strings.TrimLeft(raw, " ")
		isIndented := len(raw)-len(trimmed) >= 2
		p, word, ok := linePattern(replyClean(raw), isIndented)
		if !ok {
			return
		}
		if isIndented {
			indented[p] = word
		} else {
			flush[p] = word
		}
	}
	for _, s := range skeletons {
		for _, l := range strings.Split(s.Text, "\n") {
			addLine(l)
		}
		if s.HTML == "" {
			continue
		}
		// The HTML part as a mail program turns it into text: the
		// same reading ExtractReply gives an HTML reply.
		lines, ok := htmlReplyLines(s.HTML)
		if !ok {
			panic("mail: cannot read the HTML skeleton " + s.Name)
		}
		for _, l := range lines {
			// Clients indent the HTML part's blocks as they please;
			// only the text part's indentation is the template's.
			addLine(replyClean(l.text))
		}
	}
	return &ownLines{flush: newPatternSet(flush), indented: newPatternSet(indented)}
}

// linePattern turns one line of a skeleton (without its indentation)
// into a regular expression, and reports whether the line says enough to
// be recognised (see prefixLetters). word is the pattern's longest fixed
// word, which every line it matches holds.
func linePattern(s string, indented bool) (pattern, word string, ok bool) {
	var (
		b              strings.Builder
		letters, fixed int  // letters and other visible characters of fixed text
		numbers, data  int  // runs of digits, and data, so far
		id, colon      bool // "#1042", ":" in the fixed text
		first, _       = utf8.DecodeRuneInString(s)
		lower          = unicode.IsLower(first)
		words          = strings.Fields(s)
	)
	for i, w := range words {
		if i > 0 {
			b.WriteString(`\s+`)
		}
		for j, part := range strings.Split(w, templates.DataMark) {
			if j > 0 {
				if indented && data == 0 && letters >= wholeLetters {
					// An indented label before data ("Post:",
					// "- rule 3 ("): the data may wrap anywhere.
					return b.String(), word, true
				}
				b.WriteString(dataPattern)
				data++
			}
			numbers += writeFixed(&b, part)
			if len(part) > len(word) && !strings.ContainsAny(part, "0123456789") {
				word = part
			}
			for k, r := range part {
				switch {
				case unicode.IsLetter(r):
					letters++
				case r == ':':
					colon = true
				case r == '#' && k+1 < len(part) && part[k+1] >= '0' && part[k+1] <= '9':
					id = true
				}
				if !unicode.IsSpace(r) {
					fixed++
				}
			}
		}
		// A line in lower case is cut only where it holds numbers, as
		// the examples of commands do; otherwise it continues a
		// sentence that a moderator could write too.
		if letters >= prefixLetters && i+1 < len(words) && (!lower || numbers > 0) {
			// Enough to tell: the rest of the line may be wrapped
			// elsewhere by the reader's mail program.
			b.WriteString(`(?:\s|$)`)
			return b.String(), word, true
		}
	}
	// The whole line.
	b.WriteString(`$`)
	switch {
	case letters >= wholeDataLetters:
	case lower:
		return "", "", false
	case numbers+data == 0 && letters >= wholeLetters && (len(words) > 1 || colon || letters >= headingLetters):
	case indented && colon && letters >= wholeLetters:
	case id && fixed >= 4:
	default:
		return "", "", false
	}
	return b.String(), word, true
}

// writeFixed writes fixed text as a pattern in which every run of digits
// stands for any number, and returns how many runs of digits it held.
func writeFixed(b *strings.Builder, s string) (numbers int) {
	for s != "" {
		i := strings.IndexAny(s, "0123456789")
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(s))
			return numbers
		}
		b.WriteString(regexp.QuoteMeta(s[:i]))
		b.WriteString(`\d+`)
		numbers++
		s = strings.TrimLeft(s[i:], "0123456789")
	}
	return numbers
}

// isDigestLine reports a line of modbot's mail to moderators and admins
// (a digest, a confirmation, a report): a reply that carries it without
// quote marks quotes that mail unmarked, and everything from the first
// such line on is quote. clean is the line as replyClean leaves it; raw
// keeps its indentation.
func isDigestLine(clean, raw string) bool {
	o := loadOwnLines()
	if o.flush.match(clean) {
		return true
	}
	if !strings.HasPrefix(raw, "  ") {
		return false
	}
	// An indented line of commenter data, which the digest bars.
	if clean == templates.DataBar || strings.HasPrefix(clean, templates.DataBar+" ") {
		return true
	}
	return o.indented.match(clean)
}
