-- +goose Up

-- A message to APPEND to a folder instead of a flag change: the note
-- that explains why a message was quarantined, beside it.
ALTER TABLE flag_updates ADD COLUMN raw BLOB;

-- +goose Down
ALTER TABLE flag_updates DROP COLUMN raw;
