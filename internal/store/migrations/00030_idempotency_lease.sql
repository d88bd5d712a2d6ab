-- An in-progress Idempotency-Key is leased, not held for ever: a holder that
-- crashed (or whose client went away before the release) loses the key when
-- locked_until passes, and a retry of the same request takes it over.
-- Rows from before this migration have no lease (NULL): treated as expired.
-- Portable SQL: it runs unchanged on SQLite and PostgreSQL.

-- +goose Up
ALTER TABLE idempotency_keys ADD COLUMN locked_until TIMESTAMP;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN locked_until;
