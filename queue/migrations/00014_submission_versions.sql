-- +goose Up

-- Every text a comment has had, so that a commenter's revision never
-- loses the text a moderator read, and a decision can be held to the
-- version it was made on. Version 1 is the text that arrived first;
-- inbound_id is the mail that brought each version.
CREATE TABLE submission_versions (
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    version       INTEGER NOT NULL,
    body          TEXT NOT NULL,
    body_hash     TEXT NOT NULL DEFAULT '',
    inbound_id    INTEGER REFERENCES inbound (id),
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (submission_id, version)
);

-- The current version of each comment (submissions.body is its text),
-- and the token of its revision address moderator+r-<token>@, given
-- only to the commenter in the "received" notice. Rows from before have
-- no token: mail for them can only be feedback.
ALTER TABLE submissions ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE submissions ADD COLUMN revise_token TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX submissions_revise_token ON submissions (revise_token) WHERE revise_token <> '';

INSERT INTO submission_versions (submission_id, version, body, body_hash, inbound_id, created_at)
    SELECT id, 1, body, body_hash, inbound_id, COALESCE(revised_at, created_at) FROM submissions;

-- Which version a digest showed. A digest sent before a revision that
-- happened before versions were kept showed a text that is gone: version
-- 0, older than any kept, so a decision from it is refused.
ALTER TABLE digest_items ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
UPDATE digest_items SET version = 0
    WHERE submission_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM digests d, submissions s
        WHERE d.id = digest_items.digest_id AND s.id = digest_items.submission_id
        AND s.revised_at IS NOT NULL AND d.created_at < s.revised_at);

-- The version each decision was made on (NULL: made before versions
-- were kept).
ALTER TABLE decisions ADD COLUMN version INTEGER;

-- +goose Down
ALTER TABLE decisions DROP COLUMN version;
ALTER TABLE digest_items DROP COLUMN version;
DROP INDEX submissions_revise_token;
ALTER TABLE submissions DROP COLUMN revise_token;
ALTER TABLE submissions DROP COLUMN version;
DROP TABLE submission_versions;
