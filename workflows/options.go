package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// mailOptions retry for as long as it takes: an email that is due must go out
// once SMTP is back, and the outbox makes each retry safe.
var mailOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
	},
}

// commitOptions are for writes an Update waits on: a person is waiting for the
// answer, so give up after a few quick tries and let them retry.
var commitOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    200 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    2 * time.Second,
		MaximumAttempts:    5,
	},
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
