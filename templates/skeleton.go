package templates

import (
	"fmt"
	"regexp"
	"time"
)

// DataMark stands for data in a Skeleton: every string a message shows
// that someone chose (names, addresses, subjects, titles, texts, the
// site's name) and every date and time. Numbers are left as they are;
// readers treat any run of digits as data.
const DataMark = "¤"

// DataBar starts every line of commenter data in the digest, text part
// and HTML part alike: the comment, the feedback text, and the wrapped
// lines of names, subjects, parent snippets and precheck evidence. A
// reply reader takes no line that starts with it for the digest's own
// structure.
const DataBar = "|"

// Skeleton is one rendering of a message a moderator or an admin may
// reply to, with its data replaced by DataMark.
type Skeleton struct {
	Name string // the message and the case rendered, e.g. "digest/full"
	Rendered
}

// Skeletons renders, with the embedded templates, every message a
// moderator or an admin may reply to (digest, confirmation, report, admin
// confirmation, escalation, refused digest), each in the cases that print
// different fixed text, with DataMark for its data. A reply that carries
// these lines without quote marks quotes modbot's mail unmarked, so a
// reply reader recognises them from here instead of from a copy of the
// templates' text. There is one language today; a translation would add
// its renderings here.
func Skeletons() ([]Skeleton, error) {
	s, err := Load("")
	if err != nil {
		return nil, err
	}
	var out []Skeleton
	add := func(name string, r *Rendered, err error) error {
		if err != nil {
			return fmt.Errorf("templates: skeleton %s: %w", name, err)
		}
		r.Text = dateRE.ReplaceAllString(r.Text, DataMark)
		r.HTML = dateRE.ReplaceAllString(r.HTML, DataMark)
		out = append(out, Skeleton{Name: name, Rendered: *r})
		return nil
	}
	for _, d := range skeletonDigests() {
		r, err := s.Digest(d)
		if err := add("digest/"+d.Subject, r, err); err != nil {
			return nil, err
		}
	}
	for i, c := range skeletonConfirmations() {
		r, err := s.Confirmation(c)
		if err := add(fmt.Sprintf("confirmation/%d", i), r, err); err != nil {
			return nil, err
		}
	}
	for i, c := range []*AdminConfirmation{
		{SiteName: DataMark, Admin: DataMark, Subject: DataMark},
		{SiteName: DataMark, Admin: DataMark, Subject: DataMark, Applied: []string{DataMark, DataMark},
			Errors: []ReplyError{{Line: DataMark, Reason: DataMark}}},
	} {
		r, err := s.AdminConfirmation(c)
		if err := add(fmt.Sprintf("admin_confirmation/%d", i), r, err); err != nil {
			return nil, err
		}
	}
	r, err := s.Escalation(&Escalation{SiteName: DataMark, Threshold: DataMark, Items: []OverdueItem{
		{ID: 1042, PostTitle: DataMark, AuthorName: DataMark, Received: skeletonTime, Waiting: DataMark},
		{ID: 1043, AuthorName: DataMark, Received: skeletonTime, Waiting: DataMark},
	}})
	if err := add("escalation", r, err); err != nil {
		return nil, err
	}
	for i, u := range []*Undeliverable{
		{SiteName: DataMark, Moderator: DataMark, Error: DataMark, Bytes: 1, Comments: []int64{1042}, Feedback: 1, Failures: 1},
		{SiteName: DataMark, Moderator: DataMark, Error: DataMark, Bytes: 2, Comments: []int64{1042, 1043}, Feedback: 2, Failures: 2},
	} {
		r, err := s.Undeliverable(u)
		if err := add(fmt.Sprintf("undeliverable/%d", i), r, err); err != nil {
			return nil, err
		}
	}
	for _, rep := range skeletonReports() {
		r, err := s.Report(rep)
		if err := add("report/"+rep.Kind, r, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// skeletonTime is the time every skeleton shows; dateRE takes it out.
var skeletonTime = time.Date(2026, 3, 4, 15, 4, 0, 0, time.UTC)

// dateRE matches the dates and times the templates print (datetime and
// the layouts they pass to Format), so that a skeleton marks them as data.
var dateRE = regexp.MustCompile(`(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?: \d{4})?(?: \d{2}:\d{2})?(?: UTC)?)|` +
	`(?:\d{2}:\d{2} UTC(?:, (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec))?)`)

func skeletonDigests() []*Digest {
	item := func(n int, known, reminder, revised bool, hits []Hit) DigestItem {
		return DigestItem{Number: n, ID: int64(1041 + n), PostSlug: DataMark, PostTitle: DataMark, PostURL: DataMark,
			PostKnown: known, AuthorName: DataMark, AuthorEmail: DataMark, Received: skeletonTime,
			ParentSnippet: DataMark, Body: DataMark + "\n" + DataMark, Hits: hits, Reminder: reminder, Revised: revised}
	}
	hits := []Hit{{Rule: 3, Title: DataMark, Severity: "note", Evidence: DataMark, Explanation: DataMark},
		{Rule: 11, Title: DataMark, Severity: "hold", Evidence: DataMark, Explanation: DataMark},
		{Rule: 12, Title: DataMark, Severity: "flag", Evidence: DataMark, Explanation: DataMark}}
	feedback := func(n int) FeedbackItem {
		return FeedbackItem{Number: n, FromName: DataMark, FromAddr: DataMark, Subject: DataMark, Text: DataMark, Received: skeletonTime}
	}
	base := func(subject string) Digest {
		return Digest{SiteName: DataMark, BaseURL: DataMark, Moderator: DataMark, ReplyAddress: DataMark,
			Generated: skeletonTime, Subject: subject}
	}
	full := base("full")
	full.Items = []DigestItem{item(1, true, false, false, hits), item(2, false, true, true, nil), item(3, true, true, false, nil)}
	full.Feedback = []FeedbackItem{feedback(4), feedback(5)}
	full.Decided = []DecidedItem{{ID: 1040, Action: DataMark, Moderator: DataMark, When: skeletonTime}}
	full.More = 7
	full.Overdue = []OverdueItem{{ID: 1039, PostTitle: DataMark, AuthorName: DataMark, Received: skeletonTime, Waiting: DataMark},
		{ID: 1038, AuthorName: DataMark, Received: skeletonTime, Waiting: DataMark}}
	one := base("one")
	one.Items = []DigestItem{item(1, true, false, false, nil)}
	one.Feedback = []FeedbackItem{feedback(2)}
	feedbackOnly := base("feedback")
	feedbackOnly.Feedback = []FeedbackItem{feedback(1)}
	return []*Digest{&full, &one, &feedbackOnly}
}

func skeletonConfirmations() []*Confirmation {
	base := func() Confirmation {
		return Confirmation{SiteName: DataMark, Moderator: DataMark, Subject: DataMark}
	}
	empty := base()
	errorsOnly := base()
	errorsOnly.Errors = []ReplyError{{Line: DataMark, Reason: DataMark}}
	full := base()
	full.GraceUntil = skeletonTime
	for i, action := range []string{"approved", "rejected", "edited", "spam", "held", "replied"} {
		it := ConfirmedItem{Number: i + 1, ID: int64(1042 + i), Action: action, AuthorName: DataMark, PostTitle: DataMark}
		switch action {
		case "rejected":
			it.Rules, it.Reason = []int{3, 11}, DataMark
		case "edited":
			it.Text, it.Cut, it.CommentURL = DataMark, 120, DataMark
		case "replied":
			it.ID, it.AuthorName, it.PostTitle, it.Text = 0, "", "", DataMark
		case "held":
			it.AuthorName = ""
		}
		full.Applied = append(full.Applied, it)
	}
	full.Undone = []ConfirmedItem{{Number: 1, ID: 1042, AuthorName: DataMark, PostTitle: DataMark},
		{Number: 2, ID: 1043, Action: "replied"}, {ID: 1044, Action: "approved", PostTitle: DataMark}}
	full.Conflicts = []ConflictItem{
		{Number: 7, ID: 1048, Action: DataMark, DecidedBy: DataMark, DecidedAction: DataMark, DecidedAt: skeletonTime},
		{Number: 8, ID: 1049, DecidedBy: "someone else", DecidedAction: DataMark}}
	full.Revised = []RevisedItem{{Number: 9, ID: 1050, Action: DataMark, Shown: true}, {Number: 10, ID: 1051}}
	full.Errors = []ReplyError{{Line: DataMark, Reason: DataMark}}
	undoneOnly := base()
	undoneOnly.Undone = full.Undone
	return []*Confirmation{&empty, &errorsOnly, &full, &undoneOnly}
}

func skeletonReports() []*Report {
	var out []*Report
	for _, kind := range []string{"daily", "weekly"} {
		r := &Report{SiteName: DataMark, BaseURL: DataMark, Kind: kind, From: skeletonTime, To: skeletonTime.Add(24 * time.Hour),
			Generated: skeletonTime, Admin: DataMark, ReplyAddress: DataMark,
			Received: 9, Blocked: 1, Approved: 5, Edited: 1, Rejected: 2, Spam: 1, Held: 1,
			ByRule: []RuleCount{{Rule: 3, Title: DataMark, Count: 1}, {Rule: 0, Count: 1}},
			Timed:  7, Median: KnownElapsed(90 * time.Minute), P95: Elapsed{},
			Pending: 3, HeldNow: 1,
			OutboxFailed: 1, InDoubt: 1, Bounced: 1, Quarantined: 1, WithheldAddress: 1, WithheldTotal: 1,
			Failures: []OutboxFailure{{At: skeletonTime, To: DataMark, Kind: DataMark, Error: DataMark}},
			Bounces:  []Bounce{{At: skeletonTime, Addr: DataMark, Reason: DataMark}},
			Days:     []Day{{Date: skeletonTime, Submissions: 4, Median: Elapsed{}}},
		}
		if kind == "daily" {
			r.Moderators = []ModeratorCount{{Moderator: DataMark, Total: 3, Approved: 1, Rejected: 1, Spam: 1}}
			r.Oldest = &WaitingItem{ID: 1042, Since: skeletonTime, Waiting: Elapsed{}, PostTitle: DataMark}
			r.Chart = &ReportChart{CID: DataMark, Width: 600, Height: 300, Gridlines: 4, BarStep: 1}
		}
		out = append(out, r)
	}
	return out
}
