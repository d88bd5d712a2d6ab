package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// Durable workflow starts (issue 18, item 1).
//
// A case's workflow start is recorded in the transaction that writes its row
// (store.WorkflowStart, with the workflow's exact input), then made, then
// marked. The other design — start the workflow first and let its first
// activity write the row — was not chosen: creates must answer their
// refusals (validation, subscription, trial allowance, one open application
// per org) synchronously from the database, under its locks and unique
// indexes, and the row must exist before the first update or read arrives.
// With the start recorded beside the row, "row without workflow" is only
// ever a pending start, which the worker's reconciler (worker.Reconcile)
// finishes with the same input; and a start whose outcome is unknown is
// never undone, because the workflow may be running.

// ErrStarting comes with a case that is recorded but whose workflow could not
// be started yet (Temporal unreachable, or an answer that never came). The
// case is accepted: its start is recorded with the case, and the worker's
// reconciler starts it. The API answers 202 with the case.
var ErrStarting = errors.New("the case is recorded; its workflow is starting")

// Steps of a create at which a test may stop the process (CrashHook).
const (
	StepRecorded = "recorded" // the row and its recorded start are committed; nothing is started
	StepStarted  = "started"  // Temporal has the workflow; the start is not yet marked
)

// CrashHook, when set, runs after each step of a create; an error stops the
// create right there, as if the process died: nothing further runs, nothing
// is cleaned up. Tests use it to prove the reconciler finishes every step.
type CrashHook func(step, workflowID string) error

// crashError is a CrashHook's error: the "process" died, nothing else runs.
type crashError struct{ err error }

func (c *crashError) Error() string { return "stopped by the crash hook: " + c.err.Error() }
func (c *crashError) Unwrap() error { return c.err }

func isCrash(err error) bool {
	var c *crashError
	return errors.As(err, &c)
}

// startTimeout bounds one start attempt. The attempt does not inherit the
// request's cancellation: a client that disconnects does not make the start
// ambiguous.
const startTimeout = 15 * time.Second

// startRecorded starts the workflow a WorkflowStart records and marks it
// started. Both the request path and the reconciler come here, so a
// workflow always starts with the input recorded with its case.
//
// The workflow id is the case's; WorkflowIDReusePolicy RejectDuplicate makes
// a second start of the same id fail with AlreadyStarted even after the first
// run closed (a fast cancel), and AlreadyStarted counts as success: whoever
// started it first, the case has its workflow.
func startRecorded(ctx context.Context, db *store.DB, tc client.Client, ws *store.WorkflowStart, crash CrashHook) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), startTimeout)
	defer cancel()
	var arg any
	switch ws.WorkflowType {
	case workflows.InquiryWorkflow:
		var p workflows.InquiryParams
		if err := json.Unmarshal([]byte(ws.Params), &p); err != nil {
			return fmt.Errorf("recorded start %s: %w", ws.WorkflowID, err)
		}
		arg = p
	case workflows.AlertWorkflow:
		var p workflows.AlertNotificationParams
		if err := json.Unmarshal([]byte(ws.Params), &p); err != nil {
			return fmt.Errorf("recorded start %s: %w", ws.WorkflowID, err)
		}
		arg = p
	case workflows.ApplicationWorkflow:
		var p workflows.ApplicationParams
		if err := json.Unmarshal([]byte(ws.Params), &p); err != nil {
			return fmt.Errorf("recorded start %s: %w", ws.WorkflowID, err)
		}
		arg = p
	default:
		return fmt.Errorf("recorded start %s: unknown workflow type %q", ws.WorkflowID, ws.WorkflowType)
	}
	_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: ws.WorkflowID, TaskQueue: workflows.TaskQueue,
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         summary(ctx, db, ws),
	}, ws.WorkflowType, arg)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		if ferr := db.StartFailed(ctx, ws.WorkflowID, err); ferr != nil {
			slog.Warn("record failed workflow start", "workflow_id", ws.WorkflowID, "err", ferr)
		}
		return err
	}
	if crash != nil {
		if err := crash(StepStarted, ws.WorkflowID); err != nil {
			return &crashError{err}
		}
	}
	if err := db.MarkStarted(ctx, ws.WorkflowID); err != nil {
		// The workflow runs; the reconciler will find it started and mark it.
		slog.Warn("mark workflow started", "workflow_id", ws.WorkflowID, "err", err)
	}
	return nil
}

// StartPending starts every recorded workflow start that is not marked
// started (at most limit per call), and returns how many it started. A
// start whose case is gone is forgotten; one whose case already closed is
// only marked (its workflow ran). The worker runs it on start and
// periodically (worker.Reconcile).
func StartPending(ctx context.Context, db *store.DB, tc client.Client, limit int) (int, error) {
	pending, err := db.PendingStarts(ctx, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for i := range pending {
		ws := &pending[i]
		open, err := db.CaseOpen(ctx, ws.Entity, ws.EntityID)
		switch {
		case models.ErrorCode(err) == models.ENOTFOUND:
			if err := db.ForgetStart(ctx, ws.WorkflowID); err != nil {
				errs = append(errs, err)
			}
			continue
		case err != nil:
			errs = append(errs, err)
			continue
		case !open:
			if err := db.MarkStarted(ctx, ws.WorkflowID); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := startRecorded(ctx, db, tc, ws, nil); err != nil {
			errs = append(errs, fmt.Errorf("start %s: %w", ws.WorkflowID, err))
			continue
		}
		slog.Info("reconciler started a recorded workflow", "workflow_id", ws.WorkflowID, "created_at", ws.CreatedAt)
		n++
	}
	return n, errors.Join(errs...)
}

// pendingStart turns an update's "no such workflow" into what it means when
// the case's workflow start is recorded but not yet made: the case is
// starting (503, try again), not closed.
func pendingStart(ctx context.Context, db *store.DB, entity, id string, err error) error {
	var wm *workflowMissing
	if err == nil || !errors.As(err, &wm) {
		return err
	}
	if ws, serr := db.StartOf(ctx, entity, id); serr == nil && ws.StartedAt == nil {
		return models.Errorf(models.EUNAVAILABLE, "the %s's workflow is starting; try again in a minute", entity)
	}
	return err
}

// summary is how the Temporal Web UI names a case's workflow: "Inquiry from
// Contoso — alert information", "Application from Contoso". Best effort: the
// start does not wait on a name.
func summary(ctx context.Context, db *store.DB, ws *store.WorkflowStart) string {
	switch ws.Entity {
	case "inquiry":
		// One light read: the whole inquiry (reports, samples, timeline)
		// is not needed for a name, and this runs on every submit.
		if org, group, err := db.InquirySummary(ctx, ws.EntityID); err == nil {
			s := "Inquiry from " + org
			if group != "" {
				s += " — " + strings.ReplaceAll(group, "_", " ")
			}
			return s
		}
	case "application":
		if a, err := db.Application(ctx, "", ws.EntityID); err == nil {
			return "Application from " + orgName(ctx, db, a.OrgID) + " for Endpoint attack notifications"
		}
	case "alert":
		if a, err := db.Alert(ctx, "", ws.EntityID); err == nil {
			return "Alert notifications: [" + string(a.Severity) + "] " + a.Title
		}
	}
	return ws.Entity + " " + ws.EntityID
}

func orgName(ctx context.Context, db *store.DB, id string) string {
	if o, err := db.Org(ctx, "", id); err == nil {
		return o.Name
	}
	return id
}
