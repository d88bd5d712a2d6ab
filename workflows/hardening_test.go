package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// Tests of issue 18: clocks that run while mail is down, timers that do not
// leak, decisions that the review clock respects, updates applied once, and
// commits whose outcome is unknown reconciled from the database.

var errMailDown = errors.New("dial tcp 127.0.0.1:2525: connect: connection refused")

// timers counts the timers a workflow started, and how each ended.
type timers struct {
	mu                        sync.Mutex
	started, fired, cancelled int
}

func watchTimers(env *testsuite.TestWorkflowEnvironment) *timers {
	tm := &timers{}
	env.SetOnTimerScheduledListener(func(string, time.Duration) { tm.mu.Lock(); tm.started++; tm.mu.Unlock() })
	env.SetOnTimerFiredListener(func(string) { tm.mu.Lock(); tm.fired++; tm.mu.Unlock() })
	env.SetOnTimerCanceledListener(func(string) { tm.mu.Lock(); tm.cancelled++; tm.mu.Unlock() })
	return tm
}

// TestInquiryBreachIsOnTimeWhileMailIsDown: every email fails (the relay is
// down), yet the 75 % warning and the breach are committed at their times:
// email goes out from its own coroutine, never before the clock.
func TestInquiryBreachIsOnTimeWhileMailIsDown(t *testing.T) {
	env, f := newInquiryEnv(t, func(context.Context, workflows.InquiryEmail) error { return errMailDown })
	p := inquiryParams()
	p.SLA, p.WarnAfter = 4*time.Minute, 3*time.Minute
	cmd(env, time.Hour, workflows.InquiryCancel, workflows.InquiryCommand{Actor: customer})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, p)

	inquiryResult(t, env)
	if got := f.at("sla_warned"); !got.Equal(start.Add(3 * time.Minute)) {
		t.Errorf("warning committed at %v, want %v while mail is down", got, start.Add(3*time.Minute))
	}
	if got := f.at("sla_breached"); !got.Equal(start.Add(4 * time.Minute)) {
		t.Errorf("breach committed at %v, want %v while mail is down", got, start.Add(4*time.Minute))
	}
}

// TestApplicationEscalationIsOnTimeWhileMailIsDown: the same for the review
// clock: a reminder email stuck on a dead relay must not delay the escalation.
func TestApplicationEscalationIsOnTimeWhileMailIsDown(t *testing.T) {
	env, f := newApplicationEnv(t)
	env.OnActivity(workflows.SendApplicationEmailActivity, mockAny, mockAny).Return(errMailDown)
	p := params()
	p.ReviewSLA, p.RemindAfter = 5*time.Minute, 4*time.Minute
	u := sendUpdate(env, time.Hour, workflows.ApplicationApprove, workflows.DecisionRequest{Actor: manager})
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, p)

	st := result(t, env)
	if u.rejected != nil || u.err != nil || st.Status != models.ApplicationApproved {
		t.Fatalf("approve: %v %v %+v", u.rejected, u.err, st)
	}
	if got := f.times["review_escalated"]; !got.Equal(start.Add(5 * time.Minute)) {
		t.Fatalf("escalation recorded at %v, want %v while mail is down", got, start.Add(5*time.Minute))
	}
}

// TestInquiryTimersDoNotLeak: a timer whose wait is overtaken by an update is
// cancelled, so every timer the workflow started either fired or was
// cancelled (AwaitWithTimeout left them running).
func TestInquiryTimersDoNotLeak(t *testing.T) {
	env, _ := newInquiryEnv(t)
	tm := watchTimers(env)
	cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	cmd(env, 2*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportMoreTime, MessageID: "msg_1"})
	cmd(env, 3*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_2"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())
	inquiryResult(t, env)
	if tm.started == 0 || tm.started != tm.fired+tm.cancelled {
		t.Fatalf("timers: %d started, %d fired, %d cancelled: every timer must end", tm.started, tm.fired, tm.cancelled)
	}
}

// TestInquiryReportRefusedWhileAwaitingCustomer: once experts asked the
// customer, a further report is refused (409) until the customer answers.
func TestInquiryReportRefusedWhileAwaitingCustomer(t *testing.T) {
	env, f := newInquiryEnv(t)
	cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	cmd(env, 2*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportSamples, MessageID: "msg_1"})
	again := cmd(env, 3*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportMoreTime, MessageID: "msg_2"})
	byManager := cmd(env, 4*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: mgr, Category: models.ReportConcluded, MessageID: "msg_3"})
	cmd(env, 5*h, workflows.InquiryCancel, workflows.InquiryCommand{Actor: customer})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())
	inquiryResult(t, env)
	if !workflows.IsInvalidState(again.rejected) || !workflows.IsInvalidState(byManager.rejected) {
		t.Fatalf("reports while awaiting the customer: %v / %v, want invalid_state", again.rejected, byManager.rejected)
	}
	equal(t, "changes", f.actions(), []string{"claimed", "reported", "cancelled"})
}

