-- +goose Up

-- Comments brought in from another system (a WordPress export) carry
-- where they came from, so importing the same file again adds nothing.
ALTER TABLE comments ADD COLUMN source_id TEXT;
CREATE UNIQUE INDEX comments_source ON comments (source_id) WHERE source_id IS NOT NULL;

-- When the watcher last finished a pass over the mailbox, for
-- `modbot status`, which reads the database from another process.
ALTER TABLE mailbox_state ADD COLUMN synced_at TIMESTAMP;

-- +goose Down
ALTER TABLE mailbox_state DROP COLUMN synced_at;
DROP INDEX comments_source;
ALTER TABLE comments DROP COLUMN source_id;
