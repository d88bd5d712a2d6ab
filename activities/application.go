package activities

import (
	"context"

	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// RecordApplicationDecision commits a decision to the read model.
func (a *Activities) RecordApplicationDecision(ctx context.Context, d workflows.ApplicationDecision) error {
	actor := models.Principal{UserID: d.Actor.UserID, Role: d.Actor.Role}
	return permanent(a.DB.DecideApplication(ctx, d.ApplicationID, d.Status, actor, d.Note, d.Reason, d.At))
}

// RecordApplicationEvent stamps a review-clock event on the application.
func (a *Activities) RecordApplicationEvent(ctx context.Context, e workflows.ApplicationEvent) error {
	return permanent(a.DB.RecordApplicationEvent(ctx, e.ApplicationID, e.Action, e.At))
}

// applicationEmail is what application templates see.
type applicationEmail struct {
	App      *models.Application
	Org      *models.Org
	URL      string // the application in the API
	Settings string // where the customer checks status
}

// SendApplicationEmail sends one of Process A's emails. It reads the facts
// from the database at send time, so the workflow history carries only ids.
func (a *Activities) SendApplicationEmail(ctx context.Context, e workflows.ApplicationEmail) error {
	app, err := a.DB.Application(ctx, "", e.ApplicationID)
	if err != nil {
		return permanent(err)
	}
	org, err := a.DB.Org(ctx, "", app.OrgID)
	if err != nil {
		return permanent(err)
	}
	var to []string
	switch e.Audience {
	case "contact":
		to = []string{app.ContactEmail}
	case "managers":
		if to, err = a.DB.Emails(ctx, models.RoleManager); err != nil {
			return err
		}
		if len(to) == 0 {
			return nil // nobody to tell; the audit log still has the event
		}
	default:
		return permanent(models.Errorf(models.EINVALID, "unknown audience %q", e.Audience))
	}
	_, err = a.Mail.Send(ctx, mail.Message{
		Entity:   "application/" + app.ID,
		Event:    e.Event + "/" + e.Audience,
		To:       to,
		Template: "application_" + e.Event,
		Data: applicationEmail{App: app, Org: org,
			URL:      a.PublicURL + "/app/applications", // the console page where managers decide
			Settings: a.PublicURL + "/app/settings"},
	})
	return mailError(err)
}

// ApplicationDecisionRecorded reports whether the application carries decision
// d: the workflow asks when the decision's commit gave up.
func (a *Activities) ApplicationDecisionRecorded(ctx context.Context, d workflows.ApplicationDecision) (bool, error) {
	app, err := a.DB.Application(ctx, "", d.ApplicationID)
	if err != nil {
		return false, permanent(err)
	}
	return app.Status == d.Status, nil
}
