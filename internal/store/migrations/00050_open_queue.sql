-- The expert queue and the SLA timers read open inquiries by due time. The
-- (status, queue_key, id) index cannot give that order for three statuses
-- at once, so at a million inquiries PostgreSQL sorted every open one for
-- each page (found by huntdesk bench: p99 300 ms at 1M rows). This index
-- holds only open inquiries, in queue order; the queries name the same
-- statuses as literals so the planner can match it.

-- +goose Up
CREATE INDEX inquiries_open_queue ON inquiries (queue_key, id) WHERE status IN ('submitted', 'in_progress', 'awaiting_customer');

-- +goose Down
DROP INDEX inquiries_open_queue;
