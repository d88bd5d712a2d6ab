-- The SLA period an inquiry is in (1 at submission; each customer answer or
-- "more time needed" starts the next), as its workflow committed it.

-- +goose Up
ALTER TABLE inquiries ADD COLUMN period INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE inquiries DROP COLUMN period;
