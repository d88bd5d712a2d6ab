-- Process A: eligibility applications for Endpoint attack notifications.

-- +goose Up
CREATE TABLE applications (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES orgs (id),
    submitted_by        TEXT NOT NULL,
    contact_name        TEXT NOT NULL,
    contact_email       TEXT NOT NULL,
    privacy_accepted_at TIMESTAMP NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected', 'withdrawn')),
    review_due_at       TIMESTAMP NOT NULL,
    reminder_sent_at    TIMESTAMP,
    escalated_at        TIMESTAMP,
    decided_by          TEXT,
    decided_at          TIMESTAMP,
    decision_note       TEXT,
    rejection_reason    TEXT,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX applications_org ON applications (org_id, id);
CREATE INDEX applications_status ON applications (status, id);
-- One open application per org, enforced by the database even when two
-- requests race.
CREATE UNIQUE INDEX applications_one_open ON applications (org_id) WHERE status = 'submitted';

-- +goose Down
DROP TABLE applications;
