package templates

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The kinds of Notice, each rendered from notice_<kind>.*.tmpl.
const (
	NoticeReceived = "received" // the comment is waiting for a moderator
	NoticeApproved = "approved" // the comment is published
	NoticeRejected = "rejected" // the comment is not published, with the rules cited
	NoticeReply    = "reply"    // a moderator answered the commenter's message

	NoticeNewComment = "new_comment" // a new comment on a post the reader follows
	NoticeNewReply   = "new_reply"   // a reply to the reader's comment
	NoticeSubscribe  = "subscribe"   // confirm a subscription (double opt-in)

	// What became of the commenter's mail about a waiting comment.
	NoticeRevised    = "revised"     // mail to the revision address changed the comment
	NoticeNotRevised = "not_revised" // the mail reached the moderators as feedback; the comment is unchanged
)

// Notice is a mail to a commenter about their comment, or the
// moderators' answer to a message from them. It carries no moderator's
// name or address: commenters hear from "the moderators" only, and their
// replies go to the site's inbox.
type Notice struct {
	Kind              string // NoticeReceived, NoticeApproved, NoticeRejected or NoticeReply
	SiteName, BaseURL string
	AuthorName        string // the commenter's display name
	PostTitle         string // "" when the submission named no known post
	PostURL           string // may be ""
	CommentURL        string // approved: base_url/posts/<slug>#c<id>
	CommentID         int64  // the stable id, shown as #1042
	// Body is the comment as submitted (received, rejected) or as
	// published (approved, which may be a moderator's edit).
	Body     string
	Edited   bool // approved with a moderator's edit
	Received time.Time

	// Received: what the prechecks found, so the commenter knows what
	// the moderators will look at, and how long a decision may take
	// ("about 6 hours"; "" when unknown).
	Hits         []Hit
	ExpectedWait string
	// Received, Revised, NotRevised: the comment's revision address
	// (moderator+r-<token>@), the only way to change it while it waits;
	// "" once it can no longer change.
	ReviseAddress string

	// Rejected: the cited rules with their full text, and the
	// moderator's reason ("" when none was given).
	Rules  []Rule
	Reason string

	// Reply: the moderators' answer, the commenter's message it answers
	// (quoted below the answer) and that message's subject.
	ReplyText  string
	QuotedText string
	Subject    string

	// UnsubscribeURL stops all optional mail to the recipient (the same
	// address as the List-Unsubscribe header's).
	UnsubscribeURL string
	// NewComment, NewReply: who wrote the comment (Body, CommentURL) the
	// reader is told about. Subscribe: ConfirmURL and Scope ("replies"
	// or "all") of the subscription to confirm.
	CommenterName string
	ConfirmURL    string
	Scope         string

	// Guarded: the recipient has not shown the address is real, so the
	// notice quotes only a defanged excerpt and no names (see Guard).
	Guarded bool
}

// Rule is one of the site's comment rules as a notice cites it.
type Rule struct {
	Number      int
	Title, Text string
}

// Notice renders the notice n.
func (s *Set) Notice(n *Notice) (*Rendered, error) {
	if n == nil {
		return nil, errors.New("templates: nil notice")
	}
	switch n.Kind {
	case NoticeReceived, NoticeApproved, NoticeRejected, NoticeReply, NoticeNewComment, NoticeNewReply, NoticeSubscribe,
		NoticeRevised, NoticeNotRevised:
	default:
		return nil, fmt.Errorf("templates: unknown notice kind %q", n.Kind)
	}
	return s.render("notice_"+n.Kind, n)
}

// ReplySubject is the subject of the commenter's message with one "Re: "
// in front, or "" when it had none.
func (n *Notice) ReplySubject() string {
	return reSubject(n.Subject)
}

// reSubject puts one "Re: " before subject, however many the mail
// clients on the way have already stacked up.
func reSubject(subject string) string {
	s := oneline(subject)
	for len(s) >= 3 && strings.EqualFold(s[:3], "re:") {
		s = strings.TrimLeft(s[3:], " ")
	}
	if s == "" {
		return ""
	}
	return "Re: " + s
}
