-- An alert raised again with the same Idempotency-Key finds the alert its
-- first attempt raised (the fault suite found a duplicate: an API that dies
-- after the alert's commit leaves the key in progress, and the retry that
-- takes it over runs the request again). request_key is a hash of (caller,
-- key), unique per raiser; NULL (no key, or an ingested alert) never collides.

-- +goose Up
ALTER TABLE alerts ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX alerts_request_key ON alerts (raised_by, request_key);

-- +goose Down
DROP INDEX alerts_request_key;
ALTER TABLE alerts DROP COLUMN request_key;
