package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
)

// ErrUnknownToken is returned for a subscription or unsubscribe token
// that modbot never issued.
var ErrUnknownToken = errors.New("queue: unknown token")

// recipientToken returns the address's unsubscribe token, creating it on
// first use.
func recipientToken(ctx context.Context, tx *sqlx.Tx, email string) (string, error) {
	email = strings.ToLower(email)
	var tok string
	// By key: one row (one token, one bounce or unsubscribe mark) for
	// every spelling of the address.
	err := tx.GetContext(ctx, &tok, `SELECT token FROM recipients WHERE email_key = ? ORDER BY rowid LIMIT 1`, mail.AddressKey(email))
	if err == nil {
		return tok, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("recipient token: %w", err)
	}
	if tok, err = newToken(); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO recipients (email, email_key, token) VALUES (?, ?, ?)`, email, mail.AddressKey(email), tok); err != nil {
		return "", fmt.Errorf("recipient token: %w", err)
	}
	return tok, nil
}

// Unsubscribe stops all optional mail to the address the token belongs
// to: every subscription ends. It needs no login and is idempotent; it
// returns the address.
func (s *Store) Unsubscribe(ctx context.Context, token string) (string, error) {
	var email string
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &email, `SELECT email FROM recipients WHERE token = ?`, token); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrUnknownToken
			}
			return fmt.Errorf("unsubscribe: %w", err)
		}
		return s.unsubscribeAddress(ctx, tx, email)
	})
	return email, err
}

// UnsubscribeAddress reports which address an unsubscribe token belongs
// to, for the page that asks before acting.
func (s *Store) UnsubscribeAddress(ctx context.Context, token string) (string, error) {
	var email string
	err := s.db.GetContext(ctx, &email, `SELECT email FROM recipients WHERE token = ?`, token)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrUnknownToken
	}
	return email, err
}

// Subscription is a reader's subscription to a post.
type Subscription struct {
	ID       int64  `db:"id"`
	Email    string `db:"email"`
	PostSlug string `db:"post_slug"`
	Scope    string `db:"scope"`
	State    string `db:"state"`
}

// PendingSubscription returns the subscription a confirmation token
// belongs to, for the page that asks before confirming.
func (s *Store) PendingSubscription(ctx context.Context, token string) (*Subscription, error) {
	var sub Subscription
	err := s.db.GetContext(ctx, &sub, `SELECT id, email, post_slug, scope, state FROM subscriptions WHERE confirm_token = ?`, token)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknownToken
	}
	if err != nil {
		return nil, fmt.Errorf("subscription: %w", err)
	}
	return &sub, nil
}

// ConfirmSubscription activates the subscription of a confirmation token
// (the second step of the double opt-in), and lifts an earlier
// unsubscribe of the address: confirming is the address asking for mail
// again. Confirming twice is harmless; a subscription ended by
// unsubscribing stays ended (its old confirmation link does not revive
// it; a new request sends a new one).
func (s *Store) ConfirmSubscription(ctx context.Context, token string) (*Subscription, error) {
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var id int64
		err := tx.GetContext(ctx, &id, `SELECT id FROM subscriptions WHERE confirm_token = ? AND state = 'pending'`, token)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("confirm subscription: %w", err)
		}
		_, err = s.confirmSubscription(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.PendingSubscription(ctx, token)
}

// confirmSubscription activates a pending subscription and clears the
// unsubscribed state of its address (every spelling of it, see
// mail.AddressKey), so its notices flow again. It reports whether the
// subscription was pending.
func (s *Store) confirmSubscription(ctx context.Context, tx *sqlx.Tx, id int64) (bool, error) {
	var email string
	err := tx.GetContext(ctx, &email, `SELECT email FROM subscriptions WHERE id = ? AND state = 'pending'`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("confirm subscription %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET state = 'active', confirmed_at = ? WHERE id = ? AND state = 'pending'`,
		s.now(), id); err != nil {
		return false, fmt.Errorf("confirm subscription %d: %w", id, err)
	}
	// Confirming is the address asking for mail again, and only its
	// owner saw the token: the address is real.
	if _, err := tx.ExecContext(ctx, `UPDATE recipients SET unsubscribed_at = NULL WHERE email_key = ? AND unsubscribed_at IS NOT NULL`,
		mail.AddressKey(email)); err != nil {
		return false, fmt.Errorf("confirm subscription %d: %w", id, err)
	}
	if err := s.markProven(ctx, tx, email); err != nil {
		return false, err
	}
	return true, nil
}

// requestSubscription records a pending subscription for email to a post
// and returns its confirmation token; "" when one is already active.
func (s *Store) requestSubscription(ctx context.Context, tx *sqlx.Tx, email, slug, scope string, now time.Time) (string, error) {
	email = strings.ToLower(email)
	var cur Subscription
	err := tx.GetContext(ctx, &cur, `SELECT id, email, post_slug, scope, state FROM subscriptions WHERE email_key = ? AND post_slug = ?
		ORDER BY id LIMIT 1`, mail.AddressKey(email), slug)
	switch {
	case err == nil && cur.State == "active" && cur.Scope == scope:
		return "", nil
	case err == nil:
		tok, err := newToken()
		if err != nil {
			return "", err
		}
		// A new request (another scope, or after unsubscribing) needs a
		// new confirmation.
		_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET scope = ?, state = 'pending', confirm_token = ?, created_at = ?,
			confirmed_at = NULL, unsubscribed_at = NULL WHERE id = ?`, scope, tok, now, cur.ID)
		if err != nil {
			return "", fmt.Errorf("subscription: %w", err)
		}
		return tok, nil
	case errors.Is(err, sql.ErrNoRows):
		tok, err := newToken()
		if err != nil {
			return "", err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO subscriptions (email, email_key, post_slug, scope, state, confirm_token, created_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?)`, email, mail.AddressKey(email), slug, scope, tok, now)
		if err != nil {
			return "", fmt.Errorf("subscription: %w", err)
		}
		return tok, nil
	default:
		return "", fmt.Errorf("subscription: %w", err)
	}
}
