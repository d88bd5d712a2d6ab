package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/internal/odata"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// Alerts runs Process C: endpoint attack notifications, their incidents, the
// hunting table and the orgs' email notification rules.
type Alerts struct {
	DB       *store.DB
	Temporal client.Client
}

// Raise records an expert's attack notification for an org whose feature is
// approved and enabled, then starts the workflow that emails whom the org's
// rules matched. The start is recorded in the alert's own transaction, so a
// crash after the commit leaves it to the worker's reconciler.
func (s *Alerts) Raise(ctx context.Context, p models.Principal, in models.AlertInput) (*models.Alert, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var starts []*store.WorkflowStart
	// With an Idempotency-Key, a retry (its first attempt's answer lost, its
	// key released or taken over) finds the alert that attempt raised.
	a, err := s.DB.RaiseAlert(ctx, p, store.NewAlert{AlertInput: in, ServiceSource: models.SourceDefenderForEndpoint,
		DetectionSource: models.SourceDefenderExperts, Tags: []string{models.TagEndpointAttackNotification}, RequestKey: derive(ctx, p, "alerts/raise")},
		func(tx *gorm.DB, a *models.Alert) error { return s.recordStarts(tx, []*models.Alert{a}, &starts) })
	if err != nil {
		return nil, err
	}
	if len(starts) == 0 { // the first attempt's alert: its start may still be pending
		if ws, err := s.DB.StartOf(ctx, "alert", a.ID); err == nil && ws.StartedAt == nil {
			starts = append(starts, ws)
		}
	}
	s.start(ctx, starts)
	return s.DB.Alert(ctx, p.Scope(), a.ID)
}

// recordStarts records the notification workflow start of each alert in
// tx, the transaction that writes them.
func (s *Alerts) recordStarts(tx *gorm.DB, as []*models.Alert, out *[]*store.WorkflowStart) error {
	for _, a := range as {
		ws, err := store.NewWorkflowStart(workflows.AlertWorkflowID(a.ID), workflows.AlertWorkflow, "alert", a.ID,
			workflows.AlertNotificationParams{AlertID: a.ID, OrgID: a.OrgID})
		if err != nil {
			return err
		}
		if err := s.DB.RecordStart(tx, ws); err != nil {
			return err
		}
		*out = append(*out, ws)
	}
	return nil
}

// start starts recorded notification workflows, outliving the request; one
// that fails is left to the reconciler (the alert stands either way).
func (s *Alerts) start(ctx context.Context, starts []*store.WorkflowStart) {
	for _, ws := range starts {
		if err := startRecorded(ctx, s.DB, s.Temporal, ws, nil); err != nil {
			slog.Warn("start alert notification workflow; the reconciler will", "workflow_id", ws.WorkflowID, "err", err)
		}
	}
}

func parseList(schema *odata.Schema, p models.Principal, v url.Values) (store.AlertFilter, error) {
	q, err := odata.Parse(schema, v)
	if err != nil {
		return store.AlertFilter{}, err
	}
	f := store.AlertFilter{Query: q, Cursor: v.Get("cursor")}
	if p.Scope() == "" {
		f.OrgID = v.Get("org_id")
	}
	return f, nil
}

// List lists alerts with OData query options: a customer's org's, or, for
// staff, every org's (org_id narrows).
func (s *Alerts) List(ctx context.Context, p models.Principal, v url.Values) (models.CountedList[models.Alert], error) {
	f, err := parseList(store.AlertSchema, p, v)
	if err != nil {
		return models.CountedList[models.Alert]{}, err
	}
	l, n, err := s.DB.Alerts(ctx, p.Scope(), f)
	return models.CountedList[models.Alert]{Items: l.Items, NextCursor: l.NextCursor, Count: n}, err
}

// Get returns one alert with its devices, incident and inquiries.
func (s *Alerts) Get(ctx context.Context, p models.Principal, id string) (*models.Alert, error) {
	return s.DB.Alert(ctx, p.Scope(), id)
}

// Patch changes an alert's status, verdict or assignee.
func (s *Alerts) Patch(ctx context.Context, p models.Principal, id string, in models.AlertPatch) (*models.Alert, error) {
	if err := in.Validate(models.AlertStatuses); err != nil {
		return nil, err
	}
	return s.DB.PatchAlert(ctx, p, p.Scope(), id, in)
}

