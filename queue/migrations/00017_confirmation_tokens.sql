-- +goose Up
-- A confirmation mailed to a moderator carries its own reply token, so
-- that "undo" written in answer to it works like a reply to a digest. Its
-- digests row (kind 'confirmation', no items of its own) names the digest
-- whose numbering its replies use (via_digest_id; NULL for digests and
-- reports), and the Message-ID of the reply it confirmed, which a bare
-- "undo" in answer to it takes back ('' for the others).
ALTER TABLE digests ADD COLUMN via_digest_id INTEGER REFERENCES digests (id);
ALTER TABLE digests ADD COLUMN confirms_message_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE digests DROP COLUMN confirms_message_id;
ALTER TABLE digests DROP COLUMN via_digest_id;
