-- +goose Up
-- The notice rate limit counts one address's notices of the last hour on
-- every submission. With kind in the index the count never reads the
-- outbox rows themselves, which hold whole messages.
DROP INDEX outbox_rcpt;
CREATE INDEX outbox_rcpt ON outbox (rcpt_to, kind, created_at);

-- +goose Down
DROP INDEX outbox_rcpt;
CREATE INDEX outbox_rcpt ON outbox (rcpt_to, created_at);
