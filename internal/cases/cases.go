// Package cases is the service layer of huntdesk's processes: it keeps the
// database read model and the Temporal workflow of each case in step. The API
// calls it; workflows and activities never do.
package cases

import (
	"context"
	"errors"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/huntdesk/huntdesk/models"
)

// runUpdate sends a workflow an Update and waits until its handler has
// committed, so the caller's next read shows the change. Refusals and
// failures come back as domain errors.
func runUpdate(ctx context.Context, c client.Client, workflowID, name string, arg, result any) error {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return temporalErr(err)
	}
	return temporalErr(h.Get(ctx, result))
}

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
		return models.Errorf(models.EINVALIDSTATE, "the case is closed")
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
