-- +goose Up

-- A reader's wish to hear about a post: replies to their own comments, or
-- every new comment. Active only after the address confirmed it (double
-- opt-in), so nobody can subscribe a stranger.
CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL,          -- lower-cased
    post_slug       TEXT NOT NULL,
    scope           TEXT NOT NULL CHECK (scope IN ('replies', 'all')),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'active', 'unsubscribed')),
    confirm_token   TEXT NOT NULL UNIQUE,
    confirm_message_id TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    confirmed_at    TIMESTAMP,
    unsubscribed_at TIMESTAMP,
    UNIQUE (email, post_slug)
);

-- One unsubscribe token per address: every notice carries it in
-- List-Unsubscribe, and using it stops all optional mail to the address.
CREATE TABLE recipients (
    email           TEXT PRIMARY KEY,       -- lower-cased
    token           TEXT NOT NULL UNIQUE,
    unsubscribed_at TIMESTAMP
);

-- A commenter's corrected text replaces the pending one; the digest notes it.
ALTER TABLE submissions ADD COLUMN revised_at TIMESTAMP;
ALTER TABLE submissions ADD COLUMN notify TEXT NOT NULL DEFAULT '';

-- What each notice was, so a reply to it can be understood: a reply to
-- "published" joins the thread, to "received" corrects the comment, to
-- "rejected" is an appeal.
ALTER TABLE outbox ADD COLUMN notice TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN comment_id INTEGER REFERENCES comments (id);
CREATE INDEX outbox_message_id_notice ON outbox (message_id, notice);

-- +goose Down
DROP INDEX outbox_message_id_notice;
ALTER TABLE outbox DROP COLUMN comment_id;
ALTER TABLE outbox DROP COLUMN notice;
ALTER TABLE submissions DROP COLUMN notify;
ALTER TABLE submissions DROP COLUMN revised_at;
DROP TABLE recipients;
DROP TABLE subscriptions;
