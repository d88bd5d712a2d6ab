package cases

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// Applications runs Process A: eligibility applications for Endpoint attack
// notifications.
type Applications struct {
	// SearchAttributes: new cases keep the Huntdesk* search attributes
	// (registered on the namespace) up to date.
	SearchAttributes bool
	DB               *store.DB
	Temporal         client.Client
	ReviewSLA        time.Duration // default 5 days
	Crash            CrashHook     // tests only: stop a create after a step
}

func (s *Applications) sla() time.Duration {
	if s.ReviewSLA <= 0 {
		return 5 * 24 * time.Hour
	}
	return s.ReviewSLA
}

// Params are the input an application's workflow starts with: the review SLA
// (default 5 days) and the reminder to managers at 80 % of it.
func (s *Applications) Params(app *models.Application) workflows.ApplicationParams {
	sla := s.sla()
	return workflows.ApplicationParams{ApplicationID: app.ID, OrgID: app.OrgID, SubmittedAt: app.CreatedAt,
		ReviewSLA: sla, RemindAfter: sla * 8 / 10, SearchAttributes: s.SearchAttributes}
}

// Submit records an application, with the start of its workflow in the same
// transaction, and starts the workflow; an org with an open application gets
// that one back (created false), and if that one's workflow start is still
// pending (a crash, an unreachable Temporal) it is started now. A start that
// fails leaves the application in place and comes back with ErrStarting: the
// worker's reconciler finishes it.
func (s *Applications) Submit(ctx context.Context, p models.Principal, in models.ApplicationInput) (*models.Application, bool, error) {
	app, created, err := s.DB.CreateApplicationStarting(ctx, p, in, s.sla(), func(app *models.Application) (*store.WorkflowStart, error) {
		return store.NewWorkflowStart(workflows.ApplicationWorkflowID(app.ID), workflows.ApplicationWorkflow, "application", app.ID, s.Params(app))
	})
	if err != nil {
		return nil, false, err
	}
	ws, err := s.DB.StartOf(ctx, "application", app.ID)
	switch {
	case models.ErrorCode(err) == models.ENOTFOUND: // an application from before recorded starts: it has its workflow
		ws = nil
	case err != nil:
		return nil, false, err
	}
	var serr error
	if ws != nil && ws.StartedAt == nil {
		if created && s.Crash != nil {
			if err := s.Crash(StepRecorded, ws.WorkflowID); err != nil {
				return nil, false, err
			}
		}
		serr = startRecorded(ctx, s.DB, s.Temporal, ws, s.Crash)
		if isCrash(serr) {
			return nil, false, serr
		}
	}
	got, err := s.DB.Application(context.WithoutCancel(ctx), "", app.ID)
	if err != nil {
		return nil, false, err
	}
	if serr != nil {
		slog.Warn("application recorded; its workflow start is left to the reconciler", "application_id", app.ID, "err", serr)
		return got, created, ErrStarting
	}
	return got, created, nil
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

// decided is the status each decision update leads to.
var decided = map[string]models.ApplicationStatus{
	workflows.ApplicationApprove: models.ApplicationApproved, workflows.ApplicationReject: models.ApplicationRejected,
	workflows.ApplicationWithdraw: models.ApplicationWithdrawn,
}

func (s *Applications) decide(ctx context.Context, p models.Principal, id, update string, r workflows.DecisionRequest) (*models.Application, error) {
	app, err := s.DB.Application(ctx, p.Scope(), id)
	if err != nil {
		return nil, err
	}
	if !app.Status.Open() && idempotencyKey(ctx) != "" && app.DecidedBy != nil && *app.DecidedBy == p.UserID && app.Status == decided[update] {
		// A retry (same Idempotency-Key) of this caller's decision, which
		// committed — after which the workflow is gone: the same success.
		return app, nil
	}
	if !app.Status.Open() {
		return nil, models.Errorf(models.EINVALIDSTATE, "the application is %s; only a submitted application can be %s", app.Status, map[string]string{
			workflows.ApplicationApprove: "approved", workflows.ApplicationReject: "rejected", workflows.ApplicationWithdraw: "withdrawn"}[update])
	}
	r.Actor = workflows.Actor{UserID: p.UserID, Role: p.Role}
	var st workflows.ApplicationStatus
	if _, err := runUpdate(ctx, s.Temporal, workflows.ApplicationWorkflowID(id), update, derive(ctx, p, "application/"+id+"/"+update), r, &st, s.Crash); err != nil {
		return nil, pendingStart(ctx, s.DB, "application", id, err)
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
