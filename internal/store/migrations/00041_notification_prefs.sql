-- Experts choose which "work arrived" emails they get (JSON of the switches
-- they turned off; empty: every email).

-- +goose Up
ALTER TABLE users ADD COLUMN notification_prefs TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE users DROP COLUMN notification_prefs;
