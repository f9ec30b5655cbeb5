-- +goose Up
-- A confirmation mailed to a moderator carries its own reply token, so
-- that "undo" written in answer to it works like a reply to a digest. Its
-- digests row (kind 'confirmation', no items of its own) names the digest
-- whose numbering its replies use; digests and reports have NULL.
ALTER TABLE digests ADD COLUMN via_digest_id INTEGER REFERENCES digests (id);

-- +goose Down
ALTER TABLE digests DROP COLUMN via_digest_id;
