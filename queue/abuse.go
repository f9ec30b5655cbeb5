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
	"modbot/queue/precheck"
)

// Limits protect commenters' inboxes and the moderators' queue.
type Limits struct {
	// NoticesPerHour caps automatic notices to one address (one
	// mail.AddressKey) per hour (0: no cap).
	NoticesPerHour int
	// NoticesTotalPerHour caps automatic notices to all addresses
	// together per hour (0: no cap): whatever a flood of forged senders
	// does, the site's address sends no more than this.
	NoticesTotalPerHour int
	// SubmissionsPerHour caps submissions one sender gets queued per
	// hour; the excess is held for moderators, never dropped (0: no cap).
	SubmissionsPerHour int
}

// RuleRateLimit is the pseudo-rule of a submission held by the rate limit.
const RuleRateLimit = 0

// rateLimitTitle is the title of the rate limit's hit: with RuleRateLimit
// it tells that hit from the rule engine's own (precheck.RuleEngine is 0
// too).
const rateLimitTitle = "Submission rate limit"

// markBounced records that mail to the addresses bounced.
func (s *Store) markBounced(ctx context.Context, tx *sqlx.Tx, addrs []string, reason string) error {
	for _, a := range addrs {
		if _, err := recipientToken(ctx, tx, a); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE recipients SET bounced_at = ?, bounce_reason = ? WHERE email_key = ?`,
			s.now(), reason, mail.AddressKey(a)); err != nil {
			return fmt.Errorf("mark %s bounced: %w", a, err)
		}
	}
	return nil
}

// wroteAgain lifts a bounce mark: the address just sent us mail.
func wroteAgain(ctx context.Context, tx *sqlx.Tx, addr string) error {
	_, err := tx.ExecContext(ctx, `UPDATE recipients SET bounced_at = NULL, bounce_reason = '' WHERE email_key = ? AND bounced_at IS NOT NULL`,
		mail.AddressKey(addr))
	return err
}

// Why a notice was withheld, as recorded in notices_withheld.reason.
const (
	withheldAddress = "address" // the address's hourly cap
	withheldTotal   = "total"   // the cap on all notices together
)

// mayNotify reports whether an automatic notice may go to addr now, and
// why not. A notice over a cap is recorded in notices_withheld for the
// admins' report.
func (in *Ingester) mayNotify(ctx context.Context, tx *sqlx.Tx, addr, notice string) (string, error) {
	key := mail.AddressKey(addr)
	var bounced []time.Time
	if err := tx.SelectContext(ctx, &bounced, `SELECT bounced_at FROM recipients WHERE email_key = ? AND bounced_at IS NOT NULL`,
		key); err != nil {
		return "", fmt.Errorf("bounce check: %w", err)
	}
	if len(bounced) > 0 {
		return "mail to this address bounced; nothing more is sent until it writes again", nil
	}
	now := in.st().now()
	if in.Limits.NoticesPerHour > 0 {
		var n int
		if err := tx.GetContext(ctx, &n, sqlNoticeRate, key, now.Add(-time.Hour), in.Limits.NoticesPerHour); err != nil {
			return "", fmt.Errorf("notice rate: %w", err)
		}
		if n >= in.Limits.NoticesPerHour {
			return fmt.Sprintf("already %d notices to this address in the last hour", n), withhold(ctx, tx, key, notice, withheldAddress, now)
		}
	}
	if in.Limits.NoticesTotalPerHour > 0 {
		var n int
		if err := tx.GetContext(ctx, &n, sqlNoticeTotal, now.Add(-time.Hour), in.Limits.NoticesTotalPerHour); err != nil {
			return "", fmt.Errorf("notice total: %w", err)
		}
		if n >= in.Limits.NoticesTotalPerHour {
			// One warning an hour, not one a message of the flood.
			var already int
			if err := tx.GetContext(ctx, &already, `SELECT COUNT(*) FROM (SELECT 1 FROM notices_withheld
				WHERE created_at > ? AND reason = ? LIMIT 1)`, now.Add(-time.Hour), withheldTotal); err != nil {
				return "", fmt.Errorf("notice total: %w", err)
			}
			if already == 0 {
				in.logger().Warn("global notice cap reached: automatic notices are withheld until fewer were sent in the last hour",
					"cap", in.Limits.NoticesTotalPerHour, "setting", "moderation.max_notices_total_per_hour")
			}
			return fmt.Sprintf("already %d notices to all addresses in the last hour (limits: max_notices_total_per_hour)", n),
				withhold(ctx, tx, key, notice, withheldTotal, now)
		}
	}
	return "", nil
}

// withhold records a notice a cap kept back.
func withhold(ctx context.Context, tx *sqlx.Tx, key, notice, reason string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO notices_withheld (rcpt_key, notice, reason, created_at) VALUES (?, ?, ?, ?)`,
		key, notice, reason, now); err != nil {
		return fmt.Errorf("record withheld notice: %w", err)
	}
	return nil
}

