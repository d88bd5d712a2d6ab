// Package workflows holds huntdesk's durable processes. Each file is one
// process, readable top to bottom; the outside world is reached only through
// activities (package activities), and every duration arrives as input so a
// change of configuration never changes the replay of a running case.
package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/huntdesk/huntdesk/models"
)

// TaskQueue is the queue huntdesk's workers poll.
const TaskQueue = "huntdesk"

// Process A: the eligibility application for Endpoint attack notifications.
const (
	ApplicationWorkflow = "EligibilityApplicationWorkflow"
	ApplicationState    = "state"    // query
	ApplicationApprove  = "approve"  // update
	ApplicationReject   = "reject"   // update
	ApplicationWithdraw = "withdraw" // update
)

// ApplicationWorkflowID is the workflow id of an application: one workflow per
// application, so Temporal itself refuses a duplicate start.
func ApplicationWorkflowID(applicationID string) string { return "application/" + applicationID }

// ApplicationParams starts an application's workflow. The application row
// already exists (status submitted); the workflow owns what happens next.
type ApplicationParams struct {
	ApplicationID string
	OrgID         string
	SubmittedAt   time.Time
	ReviewSLA     time.Duration // decision due this long after submission
	RemindAfter   time.Duration // reminder to managers (80 % of ReviewSLA by default)
	// SearchAttributes: keep the Huntdesk* search attributes (registered on
	// the namespace) up to date.
	SearchAttributes bool
}

// Actor is who sent an update: user id and role, as the API authenticated them.
type Actor struct {
	UserID string
	Role   models.Role
}

// DecisionRequest is the argument of the approve, reject and withdraw updates.
type DecisionRequest struct {
	Actor  Actor
	Note   string // approve: optional note
	Reason string // reject: required
}

// ApplicationStatus is the query result and the workflow result.
type ApplicationStatus struct {
	Status      models.ApplicationStatus
	ReviewDueAt time.Time
	RemindedAt  *time.Time
	EscalatedAt *time.Time
	DecidedAt   *time.Time
	DecidedBy   string
}

// ApplicationDecision is what RecordApplicationDecision commits to the read
// model: the application's new status and, with it, the org's feature toggle.
type ApplicationDecision struct {
	ApplicationID string
	Status        models.ApplicationStatus
	Actor         Actor
	Note          string
	Reason        string
	At            time.Time
}

// ApplicationEvent is a timer-driven event recorded on the application.
type ApplicationEvent struct {
	ApplicationID string
	Action        string // "review_reminder_sent" or "review_escalated"
	At            time.Time
}

// ApplicationEmail asks for one email about an application. Audience is
// "contact" or "managers"; Event names the email (and, with the application,
// derives its Message-ID, so it is sent once).
type ApplicationEmail struct {
	ApplicationID string
	Event         string
	Audience      string
}

// Activity names, shared by the workflow and the worker's registration.
const (
	SendApplicationEmailActivity      = "SendApplicationEmail"
	RecordApplicationDecisionActivity = "RecordApplicationDecision"
	RecordApplicationEventActivity    = "RecordApplicationEvent"
	// ApplicationDecisionRecordedActivity reconciles a decision whose commit
	// gave up: did the database apply it after all?
	ApplicationDecisionRecordedActivity = "ApplicationDecisionRecorded"
)

// Email events of Process A.
const (
	EmailApplicationReceived = "received"        // to the contact
	EmailApplicationNew      = "new_application" // to managers
	EmailApplicationReminder = "review_reminder" // to managers, at RemindAfter
	EmailApplicationOverdue  = "review_overdue"  // to managers, at ReviewSLA
	EmailApplicationApproved = "approved"        // welcome, to the contact
	EmailApplicationRejected = "rejected"        // to the contact, with the reason
)

// InvalidState is the error type of an update refused for the case's state;
// the API answers it with 409 invalid_state.
func InvalidState(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, models.EINVALIDSTATE, nil)
}

