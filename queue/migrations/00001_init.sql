-- +goose Up

-- Where the watcher is in each mailbox.
CREATE TABLE mailbox_state (
    mailbox      TEXT PRIMARY KEY,
    uid_validity INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL
);

-- Every inbound message and its one outcome.
CREATE TABLE inbound (
    id           INTEGER PRIMARY KEY,
    mailbox      TEXT NOT NULL,
    uid_validity INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    message_id   TEXT NOT NULL DEFAULT '',
    hash         TEXT NOT NULL,           -- sha256 of the raw message, hex
    size         INTEGER NOT NULL,
    from_addr    TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,           -- submission | reply | feedback | auto | malformed
    outcome      TEXT NOT NULL,           -- queued | held | reply | feedback | ignored | quarantined | duplicate
    reason       TEXT NOT NULL DEFAULT '',-- why: classification reason or error text
    folder       TEXT NOT NULL,
    keyword      TEXT NOT NULL DEFAULT '',
    received_at  TIMESTAMP NOT NULL,
    UNIQUE (mailbox, uid_validity, uid)
);
CREATE INDEX inbound_message_id ON inbound (message_id, from_addr);
CREATE INDEX inbound_hash ON inbound (hash);

CREATE TABLE posts (
    slug  TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    url   TEXT NOT NULL DEFAULT '',
    text  TEXT NOT NULL DEFAULT ''
);

-- AUTOINCREMENT: a submission's id is its stable public id (#1042) and
-- must never be reused.
CREATE TABLE submissions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    inbound_id   INTEGER NOT NULL UNIQUE REFERENCES inbound (id),
    post_slug    TEXT NOT NULL DEFAULT '', -- as named by the message; may be unknown
    post_known   BOOLEAN NOT NULL,
    post_via     TEXT NOT NULL DEFAULT '',
    parent_ref   TEXT NOT NULL DEFAULT '', -- X-Comment-Parent as written
    parent_id    INTEGER REFERENCES comments (id),
    author_name  TEXT NOT NULL,
    author_email TEXT NOT NULL,
    message_id   TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL,
    html_only    BOOLEAN NOT NULL DEFAULT FALSE,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'held', 'approved', 'rejected', 'spam')),
    created_at   TIMESTAMP NOT NULL,
    decided_at   TIMESTAMP
);
CREATE INDEX submissions_state ON submissions (state, id);
-- Stable ids start at 1001 so they never look like a digest's item
-- numbers (1, 2, 3 …).
INSERT INTO sqlite_sequence (name, seq) VALUES ('submissions', 1000);

CREATE TABLE precheck_hits (
    submission_id INTEGER NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    rule          INTEGER NOT NULL,
    title         TEXT NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('note', 'flag', 'hold')),
    start_offset  INTEGER NOT NULL,
    end_offset    INTEGER NOT NULL,
    evidence      TEXT NOT NULL,
    explanation   TEXT NOT NULL
);
CREATE INDEX precheck_hits_submission ON precheck_hits (submission_id);

-- The published store. Email addresses are never kept here.
CREATE TABLE comments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id INTEGER UNIQUE REFERENCES submissions (id),
    post_slug     TEXT NOT NULL,
    parent_id     INTEGER REFERENCES comments (id),
    author_name   TEXT NOT NULL,
    body          TEXT NOT NULL,
    published_at  TIMESTAMP NOT NULL
);
CREATE INDEX comments_post ON comments (post_slug, published_at);

CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY,
    inbound_id  INTEGER NOT NULL UNIQUE REFERENCES inbound (id),
    from_name   TEXT NOT NULL DEFAULT '',
    from_addr   TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    message_id  TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    answered_at TIMESTAMP
);

CREATE TABLE digests (
    id         INTEGER PRIMARY KEY,
    token      TEXT NOT NULL UNIQUE,
    moderator  TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX digests_moderator ON digests (moderator, created_at);

-- The numbering of one digest: number N stands for one submission or one
-- feedback item.
CREATE TABLE digest_items (
    digest_id     INTEGER NOT NULL REFERENCES digests (id),
    number        INTEGER NOT NULL,
    submission_id INTEGER REFERENCES submissions (id),
    feedback_id   INTEGER REFERENCES feedback (id),
    PRIMARY KEY (digest_id, number),
    CHECK ((submission_id IS NULL) <> (feedback_id IS NULL))
);
CREATE INDEX digest_items_submission ON digest_items (submission_id);
CREATE INDEX digest_items_feedback ON digest_items (feedback_id);

-- The audit log: every decision, who, what, when, and the reply that
-- carried it.
CREATE TABLE decisions (
    id               INTEGER PRIMARY KEY,
    submission_id    INTEGER NOT NULL REFERENCES submissions (id),
    moderator        TEXT NOT NULL,
    action           TEXT NOT NULL,
    from_state       TEXT NOT NULL,
    to_state         TEXT NOT NULL,
    rules            TEXT NOT NULL DEFAULT '', -- comma-separated rule numbers
    reason           TEXT NOT NULL DEFAULT '',
    original_body    TEXT NOT NULL DEFAULT '', -- for edit: what the commenter wrote
    reply_message_id TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    undone_at        TIMESTAMP
);
CREATE INDEX decisions_submission ON decisions (submission_id);

-- Outgoing mail, written in the transaction that causes it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,      -- digest | notice | confirmation | report
    mail_from       TEXT NOT NULL,
    rcpt_to         TEXT NOT NULL,      -- one recipient a row
    raw             BLOB NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      TIMESTAMP NOT NULL, -- a grace period: not sent before this
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- +goose Down
DROP TABLE outbox;
DROP TABLE decisions;
DROP TABLE digest_items;
DROP TABLE digests;
DROP TABLE feedback;
DROP TABLE comments;
DROP TABLE precheck_hits;
DROP TABLE submissions;
DROP TABLE posts;
DROP TABLE inbound;
DROP TABLE mailbox_state;
