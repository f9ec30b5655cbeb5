package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/templates"
)

// adminsToldEvery is how often at most the admins hear about refused
// digests: a server that refuses every digest must not flood them too.
const adminsToldEvery = time.Hour

// Undeliverable handles a digest the outbox gave up on (Outbox.Failed):
// until now its items counted as shown, so they stayed out of the
// moderator's digests for reminder_interval although the moderator never
// saw them (issue 11 §5). It takes back the digest's numbering, so its
// comments and feedback are due at once and listed in the moderator's
// next digest, and mails the admins (at most once an hour) what the
// server said. Other kinds of mail are left alone.
func (d *Digester) Undeliverable(ctx context.Context, tx *sqlx.Tx, f Failure) error {
	if f.Kind != "digest" {
		return nil
	}
	var digestID int64
	err := tx.GetContext(ctx, &digestID, `SELECT id FROM digests WHERE message_id = ?`, f.MessageID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("refused digest %s: %w", f.MessageID, err)
	}
	var items []struct {
		Submission *int64 `db:"submission_id"`
		Feedback   *int64 `db:"feedback_id"`
	}
	if err := tx.SelectContext(ctx, &items, `SELECT submission_id, feedback_id FROM digest_items WHERE digest_id = ? ORDER BY number`, digestID); err != nil {
		return fmt.Errorf("items of refused digest %d: %w", digestID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM digest_items WHERE digest_id = ?`, digestID); err != nil {
		return fmt.Errorf("put back the items of refused digest %d: %w", digestID, err)
	}
	view := &templates.Undeliverable{SiteName: d.Site.Name, Moderator: f.To, Bytes: f.Size}
	if f.Err != nil {
		view.Error = cutLine(f.Err.Error())
	}
	for _, it := range items {
		if it.Submission != nil {
			view.Comments = append(view.Comments, *it.Submission)
		} else {
			view.Feedback++
		}
	}
	d.logger().Warn("digest refused for good; its items are listed in the next digest", "moderator", f.To,
		"message_id", f.MessageID, "bytes", f.Size, "comments", len(view.Comments), "feedback", view.Feedback, "err", f.Err)
	now := d.Store.now()
	if err := tx.GetContext(ctx, &view.Failures, `SELECT COUNT(*) FROM outbox
		WHERE kind = 'digest' AND state = 'failed' AND created_at > ?`, now.Add(-24*time.Hour)); err != nil { // this one included
		return fmt.Errorf("count refused digests: %w", err)
	}
	admins := d.Escalation.Admins
	if len(admins) == 0 {
		return nil
	}
	var told int
	if err := tx.GetContext(ctx, &told, `SELECT COUNT(*) FROM outbox WHERE kind = 'undeliverable' AND created_at > ?`,
		now.Add(-adminsToldEvery)); err != nil {
		return fmt.Errorf("admins told of refused digests: %w", err)
	}
	if told > 0 {
		return nil
	}
	r, err := d.Templates.Undeliverable(view)
	if err != nil {
		return fmt.Errorf("render refused digest notice: %w", err)
	}
	return d.mailAdmins(ctx, tx, "undeliverable", admins, r.Subject, r.Text, now)
}

// refusedSize is the size of the smallest digest to moderator refused
// for its size (552, or 5.3.4) in the last day, or 0: the next digest is
// kept well below it,
// so a server whose limit is under digest_max_bytes still gets digests it
// takes.
func refusedSize(ctx context.Context, tx *sqlx.Tx, moderator string, now time.Time) (int, error) {
	var n sql.NullInt64
	err := tx.GetContext(ctx, &n, `SELECT MIN(LENGTH(raw)) FROM outbox
		WHERE kind = 'digest' AND rcpt_to = ? AND state = 'failed' AND created_at > ?
		AND (last_error LIKE '%552%' OR last_error LIKE '%5.3.4%')`, moderator, now.Add(-24*time.Hour))
	if err != nil {
		return 0, fmt.Errorf("refused digests: %w", err)
	}
	return int(n.Int64), nil
}
