-- Process C: endpoint attack notifications. Incidents group an org's alerts;
-- alerts carry tags and affected devices; notification rules decide who is
-- emailed, and alert_notifications records, in the alert's own transaction,
-- whom the rules matched when it was raised (the notification workflow sends
-- to exactly those, even if the rules change while mail is down).

-- +goose Up
CREATE TABLE incidents (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES orgs (id),
    external_id          TEXT,
    title                TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'in_progress', 'resolved')),
    severity             TEXT NOT NULL CHECK (severity IN ('informational', 'low', 'medium', 'high')),
    severity_rank        INTEGER NOT NULL,
    classification       TEXT,
    determination        TEXT,
    assigned_to          TEXT,
    alert_count          INTEGER NOT NULL DEFAULT 0,
    resolved_alerts      INTEGER NOT NULL DEFAULT 0,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX incidents_org ON incidents (org_id, id);
CREATE UNIQUE INDEX incidents_external ON incidents (org_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE alerts (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES orgs (id),
    incident_id         TEXT NOT NULL REFERENCES incidents (id),
    external_id         TEXT,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL,
    severity            TEXT NOT NULL CHECK (severity IN ('informational', 'low', 'medium', 'high')),
    severity_rank       INTEGER NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('new', 'in_progress', 'resolved')),
    category            TEXT NOT NULL,
    classification      TEXT,
    determination       TEXT,
    assigned_to         TEXT,
    service_source      TEXT NOT NULL,
    detection_source    TEXT NOT NULL,
    recommended_actions TEXT NOT NULL,
    raised_by           TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    resolved_at         TIMESTAMP
);
CREATE INDEX alerts_org ON alerts (org_id, id);
CREATE INDEX alerts_incident ON alerts (incident_id, id);
CREATE INDEX alerts_created ON alerts (created_at, id);
CREATE UNIQUE INDEX alerts_external ON alerts (org_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE alert_tags (
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    tag      TEXT NOT NULL,
    PRIMARY KEY (alert_id, tag)
);
CREATE INDEX alert_tags_tag ON alert_tags (tag, alert_id);

CREATE TABLE alert_devices (
    alert_id    TEXT NOT NULL REFERENCES alerts (id),
    device_id   TEXT NOT NULL,
    device_name TEXT NOT NULL,
    PRIMARY KEY (alert_id, device_id)
);
CREATE INDEX alert_devices_device ON alert_devices (device_id, alert_id);

CREATE TABLE notification_rules (
    id                     TEXT PRIMARY KEY,
    org_id                 TEXT NOT NULL REFERENCES orgs (id),
    name                   TEXT NOT NULL,
    recipients             TEXT NOT NULL,
    min_severity           TEXT NOT NULL CHECK (min_severity IN ('informational', 'low', 'medium', 'high')),
    service_sources        TEXT NOT NULL,
    include_device_details BOOLEAN NOT NULL DEFAULT FALSE,
    enabled                BOOLEAN NOT NULL DEFAULT TRUE,
    created_by             TEXT NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX notification_rules_org ON notification_rules (org_id, id);

CREATE TABLE alert_notifications (
    alert_id               TEXT NOT NULL REFERENCES alerts (id),
    recipient              TEXT NOT NULL,
    rule_id                TEXT NOT NULL,
    include_device_details BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (alert_id, recipient)
);

-- +goose Down
DROP TABLE alert_notifications;
DROP TABLE notification_rules;
DROP TABLE alert_devices;
DROP TABLE alert_tags;
DROP TABLE alerts;
DROP TABLE incidents;
