package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Process C: an endpoint attack notification's emails.
const (
	AlertWorkflow    = "AlertNotificationWorkflow"
	RuleTestWorkflow = "NotificationRuleTestWorkflow"
)

// AlertWorkflowID is the workflow id of an alert's notifications: one per
// alert, so a duplicate start is refused by Temporal itself.
func AlertWorkflowID(alertID string) string { return "alert/" + alertID }

// RuleTestWorkflowID is the workflow id of one "send test email" of a rule.
func RuleTestWorkflowID(ruleID, nonce string) string { return "rule-test/" + ruleID + "/" + nonce }

// AlertNotificationParams starts an alert's notification workflow. Whom to
// email was decided in the alert's own transaction (the org's rules as they
// stood when it was raised); the workflow reads that list by the alert's id.
type AlertNotificationParams struct {
	AlertID string
	OrgID   string
}

// AlertEmail asks for one notification email: one alert, one recipient.
type AlertEmail struct {
	AlertID   string
	Recipient string
	Details   bool // include device details (a rule asked for them)
}

// AlertRecipient is one entry of the list the workflow sends to.
type AlertRecipient struct {
	Recipient string
	Details   bool
}

// RuleTestEmail asks for a rule's test email.
type RuleTestEmail struct {
	RuleID string
	Nonce  string
}

// Activities of Process C.
const (
	AlertRecipientsActivity   = "AlertRecipients"
	SendAlertEmailActivity    = "SendAlertEmail"
	SendRuleTestEmailActivity = "SendRuleTestEmail"
)

// readOptions are for a database read the workflow cannot go on without:
// retried until the database answers.
var readOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// AlertNotificationWorkflow emails every recipient the org's rules
// matched when the alert was raised, each once: the Message-ID derives from
// (alert, recipient) and the outbox makes a retried send a no-op. An SMTP
// outage delays the emails (the activity retries without limit) and loses
// none; a recipient the relay refuses for good is logged and the others
// still go. Emails go out concurrently, so one slow recipient holds up no
// other.
func AlertNotificationWorkflow(ctx workflow.Context, in AlertNotificationParams) (int, error) {
	var to []AlertRecipient
	rctx := workflow.WithActivityOptions(ctx, readOptions)
	if err := workflow.ExecuteActivity(rctx, AlertRecipientsActivity, in.AlertID).Get(ctx, &to); err != nil {
		return 0, err
	}
	mctx := workflow.WithActivityOptions(ctx, mailOptions)
	futures := make([]workflow.Future, len(to))
	for i, r := range to {
		futures[i] = workflow.ExecuteActivity(mctx, SendAlertEmailActivity, AlertEmail{AlertID: in.AlertID, Recipient: r.Recipient, Details: r.Details})
	}
	sent := 0
	for i, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			if temporal.IsCanceledError(err) {
				return sent, err
			}
			workflow.GetLogger(ctx).Error("alert email failed permanently", "recipient", to[i].Recipient, "error", err)
			continue
		}
		sent++
	}
	return sent, nil
}

// NotificationRuleTestWorkflow sends a rule's test email to its
// recipients, once per request.
func NotificationRuleTestWorkflow(ctx workflow.Context, in RuleTestEmail) error {
	ctx = workflow.WithActivityOptions(ctx, mailOptions)
	return workflow.ExecuteActivity(ctx, SendRuleTestEmailActivity, in).Get(ctx, nil)
}
