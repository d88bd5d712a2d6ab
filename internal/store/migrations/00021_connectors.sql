-- Process C, the org's own alerts: connector credentials (stored hashed, like
-- user tokens) that push alerts in batches, and each alert's evidence.

-- +goose Up
CREATE TABLE connectors (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP,
    last_used_at TIMESTAMP
);
CREATE UNIQUE INDEX connectors_hash ON connectors (hash);
CREATE INDEX connectors_org ON connectors (org_id, id);

CREATE TABLE alert_evidence (
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    position INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (alert_id, position)
);

-- +goose Down
DROP TABLE alert_evidence;
DROP TABLE connectors;
