package precheck

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Names finds people's names that appear in neither the article, the
// thread nor an allow list. A name is a known first name followed by
// capitalised words ("Mark Smith", "Mary J. Blige"), a title followed by
// them ("Judge Smith", "Governor Newsom"), or a known first name alone in
// the middle of a sentence ("ask Janice"). First names that are also
// words, months or places ("Will", "May", "Georgia") count only before a
// surname. A surname alone is not recognised. A name is fine when the
// article, its title, an earlier comment of the thread or a display name
// there mentions it, its surname, or the commenter's own display name.
// The zero value uses the defaults.
type Names struct {
	Rule     int      // default RuleNames
	Title    string   // default TitleNames
	Severity Severity // default Flag

	// FirstNames, Titles and NotNames are added to the built-in lists:
	// first names, titles that precede a name, and capitalised words that
	// are never part of one ("Court", "Act").
	FirstNames, Titles, NotNames []string
	// Allow lists names and phrases that are always fine ("Megan's Law",
	// "Adam Walsh Act"), compared without case.
	Allow []string
	// Explain is the explanation; {match} is the name. Default:
	// `"{match}" looks like a person's name that is not in the article or
	// the thread`.
	Explain string

	once sync.Once
	lists
}

// lists are the word lists of Names and DisplayName.
type lists struct {
	first, ambiguous, titles, notNames map[string]bool
}

//go:embed firstnames.txt
var firstNamesFile string

// defaultTitles precede a person's name.
var defaultTitles = []string{
	"mr", "mrs", "ms", "miss", "dr", "prof", "professor", "judge", "justice",
	"senator", "sen", "rep", "representative", "congressman", "congresswoman",
	"assemblyman", "assemblywoman", "assemblymember", "governor", "gov",
	"mayor", "president", "sheriff", "officer", "detective", "deputy", "sgt",
	"sergeant", "lt", "lieutenant", "capt", "captain", "rev", "reverend",
	"pastor", "bishop", "attorney", "secretary", "commissioner", "chief",
	"agent", "councilman", "councilwoman", "councilmember", "lawyer",
}

// defaultNotNames are capitalised words that end a name or are never
// part of one, so "Will Congress act" and "Grace Church" are no names.
var defaultNotNames = []string{
	"act", "acts", "law", "laws", "code", "bill", "amendment", "court", "courts",
	"supreme", "federal", "state", "states", "county", "city", "town",
	"department", "dept", "agency", "office", "police", "government",
	"university", "college", "school", "street", "st", "avenue", "ave",
	"road", "rd", "boulevard", "blvd", "church", "house", "senate", "congress",
	"assembly", "committee", "board", "commission", "council", "party",
	"day", "week", "month", "year", "monday", "tuesday", "wednesday",
	"thursday", "friday", "saturday", "sunday", "january", "february",
	"march", "april", "may", "june", "july", "august", "september",
	"october", "november", "december", "christmas", "easter", "island",
	"beach", "valley", "river", "mountain", "center",
	"centre", "hospital", "prison", "jail", "bay", "airport", "station",
	"company", "inc", "corp", "llc", "foundation", "institute",
	"association", "project", "fund", "alert", "section", "penal", "bible",
	"gospel", "god", "lord", "english", "american", "americans", "i",
	"the", "a", "an", "and", "but", "or", "if", "so", "we", "you", "he",
	"she", "they", "it", "my", "our", "your", "his", "her", "their",
	"this", "that", "these", "those", "in", "on", "at", "to", "for", "of",
	"with", "as", "is", "was", "are", "not", "no", "yes", "why", "what",
	"when", "where", "how", "who", "just", "also", "then", "thanks",
	"thank", "please", "dear", "hi", "hello", "hey", "county's", "et",
	"al", "jr", "sr",
}

func (c *Names) init() {
	c.once.Do(func() { c.lists = newLists(c.FirstNames, c.Titles, c.NotNames) })
}

func newLists(first, titles, notNames []string) lists {
	l := lists{first: map[string]bool{}, ambiguous: map[string]bool{},
		titles: map[string]bool{}, notNames: map[string]bool{}}
	for _, line := range strings.Split(firstNamesFile, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if name, ok := strings.CutPrefix(line, "?"); ok {
			l.ambiguous[strings.ToLower(name)] = true
			line = name
		}
		l.first[strings.ToLower(line)] = true
	}
	for _, n := range first {
		l.first[strings.ToLower(n)] = true
	}
	for _, set := range []struct {
		m    map[string]bool
		def  []string
		more []string
	}{{l.titles, defaultTitles, titles}, {l.notNames, defaultNotNames, notNames}} {
		for _, w := range set.def {
			set.m[w] = true
		}
		for _, w := range set.more {
			set.m[strings.ToLower(w)] = true
		}
	}
	return l
}

