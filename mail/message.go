package mail

import (
	"net/textproto"
	"time"
)

// Address is one mailbox: a display name and an addr-spec.
type Address struct {
	Name string
	Addr string // lower-cased domain, local part as written
}

// Attachment describes a non-body MIME part; its content is not kept.
type Attachment struct {
	Filename    string
	ContentType string
	Size        int64
}

// Message is an inbound message reduced to what modbot reads from it.
type Message struct {
	MessageID string // without angle brackets; may be empty
	From      *Address
	// FromCount is how many authors the message names: the number of
	// From fields or of addresses in them, whichever is more. Only the
	// first is in From; above 1, a DKIM verifier may have checked
	// another one than modbot reads.
	FromCount   int
	Sender      *Address
	ReplyTo     []Address
	To          []Address
	Cc          []Address
	DeliveredTo []string // Delivered-To and X-Original-To values, lower-cased
	Subject     string   // decoded
	Date        time.Time
	InReplyTo   []string // message IDs without angle brackets
	References  []string

	// Header keeps every header field, decoded where it is a known
	// structured or RFC 2047 field. Keys are canonical (textproto) form.
	Header map[string][]string

	// Text is the body a person wrote: the first text/plain part, or the
	// HTML part converted to text when there is no plain part.
	Text     string
	HTML     string // the first text/html part, raw; empty when none
	HTMLOnly bool   // Text was converted from HTML

	// ContentType is the top-level media type, e.g. "multipart/report".
	ContentType string
	// ReportType is the report-type parameter of a multipart/report.
	ReportType  string
	Attachments []Attachment
	// DeliveryStatus is the message/delivery-status part of a bounce
	// (RFC 3464), up to 64 KiB; see DeliveryFailures.
	DeliveryStatus string
	// ReturnedMessageID is the Message-ID of the message a delivery
	// report returns: the header of its text/rfc822-headers or
	// message/rfc822 part (without angle brackets; "" when none).
	ReturnedMessageID string

	// Warnings are problems that did not stop parsing (an unknown charset
	// decoded as raw bytes, a missing closing boundary).
	Warnings []string
}

// Get returns the first value of the header field key, or "".
func (m *Message) Get(key string) string {
	if m == nil || m.Header == nil {
		return ""
	}
	v := m.Header[canonicalKey(key)]
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// Kind is what an inbound message is to modbot.
type Kind string

// The kinds of inbound message.
const (
	KindSubmission Kind = "submission" // a comment for a post
	KindReply      Kind = "reply"      // answers a digest: addressed to moderator+d-<token>@
	KindFeedback   Kind = "feedback"   // anything else a person wrote to the moderators
	KindAuto       Kind = "auto"       // auto-reply, bounce, list mail: never answered
	KindMalformed  Kind = "malformed"  // could not be parsed
	// KindUnsubscribe is mail to moderator+u-<token>@: a notice's
	// List-Unsubscribe mailto.
	KindUnsubscribe Kind = "unsubscribe"
	// KindRevision is mail to moderator+r-<token>@: a commenter's new
	// text for their waiting comment, the address its "received" notice
	// gave.
	KindRevision Kind = "revision"
)

// PostVia says how a submission named its post.
type PostVia string

// Ways a submission names its post.
const (
	ViaPlus    PostVia = "plus"    // moderator+<slug>@domain
	ViaHeader  PostVia = "header"  // X-Comment-Post
	ViaSubject PostVia = "subject" // "[slug] ..." subject
	ViaNone    PostVia = ""
)

// Classification is the result of Classify.
type Classification struct {
	Kind   Kind
	Reason string // why, in a few words, e.g. "Auto-Submitted: auto-replied"

	// For submissions.
	PostSlug   string
	PostVia    PostVia
	AuthorName string // X-Comment-Name, else the From display name
	ParentID   string // X-Comment-Parent, as written

	// For replies: the token of the digest's Reply-To address.
	DigestToken string
	// For unsubscribe mail: the recipient's token.
	UnsubscribeToken string
	// For revisions: the submission's revision token.
	RevisionToken string
	// For mail to a return path (moderator+b-<token>@): the token of the
	// outgoing message it is about.
	BounceToken string
}

func canonicalKey(k string) string { return textproto.CanonicalMIMEHeaderKey(k) }
