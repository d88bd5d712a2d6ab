package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// fakeApplicationActivities records what the workflow asked of the world.
type fakeApplicationActivities struct {
	mu        sync.Mutex
	emails    []string // "event/audience"
	decisions []models.ApplicationStatus
	events    []string
	times     map[string]time.Time
}

func (f *fakeApplicationActivities) SendApplicationEmail(ctx context.Context, e workflows.ApplicationEmail) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emails = append(f.emails, e.Event+"/"+e.Audience)
	return nil
}

func (f *fakeApplicationActivities) RecordApplicationDecision(ctx context.Context, d workflows.ApplicationDecision) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decisions = append(f.decisions, d.Status)
	return nil
}

func (f *fakeApplicationActivities) RecordApplicationEvent(ctx context.Context, e workflows.ApplicationEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e.Action)
	if f.times == nil {
		f.times = map[string]time.Time{}
	}
	f.times[e.Action] = e.At
	return nil
}

var start = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newApplicationEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *fakeApplicationActivities) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	f := &fakeApplicationActivities{}
	env.RegisterWorkflowWithOptions(workflows.EligibilityApplicationWorkflow, workflow.RegisterOptions{Name: workflows.ApplicationWorkflow})
	env.RegisterActivityWithOptions(f.SendApplicationEmail, activity.RegisterOptions{Name: workflows.SendApplicationEmailActivity})
	env.RegisterActivityWithOptions(f.RecordApplicationDecision, activity.RegisterOptions{Name: workflows.RecordApplicationDecisionActivity})
	env.RegisterActivityWithOptions(f.RecordApplicationEvent, activity.RegisterOptions{Name: workflows.RecordApplicationEventActivity})
	return env, f
}

func params() workflows.ApplicationParams {
	return workflows.ApplicationParams{ApplicationID: "app_1", OrgID: "org_1", SubmittedAt: start,
		ReviewSLA: 5 * 24 * time.Hour, RemindAfter: 4 * 24 * time.Hour}
}

// updateResult captures an update's outcome in the test environment.
type updateResult struct {
	rejected error
	err      error
	done     bool
	result   workflows.ApplicationStatus
}

func (u *updateResult) Accept()          {}
func (u *updateResult) Reject(err error) { u.rejected = err }
func (u *updateResult) Complete(v any, err error) {
	u.done, u.err = true, err
	if st, ok := v.(workflows.ApplicationStatus); ok {
		u.result = st
	}
}

func sendUpdate(env *testsuite.TestWorkflowEnvironment, after time.Duration, name string, r workflows.DecisionRequest) *updateResult {
	u := &updateResult{}
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(name, name+after.String(), u, r) }, after)
	return u
}

var manager = workflows.Actor{UserID: "usr_manager", Role: models.RoleManager}

func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.ApplicationStatus {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	var st workflows.ApplicationStatus
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}

func TestApplicationApproved(t *testing.T) {
	env, f := newApplicationEnv(t)
	u := sendUpdate(env, time.Hour, workflows.ApplicationApprove, workflows.DecisionRequest{Actor: manager, Note: "welcome"})
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, params())

	st := result(t, env)
	if u.rejected != nil || u.err != nil || u.result.Status != models.ApplicationApproved {
		t.Fatalf("approve update: rejected=%v err=%v result=%+v", u.rejected, u.err, u.result)
	}
	if st.Status != models.ApplicationApproved || st.DecidedBy != manager.UserID || st.DecidedAt == nil || !st.DecidedAt.Equal(start.Add(time.Hour)) {
		t.Fatalf("final state %+v", st)
	}
	equal(t, "emails", f.emails, []string{"received/contact", "new_application/managers", "approved/contact"})
	if len(f.decisions) != 1 || f.decisions[0] != models.ApplicationApproved {
		t.Fatalf("decisions = %v", f.decisions)
	}
	if len(f.events) != 0 {
		t.Fatalf("no review-clock events expected before the reminder, got %v", f.events)
	}
}

func TestApplicationRejected(t *testing.T) {
	env, f := newApplicationEnv(t)
	u := sendUpdate(env, 2*time.Hour, workflows.ApplicationReject, workflows.DecisionRequest{Actor: manager, Reason: "no EDR coverage"})
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, params())

	st := result(t, env)
	if u.rejected != nil || st.Status != models.ApplicationRejected {
		t.Fatalf("reject: rejected=%v state=%+v", u.rejected, st)
	}
	equal(t, "emails", f.emails, []string{"received/contact", "new_application/managers", "rejected/contact"})
}

