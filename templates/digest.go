package templates

import (
	"errors"
	"time"
)

// Digest is one moderator's digest of pending comments.
type Digest struct {
	SiteName, BaseURL string
	Moderator         string // the recipient's address
	ReplyAddress      string // moderator+d-<token>@domain
	Generated         time.Time
	Items             []DigestItem
	Feedback          []FeedbackItem
	// Decided lists decisions other moderators made since this
	// moderator's last digest; the section is shown only when non-empty.
	Decided []DecidedItem
	// More counts pending items left out of this digest because it is
	// full; they follow in later digests.
	More int
	// Subject is the digest's subject, which the one-tap links of the
	// HTML part answer with "Re: …"; "" means the rendered subject.
	Subject string
	// Overdue names pending comments older than the escalation threshold,
	// at the top of every moderator's digest, so nothing expires silently.
	Overdue []OverdueItem
}

// OverdueItem is a comment waiting longer than it should.
type OverdueItem struct {
	ID                    int64
	PostTitle, AuthorName string
	Received              time.Time
	Waiting               string // "3 days"
}

// DigestItem is one pending comment.
type DigestItem struct {
	Number int   // short number within this digest
	ID     int64 // stable id, shown as #1042

	PostSlug, PostTitle, PostURL string
	PostKnown                    bool // false: the submission named no configured post

	AuthorName, AuthorEmail string
	Received                time.Time
	ParentSnippet           string // for replies: the start of the parent comment
	Body                    string
	Hits                    []Hit
	Reminder                bool // was in an earlier digest and is still pending
	Revised                 bool // the author sent a new version
}

// Hit is a precheck hit as the digest shows it. Start and End are byte
// offsets into the item's Body.
type Hit struct {
	Rule                                   int
	Title, Severity, Evidence, Explanation string
	Start, End                             int
}

// FeedbackItem is a message to the moderators that is not a comment.
type FeedbackItem struct {
	Number                            int
	FromName, FromAddr, Subject, Text string
	Received                          time.Time
}

// DecidedItem is a decision another moderator made.
type DecidedItem struct {
	ID        int64
	Action    string // "approved", "rejected", ...
	Moderator string
	When      time.Time
}

// Reminders counts the items that were in an earlier digest.
func (d *Digest) Reminders() int {
	n := 0
	for _, it := range d.Items {
		if it.Reminder {
			n++
		}
	}
	return n
}

// NewItems counts the items shown for the first time.
func (d *Digest) NewItems() int {
	return len(d.Items) - d.Reminders()
}

// Digest renders the digest d.
func (s *Set) Digest(d *Digest) (*Rendered, error) {
	if d == nil {
		return nil, errors.New("templates: nil digest")
	}
	if d.Subject == "" {
		// The links need the subject the digest is sent with; render it
		// first, on a copy so the caller's value is left as it was.
		subject, err := s.execText("digest.subject.tmpl", d)
		if err != nil {
			return nil, err
		}
		c := *d
		c.Subject = oneline(subject)
		d = &c
	}
	return s.render("digest", d)
}
