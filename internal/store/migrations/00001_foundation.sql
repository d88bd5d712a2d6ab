-- Foundation: orgs, users, tokens, the audit log, the mail outbox and stored
-- idempotency keys. Portable SQL: it runs unchanged on SQLite and PostgreSQL.
-- Times are stored in UTC as TIMESTAMP.

-- +goose Up
CREATE TABLE orgs (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('provider', 'customer')),
    devices_enrolled   INTEGER NOT NULL DEFAULT 0 CHECK (devices_enrolled >= 0),
    plan               TEXT NOT NULL DEFAULT 'none' CHECK (plan IN ('none', 'trial', 'full')),
    trial_ends_at      TIMESTAMP,
    trial_allowance    INTEGER NOT NULL DEFAULT 0,
    ean_state          TEXT NOT NULL DEFAULT 'not_applied',
    ean_visible        BOOLEAN NOT NULL DEFAULT FALSE,
    ean_enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    ean_application_id TEXT,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX orgs_name ON orgs (name);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    email      TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('customer_viewer', 'customer_admin', 'expert', 'manager')),
    disabled   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_org ON users (org_id, id);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    revoked_at   TIMESTAMP,
    last_used_at TIMESTAMP
);
CREATE UNIQUE INDEX tokens_hash ON tokens (hash);
CREATE INDEX tokens_user ON tokens (user_id, id);

CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY,
    at         TIMESTAMP NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_entity ON audit_log (entity, entity_id, id);
CREATE INDEX audit_org ON audit_log (org_id, id);
CREATE INDEX audit_actor ON audit_log (actor_id, id);

CREATE TABLE outbox (
    message_id  TEXT PRIMARY KEY,
    entity      TEXT NOT NULL,
    event       TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text_body   TEXT NOT NULL,
    html_body   TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    sent_at     TIMESTAMP
);
CREATE INDEX outbox_entity ON outbox (entity, event);

CREATE TABLE idempotency_keys (
    user_id       TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   INTEGER NOT NULL DEFAULT 0,
    response_body TEXT NOT NULL DEFAULT '',
    completed     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE audit_log;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE orgs;