func TestApplicationWithdrawnSendsNothingMore(t *testing.T) {
	env, f := newApplicationEnv(t)
	customer := workflows.Actor{UserID: "usr_admin", Role: models.RoleCustomerAdmin}
	u := sendUpdate(env, time.Hour, workflows.ApplicationWithdraw, workflows.DecisionRequest{Actor: customer})
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, params())

	st := result(t, env)
	if u.rejected != nil || st.Status != models.ApplicationWithdrawn {
		t.Fatalf("withdraw: rejected=%v state=%+v", u.rejected, st)
	}
	equal(t, "emails", f.emails, []string{"received/contact", "new_application/managers"})
	if len(f.events) != 0 {
		t.Fatalf("a withdrawn application must not remind or escalate, got %v", f.events)
	}
}

func TestApplicationReminderAndEscalationWhenNobodyDecides(t *testing.T) {
	env, f := newApplicationEnv(t)
	// Nobody decides for six days; the application stays open and can still be approved.
	u := sendUpdate(env, 6*24*time.Hour, workflows.ApplicationApprove, workflows.DecisionRequest{Actor: manager})
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, params())

	st := result(t, env)
	if u.rejected != nil || st.Status != models.ApplicationApproved {
		t.Fatalf("late approve: rejected=%v state=%+v", u.rejected, st)
	}
	equal(t, "events", f.events, []string{"review_reminder_sent", "review_escalated"})
	if got := f.times["review_reminder_sent"]; !got.Equal(start.Add(4 * 24 * time.Hour)) {
		t.Fatalf("reminder at %v, want 80%% of the SLA (%v)", got, start.Add(4*24*time.Hour))
	}
	if got := f.times["review_escalated"]; !got.Equal(start.Add(5 * 24 * time.Hour)) {
		t.Fatalf("escalation at %v, want the SLA's end (%v)", got, start.Add(5*24*time.Hour))
	}
	if st.RemindedAt == nil || st.EscalatedAt == nil {
		t.Fatalf("state should show the reminder and escalation: %+v", st)
	}
	equal(t, "emails", f.emails, []string{"received/contact", "new_application/managers", "review_reminder/managers", "review_overdue/managers", "approved/contact"})
}

func TestApplicationSecondDecisionRefused(t *testing.T) {
	env, f := newApplicationEnv(t)
	first, second := &updateResult{}, &updateResult{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.ApplicationApprove, "u1", first, workflows.DecisionRequest{Actor: manager})
		env.UpdateWorkflow(workflows.ApplicationReject, "u2", second, workflows.DecisionRequest{Actor: manager, Reason: "changed my mind"})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, params())

	st := result(t, env)
	if first.rejected != nil || st.Status != models.ApplicationApproved {
		t.Fatalf("first decision: rejected=%v state=%+v", first.rejected, st)
	}
	if !workflows.IsInvalidState(second.rejected) {
		t.Fatalf("second decision should be refused by the validator with invalid_state, got %v", second.rejected)
	}
	if len(f.decisions) != 1 {
		t.Fatalf("exactly one decision may be recorded, got %v", f.decisions)
	}
}

func TestApplicationValidatorRefusesBadInput(t *testing.T) {
	env, f := newApplicationEnv(t)
	noReason := sendUpdate(env, time.Minute, workflows.ApplicationReject, workflows.DecisionRequest{Actor: manager})
	noActor := sendUpdate(env, 2*time.Minute, workflows.ApplicationApprove, workflows.DecisionRequest{})
	ok := sendUpdate(env, time.Hour, workflows.ApplicationApprove, workflows.DecisionRequest{Actor: manager})
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, params())

	result(t, env)
	if noReason.rejected == nil || noActor.rejected == nil {
		t.Fatalf("validator should refuse a rejection without reason (%v) and an update without actor (%v)", noReason.rejected, noActor.rejected)
	}
	if ok.rejected != nil || len(f.decisions) != 1 || f.decisions[0] != models.ApplicationApproved {
		t.Fatalf("refused updates must not touch history: decisions=%v", f.decisions)
	}
}

func TestApplicationQueryShowsState(t *testing.T) {
	env, _ := newApplicationEnv(t)
	var seen workflows.ApplicationStatus
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ApplicationState)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		if err := v.Get(&seen); err != nil {
			t.Error(err)
		}
	}, 30*time.Minute)
	sendUpdate(env, time.Hour, workflows.ApplicationApprove, workflows.DecisionRequest{Actor: manager})
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, params())
	result(t, env)
	if seen.Status != models.ApplicationSubmitted || !seen.ReviewDueAt.Equal(start.Add(5*24*time.Hour)) {
		t.Fatalf("query before the decision = %+v", seen)
	}
}

// quiet drops the test environment's debug log.
var quiet = sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
