package mail

// This file holds the grammar of one command line of a reply: verbs,
// targets, rules, reasons and texts, and the near-misses that are
// reported instead of guessed.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"modbot/internal/editdist"
)

// verbSynonyms are words moderators may try instead of a verb; they are
// answered with an error that names the verb, never guessed.
var verbSynonyms = map[string]Verb{
	"accept": VerbApprove, "publish": VerbApprove, "allow": VerbApprove, "ok": VerbApprove,
	"okay": VerbApprove, "yes": VerbApprove, "approved": VerbApprove,
	"decline": VerbReject, "deny": VerbReject, "refuse": VerbReject, "remove": VerbReject,
	"delete": VerbReject, "no": VerbReject, "rejected": VerbReject,
	"change": VerbEdit, "modify": VerbEdit, "fix": VerbEdit,
	"wait": VerbHold, "defer": VerbHold, "later": VerbHold, "pending": VerbHold,
	"junk": VerbSpam, "revert": VerbUndo, "cancel": VerbUndo,
	"answer": VerbReply, "respond": VerbReply,
}

// Limits that keep a typo from expanding into a flood of commands.
const (
	maxItemNumber = 100000
	maxRange      = 1000
	maxRule       = 1000
)

// isCommandLine reports whether s starts with a verb: such a line is
// never taken for an attribution or a header.
func isCommandLine(s string) bool {
	word, _ := splitVerb(stripBullets(s))
	_, ok := commandVerbs[strings.ToLower(word)]
	return ok
}

// looksLikeCommand reports whether a line ends the text of an edit or a
// reply: a command, or something ParseCommands reports as a near-miss.
func looksLikeCommand(l ReplyLine) bool {
	return parseCommandLine(l.Text, l.Item, l.ItemID).isCommand
}

// stripBullets drops the list bullets a line starts with ("- ", "* ",
// "• ").
func stripBullets(s string) string {
	s = strings.TrimSpace(s)
	for {
		r, size := utf8.DecodeRuneInString(s)
		switch r {
		case '-', '*', '•', '·', '–', '—', '+', '‣', '◦':
			rest := s[size:]
			if rest == "" || !unicode.IsSpace(cmdFirstRune(rest)) {
				return s
			}
			s = strings.TrimSpace(rest)
			continue
		}
		return s
	}
}

func cmdFirstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// splitVerb splits off the letters s starts with.
func splitVerb(s string) (word, rest string) {
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

type parsedLine struct {
	isCommand bool
	cmd       Command
	err       string
	continues bool // edit or reply text after a colon: may go on below
}

// parseCommandLine reads one line; item and itemID are the number and
// the #id of the digest item quoted above it (0 when none).
func parseCommandLine(text string, item int, itemID int64) parsedLine {
	s := stripBullets(text)
	word, rest := splitVerb(s)
	lw := strings.ToLower(word)
	verb, ok := commandVerbs[lw]
	if !ok {
		if v := nearVerb(lw, rest, item); v != "" {
			return parsedLine{isCommand: true, err: fmt.Sprintf("unknown command %q (did you mean %q?)", clip(word, 40), v)}
		}
		return parsedLine{}
	}
	p := &cmdScanner{s: rest, line: clip(s, 80), verb: verb}
	c, continues, err := p.parse(item, itemID)
	if err != "" {
		return parsedLine{isCommand: true, err: err}
	}
	return parsedLine{isCommand: true, cmd: c, continues: continues}
}

// nearVerb returns the verb a non-verb word was probably meant to be, when
// the rest of the line reads like a command's arguments.
func nearVerb(word, rest string, item int) Verb {
	n := utf8.RuneCountInString(word)
	if n < 2 || n > 12 {
		return ""
	}
	if strings.TrimSpace(rest) == "" {
		// "Approved" alone under an item; a lone name ("Sam") or a
		// greeting elsewhere is not a command.
		if item == 0 || n < 4 {
			return ""
		}
	} else if !looksLikeArgs(rest) {
		return ""
	}
	if v, ok := verbSynonyms[word]; ok {
		return v
	}
	if n < 3 {
		return ""
	}
	best, bestD := Verb(""), 3
	// In a fixed order, so that a tie always suggests the same verb.
	for _, v := range []Verb{VerbApprove, VerbReject, VerbEdit, VerbHold, VerbSpam, VerbUndo, VerbReply} {
		limit := 1
		if len(v) >= 5 {
			limit = 2
		}
		if d := editdist.OSA(word, string(v)); d <= limit && d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

// looksLikeArgs reports whether s reads like the arguments of a command:
// numbers, ids, ranges, "all", rules, up to the end, a full stop or a
// colon.
func looksLikeArgs(s string) bool {
	seen := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == ':':
			return seen
		case r >= '0' && r <= '9' || r == '#':
			seen = true
		case unicode.IsSpace(r) || strings.ContainsRune(",;&+-–=", r):
		case r == '.' || r == '!':
			return seen && strings.Trim(s[i:], ".! ") == ""
		case unicode.IsLetter(r):
			w, _ := splitVerb(s[i:])
			switch strings.ToLower(w) {
			case "and", "rule", "rules":
			case "all":
				seen = true
			default:
				return false
			}
			size = len(w)
		default:
			return false
		}
		i += size
	}
	return seen
}

// cmdScanner reads the arguments of one command.
type cmdScanner struct {
	s    string // the line after the verb
	pos  int
	line string // the whole line, for messages
	verb Verb
}

func (p *cmdScanner) skipSpace() {
	for p.pos < len(p.s) {
		r, size := utf8.DecodeRuneInString(p.s[p.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		p.pos += size
	}
}

func (p *cmdScanner) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *cmdScanner) eof() bool { return p.pos >= len(p.s) }

// word returns the lower-cased letters at the current position without
// consuming them.
func (p *cmdScanner) word() string {
	w, _ := splitVerb(p.s[p.pos:])
	return strings.ToLower(w)
}

func cmdIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads ASCII digits; ok is false when there are none or the
// value exceeds max.
func (p *cmdScanner) number(max int64) (n int64, ok bool) {
	start := p.pos
	for p.pos < len(p.s) && cmdIsDigit(p.s[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return 0, false
	}
	v, err := strconv.ParseInt(p.s[start:p.pos], 10, 64)
	if err != nil || v > max {
		return 0, false
	}
	return v, true
}

func (p *cmdScanner) notNumbers() string {
	return fmt.Sprintf("%q is not a list of numbers", p.line)
}

// parse reads what follows the verb.
func (p *cmdScanner) parse(item int, itemID int64) (c Command, continues bool, err string) {
	c.Verb = p.verb
	p.skipSpace()
	// "approve: 1 3" — a colon right after a verb without text is
	// decoration.
	if p.peek() == ':' && p.verb != VerbEdit && p.verb != VerbReply && p.verb != VerbReject {
		save := p.pos
		p.pos++
		p.skipSpace()
		if c := p.peek(); !cmdIsDigit(c) && c != '#' && p.word() != "all" {
			p.pos = save
		}
	}
	if err := p.targets(&c); err != "" {
		return c, false, err
	}
	if err := p.rules(&c); err != "" {
		return c, false, err
	}
	p.skipSpace()
	switch {
	case p.peek() == ':':
		p.pos++
		t := strings.TrimSpace(p.s[p.pos:])
		p.pos = len(p.s)
		if p.verb == VerbEdit || p.verb == VerbReply {
			c.Text, continues = t, true
		} else {
			c.Reason = t
		}
	case p.keyword("reason="):
		if p.verb == VerbEdit || p.verb == VerbReply {
			return c, false, fmt.Sprintf("%s takes text=, not reason=", p.verb)
		}
		v, ok := p.quoted()
		if !ok {
			return c, false, "the reason after reason= must be in double quotes"
		}
		c.Reason = strings.TrimSpace(v)
	case p.keyword("text="):
		if p.verb != VerbEdit && p.verb != VerbReply {
			return c, false, "only edit and reply take text="
		}
		v, ok := p.quoted()
		if !ok {
			return c, false, "the text after text= must be in double quotes"
		}
		c.Text = strings.TrimSpace(v)
	}
	p.skipSpace()
	// A full stop or an exclamation mark after a plain command.
	for p.peek() == '.' || p.peek() == '!' {
		p.pos++
	}
	p.skipSpace()
	if !p.eof() {
		return c, false, p.trailing(c)
	}
	return p.check(c, item, itemID, continues)
}

// keyword consumes kw (lower case) when the input continues with it.
func (p *cmdScanner) keyword(kw string) bool {
	if len(p.s)-p.pos >= len(kw) && strings.EqualFold(p.s[p.pos:p.pos+len(kw)], kw) {
		p.pos += len(kw)
		return true
	}
	return false
}

// quoted reads a Go-quoted string.
func (p *cmdScanner) quoted() (string, bool) {
	if p.peek() != '"' {
		return "", false
	}
	end := p.pos + 1
	for end < len(p.s) && p.s[end] != '"' {
		if p.s[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(p.s) {
		return "", false
	}
	v, err := strconv.Unquote(p.s[p.pos : end+1])
	if err != nil {
		return "", false
	}
	p.pos = end + 1
	return v, true
}

// targets reads "1 3", "1-3, 5", "#1042", "3 (#1042)", "all".
func (p *cmdScanner) targets(c *Command) (err string) {
	seen := map[Target]bool{}
	tooMany := false
	add := func(t Target) {
		if seen[t] {
			return
		}
		if len(c.Targets) >= maxRange {
			tooMany = true
			return
		}
		seen[t] = true
		c.Targets = append(c.Targets, t)
	}
	defer func() {
		if tooMany && err == "" {
			err = fmt.Sprintf("too many items in one command (at most %d)", maxRange)
		}
	}()
	needMore := false // after "and" or "&", a target must follow
	for {
		p.skipSpace()
		switch ch := p.peek(); {
		case cmdIsDigit(ch):
			lo, ok := p.number(maxItemNumber)
			if !ok || lo == 0 {
				return p.badNumber()
			}
			save := p.pos
			p.skipSpace()
			if p.keyword("-") || p.keyword("–") || p.keyword("—") {
				p.skipSpace()
				hi, ok := p.number(maxItemNumber)
				if !ok {
					return p.notNumbers()
				}
				if hi < lo {
					return fmt.Sprintf("the range %d-%d runs backwards", lo, hi)
				}
				if hi-lo >= maxRange {
					return fmt.Sprintf("the range %d-%d is too long (at most %d items)", lo, hi, maxRange)
				}
				for n := lo; n <= hi && !tooMany; n++ {
					add(Target{Number: int(n)})
				}
			} else {
				p.pos = save
				// "3 (#1042)": item 3, which the moderator saw as
				// #1042.
				add(Target{Number: int(lo), ID: p.seenID()})
			}
		case ch == '#':
			p.pos++
			id, ok := p.number(1<<53 - 1)
			if !ok || id == 0 {
				return p.notNumbers()
			}
			add(Target{ID: id})
		case p.word() == "all" && !c.All && len(c.Targets) == 0 && !needMore:
			p.pos += 3
			c.All = true
		default:
			if needMore {
				return p.notNumbers()
			}
			return ""
		}
		needMore = false
		// Separators between targets.
		p.skipSpace()
		switch {
		case p.peek() == ',' || p.peek() == ';' || p.peek() == '&' || p.peek() == '+':
			p.pos++
			needMore = p.s[p.pos-1] == '&' || p.s[p.pos-1] == '+'
		case p.word() == "and":
			p.pos += 3
			needMore = true
		}
	}
}

// seenID reads " (#1042)" after an item number and returns the id, or 0
// (consuming nothing) when the input does not continue so.
func (p *cmdScanner) seenID() int64 {
	save := p.pos
	p.skipSpace()
	if p.peek() == '(' {
		p.pos++
		p.skipSpace()
		if p.peek() == '#' {
			p.pos++
			if id, ok := p.number(1<<53 - 1); ok && id > 0 {
				p.skipSpace()
				if p.peek() == ')' {
					p.pos++
					return id
				}
			}
		}
	}
	p.pos = save
	return 0
}

func (p *cmdScanner) badNumber() string {
	return fmt.Sprintf("item numbers start at 1 and go up to %d", maxItemNumber)
}

// rules reads "rule 11", "rule 3 rule 12", "rules 3, 12", "rule 3 and 12",
// "rule=11".
func (p *cmdScanner) rules(c *Command) string {
	seen := map[int]bool{}
	for {
		p.skipSpace()
		w := p.word()
		if w != "rule" && w != "rules" {
			return ""
		}
		if p.verb != VerbReject {
			return "only reject takes rules"
		}
		p.pos += len(w)
		if p.peek() == '=' {
			p.pos++
		}
		n := 0
		for {
			p.skipSpace()
			if p.peek() == '#' {
				p.pos++
			}
			if !cmdIsDigit(p.peek()) {
				break
			}
			r, ok := p.number(maxRule)
			if !ok || r == 0 {
				return fmt.Sprintf("rule numbers go from 1 to %d", maxRule)
			}
			if !seen[int(r)] {
				seen[int(r)] = true
				c.Rules = append(c.Rules, int(r))
			}
			n++
			p.skipSpace()
			switch {
			case p.peek() == ',' || p.peek() == '&':
				p.pos++
			case p.word() == "and":
				p.pos += 3
			}
		}
		if n == 0 {
			return fmt.Sprintf("a rule number must follow %q, e.g. \"reject 2 rule 11\"", w)
		}
	}
}

// trailing explains what is wrong with the rest of a line.
func (p *cmdScanner) trailing(c Command) string {
	rest := strings.TrimSpace(p.s[p.pos:])
	switch {
	case p.verb == VerbEdit || p.verb == VerbReply:
		return fmt.Sprintf("put the text after a colon, e.g. %q", cmdExample(p.verb))
	case len(c.Targets) > 0 || c.All || len(c.Rules) > 0:
		if unicode.IsLetter(cmdFirstRune(rest)) {
			ex := string(p.verb) + " 3: reason"
			if p.verb == VerbReject {
				ex = "reject 2 rule 11: reason"
			}
			return fmt.Sprintf("put a reason after a colon, e.g. %q", ex)
		}
	}
	return p.notNumbers()
}

// check applies the rules that need the whole command.
func (p *cmdScanner) check(c Command, item int, itemID int64, continues bool) (Command, bool, string) {
	if c.All && p.verb != VerbApprove {
		return c, false, `"all" works with approve only`
	}
	if c.All && len(c.Targets) > 0 {
		return c, false, `"all" stands alone, without numbers`
	}
	if len(c.Targets) == 0 && !c.All {
		switch {
		case item > 0:
			// The number and the #id the quoted header showed: both
			// are checked against the digest.
			c.Targets = []Target{{Number: item, ID: itemID}}
		case p.verb == VerbUndo:
			// "undo" alone: the store undoes what is in its grace period.
		default:
			return c, false, fmt.Sprintf("%q needs an item number, e.g. %q", string(p.verb), cmdExample(p.verb))
		}
	}
	if (p.verb == VerbEdit || p.verb == VerbReply) && len(c.Targets) != 1 {
		return c, false, fmt.Sprintf("%s takes one item number", p.verb)
	}
	if (p.verb == VerbEdit || p.verb == VerbReply) && !continues && c.Text == "" {
		return c, false, fmt.Sprintf("put the text after a colon, e.g. %q", cmdExample(p.verb))
	}
	return c, continues, ""
}

func cmdExample(v Verb) string {
	switch v {
	case VerbReject:
		return "reject 2 rule 11: reason"
	case VerbEdit:
		return "edit 5: corrected text"
	case VerbReply:
		return "reply 8: your answer"
	case VerbUndo:
		return "undo #1042"
	}
	return string(v) + " 3"
}
