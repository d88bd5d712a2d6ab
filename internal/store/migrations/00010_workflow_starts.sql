-- Durable workflow starts (issue 18, item 1; numbered 10 to stay clear of
-- migrations other branches add meanwhile): the start of a case's workflow
-- is recorded in the transaction that writes the case, with the exact start
-- parameters, and marked once Temporal has it. The worker's reconciler starts
-- every recorded start that is not marked, so a process dying between the row
-- and the start never strands a case.

-- +goose Up
CREATE TABLE workflow_starts (
    workflow_id   TEXT PRIMARY KEY,
    workflow_type TEXT NOT NULL,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    params        TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    started_at    TIMESTAMP,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX workflow_starts_pending ON workflow_starts (created_at) WHERE started_at IS NULL;
CREATE INDEX workflow_starts_entity ON workflow_starts (entity, entity_id);

-- +goose Down
DROP TABLE workflow_starts;
