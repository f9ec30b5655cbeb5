package queue

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
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
func (l *sentLog) add(id int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := strconv.AppendInt(nil, id, 10)
	line = append(line, '\n')
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err != nil {
		return fmt.Errorf("sent log %s: %w", l.path, err)
	}
	return nil
}

// ids returns every id in the file. A last line without its newline is
// not trusted.
func (l *sentLog) ids() ([]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	data, err := os.ReadFile(l.path)
	if err != nil {
		return nil, fmt.Errorf("read sent log: %w", err)
	}
	var ids []int64
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if id, err := strconv.ParseInt(string(data[:i]), 10, 64); err == nil {
			ids = append(ids, id)
		}
		data = data[i+1:]
	}
	return ids, nil
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

// markSentFrom records as sent every pending row the log names: they were
// accepted by the server before the last stop.
func (s *Store) markSentFrom(ctx context.Context, l *sentLog) (int, error) {
	ids, err := l.ids()
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	now := s.now()
	var marked int
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		marked = 0
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = ''
				WHERE id = ? AND state = 'pending'`, now, id)
			if err != nil {
				return fmt.Errorf("mark outbox %d sent: %w", id, err)
			}
			n, _ := res.RowsAffected()
			marked += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return marked, l.reset(true)
}
