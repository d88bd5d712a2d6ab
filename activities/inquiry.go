package activities

import (
	"context"
	"fmt"

	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// ApplyInquiryChange commits one step of an inquiry to the read model.
func (a *Activities) ApplyInquiryChange(ctx context.Context, ch workflows.InquiryChange) error {
	return permanent(a.DB.ApplyInquiryChange(ctx, store.InquiryChange{
		InquiryID: ch.InquiryID, Key: ch.Key, Action: ch.Action, At: ch.At,
		Actor:  models.Principal{UserID: ch.Actor.UserID, Role: ch.Actor.Role},
		Status: ch.Status, Assignee: ch.Assignee, DueAt: ch.DueAt, Breached: ch.Breached,
		Category: ch.Category, MessageID: ch.MessageID, SampleID: ch.SampleID, Period: ch.Period,
	}))
}

// inquiryEmail is what inquiry templates see.
type inquiryEmail struct {
	Inquiry  *models.Inquiry
	Org      *models.Org
	Category string // a report's category, in words
	Message  string // a report's or response's text
	Trial    bool
	URL      string
	Prefs    string // where staff switch these emails off
}

// SendInquiryEmail sends one of Process B's emails, reading its facts from
// the database so the workflow history carries only ids.
func (a *Activities) SendInquiryEmail(ctx context.Context, e workflows.InquiryEmail) error {
	q, err := a.DB.Inquiry(ctx, "", e.InquiryID)
	if err != nil {
		return permanent(err)
	}
	org, err := a.DB.Org(ctx, "", q.OrgID)
	if err != nil {
		return permanent(err)
	}
	data := inquiryEmail{Inquiry: q, Org: org, Trial: q.Subscription == models.PlanTrial,
		URL: fmt.Sprintf("%s/app/inquiries/%s", a.PublicURL, q.ID), Prefs: a.PublicURL + "/app/me"} // console pages
	if e.MessageID != "" {
		if data.Message, err = a.DB.Message(ctx, e.MessageID); err != nil {
			return permanent(err)
		}
		for _, r := range q.Reports {
			if r.ID == e.MessageID {
				data.Category = r.Category.Words()
			}
		}
	}
	var to []string
	switch e.Audience {
	case "contact":
		to = []string{q.ContactEmail}
	// Staff get the "work arrived" emails their preferences let through,
	// read now, so a change applies to emails not yet sent.
	case "assignee":
		if q.AssigneeID == nil {
			return nil
		}
		to, err = a.DB.Notifiable(ctx, e.Kind, *q.AssigneeID)
	case "experts":
		to, err = a.DB.Notifiable(ctx, e.Kind, "", models.RoleExpert)
	case "managers":
		to, err = a.DB.Emails(ctx, models.RoleManager)
	default:
		return permanent(models.Errorf(models.EINVALID, "unknown audience %q", e.Audience))
	}
	if err != nil {
		return err
	}
	if len(to) == 0 {
		return nil
	}
	_, err = a.Mail.Send(ctx, mail.Message{Entity: "inquiry/" + q.ID, Event: e.Event + "/" + e.Audience, To: to,
		Template: "inquiry_" + e.Kind, Data: data})
	return mailError(err)
}

// InquiryChangeRecorded reports whether ch was committed, whatever time it
// was committed at: the workflow asks when its commit gave up.
func (a *Activities) InquiryChangeRecorded(ctx context.Context, ch workflows.InquiryChange) (bool, error) {
	ok, err := a.DB.InquiryEventRecorded(ctx, ch.InquiryID, ch.Key)
	return ok, permanent(err)
}