// Incidents lists incidents with OData query options.
func (s *Alerts) Incidents(ctx context.Context, p models.Principal, v url.Values) (models.CountedList[models.Incident], error) {
	f, err := parseList(store.IncidentSchema, p, v)
	if err != nil {
		return models.CountedList[models.Incident]{}, err
	}
	l, n, err := s.DB.Incidents(ctx, p.Scope(), f)
	return models.CountedList[models.Incident]{Items: l.Items, NextCursor: l.NextCursor, Count: n}, err
}

// Incident returns one incident with its alerts.
func (s *Alerts) Incident(ctx context.Context, p models.Principal, id string) (*models.Incident, error) {
	return s.DB.Incident(ctx, p.Scope(), id)
}

// PatchIncident changes an incident's own status, verdict or assignee.
func (s *Alerts) PatchIncident(ctx context.Context, p models.Principal, id string, in models.AlertPatch) (*models.Incident, error) {
	if err := in.Validate(models.IncidentStatuses); err != nil {
		return nil, err
	}
	return s.DB.PatchIncident(ctx, p, p.Scope(), id, in)
}

// Hunting streams DeviceAlertEvents rows to fn, at most limit (0: all), and
// returns the cursor after them when more remain.
func (s *Alerts) Hunting(ctx context.Context, p models.Principal, f models.HuntingFilter, limit int, fn func(models.HuntingRow) error) (string, error) {
	if scope := p.Scope(); scope != "" {
		f.OrgID = scope
	}
	return s.DB.HuntingEach(ctx, f, limit, fn)
}

// ruleOrg is the org whose rules p works on: a customer's own; staff name one.
func ruleOrg(p models.Principal, orgID string) (string, error) {
	if scope := p.Scope(); scope != "" {
		return scope, nil
	}
	if orgID == "" {
		return "", &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"org_id": "is required for provider staff"}}
	}
	return orgID, nil
}

// Rules lists an org's notification rules.
func (s *Alerts) Rules(ctx context.Context, p models.Principal, orgID string) (models.List[models.NotificationRule], error) {
	org, err := ruleOrg(p, orgID)
	if err != nil {
		return models.List[models.NotificationRule]{}, err
	}
	if _, err := s.DB.Org(ctx, p.Scope(), org); err != nil {
		return models.List[models.NotificationRule]{}, err
	}
	rs, err := s.DB.Rules(ctx, org)
	return models.List[models.NotificationRule]{Items: rs}, err
}

// Rule returns one rule.
func (s *Alerts) Rule(ctx context.Context, p models.Principal, id string) (*models.NotificationRule, error) {
	return s.DB.Rule(ctx, p.Scope(), id)
}

// CreateRule adds a rule to the caller's org.
func (s *Alerts) CreateRule(ctx context.Context, p models.Principal, in models.RuleInput) (*models.NotificationRule, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return s.DB.CreateRule(ctx, p, p.OrgID, in)
}

// ReplaceRule replaces a rule whole.
func (s *Alerts) ReplaceRule(ctx context.Context, p models.Principal, id string, in models.RuleInput) (*models.NotificationRule, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return s.DB.ReplaceRule(ctx, p, p.Scope(), id, in)
}

// DeleteRule deletes a rule.
func (s *Alerts) DeleteRule(ctx context.Context, p models.Principal, id string) error {
	return s.DB.DeleteRule(ctx, p, p.Scope(), id)
}

// TestRule sends the rule's test email to its recipients through the outbox,
// once per nonce (the caller's Idempotency-Key, or a fresh id).
func (s *Alerts) TestRule(ctx context.Context, p models.Principal, id, nonce string) (string, error) {
	r, err := s.DB.Rule(ctx, p.Scope(), id)
	if err != nil {
		return "", err
	}
	if nonce == "" {
		nonce = store.NewID("test")
	} else { // the same caller's retry with the same key sends nothing twice
		sum := sha256.Sum256([]byte(p.UserID + "\n" + nonce))
		nonce = hex.EncodeToString(sum[:12])
	}
	wid := workflows.RuleTestWorkflowID(r.ID, nonce)
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wid, TaskQueue: workflows.TaskQueue},
		workflows.RuleTestWorkflow, workflows.RuleTestEmail{RuleID: r.ID, Nonce: nonce})
	if err != nil && !alreadyStarted(err) {
		return "", temporalErr(err)
	}
	if err := s.DB.AppendAudit(ctx, p, r.OrgID, "notification_rule", r.ID, "test_sent", map[string]any{"recipients": r.Recipients}); err != nil {
		return "", err
	}
	return wid, nil
}

func alreadyStarted(err error) bool {
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	return errors.As(err, &started)
}
