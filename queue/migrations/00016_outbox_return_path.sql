-- +goose Up
-- Each outgoing message has its own return path (VERP): the SMTP MAIL FROM
-- is moderator+b-<bounce_token>@domain, so a delivery report that comes
-- back to it names exactly one message and its one recipient. Rows from
-- before have no token ('') and are found only by their Message-ID.
ALTER TABLE outbox ADD COLUMN bounce_token TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_bounce_token ON outbox (bounce_token) WHERE bounce_token <> '';

-- +goose Down
DROP INDEX outbox_bounce_token;
ALTER TABLE outbox DROP COLUMN bounce_token;
