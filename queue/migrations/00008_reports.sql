-- +goose Up

-- The admins' daily and weekly reports that were written to the outbox,
-- so that a restart never sends one twice. message_id holds the
-- Message-IDs of the admins' copies, separated by spaces.
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('daily', 'weekly')),
    period_start TIMESTAMP NOT NULL,
    period_end   TIMESTAMP NOT NULL,
    sent_at      TIMESTAMP NOT NULL,
    message_id   TEXT NOT NULL DEFAULT '',
    UNIQUE (kind, period_start)
);

-- A report carries a token in its Reply-To like a digest, for admin
-- commands, and so has a row in digests; kind tells the two apart, so
-- that "since this moderator's last digest" is not cut short by a report
-- to an admin who also moderates.
ALTER TABLE digests ADD COLUMN kind TEXT NOT NULL DEFAULT 'digest';

-- +goose Down
ALTER TABLE digests DROP COLUMN kind;
DROP TABLE reports;
