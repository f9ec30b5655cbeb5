-- +goose Up
-- One identity per address (mail.AddressKey: lower-cased, "+tag"
-- removed, Gmail dots removed), stored beside each address that limits,
-- duplicate checks and lookups compare: SQL cannot compute it, so Go
-- fills it for new rows. Old rows get lower-case with the "+tag" cut
-- here (Gmail dots stay: a handful of old rows at most miss a match).
ALTER TABLE outbox ADD COLUMN rcpt_key TEXT NOT NULL DEFAULT '';
UPDATE outbox SET rcpt_key = CASE
    WHEN instr(rcpt_to, '+') > 1 AND instr(rcpt_to, '+') < instr(rcpt_to, '@')
    THEN lower(trim(substr(rcpt_to, 1, instr(rcpt_to, '+') - 1) || substr(rcpt_to, instr(rcpt_to, '@'))))
    ELSE lower(trim(rcpt_to)) END;
-- The duplicate check by Message-ID: the same sender, or a moderator
-- reply already applied, each found through an index however many
-- messages reuse one Message-ID.
ALTER TABLE inbound ADD COLUMN from_key TEXT NOT NULL DEFAULT '';
UPDATE inbound SET from_key = CASE
    WHEN instr(from_addr, '+') > 1 AND instr(from_addr, '+') < instr(from_addr, '@')
    THEN lower(trim(substr(from_addr, 1, instr(from_addr, '+') - 1) || substr(from_addr, instr(from_addr, '@'))))
    ELSE lower(trim(from_addr)) END;
CREATE INDEX inbound_message_id_key ON inbound (message_id, from_key);
CREATE INDEX inbound_reply_message_id ON inbound (message_id) WHERE outcome = 'reply';
-- What these replace: no statement looks up by the written address any more.
DROP INDEX inbound_message_id;
DROP INDEX submissions_author;
-- Which confirmation a reply "confirm" answers.
CREATE INDEX subscriptions_confirm_message ON subscriptions (confirm_message_id) WHERE confirm_message_id <> '';
-- The per-address notice rate, and the cap on all notices together.
CREATE INDEX outbox_rcpt_key ON outbox (rcpt_key, kind, created_at);
CREATE INDEX outbox_kind_created ON outbox (kind, created_at);

ALTER TABLE submissions ADD COLUMN author_key TEXT NOT NULL DEFAULT '';
UPDATE submissions SET author_key = CASE
    WHEN instr(author_email, '+') > 1 AND instr(author_email, '+') < instr(author_email, '@')
    THEN lower(trim(substr(author_email, 1, instr(author_email, '+') - 1) || substr(author_email, instr(author_email, '@'))))
    ELSE lower(trim(author_email)) END;
CREATE INDEX submissions_author_key ON submissions (author_key, created_at);

ALTER TABLE blocked_senders ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
UPDATE blocked_senders SET email_key = CASE
    WHEN instr(email, '+') > 1 AND instr(email, '+') < instr(email, '@')
    THEN lower(trim(substr(email, 1, instr(email, '+') - 1) || substr(email, instr(email, '@'))))
    ELSE lower(trim(email)) END;
CREATE INDEX blocked_senders_key ON blocked_senders (email_key);

-- recipients: several old rows may share a key (carol@ and carol+x@);
-- new ones are found and made by key, so there is one per key.
-- proven_at: the address showed it is real (it answered a notice sent
-- to it, or confirmed a subscription); until then notices to it quote
-- no display name, no live link and only a short excerpt.
ALTER TABLE recipients ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
ALTER TABLE recipients ADD COLUMN proven_at TIMESTAMP;
UPDATE recipients SET email_key = CASE
    WHEN instr(email, '+') > 1 AND instr(email, '+') < instr(email, '@')
    THEN lower(trim(substr(email, 1, instr(email, '+') - 1) || substr(email, instr(email, '@'))))
    ELSE lower(trim(email)) END;
CREATE INDEX recipients_key ON recipients (email_key);

ALTER TABLE subscriptions ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
UPDATE subscriptions SET email_key = CASE
    WHEN instr(email, '+') > 1 AND instr(email, '+') < instr(email, '@')
    THEN lower(trim(substr(email, 1, instr(email, '+') - 1) || substr(email, instr(email, '@'))))
    ELSE lower(trim(email)) END;
CREATE INDEX subscriptions_key ON subscriptions (email_key, post_slug);

-- A confirmed subscription proved its address.
UPDATE recipients SET proven_at = (SELECT MIN(s.confirmed_at) FROM subscriptions s
    WHERE s.email_key = recipients.email_key AND s.confirmed_at IS NOT NULL)
WHERE proven_at IS NULL;

-- Automatic notices modbot did not send because a limit was reached, for
-- the admins' report.
CREATE TABLE notices_withheld (
    id         INTEGER PRIMARY KEY,
    rcpt_key   TEXT NOT NULL,
    notice     TEXT NOT NULL,
    reason     TEXT NOT NULL,   -- address | total: which cap
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notices_withheld_created ON notices_withheld (created_at);

-- +goose Down
CREATE INDEX submissions_author ON submissions (author_email, created_at);
CREATE INDEX inbound_message_id ON inbound (message_id, from_addr);
DROP INDEX subscriptions_confirm_message;
DROP INDEX inbound_reply_message_id;
DROP INDEX inbound_message_id_key;
ALTER TABLE inbound DROP COLUMN from_key;
DROP INDEX notices_withheld_created;
DROP TABLE notices_withheld;
DROP INDEX subscriptions_key;
ALTER TABLE subscriptions DROP COLUMN email_key;
DROP INDEX recipients_key;
ALTER TABLE recipients DROP COLUMN proven_at;
ALTER TABLE recipients DROP COLUMN email_key;
DROP INDEX blocked_senders_key;
ALTER TABLE blocked_senders DROP COLUMN email_key;
DROP INDEX submissions_author_key;
ALTER TABLE submissions DROP COLUMN author_key;
DROP INDEX outbox_kind_created;
DROP INDEX outbox_rcpt_key;
ALTER TABLE outbox DROP COLUMN rcpt_key;
