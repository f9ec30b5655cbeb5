package queue

import (
	"context"
	"fmt"
	"time"
)

// Stats is a snapshot of the store for metrics and `modbot status`.
type Stats struct {
	Outcomes      map[string]int64 // inbound messages by outcome
	Pending       int64            // submissions waiting for a decision
	OldestPending *time.Time
	OutboxPending int64
	OutboxRetries int64 // pending messages that failed at least once
	OutboxFailed  int64
	OutboxSent    int64
	Digests       int64
}

// Stats reads the current counts.
func (s *Store) Stats(ctx context.Context) (*Stats, error) {
	st := &Stats{Outcomes: map[string]int64{}}
	rows, err := s.db.QueryxContext(ctx, `SELECT outcome, COUNT(*) FROM inbound GROUP BY outcome`)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	for rows.Next() {
		var o string
		var n int64
		if err := rows.Scan(&o, &n); err != nil {
			rows.Close()
			return nil, err
		}
		st.Outcomes[o] = n
	}
	rows.Close()
	if err := s.db.GetContext(ctx, &st.Pending, `SELECT COUNT(*) FROM submissions WHERE state = 'pending'`); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	var oldest []time.Time
	if err := s.db.SelectContext(ctx, &oldest, `SELECT created_at FROM submissions WHERE state = 'pending' ORDER BY id LIMIT 1`); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	if len(oldest) > 0 {
		st.OldestPending = &oldest[0]
	}
	err = s.db.QueryRowxContext(ctx, `SELECT
		COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'pending' AND attempts > 0), 0),
		COALESCE(SUM(state = 'failed'), 0), COALESCE(SUM(state = 'sent'), 0) FROM outbox`).
		Scan(&st.OutboxPending, &st.OutboxRetries, &st.OutboxFailed, &st.OutboxSent)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	if err := s.db.GetContext(ctx, &st.Digests, `SELECT COUNT(*) FROM digests WHERE kind = 'digest'`); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}
