package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/templates"
)

// subRow is a submission with what notices and decisions need of it.
type subRow struct {
	ID          int64     `db:"id"`
	PostSlug    string    `db:"post_slug"`
	PostTitle   string    `db:"post_title"`
	PostURL     string    `db:"post_url"`
	ParentID    *int64    `db:"parent_id"`
	AuthorName  string    `db:"author_name"`
	AuthorEmail string    `db:"author_email"`
	MessageID   string    `db:"message_id"`
	Subject     string    `db:"subject"`
	Body        string    `db:"body"`
	State       string    `db:"state"`
	CreatedAt   time.Time `db:"created_at"`
}

var errNoSubmission = errors.New("no such comment")

func loadSubmission(ctx context.Context, q sqlx.QueryerContext, id int64) (*subRow, error) {
	var s subRow
	err := sqlx.GetContext(ctx, q, &s, `SELECT s.id, s.post_slug, COALESCE(p.title, '') AS post_title, COALESCE(p.url, '') AS post_url,
			s.parent_id, s.author_name, s.author_email, s.message_id, s.subject, s.body, s.state, s.created_at
		FROM submissions s LEFT JOIN posts p ON p.slug = s.post_slug WHERE s.id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("#%d: %w", id, errNoSubmission)
	}
	if err != nil {
		return nil, fmt.Errorf("load #%d: %w", id, err)
	}
	return &s, nil
}

// commentURL is where an approved comment is published.
func (s Site) commentURL(slug string, commentID int64) string {
	return fmt.Sprintf("%s/posts/%s#c%d", s.BaseURL, slug, commentID)
}

// noticeView fills what every notice about a submission says.
func (in *Ingester) noticeView(kind string, s *subRow) *templates.Notice {
	return &templates.Notice{
		Kind: kind, SiteName: in.Site.Name, BaseURL: in.Site.BaseURL,
		AuthorName: s.AuthorName, PostTitle: s.PostTitle, PostURL: s.PostURL,
		CommentID: s.ID, Body: s.Body, Received: s.CreatedAt, Subject: s.Subject,
	}
}

// enqueueNotice renders a notice to a commenter and writes it to the
// outbox in tx. Every notice about a comment answers the commenter's own
// message, so their mail client shows the comment's whole life as one
// thread; replies to it come back to the inbox as feedback.
func (in *Ingester) enqueueNotice(ctx context.Context, tx *sqlx.Tx, n *templates.Notice, to string, subID *int64, inReplyTo string, notBefore time.Time) error {
	r, err := in.Templates.Notice(n)
	if err != nil {
		return fmt.Errorf("render %s notice: %w", n.Kind, err)
	}
	msgID := mail.NewMessageID("notice", in.Site.domain())
	out := &mail.Outgoing{
		From:          mail.Address{Name: in.Site.Name, Addr: in.Site.Address},
		To:            []mail.Address{{Name: n.AuthorName, Addr: to}},
		Subject:       r.Subject,
		MessageID:     msgID,
		Date:          in.Store.now(),
		AutoSubmitted: "auto-replied",
		Text:          r.Text,
		HTML:          r.HTML,
	}
	if inReplyTo != "" {
		out.InReplyTo = inReplyTo
		out.References = []string{inReplyTo}
	}
	raw, err := out.Bytes()
	if err != nil {
		return fmt.Errorf("compose %s notice: %w", n.Kind, err)
	}
	return in.Store.enqueue(ctx, tx, outMessage{Kind: "notice", MessageID: msgID, From: in.Site.Address, To: to,
		Raw: raw, NotBefore: notBefore, SubmissionID: subID})
}

// expectedWait is the median time from submission to decision over the
// last 100 decisions, in words ("" with fewer than 5 to go on).
func (s *Store) expectedWait(ctx context.Context, q sqlx.QueryerContext) (string, error) {
	var waits []float64
	err := sqlx.SelectContext(ctx, q, &waits, `SELECT (julianday(decided_at) - julianday(created_at)) * 86400 FROM submissions
		WHERE decided_at IS NOT NULL ORDER BY decided_at DESC LIMIT 100`)
	if err != nil {
		return "", fmt.Errorf("expected wait: %w", err)
	}
	if len(waits) < 5 {
		return "", nil
	}
	slices.Sort(waits)
	return aboutDuration(time.Duration(waits[len(waits)/2] * float64(time.Second))), nil
}

// aboutDuration says d the way a person would: "about 20 minutes".
func aboutDuration(d time.Duration) string {
	switch {
	case d < 90*time.Minute:
		return fmt.Sprintf("about %d minutes", max(1, int(d.Minutes()+0.5)))
	case d < 36*time.Hour:
		return fmt.Sprintf("about %d hours", int(d.Hours()+0.5))
	default:
		return fmt.Sprintf("about %d days", int(d.Hours()/24+0.5))
	}
}
