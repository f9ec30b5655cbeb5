package queue

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
)

// sentLog closes the window in which a crash resends mail. An SMTP server
// accepts a message with its 250 reply; recording that in the database
// can wait for the write lock (an inbox batch holds it for up to
// batchHold), and a crash in that wait used to send the message again on
// restart. So the outbox first appends the row's id to this file, beside
// the database: a single write(2), which a killed process cannot undo (the
// kernel keeps the page). On start the outbox marks every id in it sent
// before it sends anything. Only a power cut between the 250 and the
// kernel's writeback can still cause a resend, as with SQLite's
// synchronous=NORMAL.
//
// The file also records, as "~id", each message about to be handed over
// (just before its final dot). A "~id" without its "id" after a restart is
// a message the server may or may not have kept: SMTP cannot tell. It is
// sent again and marked in doubt.
type sentLog struct {
	mu   sync.Mutex
	path string
	f    *os.File
	size int64
}

// sentLogLimit is the size past which the file is emptied once everything
// in it is recorded in the database.
const sentLogLimit = 64 << 10

func openSentLog(path string) (*sentLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sent log: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read sent log: %w", err)
	}
	// A last line without its newline was cut short (a full disk): drop
	// it, or the next id appended would join it into a wrong one.
	keep := bytes.LastIndexByte(data, '\n') + 1
	if keep < len(data) {
		if err := f.Truncate(int64(keep)); err != nil {
			f.Close()
			return nil, fmt.Errorf("repair sent log: %w", err)
		}
	}
	return &sentLog{path: path, f: f, size: int64(keep)}, nil
}

// add records that outbox row id was accepted by the server.
func (l *sentLog) add(id int64) error { return l.write("", id) }

// handingOver records that outbox row id is about to be handed over.
func (l *sentLog) handingOver(id int64) error { return l.write("~", id) }

func (l *sentLog) write(prefix string, id int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := strconv.AppendInt([]byte(prefix), id, 10)
	line = append(line, '\n')
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err != nil {
		return fmt.Errorf("sent log %s: %w", l.path, err)
	}
	return nil
}

// ids returns the ids the server accepted and those handed over without
// an answer recorded. A last line without its newline is not trusted.
func (l *sentLog) ids() (accepted []int64, inDoubt []int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	data, err := os.ReadFile(l.path)
	if err != nil {
		return nil, nil, fmt.Errorf("read sent log: %w", err)
	}
	done := map[int64]bool{}
	var handed []int64
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := string(data[:i])
		data = data[i+1:]
		if rest, ok := strings.CutPrefix(line, "~"); ok {
			if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
				handed = append(handed, id)
			}
		} else if id, err := strconv.ParseInt(line, 10, 64); err == nil {
			accepted = append(accepted, id)
			done[id] = true
		}
	}
	for _, id := range handed {
		if !done[id] {
			inDoubt = append(inDoubt, id)
		}
	}
	return accepted, inDoubt, nil
}

// reset empties the file: call it only when every id in it is recorded.
// force empties it whatever its size.
func (l *sentLog) reset(force bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !force && l.size < sentLogLimit {
		return nil
	}
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("empty sent log: %w", err)
	}
	l.size = 0
	return nil
}

func (l *sentLog) close() error { return l.f.Close() }

// inDoubtRow is a message handed over just before the last stop whose
// fate is unknown.
type inDoubtRow struct {
	ID        int64  `db:"id"`
	Kind      string `db:"kind"`
	MessageID string `db:"message_id"`
	To        string `db:"rcpt_to"`
}

// markSentFrom records as sent every pending row the log says the server
// accepted before the last stop, and marks in doubt the pending rows it
// says were being handed over, leaving them to be sent again when resend
// is set and recording them as sent otherwise; it returns those.
func (s *Store) markSentFrom(ctx context.Context, l *sentLog, resend bool) ([]inDoubtRow, int, error) {
	accepted, inDoubt, err := l.ids()
	if err != nil || len(accepted)+len(inDoubt) == 0 {
		return nil, 0, err
	}
	now := s.now()
	var marked int
	var doubtful []inDoubtRow
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		marked, doubtful = 0, nil
		for _, id := range accepted {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = ''
				WHERE id = ? AND state = 'pending'`, now, id)
			if err != nil {
				return fmt.Errorf("mark outbox %d sent: %w", id, err)
			}
			n, _ := res.RowsAffected()
			marked += int(n)
		}
		for _, id := range inDoubt {
			var r inDoubtRow
			q, args := `UPDATE outbox SET in_doubt_at = ? WHERE id = ? AND state = 'pending' RETURNING id, kind, message_id, rcpt_to`, []any{now, id}
			if !resend {
				q = `UPDATE outbox SET in_doubt_at = ?, state = 'sent', sent_at = ?, attempts = attempts + 1,
					last_error = 'handed over when modbot stopped, no answer seen; not sent again (smtp.resend_in_doubt = false)'
					WHERE id = ? AND state = 'pending' RETURNING id, kind, message_id, rcpt_to`
				args = []any{now, now, id}
			}
			err := tx.GetContext(ctx, &r, q, args...)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("mark outbox %d in doubt: %w", id, err)
			}
			doubtful = append(doubtful, r)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return doubtful, marked, l.reset(true)
}
