package queue

import (
	"strings"
	"testing"
)

// Every statement run per inbound message must find its rows through the
// index made for it: a plan that scans inbound, submissions, outbox or
// comments, or searches a broad index instead (every pending submission),
// makes each message slower than the last.
func TestHotStatementsUseIndexes(t *testing.T) {
	s := openTestStore(t)
	for _, tc := range []struct {
		name, sql string
		indexes   []string // each must be in the plan
	}{
		{"previous outcome", sqlPreviousOutcome, []string{"sqlite_autoindex_inbound_1", "inbound_hash"}},
		{"same Message-ID", sqlSameMessageID, []string{"inbound_message_id_key"}},
		{"applied reply", sqlAppliedReplyID, []string{"inbound_reply_message_id"}},
		{"submission rate", sqlSubmissionRate, []string{"submissions_author_key"}},
		{"notice rate", sqlNoticeRate, []string{"outbox_rcpt_key"}},
		{"notice total", sqlNoticeTotal, []string{"outbox_kind_created"}},
		{"blocked sender", sqlBlockedBy, []string{"blocked_senders_key"}},
		{"thread", sqlThread, []string{"comments_post"}},
		{"thread version", sqlThreadVersion, []string{"comments_post"}},
		{"same text pending", sqlSamePending, []string{"submissions_body_hash"}},
		{"recent waits", sqlRecentWaits, []string{"submissions_decided"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := make([]any, strings.Count(tc.sql, "?"))
			for i := range args {
				args[i] = "x"
			}
			rows, err := s.pool.Query("EXPLAIN QUERY PLAN "+tc.sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			whole := strings.Join(plan, "\n")
			for _, index := range tc.indexes {
				if !strings.Contains(whole, "INDEX "+index+" ") {
					t.Errorf("does not use %s:\n%s", index, whole)
				}
			}
			for _, step := range plan {
				for _, table := range []string{"inbound", "submissions", "outbox", "comments"} {
					if strings.HasPrefix(step, "SCAN "+table) {
						t.Errorf("scans %s:\n%s", table, whole)
					}
				}
			}
		})
	}
}
