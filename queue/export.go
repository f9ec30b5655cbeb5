package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// ExportedComment is one line of an export: a published comment. Like the
// published store it carries no email address.
type ExportedComment struct {
	Type        string    `json:"type"` // "comment"
	ID          int64     `json:"id"`
	Post        string    `json:"post"`
	Parent      *int64    `json:"parent"`
	AuthorName  string    `json:"author_name"`
	Body        string    `json:"body"`
	PublishedAt time.Time `json:"published_at"`
	// Submission is the moderated submission it came from; nil for an
	// imported comment.
	Submission *int64 `json:"submission"`
}

// ExportedDecision is one line of an export: an entry of the audit log.
type ExportedDecision struct {
	Type           string     `json:"type"` // "decision"
	ID             int64      `json:"id"`
	Submission     int64      `json:"submission"`
	Moderator      string     `json:"moderator"`
	Action         string     `json:"action"`
	FromState      string     `json:"from_state"`
	ToState        string     `json:"to_state"`
	Rules          []int      `json:"rules"`
	Reason         string     `json:"reason"`
	At             time.Time  `json:"at"`
	ReplyMessageID string     `json:"reply_message_id"`
	UndoneAt       *time.Time `json:"undone_at,omitempty"`
	// OriginalBody is, for an edit, what the commenter wrote.
	OriginalBody string `json:"original_body,omitempty"`
	// Version is the version of the comment decided on; 0 for a
	// decision from before versions were kept.
	Version int `json:"version,omitempty"`
}

// ExportedVersion is one line of an export: one text a submission had.
// Version 1 is the text that arrived first; each revision by its author
// adds one. No text is ever dropped.
type ExportedVersion struct {
	Type       string    `json:"type"` // "version"
	Submission int64     `json:"submission"`
	Version    int       `json:"version"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
}

// ExportResult counts the lines an export wrote.
type ExportResult struct {
	Comments  int
	Decisions int
	Versions  int
}

// Export writes every published comment, then every decision, then
// every version of every submission's text, as JSON lines, oldest first,
// from one consistent snapshot of the store.
func (s *Store) Export(ctx context.Context, w io.Writer) (ExportResult, error) {
	var res ExportResult
	// A read transaction: a daemon writing meanwhile cannot make the
	// comments and the decisions disagree.
	tx, err := s.pool.BeginTxx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)

	err = eachRow(ctx, tx, `SELECT id, post_slug, parent_id, author_name, body, published_at, submission_id
		FROM comments ORDER BY id`, func(rows *sqlx.Rows) error {
		c := ExportedComment{Type: "comment"}
		if err := rows.Scan(&c.ID, &c.Post, &c.Parent, &c.AuthorName, &c.Body, &c.PublishedAt, &c.Submission); err != nil {
			return err
		}
		c.PublishedAt = c.PublishedAt.UTC()
		res.Comments++
		return enc.Encode(c)
	})
	if err != nil {
		return res, fmt.Errorf("export comments: %w", err)
	}

	err = eachRow(ctx, tx, `SELECT id, submission_id, moderator, action, from_state, to_state, rules, reason,
		created_at, reply_message_id, undone_at, original_body, COALESCE(version, 0) FROM decisions ORDER BY id`, func(rows *sqlx.Rows) error {
		d := ExportedDecision{Type: "decision", Rules: []int{}}
		var rules string
		if err := rows.Scan(&d.ID, &d.Submission, &d.Moderator, &d.Action, &d.FromState, &d.ToState, &rules, &d.Reason,
			&d.At, &d.ReplyMessageID, &d.UndoneAt, &d.OriginalBody, &d.Version); err != nil {
			return err
		}
		for _, r := range strings.Split(rules, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(r)); err == nil {
				d.Rules = append(d.Rules, n)
			}
		}
		d.At = d.At.UTC()
		if d.UndoneAt != nil {
			t := d.UndoneAt.UTC()
			d.UndoneAt = &t
		}
		res.Decisions++
		return enc.Encode(d)
	})
	if err != nil {
		return res, fmt.Errorf("export decisions: %w", err)
	}

	err = eachRow(ctx, tx, `SELECT submission_id, version, body, created_at FROM submission_versions
		ORDER BY submission_id, version`, func(rows *sqlx.Rows) error {
		v := ExportedVersion{Type: "version"}
		if err := rows.Scan(&v.Submission, &v.Version, &v.Body, &v.At); err != nil {
			return err
		}
		v.At = v.At.UTC()
		res.Versions++
		return enc.Encode(v)
	})
	if err != nil {
		return res, fmt.Errorf("export versions: %w", err)
	}
	return res, nil
}

// eachRow runs f on every row of the query, streaming: an export of a
// large site never sits in memory whole.
func eachRow(ctx context.Context, q sqlx.QueryerContext, query string, f func(*sqlx.Rows) error) error {
	rows, err := q.QueryxContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
