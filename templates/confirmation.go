package templates

import (
	"errors"
	"slices"
	"time"
)

// Confirmation tells a moderator what their reply to a digest did.
type Confirmation struct {
	SiteName  string
	Moderator string          // the recipient's address
	Applied   []ConfirmedItem // what the reply did
	Conflicts []ConflictItem  // items someone decided first
	Revised   []RevisedItem   // items whose text changed after the moderator saw it
	Errors    []ReplyError    // lines not understood or not applicable
	Undone    []ConfirmedItem // what an undo in the reply took back
	// GraceUntil is when the notices to commenters go out; "undo" works
	// until then. Zero: no undo hint.
	GraceUntil time.Time
	Subject    string // the subject of the moderator's reply
}

// ConfirmedItem is one decision the reply made or took back.
type ConfirmedItem struct {
	Number int   // the item's number in the digest; 0 when it had none (undo #1042)
	ID     int64 // the comment's stable id; 0 for a feedback item
	// Action is "approved", "rejected", "edited", "held", "spam",
	// "replied" or "undone"; for Undone items, the decision taken back.
	Action                string
	AuthorName, PostTitle string
	Rules                 []int
	Reason                string
	// Approved, edited: the text as published, cut to a length a
	// confirmation can carry (Cut says how many characters were left
	// out), and where the whole of it is.
	Text       string
	Cut        int
	CommentURL string
}

// RevisedItem is a command for a comment whose author changed it after
// the moderator was shown it: it was not applied.
type RevisedItem struct {
	Number int
	ID     int64
	Action string // what the reply asked for
	// Shown: a digest sent to the moderator since already shows the new
	// text; otherwise it comes in the next one.
	Shown bool
}

// ConflictItem is a command for an item that had already been decided,
// by this moderator or another, so it was not applied.
type ConflictItem struct {
	Number        int
	ID            int64
	Action        string // what the reply asked for
	DecidedBy     string // the deciding moderator's address
	DecidedAction string
	DecidedAt     time.Time
}

// ReplyError is a line of the reply that was not applied.
type ReplyError struct {
	Line   string
	Reason string
}

// Confirmation renders the confirmation c.
func (s *Set) Confirmation(c *Confirmation) (*Rendered, error) {
	if c == nil {
		return nil, errors.New("templates: nil confirmation")
	}
	return s.render("confirmation", c)
}

// ReplySubject is the subject of the moderator's reply with one "Re: "
// in front, or "" when it had none.
func (c *Confirmation) ReplySubject() string {
	return reSubject(c.Subject)
}

// RuleText lists the cited rules as "rule 3, rule 12" in order, once each.
func (it ConfirmedItem) RuleText() string {
	return ruleList(slices.Clone(it.Rules))
}
