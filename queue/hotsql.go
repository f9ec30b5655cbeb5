package queue

// The statements run for every inbound message, named so that
// TestHotStatementsUseIndexes can check SQLite's plan for each: one that
// scans a table makes ingest slower with every message the table holds
// (a partial index the planner could not use once made a 10,000-message
// ingest take 64 s instead of 5).
const (
	sqlPreviousOutcome = `SELECT folder, keyword FROM inbound
		WHERE (mailbox = ? AND uid_validity = ? AND uid = ?) OR hash = ?
		ORDER BY id LIMIT 1`
	// A message seen before: the same Message-ID from the same sender
	// (by address key), or a moderator reply already applied whatever
	// its From says. Two statements, each on its own index, so that many
	// messages sharing one Message-ID cost nothing more.
	sqlSameMessageID  = `SELECT id FROM inbound WHERE message_id = ? AND from_key = ? ORDER BY id LIMIT 1`
	sqlAppliedReplyID = `SELECT id FROM inbound WHERE message_id = ? AND outcome = 'reply' ORDER BY id LIMIT 1`
	// The rate counts stop at the cap: a flood must not make each check
	// slower than the last. They count by address key (mail.AddressKey):
	// cArol@, CAROL@ and carol+x@ are one sender and one recipient.
	sqlSubmissionRate = `SELECT COUNT(*) FROM (SELECT 1 FROM submissions
		WHERE author_key = ? AND created_at > ? LIMIT ?)`
	sqlNoticeRate = `SELECT COUNT(*) FROM (SELECT 1 FROM outbox
		WHERE rcpt_key = ? AND kind = 'notice' AND created_at > ? LIMIT ?)`
	sqlNoticeTotal = `SELECT COUNT(*) FROM (SELECT 1 FROM outbox
		WHERE kind = 'notice' AND created_at > ? LIMIT ?)`
	sqlBlockedBy = `SELECT blocked_by FROM blocked_senders WHERE email_key = ? LIMIT 1`
	sqlThread    = `SELECT author_name, body FROM
		(SELECT author_name, body, published_at FROM comments WHERE post_slug = ? ORDER BY published_at DESC LIMIT 200)
		ORDER BY published_at`
	sqlThreadVersion = `SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS max_id FROM comments WHERE post_slug = ?`
	// "body_hash <> ''" lets SQLite use the partial index: it cannot
	// prove that a bound parameter fits the index's WHERE.
	sqlSamePending = `SELECT id FROM submissions WHERE body_hash = ? AND body_hash <> '' AND state IN ('pending', 'held')
		ORDER BY id LIMIT 1`
	sqlRecentWaits = `SELECT (julianday(decided_at) - julianday(created_at)) * 86400 FROM submissions
		WHERE decided_at IS NOT NULL ORDER BY decided_at DESC LIMIT 100`
)
