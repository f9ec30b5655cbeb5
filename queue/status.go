package queue

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Status is what `modbot status` shows: the state of the queue, the
// outbox, the watched mailboxes and the digests, read from the store
// alone, so that it works beside a running daemon or without one.
type Status struct {
	Pending       int64            `json:"pending"` // submissions waiting for a decision
	Held          int64            `json:"held"`
	OldestPending *Waiting         `json:"oldest_pending"` // nil when nothing waits
	Outbox        OutboxInfo       `json:"outbox"`
	Mailboxes     []Mailbox        `json:"mailboxes"`
	Digests       DigestInfo       `json:"digests"`
	Published     int64            `json:"published"` // comments in the published store
	Inbound       map[string]int64 `json:"inbound"`   // inbound messages by outcome
}

// Waiting is a submission that waits for a decision.
type Waiting struct {
	ID    int64     `json:"id"`
	Since time.Time `json:"since"`
}

// OutboxInfo counts outgoing mail by state.
type OutboxInfo struct {
	Waiting  int64 `json:"waiting"`  // not sent yet, incl. retrying
	Retrying int64 `json:"retrying"` // waiting after at least one failed attempt
	Failed   int64 `json:"failed"`   // given up on
	Sent     int64 `json:"sent"`
	// LastError is the most recent failure's reason, of a retrying or
	// failed message.
	LastError string `json:"last_error,omitempty"`
}

// Mailbox is how far the watcher has got in one mailbox.
type Mailbox struct {
	Name        string     `json:"name"`
	UIDValidity uint32     `json:"uid_validity"`
	LastUID     uint32     `json:"last_uid"`
	SyncedAt    *time.Time `json:"synced_at"` // end of the last complete pass; nil when unknown
}

// DigestInfo counts digests.
type DigestInfo struct {
	Sent     int64      `json:"sent"`
	LastSent *time.Time `json:"last_sent"`
	Waiting  int64      `json:"waiting"` // written, in the outbox, not sent yet
}

// Status reads the current state.
func (s *Store) Status(ctx context.Context) (*Status, error) {
	st := &Status{Inbound: map[string]int64{}, Mailboxes: []Mailbox{}}
	q := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("status: %s: %w", what, err)
		}
		return nil
	}
	err := s.db.QueryRowxContext(ctx, `SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'held'), 0)
		FROM submissions`).Scan(&st.Pending, &st.Held)
	if err := q("submissions", err); err != nil {
		return nil, err
	}
	var oldest []struct {
		ID    int64     `db:"id"`
		Since time.Time `db:"created_at"`
	}
	err = s.db.SelectContext(ctx, &oldest, `SELECT id, created_at FROM submissions WHERE state = 'pending' ORDER BY id LIMIT 1`)
	if err := q("oldest pending", err); err != nil {
		return nil, err
	}
	if len(oldest) > 0 {
		st.OldestPending = &Waiting{ID: oldest[0].ID, Since: oldest[0].Since.UTC()}
	}

	err = s.db.QueryRowxContext(ctx, `SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'pending' AND attempts > 0), 0),
		COALESCE(SUM(state = 'failed'), 0), COALESCE(SUM(state = 'sent'), 0),
		COALESCE(SUM(kind = 'digest' AND state = 'sent'), 0), MAX(CASE WHEN kind = 'digest' THEN sent_at END),
		COALESCE(SUM(kind = 'digest' AND state = 'pending'), 0) FROM outbox`).
		Scan(&st.Outbox.Waiting, &st.Outbox.Retrying, &st.Outbox.Failed, &st.Outbox.Sent,
			&st.Digests.Sent, &sqliteTime{&st.Digests.LastSent}, &st.Digests.Waiting)
	if err := q("outbox", err); err != nil {
		return nil, err
	}
	var lastErr []string
	err = s.db.SelectContext(ctx, &lastErr, `SELECT last_error FROM outbox WHERE last_error != '' AND state != 'sent'
		ORDER BY next_attempt_at DESC, id DESC LIMIT 1`)
	if err := q("outbox errors", err); err != nil {
		return nil, err
	}
	if len(lastErr) > 0 {
		st.Outbox.LastError = lastErr[0]
	}

	rows, err := s.db.QueryxContext(ctx, `SELECT mailbox, uid_validity, last_uid, synced_at FROM mailbox_state ORDER BY mailbox`)
	if err != nil && strings.Contains(err.Error(), "no such column") {
		// A database the daemon has not migrated yet: no sync times.
		rows, err = s.db.QueryxContext(ctx, `SELECT mailbox, uid_validity, last_uid, NULL FROM mailbox_state ORDER BY mailbox`)
	}
	if err := q("mailboxes", err); err != nil {
		return nil, err
	}
	for rows.Next() {
		var m Mailbox
		if err := rows.Scan(&m.Name, &m.UIDValidity, &m.LastUID, &sqliteTime{&m.SyncedAt}); err != nil {
			rows.Close()
			return nil, q("mailboxes", err)
		}
		st.Mailboxes = append(st.Mailboxes, m)
	}
	rows.Close()
	if err := q("mailboxes", rows.Err()); err != nil {
		return nil, err
	}

	err = s.db.GetContext(ctx, &st.Published, `SELECT COUNT(*) FROM comments`)
	if err := q("comments", err); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryxContext(ctx, `SELECT outcome, COUNT(*) FROM inbound GROUP BY outcome`)
	if err := q("inbound", err); err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var o string
		var n int64
		if err := rows.Scan(&o, &n); err != nil {
			return nil, q("inbound", err)
		}
		st.Inbound[o] = n
	}
	return st, q("inbound", rows.Err())
}

// RecordSync notes that the watcher finished a pass over mailbox at t.
// Before the watcher's first pass there is no row to note it in, and
// nothing is recorded.
func (s *Store) RecordSync(ctx context.Context, mailbox string, t time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE mailbox_state SET synced_at = ? WHERE mailbox = ?`, t.UTC(), mailbox); err != nil {
		return fmt.Errorf("record sync of %s: %w", mailbox, err)
	}
	return nil
}

// sqliteTime scans a time that SQLite may hand back as text: an
// aggregate such as MAX(sent_at) or a NULL column in a constant SELECT
// loses the column's declared type.
type sqliteTime struct{ dst **time.Time }

func (t *sqliteTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*t.dst = nil
	case time.Time:
		u := v.UTC()
		*t.dst = &u
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("time: unexpected %T", v)
	}
	return nil
}

func (t *sqliteTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			u := v.UTC()
			*t.dst = &u
			return nil
		}
	}
	return fmt.Errorf("time: cannot parse %q", s)
}