// key returns the folded word as a string for the lists, using buf.
func key(buf []byte, folded []rune) []byte {
	buf = buf[:0]
	for _, r := range folded {
		buf = utf8.AppendRune(buf, r)
	}
	return buf
}

// Check implements Check.
func (c *Names) Check(in *Input) []Hit {
	t := newText(in.Body)
	defer t.release()
	return c.checkText(in, t)
}

func (c *Names) checkText(in *Input, t *text) []Hit {
	c.init()
	body := in.Body
	toks := t.tokens()
	var hits []Hit
	var kb [64]byte
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		w := body[tk.start:tk.end]
		if !isCapitalised(w) || tk.starred {
			continue
		}
		k := key(kb[:0], tk.folded)
		title := c.titles[string(k)]
		if !title && !c.first[string(k)] {
			continue
		}
		j := c.surnameEnd(body, toks, i+1)
		if title {
			// A title counts only before a name: "Judge Smith", not
			// "the Judge said".
			if tk.start > 0 && body[tk.start-1] == '@' || j == i+1 {
				continue
			}
		} else if j == i+1 && (c.ambiguous[string(k)] || sentenceStart(body, tk.start) || c.beforeNotName(body, toks, i)) {
			continue
		}
		start, end := tk.start, toks[j-1].end
		i = j - 1
		if inLink(t, start, end) || start > 0 && body[start-1] == '@' {
			continue
		}
		if allowedAround(body, start, end, c.Allow) || mentioned(in, body[start:end]) {
			continue
		}
		ev := body[start:end]
		hits = append(hits, Hit{
			Rule:        orDefault(c.Rule, RuleNames),
			Title:       orDefault(c.Title, TitleNames),
			Severity:    orDefault(c.Severity, Flag),
			Start:       start,
			End:         end,
			Evidence:    ev,
			Explanation: strings.ReplaceAll(orDefault(c.Explain, `"{match}" looks like a person's name that is not in the article or the thread`), "{match}", oneLine(ev)),
		})
	}
	return hits
}

// surnameEnd returns the end of the capitalised words that may follow a
// first name or title at toks[i]: joined by a space, a hyphen or an
// apostrophe ("O'Brien"), with middle initials ("J.") among them.
func (l *lists) surnameEnd(body string, toks []token, i int) int {
	var kb [64]byte
	j := i
	for j < len(toks) {
		gap := body[toks[j-1].end:toks[j].start]
		w := body[toks[j].start:toks[j].end]
		initial := utf8.RuneCountInString(w) == 1 && isUpperRune(w)
		switch {
		case gap == " " || gap == "-" || gap == "'" || gap == "’":
		case gap == ". " && j-1 >= i && isInitial(body, toks[j-1]):
		default:
			return j
		}
		if initial {
			// A middle initial is followed by ". " and a name; "O'" and
			// "D'" by an apostrophe and the rest of the surname.
			if j+1 >= len(toks) {
				return j
			}
			switch body[toks[j].end:toks[j+1].start] {
			case ". ", "'", "’":
				j++
				continue
			}
			return j
		}
		if !isCapitalised(w) || toks[j].starred || l.notNames[string(key(kb[:0], toks[j].folded))] {
			return j
		}
		j++
	}
	// A trailing initial is not part of the name.
	for j > i && isInitial(body, toks[j-1]) {
		j--
	}
	return j
}

// beforeNotName reports whether toks[i] is followed by a capitalised
// word that is never part of a name: "Grace Church", "Zebulon Street".
func (l *lists) beforeNotName(body string, toks []token, i int) bool {
	if i+1 >= len(toks) || body[toks[i].end:toks[i+1].start] != " " {
		return false
	}
	var kb [64]byte
	return isCapitalised(body[toks[i+1].start:toks[i+1].end]) && l.notNames[string(key(kb[:0], toks[i+1].folded))]
}

func isInitial(body string, t token) bool {
	w := body[t.start:t.end]
	return utf8.RuneCountInString(w) == 1 && isUpperRune(w)
}

