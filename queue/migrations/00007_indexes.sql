-- +goose Up

-- The "received" notice's expected wait reads the latest decisions; without
-- this every submission sorted the whole table.
CREATE INDEX submissions_decided ON submissions (decided_at) WHERE decided_at IS NOT NULL;

-- +goose Down
DROP INDEX submissions_decided;
