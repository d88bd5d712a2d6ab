package workflows_test

import (
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/huntdesk/huntdesk/workflows"
)

// TestReplayRecordedHistories replays every history in testdata/ (recorded
// from the real server by `make record-histories`, which adds missing files
// and never overwrites one) against today's code: a change that would break a
// running case fails here. Change a workflow's command sequence only behind
// workflow.GetVersion, keep the old histories, and record the new paths.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"application_approved": false, "application_rejected": false, "application_withdrawn": false, "application_escalated_then_approved": false,
		"inquiry_samples_then_concluded": false, "inquiry_breached_then_cancelled": false, "inquiry_closed_no_response": false, "inquiry_more_time_response_concluded": false}
	// Version 1 (GetVersion issue-18-hardening): the same paths on today's
	// code, and an inquiry that continued as new (both runs).
	for _, name := range []string{"application_approved", "application_rejected", "application_withdrawn", "application_escalated_then_approved",
		"inquiry_samples_then_concluded", "inquiry_breached_then_cancelled", "inquiry_closed_no_response", "inquiry_more_time_response_concluded",
		"inquiry_continued_as_new_first_run", "inquiry_continued_as_new",
		// Process C (born at version 1).
		"alert_notified_two_recipients", "alert_no_rule_matched", "notification_rule_test_email"} {
		want[name+"_v1"] = false
	}
	// Version 2 (GetVersion expert-notifications): experts told when work
	// arrives; every path recorded again.
	for _, name := range []string{"application_approved", "application_rejected", "application_withdrawn", "application_escalated_then_approved",
		"inquiry_samples_then_concluded", "inquiry_breached_then_cancelled", "inquiry_closed_no_response", "inquiry_more_time_response_concluded",
		"inquiry_continued_as_new_first_run", "inquiry_continued_as_new", "alert_notified_two_recipients", "alert_no_rule_matched", "notification_rule_test_email"} {
		want[name+"_v2"] = false
		want[name+"_v3"] = false // GetVersion search-attributes: the Huntdesk* search attributes kept up to date
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.EligibilityApplicationWorkflow, workflow.RegisterOptions{Name: workflows.ApplicationWorkflow})
	r.RegisterWorkflowWithOptions(workflows.ExpertInquiryWorkflow, workflow.RegisterOptions{Name: workflows.InquiryWorkflow})
	r.RegisterWorkflowWithOptions(workflows.AlertNotificationWorkflow, workflow.RegisterOptions{Name: workflows.AlertWorkflow})
	r.RegisterWorkflowWithOptions(workflows.NotificationRuleTestWorkflow, workflow.RegisterOptions{Name: workflows.RuleTestWorkflow})
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("%s no longer replays: %v", f, err)
			}
		})
		want[name] = true
	}
	for name, found := range want {
		if !found {
			t.Errorf("testdata/%s.json is missing: every workflow path needs a recorded history (make record-histories)", name)
		}
	}
}