func isUpperRune(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return r >= 'A' && r <= 'Z' || r > utf8.RuneSelf && strings.ToLower(string(r)) != string(r)
}

// mentioned reports whether the name is in the commenter's context: the
// whole name, its last word, or for a first name alone, that name.
func mentioned(in *Input, name string) bool {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '.' })
	last := words[len(words)-1]
	in1 := func(s string) bool {
		return containsWord(s, name) || len(words) > 1 && utf8.RuneCountInString(last) >= 3 && containsWord(s, last)
	}
	if in1(in.PostText) || in1(in.PostTitle) || in1(in.AuthorName) {
		return true
	}
	for _, c := range in.Thread {
		if in1(c.Body) || in1(c.AuthorName) || len(words) > 1 && nearName(name, c.AuthorName) {
			return true
		}
	}
	return false
}

// nearName reports whether name is a commenter's display name written a
// little differently ("Tim Moor" for "Tim Moore"): the addressing check
// (rule 22) is the one to report that.
func nearName(name, display string) bool {
	if len(name) > maxNameBytes || len(display) > maxNameBytes {
		return false
	}
	a, b := squash(strings.ToLower(name)), squash(strings.ToLower(display))
	return len(b) >= 4 && distance(a, b) <= 2
}

// inLink reports whether [start, end) is inside a link of the text.
func inLink(t *text, start, end int) bool {
	for _, l := range t.links() {
		if l.kind != linkBare && l.start < end && start < l.end {
			return true
		}
	}
	return false
}

// allowedAround reports whether one of the phrases, compared without
// case, covers part of s[start:end].
func allowedAround(s string, start, end int, phrases []string) bool {
	for _, p := range phrases {
		if p == "" {
			continue
		}
		first := p[0] | 0x20
		for i := max(0, start-len(p)+1); i < end && i+len(p) <= len(s); i++ {
			if s[i]|0x20 == first && strings.EqualFold(s[i:i+len(p)], p) {
				return true
			}
		}
	}
	return false
}

// DisplayName checks the commenter's display name: too long, a link or an
// e-mail address in it, or what looks like a real person's full name (a
// known first name and a capitalised surname). Its hits have no span in
// the body: Start and End are 0 and Evidence is the name.
// The zero value uses the defaults.
type DisplayName struct {
	Rule     int      // default RuleDisplayName
	Title    string   // default TitleDisplayName
	Severity Severity // default Flag

	// MaxLength is the longest display name in characters (default 30).
	MaxLength int
	// FirstNames are added to the built-in first names.
	FirstNames []string

	once sync.Once
	lists
}

// Check implements Check.
func (c *DisplayName) Check(in *Input) []Hit {
	c.once.Do(func() { c.lists = newLists(c.FirstNames, nil, nil) })
	name := strings.TrimSpace(in.AuthorName)
	if name == "" {
		return nil
	}
	var hits []Hit
	hit := func(why string) {
		hits = append(hits, Hit{
			Rule:        orDefault(c.Rule, RuleDisplayName),
			Title:       orDefault(c.Title, TitleDisplayName),
			Severity:    orDefault(c.Severity, Flag),
			Evidence:    name,
			Explanation: why,
		})
	}
	if n, max := utf8.RuneCountInString(name), orDefault(c.MaxLength, 30); n > max {
		hit(fmt.Sprintf("display name is %d characters long; the rule asks for a short one (at most %d)", n, max))
	}
	for _, l := range appendLinks(nil, name) {
		if l.kind != linkBare {
			hit(fmt.Sprintf("display name contains a link (%s)", name[l.start:l.end]))
			break
		}
	}
	if i := strings.IndexByte(name, '@'); i > 0 && strings.Contains(name[i:], ".") {
		hit("display name contains an e-mail address")
	}
	if c.fullName(name) {
		hit("display name looks like a real person's full name; the rule asks for one that identifies no one")
	}
	return hits
}

// fullName reports whether name is a known first name and one to three
// capitalised words, as "Mary Smith" or "John Q. Public".
func (c *DisplayName) fullName(name string) bool {
	toks := tokenize(name)
	if len(toks) < 2 || len(toks) > 5 {
		return false
	}
	var kb [64]byte
	if !isCapitalised(name[toks[0].start:toks[0].end]) || !c.first[string(key(kb[:0], toks[0].folded))] {
		return false
	}
	end := c.surnameEnd(name, toks, 1)
	return end == len(toks) && end > 1 && strings.TrimSpace(name[toks[end-1].end:]) == ""
}
