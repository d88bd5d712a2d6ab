package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/huntdesk/huntdesk/workflows"
)

// TestAlertNotificationOutageDelaysAndABounceSkips: while the relay is down
// every send fails and is retried until it goes through; a recipient the
// relay refuses for good (a 5xx) is skipped, and the others still get theirs.
func TestAlertNotificationOutageDelaysAndABounceSkips(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.AlertNotificationWorkflow, workflow.RegisterOptions{Name: workflows.AlertWorkflow})
	env.RegisterActivityWithOptions(func(ctx context.Context, id string) ([]workflows.AlertRecipient, error) {
		return []workflows.AlertRecipient{{Recipient: "a@x.example"}, {Recipient: "bounce@x.example"}, {Recipient: "c@x.example", Details: true}}, nil
	}, activity.RegisterOptions{Name: workflows.AlertRecipientsActivity})
	var mu sync.Mutex
	tries, sent := map[string]int{}, map[string]bool{}
	env.RegisterActivityWithOptions(func(ctx context.Context, e workflows.AlertEmail) error {
		mu.Lock()
		defer mu.Unlock()
		tries[e.Recipient]++
		switch {
		case e.Recipient == "bounce@x.example":
			return temporal.NewNonRetryableApplicationError("550 no such mailbox", "smtp_permanent", nil)
		case tries[e.Recipient] <= 4: // the relay is down for a while
			return errors.New("dial tcp: connection refused")
		}
		if e.Recipient == "c@x.example" && !e.Details {
			t.Errorf("the rule asked for device details")
		}
		sent[e.Recipient] = true
		return nil
	}, activity.RegisterOptions{Name: workflows.SendAlertEmailActivity})
	env.ExecuteWorkflow(workflows.AlertWorkflow, workflows.AlertNotificationParams{AlertID: "alr_1", OrgID: "org_1"})
	var n int
	if err := env.GetWorkflowResult(&n); err != nil || n != 2 {
		t.Fatalf("sent %d, %v; want 2", n, err)
	}
	if !sent["a@x.example"] || !sent["c@x.example"] || tries["a@x.example"] != 5 || tries["bounce@x.example"] != 1 {
		t.Fatalf("tries %v sent %v", tries, sent)
	}
}
