package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/templates"
)

// Escalation makes sure nothing waits silently: comments pending longer
// than After are named at the top of every moderator's digest; longer
// than AdminsAfter, they are mailed to the admins, once each.
type Escalation struct {
	After, AdminsAfter time.Duration
	Admins             []string
}

type overdueRow struct {
	ID         int64     `db:"id"`
	PostTitle  *string   `db:"title"`
	AuthorName string    `db:"author_name"`
	CreatedAt  time.Time `db:"created_at"`
}

func overdue(ctx context.Context, q sqlx.QueryerContext, before time.Time, extra string) ([]overdueRow, error) {
	var rows []overdueRow
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT s.id, p.title, s.author_name, s.created_at FROM submissions s
		LEFT JOIN posts p ON p.slug = s.post_slug
		WHERE s.state = 'pending' AND s.created_at < ? `+extra+` ORDER BY s.id LIMIT 100`, before)
	if err != nil {
		return nil, fmt.Errorf("overdue: %w", err)
	}
	return rows, nil
}

func overdueItems(rows []overdueRow, now time.Time) []templates.OverdueItem {
	out := make([]templates.OverdueItem, 0, len(rows))
	for _, r := range rows {
		it := templates.OverdueItem{ID: r.ID, AuthorName: r.AuthorName, Received: r.CreatedAt, Waiting: waitedFor(now.Sub(r.CreatedAt))}
		if r.PostTitle != nil {
			it.PostTitle = *r.PostTitle
		}
		out = append(out, it)
	}
	return out
}

// waitedFor says how long something waited, roughly.
func waitedFor(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// escalateToAdmins mails the admins the comments pending longer than
// AdminsAfter that they have not been told about.
func (d *Digester) escalateToAdmins(ctx context.Context) error {
	e := d.Escalation
	if e.AdminsAfter <= 0 || len(e.Admins) == 0 {
		return nil
	}
	return d.Store.tx(ctx, func(tx *sqlx.Tx) error {
		now := d.Store.now()
		rows, err := overdue(ctx, tx, now.Add(-e.AdminsAfter), `AND NOT EXISTS (SELECT 1 FROM escalations x WHERE x.submission_id = s.id)`)
		if err != nil || len(rows) == 0 {
			return err
		}
		view := &templates.Escalation{SiteName: d.Site.Name, Items: overdueItems(rows, now), Threshold: waitedFor(e.AdminsAfter)}
		r, err := d.Templates.Escalation(view)
		if err != nil {
			return fmt.Errorf("render escalation: %w", err)
		}
		if err := d.mailAdmins(ctx, tx, "escalation", e.Admins, r.Subject, r.Text, now); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO escalations (submission_id, mailed_at) VALUES (?, ?)`, r.ID, now); err != nil {
				return fmt.Errorf("record escalation: %w", err)
			}
		}
		d.logger().Warn("pending comments escalated to the admins", "count", len(rows))
		return nil
	})
}

// mailAdmins writes one plain-text mail of kind to each admin into the
// outbox, in tx, from the site's moderation address.
func (d *Digester) mailAdmins(ctx context.Context, tx *sqlx.Tx, kind string, admins []string, subject, text string, now time.Time) error {
	for _, admin := range admins {
		msgID := mail.NewMessageID(kind, d.Site.domain())
		out := &mail.Outgoing{
			From: d.Site.moderation(d.Site.Address), To: []mail.Address{{Addr: admin}},
			Subject: subject, MessageID: msgID, Date: now, Text: text,
		}
		raw, err := out.Bytes()
		if err != nil {
			return fmt.Errorf("compose %s: %w", kind, err)
		}
		if err := d.Store.enqueue(ctx, tx, outMessage{Kind: kind, MessageID: msgID, From: d.Site.Address, To: admin, Raw: raw}); err != nil {
			return err
		}
	}
	return nil
}
