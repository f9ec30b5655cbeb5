-- +goose Up
-- When a message was handed to the SMTP server (its final dot sent) but no
-- reply came back (a crash, a timeout), it may have been delivered; it is
-- sent again, and this says that the recipient may have it twice.
ALTER TABLE outbox ADD COLUMN in_doubt_at TIMESTAMP;

-- +goose Down
ALTER TABLE outbox DROP COLUMN in_doubt_at;
