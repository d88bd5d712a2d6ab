package cases

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// Applications runs Process A: eligibility applications for Endpoint attack
// notifications.
type Applications struct {
	DB        *store.DB
	Temporal  client.Client
	ReviewSLA time.Duration // default 5 days
}

func (s *Applications) sla() time.Duration {
	if s.ReviewSLA <= 0 {
		return 5 * 24 * time.Hour
	}
	return s.ReviewSLA
}

// Submit records an application and starts its workflow; an org with an open
// application gets that one back (created false) and no second workflow.
func (s *Applications) Submit(ctx context.Context, p models.Principal, in models.ApplicationInput) (*models.Application, bool, error) {
	app, created, err := s.DB.CreateApplication(ctx, p, in, s.sla())
	if err != nil || !created {
		return app, false, err
	}
	sla := s.sla()
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        workflows.ApplicationWorkflowID(app.ID),
		TaskQueue: workflows.TaskQueue,
	}, workflows.ApplicationWorkflow, workflows.ApplicationParams{
		ApplicationID: app.ID, OrgID: app.OrgID, SubmittedAt: app.CreatedAt,
		ReviewSLA: sla, RemindAfter: sla * 8 / 10,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		if aerr := s.DB.AbortApplication(context.WithoutCancel(ctx), app.ID); aerr != nil {
			slog.Error("abort application after failed start", "application_id", app.ID, "err", aerr)
		}
		return nil, false, temporalErr(err)
	}
	got, err := s.DB.Application(ctx, "", app.ID)
	return got, true, err
}

// Get returns an application with its timeline, as seen by p.
func (s *Applications) Get(ctx context.Context, p models.Principal, id string) (*models.Application, error) {
	return s.DB.Application(ctx, p.Scope(), id)
}

// List lists applications: a customer's own org's, or every org's for staff.
func (s *Applications) List(ctx context.Context, p models.Principal, f models.ApplicationFilter) (models.List[models.Application], error) {
	if scope := p.Scope(); scope != "" {
		f.OrgID = scope
	}
	return s.DB.Applications(ctx, f)
}

// Approve, Reject and Withdraw send the workflow an Update and return once
// the new state is committed to the read model.
func (s *Applications) Approve(ctx context.Context, p models.Principal, id, note string) (*models.Application, error) {
	return s.decide(ctx, p, id, workflows.ApplicationApprove, workflows.DecisionRequest{Note: note})
}

// Reject refuses an application with a reason the customer will read.
func (s *Applications) Reject(ctx context.Context, p models.Principal, id, reason string) (*models.Application, error) {
	return s.decide(ctx, p, id, workflows.ApplicationReject, workflows.DecisionRequest{Reason: reason})
}

// Withdraw closes the customer's own open application.
func (s *Applications) Withdraw(ctx context.Context, p models.Principal, id string) (*models.Application, error) {
	return s.decide(ctx, p, id, workflows.ApplicationWithdraw, workflows.DecisionRequest{})
}

func (s *Applications) decide(ctx context.Context, p models.Principal, id, update string, r workflows.DecisionRequest) (*models.Application, error) {
	app, err := s.DB.Application(ctx, p.Scope(), id)
	if err != nil {
		return nil, err
	}
	if !app.Status.Open() {
		return nil, models.Errorf(models.EINVALIDSTATE, "the application is %s; only a submitted application can be %s", app.Status, map[string]string{
			workflows.ApplicationApprove: "approved", workflows.ApplicationReject: "rejected", workflows.ApplicationWithdraw: "withdrawn"}[update])
	}
	r.Actor = workflows.Actor{UserID: p.UserID, Role: p.Role}
	var st workflows.ApplicationStatus
	if err := runUpdate(ctx, s.Temporal, workflows.ApplicationWorkflowID(id), update, r, &st); err != nil {
		return nil, err
	}
	return s.DB.Application(ctx, "", id)
}

// Settings returns an org's advanced-features settings.
func (s *Applications) Settings(ctx context.Context, p models.Principal, orgID string) (models.EndpointAttackNotifications, error) {
	o, err := s.DB.Org(ctx, p.Scope(), orgID)
	if err != nil {
		return models.EndpointAttackNotifications{}, err
	}
	return o.EAN(), nil
}

// SetEnabled switches the approved feature on or off for the caller's org.
func (s *Applications) SetEnabled(ctx context.Context, p models.Principal, enabled bool) (models.EndpointAttackNotifications, error) {
	o, err := s.DB.SetEndpointAttackNotifications(ctx, p, p.OrgID, enabled)
	if err != nil {
		return models.EndpointAttackNotifications{}, err
	}
	return o.EAN(), nil
}
