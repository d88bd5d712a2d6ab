-- The SLA report reads the inquiries opened in a period; without an index
-- on their creation time it read every inquiry (found by huntdesk bench).

-- +goose Up
CREATE INDEX inquiries_created ON inquiries (created_at, id);

-- +goose Down
DROP INDEX inquiries_created;
