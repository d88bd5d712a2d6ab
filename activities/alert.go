package activities

import (
	"context"
	"fmt"

	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// AlertRecipients returns whom an alert's notification emails go to, as
// recorded when the alert was raised.
func (a *Activities) AlertRecipients(ctx context.Context, alertID string) ([]workflows.AlertRecipient, error) {
	rs, err := a.DB.AlertRecipients(ctx, alertID)
	if err != nil {
		return nil, permanent(err)
	}
	out := make([]workflows.AlertRecipient, len(rs))
	for i, r := range rs {
		out[i] = workflows.AlertRecipient{Recipient: r.Recipient, Details: r.IncludeDeviceDetails}
	}
	return out, nil
}

// alertEmail is what alert templates see.
type alertEmail struct {
	Alert   *models.Alert
	Org     *models.Org
	Details bool
	URL     string
}

// SendAlertEmail sends one alert's notification to one recipient; the
// Message-ID derives from (alert, recipient), so it goes once.
func (a *Activities) SendAlertEmail(ctx context.Context, e workflows.AlertEmail) error {
	al, err := a.DB.Alert(ctx, "", e.AlertID)
	if err != nil {
		return permanent(err)
	}
	org, err := a.DB.Org(ctx, "", al.OrgID)
	if err != nil {
		return permanent(err)
	}
	data := alertEmail{Alert: al, Org: org, Details: e.Details, URL: AlertURL(a.PublicURL, al.ID)}
	_, err = a.Mail.Send(ctx, mail.Message{Entity: "alert/" + al.ID, Event: "notify/" + e.Recipient, To: []string{e.Recipient},
		Template: "alert_notification", Data: data})
	return mailError(err)
}

// AlertURL is where a person opens an alert.
func AlertURL(publicURL, id string) string { return fmt.Sprintf("%s/app/alerts/%s", publicURL, id) }

// SendRuleTestEmail sends a rule's test email to its recipients.
func (a *Activities) SendRuleTestEmail(ctx context.Context, e workflows.RuleTestEmail) error {
	r, err := a.DB.Rule(ctx, "", e.RuleID)
	if err != nil {
		return permanent(err)
	}
	org, err := a.DB.Org(ctx, "", r.OrgID)
	if err != nil {
		return permanent(err)
	}
	_, err = a.Mail.Send(ctx, mail.Message{Entity: "notification_rule/" + r.ID, Event: "test/" + e.Nonce, To: r.Recipients,
		Template: "alert_rule_test", Data: struct {
			Rule *models.NotificationRule
			Org  *models.Org
			URL  string
		}{r, org, a.PublicURL + "/app/alerts"}})
	return mailError(err)
}