// TestInquirySkipsAnUpdateIDItAppliedBeforeContinueAsNew: the ids of applied
// updates travel in the state; a retry with such an id is answered with the
// current state and applies nothing.
func TestInquirySkipsAnUpdateIDItAppliedBeforeContinueAsNew(t *testing.T) {
	env, f := newInquiryEnv(t)
	p := inquiryParams()
	p.State = &workflows.InquiryState{Status: models.InquiryInProgress, Assignee: expert.UserID, PeriodStart: start, DueAt: start.Add(48 * h), Period: 2, Reports: 1,
		Applied: []string{"report-key-1"}}
	retried, fresh := &inqUpdate{}, &inqUpdate{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.InquiryReport, "report-key-1", retried, workflows.InquiryCommand{Actor: expert, Category: models.ReportMoreTime, MessageID: "msg_1"})
	}, h)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.InquiryReport, "report-key-2", fresh, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_2"})
	}, 2*h)
	env.ExecuteWorkflow(workflows.InquiryWorkflow, p)
	st := inquiryResult(t, env)
	if retried.rejected != nil || retried.err != nil || retried.st.Period != 2 || retried.st.Reports != 1 {
		t.Fatalf("a seen update id must be answered with the state, unapplied: %v %v %+v", retried.rejected, retried.err, retried.st)
	}
	equal(t, "changes", f.actions(), []string{"reported"})
	if st.Reports != 2 || len(st.Applied) != 2 || st.Applied[1] != "report-key-2" {
		t.Fatalf("final %+v", st)
	}
}

// TestInquiryRemembersAtMost500UpdateIDs: the list is bounded.
func TestInquiryRemembersAtMost500UpdateIDs(t *testing.T) {
	env, _ := newInquiryEnv(t)
	p := inquiryParams()
	seen := make([]string, 500)
	for i := range seen {
		seen[i] = "old-" + time.Duration(i).String()
	}
	p.State = &workflows.InquiryState{Status: models.InquiryInProgress, Assignee: expert.UserID, PeriodStart: start, DueAt: start.Add(48 * h), Period: 1, Applied: seen}
	cmd(env, h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_1"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, p)
	st := inquiryResult(t, env)
	if len(st.Applied) != 500 || st.Applied[0] != seen[1] {
		t.Fatalf("applied ids: %d, first %s; want the last 500", len(st.Applied), st.Applied[0])
	}
}

// TestInquiryCommitWithUnknownOutcomeIsReconciled: the database applied a
// claim but every answer to the workflow was lost; the workflow asks the
// database, finds the event, and adopts it instead of answering an error.
func TestInquiryCommitWithUnknownOutcomeIsReconciled(t *testing.T) {
	env, f := newInquiryEnv(t)
	env.RegisterActivityWithOptions(func(ctx context.Context, ch workflows.InquiryChange) (bool, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.changes {
			if c.Key == ch.Key {
				return true, nil
			}
		}
		return false, nil
	}, activity.RegisterOptions{Name: workflows.InquiryChangeRecordedActivity})
	env.OnActivity(workflows.ApplyInquiryChangeActivity, mockAny, mockAny).Return(func(ctx context.Context, ch workflows.InquiryChange) error {
		_ = f.ApplyInquiryChange(ctx, ch)
		return errors.New("connection reset after COMMIT")
	})
	claim := cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	cmd(env, 2*h, workflows.InquiryCancel, workflows.InquiryCommand{Actor: customer})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())
	st := inquiryResult(t, env)
	if claim.rejected != nil || claim.err != nil || claim.st.Assignee != expert.UserID {
		t.Fatalf("claim: %v %v %+v", claim.rejected, claim.err, claim.st)
	}
	if st.Status != models.InquiryCancelled {
		t.Fatalf("final %+v", st)
	}
}

