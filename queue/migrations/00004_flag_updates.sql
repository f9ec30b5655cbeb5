-- +goose Up

-- Flag changes for messages already filed in the inbox: a decision tags
-- the submission it decided, an answered feedback message gets
-- \Answered. Written in the transaction of the change, made by the
-- watcher afterwards, so a crash loses none.
CREATE TABLE flag_updates (
    id         INTEGER PRIMARY KEY,
    folder     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    add_flags  TEXT NOT NULL DEFAULT '',  -- space-separated
    del_flags  TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    done_at    TIMESTAMP,
    problem    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX flag_updates_pending ON flag_updates (id) WHERE done_at IS NULL;

-- +goose Down
DROP TABLE flag_updates;
