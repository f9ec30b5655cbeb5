-- +goose Up

-- Pending comments older than the second escalation threshold are mailed
-- to the admins once each.
CREATE TABLE escalations (
    submission_id INTEGER PRIMARY KEY REFERENCES submissions (id),
    mailed_at     TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE escalations;
