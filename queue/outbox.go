package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
)

// Failure is a message the outbox gave up on: refused for good (5xx) or
// failing for longer than MaxAge.
type Failure struct {
	Kind, MessageID, To string
	Err                 error
	Size                int // bytes
}

// Sender delivers one finished message. mail.Sender is the real one.
type Sender interface {
	Send(ctx context.Context, from string, to []string, raw []byte) error
}

// outMessage is one message to write to the outbox.
type outMessage struct {
	Kind      string // digest | notice | confirmation | report
	MessageID string
	From      string
	To        string
	Raw       []byte
	NotBefore time.Time // zero: now
	// SubmissionID ties a notice to its comment, so an undo can withdraw
	// it before it leaves.
	SubmissionID *int64
	// Notice is the kind of notice (received, approved, …) and CommentID
	// the published comment it is about, so a reply to it is understood.
	Notice    string
	CommentID *int64
}

// enqueue writes msg to the outbox inside the caller's transaction, so the
// mail exists exactly when the change that caused it does. It gets a
// token for its own return path (see returnPath).
func (s *Store) enqueue(ctx context.Context, tx *sqlx.Tx, msg outMessage) error {
	now := s.now()
	nb := msg.NotBefore
	if nb.IsZero() {
		nb = now
	}
	token, err := newToken()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (message_id, kind, mail_from, rcpt_to, rcpt_key, raw, not_before, next_attempt_at, created_at,
			submission_id, notice, comment_id, bounce_token)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, msg.MessageID, msg.Kind, msg.From, msg.To, mail.AddressKey(msg.To), msg.Raw, nb, nb, now,
		msg.SubmissionID, msg.Notice, msg.CommentID, token)
	if err != nil {
		return fmt.Errorf("enqueue %s to %s: %w", msg.Kind, msg.To, err)
	}
	return nil
}

// returnPath is the envelope sender (SMTP MAIL FROM) of one outgoing
// message: from's local part with "+b-<token>" (VERP). Delivery reports go
// to it, so one that comes back names the message and its recipient, and
// a report that does not cannot mark anyone (see Ingester.bounce). The
// header From stays the site's address.
func returnPath(from, token string) string {
	local, domain, ok := strings.Cut(from, "@")
	if !ok || local == "" || domain == "" {
		return from
	}
	return local + "+b-" + token + "@" + domain
}

// senderRefused reports whether a permanent failure was the server's
// answer to the sender or the session (MAIL FROM, login, greeting), not to
// the recipient or the message: it says nothing about the recipient's
// address.
func senderRefused(err error) bool {
	var se *mail.SendError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Op {
	case "mail", "auth", "hello", "tls", "dial":
		return true
	}
	return false
}

// Outbox delivers queued mail with retries, one message at a time, one
// recipient a row. Temporary failures (network, 4xx) are retried with
// exponential back-off; permanent ones (5xx) and messages that kept
// failing past MaxAge are marked failed and kept for the admins' report.
// With a database file, each message the server accepted is noted in the
// sent log beside it (see sentLog) before the store records it, so a crash
// in between does not send it again.
type Outbox struct {
	Store  *Store
	Sender Sender
	Logger *slog.Logger
	// RetryBase is the first retry delay; it doubles up to RetryMax.
	RetryBase, RetryMax time.Duration
	// MaxAge is how long a message may keep failing temporarily.
	MaxAge time.Duration
	// ResendInDoubt sends again a message handed to the server just
	// before a stop, whose answer never came (at least once: it may
	// arrive twice). Without it such a message is recorded as sent (at
	// most once: it may be missing).
	ResendInDoubt bool
	// ReturnPaths sends each message with its own envelope sender,
	// moderator+b-<token>@ (see returnPath), so that a delivery report
	// names the message it is about. Without it the envelope sender is
	// the site's address, and only a report that returns a message's
	// header can mark its recipient.
	ReturnPaths bool

	// Failed, when set, is called in the transaction that marks a
	// message failed for good, so what the message carried can be put
	// back (Digester.Undeliverable does that for digests).
	Failed func(ctx context.Context, tx *sqlx.Tx, f Failure) error

	kick chan struct{}

	mu        sync.Mutex
	recovered bool     // the sent log was read back
	sent      *sentLog // nil for an in-memory store
}