// EligibilityApplicationWorkflow runs one application from submission to a
// decision or withdrawal:
//
//  1. email the contact ("we received your application") and the managers;
//  2. wait for approve / reject (managers) or withdraw (the customer), each an
//     Update whose validator refuses it unless the application is open;
//  3. meanwhile remind managers at RemindAfter and escalate at ReviewSLA (the
//     application stays open);
//  4. after a decision, email the contact: welcome on approval, the reason on
//     rejection; a withdrawal sends nothing more.
func EligibilityApplicationWorkflow(ctx workflow.Context, in ApplicationParams) (ApplicationStatus, error) {
	ctx = workflow.WithActivityOptions(ctx, mailOptions)
	// Version 1 (issue 18) changes the command sequence; runs recorded before
	// it replay the DefaultVersion paths, kept below unchanged.
	hardened := workflow.GetVersion(ctx, hardening, workflow.DefaultVersion, 1) >= 1
	show := visibility(ctx, in.SearchAttributes)
	st := ApplicationStatus{Status: models.ApplicationSubmitted, ReviewDueAt: in.SubmittedAt.Add(in.ReviewSLA)}
	view := func() caseView {
		v := caseView{Kind: "application", OrgID: in.OrgID, Status: string(st.Status), Breached: st.EscalatedAt != nil}
		if st.Status.Open() {
			v.DueAt = st.ReviewDueAt
		}
		return v
	}
	show(ctx, view())
	deciding := false // a decision update is committing; refuse others meanwhile

	if err := workflow.SetQueryHandler(ctx, ApplicationState, func() (ApplicationStatus, error) { return st, nil }); err != nil {
		return st, err
	}
	validate := func(role string) func(workflow.Context, DecisionRequest) error {
		return func(_ workflow.Context, r DecisionRequest) error {
			if r.Actor.UserID == "" {
				return temporal.NewNonRetryableApplicationError("actor is required", models.EINVALID, nil)
			}
			if role == ApplicationReject && r.Reason == "" {
				return temporal.NewNonRetryableApplicationError("reason is required", models.EINVALID, nil)
			}
			if !st.Status.Open() || deciding {
				return InvalidState("the application is " + string(st.Status) + " and can no longer be " + pastTense(role))
			}
			return nil
		}
	}
	decide := func(to models.ApplicationStatus) func(workflow.Context, DecisionRequest) (ApplicationStatus, error) {
		return func(ctx workflow.Context, r DecisionRequest) (ApplicationStatus, error) {
			deciding = true
			defer func() { deciding = false }()
			now := workflow.Now(ctx)
			d := ApplicationDecision{ApplicationID: in.ApplicationID, Status: to, Actor: r.Actor, Note: r.Note, Reason: r.Reason, At: now}
			// Commit before answering, so the caller's next read shows it.
			actx := workflow.WithActivityOptions(ctx, commitOptions)
			if err := workflow.ExecuteActivity(actx, RecordApplicationDecisionActivity, d).Get(ctx, nil); err != nil {
				// Version 1: the commit gave up without a definite refusal, so
				// it may have landed; ask the database and adopt it if it did,
				// rather than leave an approved row behind an open workflow.
				if !hardened || !outcomeUnknown(err) {
					return st, err
				}
				var landed bool
				rctx := workflow.WithActivityOptions(ctx, reconcileOptions)
				if rerr := workflow.ExecuteActivity(rctx, ApplicationDecisionRecordedActivity, d).Get(ctx, &landed); rerr != nil || !landed {
					return st, err
				}
				workflow.GetLogger(ctx).Warn("application decision gave up but had landed; adopted", "status", to, "error", err)
			}
			st.Status, st.DecidedAt, st.DecidedBy = to, &now, r.Actor.UserID
			show(ctx, view())
			return st, nil
		}
	}
	for _, u := range []struct {
		name string
		to   models.ApplicationStatus
	}{
		{ApplicationApprove, models.ApplicationApproved},
		{ApplicationReject, models.ApplicationRejected},
		{ApplicationWithdraw, models.ApplicationWithdrawn},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, decide(u.to), workflow.UpdateHandlerOptions{Validator: validate(u.name)}); err != nil {
			return st, err
		}
	}

	// email sends one email; it is retried for a week (mailOptions), so an
	// error is either a cancellation (returned) or a permanent failure (a 5xx
	// refusal, or a week of failures), logged rather than allowed to stop the
	// case; the outbox row says failed, with the reply.
	email := func(ctx workflow.Context, event, audience string) error {
		err := workflow.ExecuteActivity(ctx, SendApplicationEmailActivity, ApplicationEmail{ApplicationID: in.ApplicationID, Event: event, Audience: audience}).Get(ctx, nil)
		if err != nil && !temporal.IsCanceledError(err) {
			workflow.GetLogger(ctx).Error("application email failed permanently", "event", event, "error", err)
			return nil
		}
		return err
	}
	// Version 1: emails are queued and sent by their own coroutine, so a
	// relay that is down delays mail, never the review clock. A 5xx refusal
	// or a week of failures is recorded in the outbox and logged.
	var pending []ApplicationEmail
	send := func(ctx workflow.Context, event, audience string) error {
		if !hardened {
			return email(ctx, event, audience)
		}
		pending = append(pending, ApplicationEmail{ApplicationID: in.ApplicationID, Event: event, Audience: audience})
		return nil
	}
	if hardened {
		workflow.Go(ctx, func(ctx workflow.Context) {
			for workflow.Await(ctx, func() bool { return len(pending) > 0 }) == nil {
				e := pending[0]
				if email(ctx, e.Event, e.Audience) != nil {
					return // cancelled
				}
				pending = pending[1:]
			}
		})
	}

	// The review clock runs beside the wait for a decision and stops with it.
	clockCtx, stopClock := workflow.WithCancel(ctx)
	workflow.Go(clockCtx, func(ctx workflow.Context) {
		record := func(action string) bool {
			// Version 1: a decision that is committing wins over the clock;
			// once it is committed the application is no longer open.
			if hardened && (workflow.Await(ctx, func() bool { return !deciding }) != nil || !st.Status.Open()) {
				return false
			}
			now := workflow.Now(ctx)
			ev := ApplicationEvent{ApplicationID: in.ApplicationID, Action: action, At: now}
			if err := workflow.ExecuteActivity(ctx, RecordApplicationEventActivity, ev).Get(ctx, nil); err != nil {
				return false
			}
			if action == "review_reminder_sent" {
				st.RemindedAt = &now
			} else {
				st.EscalatedAt = &now
				show(ctx, view())
			}
			return true
		}
		start := workflow.Now(ctx)
		if wait := in.SubmittedAt.Add(in.RemindAfter).Sub(start); in.RemindAfter > 0 && in.RemindAfter < in.ReviewSLA {
			if sleep(ctx, max(wait, 0), "review reminder due") != nil {
				return
			}
			if !st.Status.Open() || !record("review_reminder_sent") || send(ctx, EmailApplicationReminder, "managers") != nil {
				return
			}
		}
		if sleep(ctx, max(st.ReviewDueAt.Sub(workflow.Now(ctx)), 0), "review SLA due") != nil {
			return
		}
		if st.Status.Open() && record("review_escalated") {
			_ = send(ctx, EmailApplicationOverdue, "managers")
		}
	})

	if err := send(ctx, EmailApplicationReceived, "contact"); err != nil {
		return st, err
	}
	if st.Status.Open() {
		if err := send(ctx, EmailApplicationNew, "managers"); err != nil {
			return st, err
		}
	}

	if err := workflow.Await(ctx, func() bool { return !st.Status.Open() }); err != nil {
		return st, err
	}
	stopClock()

	switch st.Status {
	case models.ApplicationApproved:
		if err := send(ctx, EmailApplicationApproved, "contact"); err != nil {
			return st, err
		}
	case models.ApplicationRejected:
		if err := send(ctx, EmailApplicationRejected, "contact"); err != nil {
			return st, err
		}
	}
	// Let a racing update's validator see the final state and (version 1)
	// the last emails go out, then finish.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && len(pending) == 0 }); err != nil {
		return st, err
	}
	return st, nil
}

// sleep is workflow.Sleep with a timer named for the UI and CLI (Sleep is
// the same timer named "Sleep": the command sequence does not change). The
// clock's context is cancelled with the decision, which cancels the timer.
func sleep(ctx workflow.Context, d time.Duration, summary string) error {
	return workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: summary}).Get(ctx, nil)
}

func pastTense(update string) string {
	switch update {
	case ApplicationApprove:
		return "approved"
	case ApplicationReject:
		return "rejected"
	}
	return "withdrawn"
}

// IsInvalidState reports whether err is an update refused for the case's state.
func IsInvalidState(err error) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Type() == models.EINVALIDSTATE
}