// markProven records that addr showed it is real: it answered a notice
// that was sent to it, or confirmed a subscription. From then on notices
// to it quote the commenter's text in full (see templates.Notice.Guard).
// Every address with addr's key is proven.
func (s *Store) markProven(ctx context.Context, tx *sqlx.Tx, addr string) error {
	if _, err := recipientToken(ctx, tx, addr); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE recipients SET proven_at = ? WHERE email_key = ? AND proven_at IS NULL`,
		s.now(), mail.AddressKey(addr)); err != nil {
		return fmt.Errorf("mark %s proven: %w", addr, err)
	}
	return nil
}

// proven reports whether addr showed it is real (see markProven).
func proven(ctx context.Context, q sqlx.QueryerContext, addr string) (bool, error) {
	var n int
	if err := sqlx.GetContext(ctx, q, &n, `SELECT COUNT(*) FROM recipients WHERE email_key = ? AND proven_at IS NOT NULL`,
		mail.AddressKey(addr)); err != nil {
		return false, fmt.Errorf("proven %s: %w", addr, err)
	}
	return n > 0, nil
}

// overRate reports whether the sender already had SubmissionsPerHour
// submissions in the last hour, as a hit that holds this one.
func (in *Ingester) overRate(ctx context.Context, addr string) (*precheck.Hit, error) {
	if in.Limits.SubmissionsPerHour <= 0 {
		return nil, nil
	}
	var n int
	if err := in.st().db.GetContext(ctx, &n, sqlSubmissionRate, mail.AddressKey(addr), in.st().now().Add(-time.Hour), in.Limits.SubmissionsPerHour); err != nil {
		return nil, fmt.Errorf("submission rate: %w", err)
	}
	if n < in.Limits.SubmissionsPerHour {
		return nil, nil
	}
	return &precheck.Hit{Rule: RuleRateLimit, Title: rateLimitTitle, Severity: precheck.Hold,
		Evidence: addr, Explanation: fmt.Sprintf("%d or more submissions from this address in the last hour; held for a moderator", n)}, nil
}

// blockedBy returns who blocked the sender, or "".
func (s *Store) blockedBy(ctx context.Context, addr string) (string, error) {
	var by string
	err := s.db.GetContext(ctx, &by, sqlBlockedBy, mail.AddressKey(addr))
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return by, err
}

// bounce records what a delivery report says about mail modbot sent. It
// marks an address only when the report is about one message modbot sent
// to it: it came back to that message's return path
// (moderator+b-<token>@), or the message it returns carries the
// Message-ID of an outbox row and names that row's recipient as failed;
// and only when the failure is permanent (mail.DeliveryFailures). A
// header alone (X-Failed-Recipients), or a report naming addresses modbot
// never mailed, marks nobody. The reason says what was marked or why
// nothing was.
func (in *Ingester) bounce(ctx context.Context, row *inboundRow, m *mail.Message, c mail.Classification) (mail.Filing, error) {
	row.Outcome = OutcomeIgnored
	failures := mail.DeliveryFailures(m)
	var sent *bouncedMessage
	var err error
	how := "the report came to its return path"
	switch {
	case c.BounceToken != "":
		if sent, err = in.st().sentMessage(ctx, sqlSentByReturnPath, c.BounceToken); err != nil {
			return mail.Filing{}, err
		}
		switch {
		case sent == nil:
			row.Reason += "; to a return path modbot does not know: nothing marked"
		case len(failures) == 0:
			row.Reason += fmt.Sprintf("; about message %s to %s, but no permanent failure in it: nothing marked", sent.MessageID, sent.Rcpt)
			sent = nil
		}
	case m.ReturnedMessageID != "":
		how = "the report returns its header"
		if sent, err = in.st().sentMessage(ctx, sqlSentByMessageID, m.ReturnedMessageID); err != nil {
			return mail.Filing{}, err
		}
		switch {
		case sent == nil:
			row.Reason += "; returns a message modbot did not send: nothing marked"
		case !slices.ContainsFunc(failures, func(f mail.Failure) bool { return mail.SameAddress(f.Recipient, sent.Rcpt) }):
			row.Reason += fmt.Sprintf("; about message %s to %s, but not a permanent failure for that address: nothing marked", sent.MessageID, sent.Rcpt)
			sent = nil
		}
	case len(failures) > 0 || len(m.Header["X-Failed-Recipients"]) > 0:
		row.Reason += "; names no message modbot sent: nothing marked"
	}
	if sent == nil {
		return in.record(ctx, row, nil)
	}
	row.Reason += fmt.Sprintf("; bounced: %s (message %s; %s)", sent.Rcpt, sent.MessageID, how)
	return in.record(ctx, row, func(tx *sqlx.Tx, _ int64) error {
		return in.st().markBounced(ctx, tx, []string{sent.Rcpt}, "bounce: "+m.Subject)
	})
}

// bouncedMessage is the outbox row a delivery report is about.
type bouncedMessage struct {
	MessageID string `db:"message_id"`
	Rcpt      string `db:"rcpt_to"`
}

// The outbox row a report is about: by the token of its return path, or
// by its Message-ID.
const (
	sqlSentByReturnPath = `SELECT message_id, rcpt_to FROM outbox WHERE bounce_token = ? AND bounce_token <> ''`
	sqlSentByMessageID  = `SELECT message_id, rcpt_to FROM outbox WHERE message_id = ? AND message_id <> ''`
)

// sentMessage finds the outbox row of query (sqlSentByReturnPath or
// sqlSentByMessageID) for value, or nil.
func (s *Store) sentMessage(ctx context.Context, query, value string) (*bouncedMessage, error) {
	var b bouncedMessage
	err := s.db.GetContext(ctx, &b, query, value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("message a report is about: %w", err)
	}
	return &b, nil
}
