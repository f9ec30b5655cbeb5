package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/templates"
)

// submissionRow is a submission with what notices and decisions need of it.
type submissionRow struct {
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

func loadSubmission(ctx context.Context, q sqlx.QueryerContext, id int64) (*submissionRow, error) {
	var s submissionRow
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
func (in *Ingester) noticeView(kind string, s *submissionRow) *templates.Notice {
	return &templates.Notice{
		Kind: kind, SiteName: in.Site.Name, BaseURL: in.Site.BaseURL,
		AuthorName: cutLine(s.AuthorName), PostTitle: s.PostTitle, PostURL: s.PostURL,
		CommentID: s.ID, Body: cutForCommenter(s.Body, s.ID), Received: s.CreatedAt, Subject: cutLine(s.Subject),
	}
}

// noticeTo says where a notice goes and what it is about.
type noticeTo struct {
	Addr         string
	PostSlug     string // for List-Id
	SubmissionID *int64 // an undo withdraws the notice while it waits
	CommentID    *int64 // a reply to the notice joins this comment's thread
	InReplyTo    string // the commenter's message the notice answers
	NotBefore    time.Time
	Queued       *string // when set, gets the Message-ID written ("" when withheld)
}

// enqueueNotice renders a notice to a commenter or reader and writes it
// to the outbox in tx. Every notice about a comment answers the
// commenter's own message, so their mail client shows the comment's
// whole life as one thread; replies to it come back to the inbox. Every
// notice carries List-Unsubscribe (a mailto and RFC 8058 one-click) and
// List-Id.
func (in *Ingester) enqueueNotice(ctx context.Context, tx *sqlx.Tx, n *templates.Notice, to noticeTo) error {
	if why, err := in.mayNotify(ctx, tx, to.Addr, n.Kind); err != nil {
		return err
	} else if why != "" {
		in.logger().Info("notice not sent", "kind", n.Kind, "to", to.Addr, "why", why)
		return nil
	}
	token, err := recipientToken(ctx, tx, to.Addr)
	if err != nil {
		return err
	}
	n.UnsubscribeURL = in.Site.BaseURL + "/unsubscribe/" + token
	// Until the address showed it is real, the notice carries nothing a
	// sender chose as live text: it may be a stranger's address.
	real, err := proven(ctx, tx, to.Addr)
	if err != nil {
		return err
	}
	if !real {
		n.Guard()
	}
	r, err := in.Templates.Notice(n)
	if err != nil {
		return fmt.Errorf("render %s notice: %w", n.Kind, err)
	}
	msgID := mail.NewMessageID("notice", in.Site.domain())
	listID := in.Site.domain()
	if to.PostSlug != "" {
		listID = to.PostSlug + "." + listID
	}
	out := &mail.Outgoing{
		From:          mail.Address{Name: in.Site.Name, Addr: in.Site.Address},
		To:            []mail.Address{{Name: n.AuthorName, Addr: to.Addr}},
		Subject:       r.Subject,
		MessageID:     msgID,
		Date:          in.st().now(),
		AutoSubmitted: "auto-replied",
		Headers: map[string]string{
			"List-Id":               fmt.Sprintf("%s comments <%s>", asciiOnly(in.Site.Name), listID),
			"List-Unsubscribe":      fmt.Sprintf("<mailto:%s?subject=unsubscribe>, <%s>", in.Site.plus("u-"+token), n.UnsubscribeURL),
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		Text: r.Text,
		HTML: r.HTML,
	}
	if to.InReplyTo != "" {
		out.InReplyTo = to.InReplyTo
		out.References = []string{to.InReplyTo}
	}
	raw, err := out.Bytes()
	if err != nil {
		return fmt.Errorf("compose %s notice: %w", n.Kind, err)
	}
	if err := in.st().enqueue(ctx, tx, outMessage{Kind: "notice", MessageID: msgID, From: in.Site.Address, To: to.Addr,
		Raw: raw, NotBefore: to.NotBefore, SubmissionID: to.SubmissionID, Notice: n.Kind, CommentID: to.CommentID}); err != nil {
		return err
	}
	if to.Queued != nil {
		*to.Queued = msgID
	}
	return nil
}

// asciiOnly keeps the printable ASCII of s: List-Id's phrase must be
// ASCII in a header go-message writes unencoded.
func asciiOnly(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"' {
			b = append(b, c)
		}
	}
	return strings.TrimSpace(string(b))
}

// expectedWait is the median time from submission to decision over the
// last 100 decisions, in words ("" with fewer than 5 to go on).
func (s *Store) expectedWait(ctx context.Context, q sqlx.QueryerContext) (string, error) {
	var waits []float64
	err := sqlx.SelectContext(ctx, q, &waits, sqlRecentWaits)
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
