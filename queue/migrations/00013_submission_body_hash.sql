-- +goose Up
-- A hash of each submission's text, case and spacing aside, so that the
-- same text sent as several comments (copy-paste spam, from one address
-- or many) is flagged while the first is still waiting. Rows from before
-- have '' and match nothing.
ALTER TABLE submissions ADD COLUMN body_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX submissions_body_hash ON submissions (body_hash) WHERE body_hash <> '';

-- +goose Down
DROP INDEX submissions_body_hash;
ALTER TABLE submissions DROP COLUMN body_hash;
