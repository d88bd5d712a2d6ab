// Package worker registers huntdesk's workflows and activities on a Temporal
// worker. `huntdesk worker` runs it in production; `huntdesk dev` in-process.
package worker

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/huntdesk/huntdesk/activities"
	"github.com/huntdesk/huntdesk/workflows"
)

// Register adds every workflow and activity to r (a worker, or a test
// environment).
func Register(r worker.Registry, a *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.EligibilityApplicationWorkflow, workflow.RegisterOptions{Name: workflows.ApplicationWorkflow})
	r.RegisterActivityWithOptions(a.SendApplicationEmail, activity.RegisterOptions{Name: workflows.SendApplicationEmailActivity})
	r.RegisterActivityWithOptions(a.RecordApplicationDecision, activity.RegisterOptions{Name: workflows.RecordApplicationDecisionActivity})
	r.RegisterActivityWithOptions(a.RecordApplicationEvent, activity.RegisterOptions{Name: workflows.RecordApplicationEventActivity})
	r.RegisterActivityWithOptions(a.ApplicationDecisionRecorded, activity.RegisterOptions{Name: workflows.ApplicationDecisionRecordedActivity})

	r.RegisterWorkflowWithOptions(workflows.ExpertInquiryWorkflow, workflow.RegisterOptions{Name: workflows.InquiryWorkflow})
	r.RegisterActivityWithOptions(a.ApplyInquiryChange, activity.RegisterOptions{Name: workflows.ApplyInquiryChangeActivity})
	r.RegisterActivityWithOptions(a.SendInquiryEmail, activity.RegisterOptions{Name: workflows.SendInquiryEmailActivity})
	r.RegisterActivityWithOptions(a.InquiryChangeRecorded, activity.RegisterOptions{Name: workflows.InquiryChangeRecordedActivity})

	r.RegisterWorkflowWithOptions(workflows.AlertNotificationWorkflow, workflow.RegisterOptions{Name: workflows.AlertWorkflow})
	r.RegisterWorkflowWithOptions(workflows.NotificationRuleTestWorkflow, workflow.RegisterOptions{Name: workflows.RuleTestWorkflow})
	r.RegisterActivityWithOptions(a.AlertRecipients, activity.RegisterOptions{Name: workflows.AlertRecipientsActivity})
	r.RegisterActivityWithOptions(a.SendAlertEmail, activity.RegisterOptions{Name: workflows.SendAlertEmailActivity})
	r.RegisterActivityWithOptions(a.SendRuleTestEmail, activity.RegisterOptions{Name: workflows.SendRuleTestEmailActivity})
}

// New returns a worker on the huntdesk task queue with everything registered.
func New(c client.Client, a *activities.Activities) worker.Worker {
	w := worker.New(c, workflows.TaskQueue, worker.Options{})
	Register(w, a)
	return w
}