// TestInquirySystemCommitDoesNotHoldUpdatesForHours: while the database
// refuses the clock's commit, the commit gives up after a bounded time and
// retries later, so a claim queued behind it is answered; when the database
// is back the warning is committed.
func TestInquirySystemCommitDoesNotHoldUpdatesForHours(t *testing.T) {
	env, f := newInquiryEnv(t)
	var mu sync.Mutex
	down := true
	env.RegisterActivityWithOptions(func(context.Context, workflows.InquiryChange) (bool, error) { return false, nil },
		activity.RegisterOptions{Name: workflows.InquiryChangeRecordedActivity})
	env.OnActivity(workflows.ApplyInquiryChangeActivity, mockAny, mockAny).Return(func(ctx context.Context, ch workflows.InquiryChange) error {
		mu.Lock()
		defer mu.Unlock()
		if ch.Action == "sla_warned" && down {
			return errors.New("database is down")
		}
		return f.ApplyInquiryChange(ctx, ch)
	})
	var claimedAt time.Time
	claim := &inqUpdate{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.InquiryClaim, "claim-1", claim, workflows.InquiryCommand{Actor: expert})
	}, 36*h+time.Second)
	env.RegisterDelayedCallback(func() { mu.Lock(); down = false; mu.Unlock() }, 40*h)
	cmd(env, 45*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_1"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())
	st := inquiryResult(t, env)
	claimedAt = f.at("claimed")
	if claim.rejected != nil || claim.err != nil || claimedAt.IsZero() || claimedAt.After(start.Add(37*h)) {
		t.Fatalf("claim queued behind a failing clock commit: %v %v at %v", claim.rejected, claim.err, claimedAt)
	}
	if w := f.at("sla_warned"); w.IsZero() || w.Before(start.Add(36*h)) {
		t.Fatalf("the warning must be committed once the database is back: %v", w)
	}
	if st.Status != models.InquiryConcluded {
		t.Fatalf("final %+v", st)
	}
}

// TestApplicationClockWaitsForACommittingDecision: the escalation falls due
// while an approval is committing (its commit is slow); the clock must not
// record or email an escalation of an application that is being decided.
func TestApplicationClockWaitsForACommittingDecision(t *testing.T) {
	env, f := newApplicationEnv(t)
	calls := 0
	env.OnActivity(workflows.RecordApplicationDecisionActivity, mockAny, mockAny).Return(func(ctx context.Context, d workflows.ApplicationDecision) error {
		calls++
		if calls < 4 { // 200 ms, 400 ms, 800 ms of backoff: the SLA runs out meanwhile
			return errors.New("database busy")
		}
		return f.RecordApplicationDecision(ctx, d)
	})
	p := params()
	u := sendUpdate(env, p.ReviewSLA-300*time.Millisecond, workflows.ApplicationApprove, workflows.DecisionRequest{Actor: manager})
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, p)
	st := result(t, env)
	if u.rejected != nil || u.err != nil || st.Status != models.ApplicationApproved {
		t.Fatalf("approve: %v %v %+v", u.rejected, u.err, st)
	}
	equal(t, "events", f.events, []string{"review_reminder_sent"})
	for _, e := range f.emails {
		if e == "review_overdue/managers" {
			t.Fatalf("escalation emailed while the approval committed: %v", f.emails)
		}
	}
}

// TestApplicationDecisionWithUnknownOutcomeIsReconciled: the approval was
// committed but its activity gave up; the workflow reads the application and
// adopts the decision (welcome email, no escalation) instead of failing it.
func TestApplicationDecisionWithUnknownOutcomeIsReconciled(t *testing.T) {
	env, f := newApplicationEnv(t)
	env.RegisterActivityWithOptions(func(ctx context.Context, d workflows.ApplicationDecision) (bool, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, s := range f.decisions {
			if s == d.Status {
				return true, nil
			}
		}
		return false, nil
	}, activity.RegisterOptions{Name: workflows.ApplicationDecisionRecordedActivity})
	env.OnActivity(workflows.RecordApplicationDecisionActivity, mockAny, mockAny).Return(func(ctx context.Context, d workflows.ApplicationDecision) error {
		_ = f.RecordApplicationDecision(ctx, d)
		return errors.New("connection reset after COMMIT")
	})
	u := sendUpdate(env, time.Hour, workflows.ApplicationApprove, workflows.DecisionRequest{Actor: manager})
	env.ExecuteWorkflow(workflows.ApplicationWorkflow, params())
	st := result(t, env)
	if u.rejected != nil || u.err != nil || st.Status != models.ApplicationApproved {
		t.Fatalf("approve: %v %v %+v", u.rejected, u.err, st)
	}
	equal(t, "emails", f.emails, []string{"received/contact", "new_application/managers", "approved/contact"})
}

// mockAny matches any argument in OnActivity.
const mockAny = mock.Anything
