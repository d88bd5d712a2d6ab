package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// mailOptions retry an email for a week: an email that is due must go out
// once SMTP is back (the outbox makes each retry safe), and since emails are
// sent beside the case's clock, never before it, a long outage delays mail
// and nothing else. A relay's 5xx refusal is non-retryable (activities'
// smtp_permanent) and ends the retries at once. The start-to-close timeout
// is well above one SMTP conversation (internal/mail's 30 s DefaultTimeout),
// so a slow relay times out inside the activity, with its error recorded,
// rather than the activity timing out mid-send and sending again. A send is
// one bounded conversation, so it needs no heartbeat.
var mailOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    2 * time.Minute,
	ScheduleToCloseTimeout: 7 * 24 * time.Hour,
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

// systemCommitOptions are for a clock event's commit (warning, breach,
// reminder). It runs under the case's lock, so updates queue behind it: it
// gives up after a minute, releases the lock, and the clock tries again a
// minute later (systemRetry). Bounding the wait was chosen over refusing
// updates while a clock commit is in flight: a person's claim or report then
// waits at most about a minute instead of failing, and the clock event is
// still committed as soon as the database is back.
var systemCommitOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    10 * time.Second,
	},
}

// systemRetry is how long the clock waits before committing a clock event
// again after its commit gave up.
const systemRetry = time.Minute

// reconcileOptions are for asking the database whether a commit whose
// outcome is unknown (its activity gave up) landed after all.
var reconcileOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: 2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    15 * time.Second,
	},
}

// hardening is the GetVersion change id of issue 18's workflow changes:
// emails sent from their own coroutine, explicit cancellable timers, bounded
// clock commits, reconciled commits, remembered update ids, and a review
// clock that waits for a committing decision. Histories recorded before it
// (DefaultVersion) replay the old command sequence; new runs take version 1.
const hardening = "issue-18-hardening"

// expertNotifications is the GetVersion change id of the emails that tell
// experts work arrived (issue 14): version 1 adds them.
const expertNotifications = "expert-notifications"

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
