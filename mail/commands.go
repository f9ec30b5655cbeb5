package mail

// This file reads the moderation commands in the own lines of a reply to a
// digest (docs/ARCHITECTURE.md, "Reply grammar").

import (
	"fmt"
	"strconv"
	"strings"
)

// Verb is what a command does.
type Verb string

// The verbs of the reply grammar.
const (
	VerbApprove Verb = "approve"
	VerbReject  Verb = "reject"
	VerbEdit    Verb = "edit"
	VerbHold    Verb = "hold"
	VerbSpam    Verb = "spam" // reject without notifying the author
	VerbUndo    Verb = "undo"
	VerbReply   Verb = "reply" // answer a feedback item by mail
)

var commandVerbs = map[string]Verb{
	"approve": VerbApprove, "reject": VerbReject, "edit": VerbEdit, "hold": VerbHold,
	"spam": VerbSpam, "undo": VerbUndo, "reply": VerbReply,
}

// Target is one item a command is about: its number in the digest, its
// stable id (#1042), or both: the number and the id the moderator saw
// printed with it, from the item header quoted above a bare command or
// typed as "3 (#1042)". With both, the command applies only if the
// digest's item 3 is #1042.
type Target struct {
	Number int
	ID     int64
}

// String returns "3", "#1042" or "3 (#1042)".
func (t Target) String() string {
	switch {
	case t.Number != 0 && t.ID != 0:
		return strconv.Itoa(t.Number) + " (#" + strconv.FormatInt(t.ID, 10) + ")"
	case t.ID != 0:
		return "#" + strconv.FormatInt(t.ID, 10)
	}
	return strconv.Itoa(t.Number)
}

// Command is one command read from a reply.
type Command struct {
	Verb    Verb
	All     bool     // "approve all"
	Targets []Target // in the order written, without repeats; ranges are spelled out
	Rules   []int    // reject: the rules broken
	Reason  string   // the text after the colon of approve, reject, hold, spam and undo
	Text    string   // edit: the replacement; reply: the answer

	Line int    // 1-based index into Reply.Lines
	Raw  string // the line as typed
}

// String returns the command in normalised form: "approve 3", "approve
// all", "approve #1042", "reject 2 rule=11", `reject 4 reason="off
// topic"`, `edit 5 text="…"`, "undo". Strings are quoted with Go's
// escapes. The form reads back as the same command.
func (c Command) String() string {
	var b strings.Builder
	b.WriteString(string(c.Verb))
	if c.All {
		b.WriteString(" all")
	}
	for _, t := range c.Targets {
		b.WriteByte(' ')
		b.WriteString(t.String())
	}
	for _, r := range c.Rules {
		b.WriteString(" rule=")
		b.WriteString(strconv.Itoa(r))
	}
	if c.Reason != "" {
		b.WriteString(" reason=")
		b.WriteString(strconv.Quote(c.Reason))
	}
	if c.Text != "" {
		b.WriteString(" text=")
		b.WriteString(strconv.Quote(c.Text))
	}
	return b.String()
}

// Expand splits a command with several targets into one command a target.
func (c Command) Expand() []Command {
	if len(c.Targets) <= 1 {
		return []Command{c}
	}
	out := make([]Command, len(c.Targets))
	for i, t := range c.Targets {
		e := c
		e.Targets = []Target{t}
		e.Rules = append([]int(nil), c.Rules...)
		out[i] = e
	}
	return out
}

// CommandError is a line that looks like a command but cannot be read.
// It is reported back to the moderator; nothing is guessed.
type CommandError struct {
	Line   int    // 1-based index into Reply.Lines
	Raw    string // the line as typed
	Reason string // e.g. `unknown command "aprove" (did you mean "approve"?)`
}

// ParseCommands reads the commands in the own lines of a reply, one a
// line, case-insensitively; leading "- ", "* " and "• " bullets are
// allowed. A line that is plain conversation is skipped. A line that
// starts with a verb but does not follow the grammar, or starts with a
// near-miss of a verb ("aprove 3"), is an error. A bare verb typed under a
// quoted digest item ("approve" under item 3) is about that item. The
// text of edit and reply may go on over the following lines up to a blank
// line or the next command.
//
// Whether the numbers exist in the digest is not checked here.
func ParseCommands(r Reply) ([]Command, []CommandError) {
	var (
		cmds []Command
		errs []CommandError
	)
	for i := 0; i < len(r.Lines); i++ {
		l := r.Lines[i]
		p := parseCommandLine(l.Text, l.Item, l.ItemID)
		if !p.isCommand {
			continue
		}
		if p.err != "" {
			errs = append(errs, CommandError{Line: i + 1, Raw: l.Text, Reason: p.err})
			continue
		}
		c := p.cmd
		c.Line, c.Raw = i+1, l.Text
		if p.continues {
			var text strings.Builder
			text.WriteString(c.Text)
			for i+1 < len(r.Lines) && replyClean(r.Lines[i+1].Text) != "" && !looksLikeCommand(r.Lines[i+1]) {
				i++
				if text.Len() > 0 {
					text.WriteByte('\n')
				}
				text.WriteString(strings.TrimRight(r.Lines[i].Text, " \t\u00a0"))
			}
			c.Text = strings.TrimSpace(text.String())
		}
		if (c.Verb == VerbEdit || c.Verb == VerbReply) && c.Text == "" {
			errs = append(errs, CommandError{Line: c.Line, Raw: c.Raw,
				Reason: fmt.Sprintf("the text is missing: write it after the colon, e.g. %q", cmdExample(c.Verb))})
			continue
		}
		cmds = append(cmds, c)
	}
	return cmds, errs
}

// FormatCommands returns what `modbot reply-check` prints for a reply:
// the commands in normalised form, expanded to one target a line; "none"
// when there are none; then each error as `error: line "<as typed>":
// <reason>`.
func FormatCommands(cmds []Command, errs []CommandError) string {
	var b strings.Builder
	for _, c := range cmds {
		for _, e := range c.Expand() {
			b.WriteString(e.String())
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		b.WriteString("none\n")
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "error: line %q: %s\n", e.Raw, e.Reason)
	}
	return b.String()
}