// NewOutbox returns an Outbox with the usual retry schedule.
func NewOutbox(s *Store, sender Sender, logger *slog.Logger) *Outbox {
	if logger == nil {
		logger = slog.Default()
	}
	return &Outbox{Store: s, Sender: sender, Logger: logger,
		RetryBase: 30 * time.Second, RetryMax: time.Hour, MaxAge: 5 * 24 * time.Hour, ResendInDoubt: true, ReturnPaths: true,
		kick: make(chan struct{}, 1)}
}

// Notify wakes the sender loop; it never blocks.
func (o *Outbox) Notify() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Run sends due mail until ctx ends.
func (o *Outbox) Run(ctx context.Context) error {
	defer func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.sent != nil {
			o.sent.close()
			o.sent, o.recovered = nil, false
		}
	}()
	for {
		next, err := o.Flush(ctx)
		if err != nil && ctx.Err() == nil {
			o.Logger.Error("outbox", "err", err)
			next = 5 * time.Second
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-o.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

type outboxRow struct {
	ID        int64     `db:"id"`
	MessageID string    `db:"message_id"`
	Kind      string    `db:"kind"`
	From      string    `db:"mail_from"`
	To        string    `db:"rcpt_to"`
	Raw       []byte    `db:"raw"`
	Token     string    `db:"bounce_token"`
	Attempts  int       `db:"attempts"`
	CreatedAt time.Time `db:"created_at"`
}

// Flush sends every message that is due now and returns how long until
// the next one is.
func (o *Outbox) Flush(ctx context.Context) (time.Duration, error) {
	if err := o.recoverSent(ctx); err != nil {
		return 0, err
	}
	for ctx.Err() == nil {
		var rows []outboxRow
		now := o.Store.now()
		if err := o.Store.db.SelectContext(ctx, &rows, `SELECT id, message_id, kind, mail_from, rcpt_to, raw, bounce_token, attempts, created_at
			FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 50`, now); err != nil {
			return 0, fmt.Errorf("outbox due: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			if err := o.send(ctx, r); err != nil {
				return 0, err
			}
		}
	}
	var next []time.Time
	if err := o.Store.db.SelectContext(ctx, &next, `SELECT next_attempt_at FROM outbox WHERE state = 'pending'
		ORDER BY next_attempt_at LIMIT 1`); err != nil {
		return 0, fmt.Errorf("outbox next: %w", err)
	}
	if len(next) == 0 {
		return time.Hour, nil
	}
	return max(next[0].Sub(o.Store.now()), 10*time.Millisecond), nil
}

// recoverSent marks sent, before anything is sent, the mail the server
// accepted just before the last stop but the database did not record.
func (o *Outbox) recoverSent(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.recovered {
		return nil
	}
	if o.Store.path == "" {
		o.recovered = true
		return nil
	}
	l, err := openSentLog(o.Store.path + "-sent")
	if err != nil {
		return err
	}
	doubtful, n, err := o.Store.markSentFrom(ctx, l, o.ResendInDoubt)
	if err != nil {
		l.close()
		return err
	}
	if n > 0 {
		o.Logger.Info("recorded as sent the mail the server accepted just before the last stop", "messages", n)
	}
	for _, r := range doubtful {
		if o.ResendInDoubt {
			o.Logger.Warn("the last stop came while this message was handed to the SMTP server, before its answer; "+
				"sending it again, so it may arrive twice", "kind", r.Kind, "message_id", r.MessageID, "to", r.To)
		} else {
			o.Logger.Warn("the last stop came while this message was handed to the SMTP server, before its answer; "+
				"recorded as sent (smtp.resend_in_doubt = false), so it may be missing", "kind", r.Kind, "message_id", r.MessageID, "to", r.To)
		}
	}
	o.sent, o.recovered = l, true
	return nil
}

// markingSender is a Sender that says when a message is being handed
// over (mail.Sender does).
type markingSender interface {
	SendMarked(ctx context.Context, from string, to []string, raw []byte, handingOver func()) error
}

func (o *Outbox) send(ctx context.Context, r outboxRow) error {
	var sendErr error
	handedOver := false
	from := r.From
	if o.ReturnPaths && r.Token != "" {
		from = returnPath(r.From, r.Token)
	}
	if ms, ok := o.Sender.(markingSender); ok && o.sent != nil {
		sendErr = ms.SendMarked(ctx, from, []string{r.To}, r.Raw, func() {
			handedOver = true
			if err := o.sent.handingOver(r.ID); err != nil {
				o.Logger.Warn("sent log", "err", err)
			}
		})
	} else {
		sendErr = o.Sender.Send(ctx, from, []string{r.To}, r.Raw)
	}
	now := o.Store.now()
	if sendErr == nil {
		// First, before anything that can wait: see sentLog.
		if o.sent != nil {
			if err := o.sent.add(r.ID); err != nil {
				o.Logger.Error("sent, but the sent log cannot be written; a crash now would send it again", "message_id", r.MessageID, "err", err)
			}
		}
		o.Logger.Info("sent", "kind", r.Kind, "message_id", r.MessageID, "to", r.To)
		// The server has the message: recording that must not fail, or
		// the message goes out again. Keep trying while the database is
		// busy or full; only a stop (or a crash) leaves it to be resent.
		for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
			_, err := o.Store.db.ExecContext(ctx, `UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = '' WHERE id = ?`, now, r.ID)
			if err == nil && o.sent != nil {
				// Everything in the log is now in the database too.
				if err := o.sent.reset(false); err != nil {
					o.Logger.Warn("sent log", "err", err)
				}
			}
			if err == nil || ctx.Err() != nil {
				return err
			}
			o.Logger.Error("sent, but recording it failed; retrying so it is not sent twice", "kind", r.Kind,
				"message_id", r.MessageID, "to", r.To, "err", err, "retry_in", delay)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(delay):
			}
		}
	}
	if ctx.Err() != nil {
		return nil // shutting down: the message stays pending
	}
	attempts := r.Attempts + 1
	if !mail.IsTemporary(sendErr) || now.Sub(r.CreatedAt) > o.MaxAge {
		o.Logger.Error("delivery failed permanently", "kind", r.Kind, "message_id", r.MessageID, "to", r.To, "err", sendErr)
		if o.ReturnPaths && r.Token != "" && senderRefused(sendErr) {
			o.Logger.Error("the server refused the sender: if it takes mail only from the site's own address, set smtp.return_paths = false",
				"message_id", r.MessageID)
		}
		return o.Store.tx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'failed', attempts = ?, last_error = ? WHERE id = ?`,
				attempts, sendErr.Error(), r.ID); err != nil {
				return err
			}
			if o.Failed != nil {
				if err := o.Failed(ctx, tx, Failure{Kind: r.Kind, MessageID: r.MessageID, To: r.To, Err: sendErr, Size: len(r.Raw)}); err != nil {
					return fmt.Errorf("after %s %s failed: %w", r.Kind, r.MessageID, err)
				}
			}
			if r.Kind != "notice" || senderRefused(sendErr) {
				return nil
			}
			// A commenter's address that is refused outright is not
			// tried again until it writes again.
			return o.Store.markBounced(ctx, tx, []string{r.To}, "refused: "+sendErr.Error())
		})
	}
	delay := o.RetryBase << min(attempts-1, 20)
	if delay > o.RetryMax || delay <= 0 {
		delay = o.RetryMax
	}
	o.Logger.Warn("delivery failed, will retry", "kind", r.Kind, "message_id", r.MessageID, "to", r.To, "attempt", attempts, "retry_in", delay, "err", sendErr)
	var inDoubt *time.Time
	var se *mail.SendError
	if handedOver && !(errors.As(sendErr, &se) && se.Code != 0) {
		// No answer to the final dot: the server may have kept it.
		inDoubt = &now
	}
	_, err := o.Store.db.ExecContext(ctx, `UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?,
		in_doubt_at = COALESCE(in_doubt_at, ?) WHERE id = ?`,
		attempts, sendErr.Error(), now.Add(delay), inDoubt, r.ID)
	if err != nil {
		return errors.Join(sendErr, err)
	}
	return nil
}
