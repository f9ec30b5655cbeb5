package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/templates"
)

// Moderators returns the moderators in force: the configured ones, plus
// those admins added by mail, minus those they removed.
func (s *Store) Moderators(ctx context.Context, configured []string) ([]string, error) {
	var changes []struct {
		Email  string `db:"email"`
		Active bool   `db:"active"`
	}
	if err := s.db.SelectContext(ctx, &changes, `SELECT email, active FROM moderator_changes ORDER BY email`); err != nil {
		return nil, fmt.Errorf("moderators: %w", err)
	}
	out := make([]string, 0, len(configured))
	for _, m := range configured {
		out = append(out, strings.ToLower(m))
	}
	for _, c := range changes {
		i := slices.Index(out, c.Email)
		switch {
		case c.Active && i < 0:
			out = append(out, c.Email)
		case !c.Active && i >= 0:
			out = slices.Delete(out, i, i+1)
		}
	}
	return out, nil
}

// DigestsPaused reports whether an admin paused digests, and who.
func (s *Store) DigestsPaused(ctx context.Context) (string, error) {
	var by string
	err := s.db.GetContext(ctx, &by, `SELECT value FROM settings WHERE key = 'digests_paused'`)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return by, err
}

// isAdmin reports whether addr is a configured admin (by address
// identity, mail.SameAddress).
func (in *Ingester) isAdmin(addr string) bool {
	return slices.ContainsFunc(in.Admins, func(a string) bool { return mail.SameAddress(a, addr) })
}

// applyAdminReply applies the commands of an admin's reply to a report,
// in the reply's transaction, and confirms them to the admin.
func (in *Ingester) applyAdminReply(ctx context.Context, tx *sqlx.Tx, m *mail.Message) error {
	admin := strings.ToLower(m.From.Addr)
	now := in.st().now()
	cmds, errs := mail.ParseAdminCommands(mail.ExtractReply(m))
	view := &templates.AdminConfirmation{SiteName: in.Site.Name, Admin: admin, Subject: m.Subject}
	for _, e := range errs {
		view.Errors = append(view.Errors, templates.ReplyError{Line: e.Raw, Reason: e.Reason})
	}
	for _, c := range cmds {
		var q string
		var args []any
		done := ""
		switch c.Verb {
		case mail.AdminBlock:
			q, args = `INSERT INTO blocked_senders (email, email_key, blocked_by, blocked_at) VALUES (?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET email_key = excluded.email_key`, []any{c.Addr, mail.AddressKey(c.Addr), admin, now}
			done = "blocked " + c.Addr + ": their comments are filed as rejected, without notice"
		case mail.AdminUnblock:
			q, args = `DELETE FROM blocked_senders WHERE email_key = ?`, []any{mail.AddressKey(c.Addr)}
			done = "unblocked " + c.Addr
		case mail.AdminAddModerator, mail.AdminRemoveModerator:
			active := c.Verb == mail.AdminAddModerator
			q = `INSERT INTO moderator_changes (email, active, changed_by, changed_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (email) DO UPDATE SET active = excluded.active, changed_by = excluded.changed_by, changed_at = excluded.changed_at`
			args = []any{c.Addr, active, admin, now}
			done = "added moderator " + c.Addr + ": they get digests from the next one on"
			if !active {
				done = "removed moderator " + c.Addr + ": their replies no longer change anything"
			}
		case mail.AdminPauseDigests:
			q, args = `INSERT INTO settings (key, value) VALUES ('digests_paused', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, []any{admin}
			done = "paused digests: none is sent until an admin replies \"resume digests\""
		case mail.AdminResumeDigests:
			q, args = `DELETE FROM settings WHERE key = 'digests_paused'`, nil
			done = "resumed digests"
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("admin %s: %w", c.Verb, err)
		}
		in.logger().Info("admin command", "admin", admin, "command", string(c.Verb), "address", c.Addr)
		view.Applied = append(view.Applied, done)
	}
	r, err := in.Templates.AdminConfirmation(view)
	if err != nil {
		return fmt.Errorf("render admin confirmation: %w", err)
	}
	msgID := mail.NewMessageID("confirm", in.Site.domain())
	out := &mail.Outgoing{
		From:    in.Site.moderation(in.Site.Address),
		To:      []mail.Address{{Addr: admin}},
		Subject: r.Subject, MessageID: msgID, InReplyTo: m.MessageID, References: []string{m.MessageID},
		Date: now, AutoSubmitted: "auto-replied", Text: r.Text,
	}
	raw, err := out.Bytes()
	if err != nil {
		return fmt.Errorf("compose admin confirmation: %w", err)
	}
	return in.st().enqueue(ctx, tx, outMessage{Kind: "confirmation", MessageID: msgID, From: in.Site.Address, To: admin, Raw: raw})
}
