-- Process C meets Process B: an inquiry may be about an incident (as it may
-- be about an alert); the alert and incident views list their inquiries.

-- +goose Up
ALTER TABLE inquiries ADD COLUMN incident_id TEXT;
CREATE INDEX inquiries_alert ON inquiries (alert_id);
CREATE INDEX inquiries_incident ON inquiries (incident_id);

-- +goose Down
DROP INDEX inquiries_incident;
DROP INDEX inquiries_alert;
ALTER TABLE inquiries DROP COLUMN incident_id;
