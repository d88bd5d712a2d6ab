// Package cases is the service layer of huntdesk's processes: it keeps the
// database read model and the Temporal workflow of each case in step. The API
// calls it; workflows and activities never do.
package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/huntdesk/huntdesk/models"
)

type idempotencyKeyCtx struct{}

// WithIdempotencyKey carries a request's Idempotency-Key to the services:
// a retried update with the same key is the same update (same UpdateID, same
// draft or sample id), so it applies once.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	return context.WithValue(ctx, idempotencyKeyCtx{}, key)
}

func idempotencyKey(ctx context.Context) string {
	k, _ := ctx.Value(idempotencyKeyCtx{}).(string)
	return k
}

// derive returns an id that is the same for every retry of one operation:
// a hash of (caller, Idempotency-Key, operation), or "" without a key.
func derive(ctx context.Context, p models.Principal, op string) string {
	key := idempotencyKey(ctx)
	if key == "" {
		return ""
	}
	h := sha256.Sum256([]byte(p.UserID + "\x00" + key + "\x00" + op))
	return hex.EncodeToString(h[:16])
}

// StepAccepted: the workflow accepted an update; its handler has not
// necessarily committed (see CrashHook).
const StepAccepted = "accepted"

// runUpdate sends a workflow an Update and waits until its handler has
// committed, so the caller's next read shows the change. Refusals and
// failures come back as domain errors; refused reports whether the workflow
// refused the update without writing anything, the one case in which the
// caller may discard what it stored for it.
//
// It waits in two stages: first until the update is accepted (the validator
// ran), then until it completed. Once accepted, the handler may commit even
// if this wait fails (the client disconnects, the commit's retries run out
// after the database applied it): such an error is ambiguous, never a
// refusal. updateID, when set, makes a retry the same update: Temporal
// answers a known update id with the first outcome instead of running it
// again.
func runUpdate(ctx context.Context, c client.Client, workflowID, name, updateID string, arg, result any, crash CrashHook) (refused bool, err error) {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: updateID, WorkflowID: workflowID, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	if err != nil {
		return isRefusal(err), temporalErr(err)
	}
	if crash != nil {
		if err := crash(StepAccepted, workflowID); err != nil {
			return false, &crashError{err}
		}
	}
	if err := h.Get(ctx, result); err != nil {
		return isRefusal(err), temporalErr(err)
	}
	return false, nil
}

// isRefusal reports whether err is the workflow refusing an update before
// anything was written: the validator's (or the handler's first re-check's)
// domain error, or no workflow to send it to. An activity's failure, a
// timeout, a cancellation or a transport error may follow a commit.
func isRefusal(err error) bool {
	var actErr *temporal.ActivityError
	var timeout *temporal.TimeoutError
	var canceled *temporal.CanceledError
	switch {
	case errors.As(err, &actErr), errors.As(err, &timeout), errors.As(err, &canceled),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return true
	}
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Type() != "" && !strings.Contains(ae.Type(), ".")
}

// workflowMissing is the answer when a case has no workflow to update: it
// closed, or (see pendingStart) it has not started yet.
type workflowMissing struct{ err *models.Error }

func (w *workflowMissing) Error() string { return w.err.Error() }
func (w *workflowMissing) Unwrap() error { return w.err }

// temporalErr turns what the Temporal client returns into a domain error: an
// update's refusal keeps its code (e.g. invalid_state), a finished workflow
// is a closed case, and an unreachable cluster is EUNAVAILABLE.
func temporalErr(err error) error {
	if err == nil {
		return nil
	}
	var me *models.Error
	if errors.As(err, &me) {
		return err
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() != "" && !strings.Contains(ae.Type(), ".") {
		return &models.Error{Code: ae.Type(), Message: ae.Message()}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return &workflowMissing{models.Errorf(models.EINVALIDSTATE, "the case is closed")}
	}
	var ae2 *temporal.ActivityError
	if errors.As(err, &ae2) {
		return models.Errorf(models.EUNAVAILABLE, "could not commit the change; try again")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return models.Errorf(models.EUNAVAILABLE, "the workflow service did not answer in time; try again")
	}
	var un *serviceerror.Unavailable
	var dl *serviceerror.DeadlineExceeded
	if errors.As(err, &un) || errors.As(err, &dl) || strings.Contains(err.Error(), "connection refused") {
		return models.Errorf(models.EUNAVAILABLE, "the workflow service is unavailable")
	}
	return err
}
