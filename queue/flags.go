package queue

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
)

// Keywords a decision leaves on the submission's message, so the inbox
// reads like a log.
var decisionKeyword = map[string]string{
	ActionApprove: "$Approved", ActionEdit: "$Approved", ActionReject: "$Rejected", ActionHold: "$Held", ActionSpam: "$Spam",
}

// allDecisionKeywords are removed before a new one is set.
var allDecisionKeywords = []string{"$Pending", "$Approved", "$Rejected", "$Held", "$Spam"}

// queueFlags asks, inside tx, for the flags of a filed message to change.
func queueFlags(ctx context.Context, tx *sqlx.Tx, folder, messageID string, add, remove []string, now time.Time) error {
	if messageID == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO flag_updates (folder, message_id, add_flags, del_flags, created_at) VALUES (?, ?, ?, ?, ?)`,
		folder, messageID, strings.Join(add, " "), strings.Join(remove, " "), now)
	if err != nil {
		return fmt.Errorf("queue flag change: %w", err)
	}
	return nil
}

// tagDecision makes the submission's message show its new state.
func tagDecision(ctx context.Context, tx *sqlx.Tx, messageID, keyword string, now time.Time) error {
	var remove []string
	for _, k := range allDecisionKeywords {
		if k != keyword {
			remove = append(remove, k)
		}
	}
	return queueFlags(ctx, tx, mail.FolderSubmissions, messageID, []string{keyword}, remove, now)
}

// PendingFlags implements mail.FlagQueue.
func (s *Store) PendingFlags(ctx context.Context) ([]mail.FlagUpdate, error) {
	var rows []struct {
		ID        int64  `db:"id"`
		Folder    string `db:"folder"`
		MessageID string `db:"message_id"`
		Add       string `db:"add_flags"`
		Del       string `db:"del_flags"`
		Raw       []byte `db:"raw"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, folder, message_id, add_flags, del_flags, raw FROM flag_updates
		WHERE done_at IS NULL ORDER BY id LIMIT 200`); err != nil {
		return nil, fmt.Errorf("pending flags: %w", err)
	}
	out := make([]mail.FlagUpdate, len(rows))
	for i, r := range rows {
		out[i] = mail.FlagUpdate{ID: r.ID, Folder: r.Folder, MessageID: r.MessageID, Add: strings.Fields(r.Add), Remove: strings.Fields(r.Del), Append: r.Raw}
	}
	return out, nil
}

// FlagsDone implements mail.FlagQueue.
func (s *Store) FlagsDone(ctx context.Context, id int64, problem string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE flag_updates SET done_at = ?, problem = ? WHERE id = ?`, s.now(), problem, id)
	return err
}

// queueNote asks for a note to be appended to folder (a quarantined
// message's explanation, threaded to it).
func queueNote(ctx context.Context, tx *sqlx.Tx, folder string, raw []byte, flags []string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO flag_updates (folder, message_id, add_flags, raw, created_at) VALUES (?, '', ?, ?, ?)`,
		folder, strings.Join(flags, " "), raw, now)
	if err != nil {
		return fmt.Errorf("queue note: %w", err)
	}
	return nil
}
