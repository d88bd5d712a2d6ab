-- Process B: expert inquiries, their messages (report and response texts),
-- and uploaded samples (metadata; the bytes are in sample_blobs, migration 5).

-- +goose Up
CREATE TABLE inquiries (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    submitted_by    TEXT NOT NULL,
    topic_url       TEXT NOT NULL,
    topic_kind      TEXT NOT NULL CHECK (topic_kind IN ('incident', 'alert', 'device', 'other')),
    topic_group     TEXT,
    alert_id        TEXT,
    context         TEXT NOT NULL,
    contact_email   TEXT NOT NULL,
    subscription    TEXT NOT NULL CHECK (subscription IN ('trial', 'full')),
    status          TEXT NOT NULL CHECK (status IN ('submitted', 'in_progress', 'awaiting_customer', 'concluded', 'cancelled', 'closed_no_response')),
    assignee_id     TEXT,
    due_at          TIMESTAMP,
    paused_at       TIMESTAMP,
    breached        BOOLEAN NOT NULL DEFAULT FALSE,
    breach_count    INTEGER NOT NULL DEFAULT 0,
    queue_key       TIMESTAMP NOT NULL,
    first_report_at TIMESTAMP,
    closed_at       TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX inquiries_org ON inquiries (org_id, id);
CREATE INDEX inquiries_queue ON inquiries (status, queue_key, id);
CREATE INDEX inquiries_assignee ON inquiries (assignee_id, queue_key, id);

CREATE TABLE inquiry_messages (
    id         TEXT PRIMARY KEY,
    inquiry_id TEXT NOT NULL REFERENCES inquiries (id),
    author_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('report', 'response')),
    category   TEXT,
    body       TEXT NOT NULL,
    posted     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX inquiry_messages_inquiry ON inquiry_messages (inquiry_id, id);

CREATE TABLE samples (
    id          TEXT PRIMARY KEY,
    inquiry_id  TEXT NOT NULL REFERENCES inquiries (id),
    org_id      TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    filename    TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    attached    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX samples_inquiry ON samples (inquiry_id, id);

-- +goose Down
DROP TABLE samples;
DROP TABLE inquiry_messages;
DROP TABLE inquiries;
