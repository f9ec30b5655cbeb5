-- +goose Up

-- An address whose mail bounced is not mailed again until it writes again.
ALTER TABLE recipients ADD COLUMN bounced_at TIMESTAMP;
ALTER TABLE recipients ADD COLUMN bounce_reason TEXT NOT NULL DEFAULT '';

-- Senders an admin blocked: their submissions are filed as rejected,
-- with no notice.
CREATE TABLE blocked_senders (
    email      TEXT PRIMARY KEY,   -- lower-cased
    blocked_by TEXT NOT NULL,
    blocked_at TIMESTAMP NOT NULL
);

-- Moderators added or removed by admins by mail, on top of the
-- configuration's list.
CREATE TABLE moderator_changes (
    email      TEXT PRIMARY KEY,   -- lower-cased
    active     BOOLEAN NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);

-- Small settings admins change by mail (digests paused).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE INDEX submissions_author ON submissions (author_email, created_at);
CREATE INDEX outbox_rcpt ON outbox (rcpt_to, created_at);

-- +goose Down
DROP INDEX outbox_rcpt;
DROP INDEX submissions_author;
DROP TABLE settings;
DROP TABLE moderator_changes;
DROP TABLE blocked_senders;
ALTER TABLE recipients DROP COLUMN bounce_reason;
ALTER TABLE recipients DROP COLUMN bounced_at;
