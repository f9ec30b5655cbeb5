-- +goose Up

-- Which submission an outgoing notice is about, so an undo can withdraw
-- the notice while it still waits out the grace period.
ALTER TABLE outbox ADD COLUMN submission_id INTEGER REFERENCES submissions (id);
CREATE INDEX outbox_submission ON outbox (submission_id) WHERE submission_id IS NOT NULL;

-- The digest a decision came through, and the number it had there.
ALTER TABLE decisions ADD COLUMN digest_id INTEGER REFERENCES digests (id);
ALTER TABLE decisions ADD COLUMN item_number INTEGER;
CREATE INDEX decisions_moderator ON decisions (moderator, created_at);

-- +goose Down
DROP INDEX decisions_moderator;
ALTER TABLE decisions DROP COLUMN item_number;
ALTER TABLE decisions DROP COLUMN digest_id;
DROP INDEX outbox_submission;
ALTER TABLE outbox DROP COLUMN submission_id;
