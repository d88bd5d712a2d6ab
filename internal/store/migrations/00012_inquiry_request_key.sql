-- A create retried with the same Idempotency-Key finds the inquiry its first
-- attempt made (issue 18, items 1 and 2): request_key is a hash of (caller,
-- key), unique per submitter. NULL (no key) never collides.

-- +goose Up
ALTER TABLE inquiries ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX inquiries_request_key ON inquiries (submitted_by, request_key);

-- +goose Down
DROP INDEX inquiries_request_key;
ALTER TABLE inquiries DROP COLUMN request_key;
