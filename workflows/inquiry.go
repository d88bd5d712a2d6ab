package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/huntdesk/huntdesk/models"
)

// Process B: the expert inquiry and its progress-report SLA.
const (
	InquiryWorkflow = "ExpertInquiryWorkflow"
	InquiryQuery    = "state"      // query
	InquiryClaim    = "claim"      // update: an expert takes it
	InquiryAssign   = "assign"     // update: a manager gives it to an expert
	InquiryReport   = "report"     // update: a progress report
	InquiryRespond  = "respond"    // update: the customer answers
	InquirySample   = "add_sample" // update: the customer uploaded a sample
	InquiryCancel   = "cancel"     // update: the customer cancels
)

// InquiryWorkflowID is the workflow id of an inquiry.
func InquiryWorkflowID(inquiryID string) string { return "inquiry/" + inquiryID }

// InquiryParams starts (or continues) an inquiry's workflow. Every duration
// is input, fixed when the inquiry starts.
type InquiryParams struct {
	InquiryID       string
	OrgID           string
	SubmittedAt     time.Time
	SLA             time.Duration   // a progress report is due this long after submission or a customer answer
	WarnAfter       time.Duration   // warn the assignee (or every expert) this far into a period: 75 % of SLA
	Reminders       []time.Duration // remind the customer this long after a report started waiting on them
	CustomerTimeout time.Duration   // close as closed_no_response when they have not answered by then
	MaxChanges      int             // continue-as-new after this many changes in one run (0: 200)
	// SearchAttributes: keep the Huntdesk* search attributes (registered on
	// the namespace) up to date.
	SearchAttributes bool
	State            *InquiryState // carried over by continue-as-new
}

// InquiryState is the workflow's state, its query result and its result.
type InquiryState struct {
	Status      models.InquiryStatus
	Assignee    string
	PeriodStart time.Time // start of the current SLA period
	DueAt       time.Time // zero while paused or closed
	Period      int       // SLA periods so far (1 at submission)
	Warned      bool      // the current period's 75 % warning went out
	Breached    bool      // the current period ran out
	PausedAt    time.Time // when the clock stopped for the customer
	Pause       int       // times the clock was paused
	Reminded    int       // reminders sent in the current pause
	Reports     int
	Pending     []InquiryEmail // emails decided but not yet sent (survive continue-as-new)
	Applied     []string       // ids of the last maxApplied updates applied (survive continue-as-new): a retry is not applied twice
}

// maxApplied bounds InquiryState.Applied: a client retries an update within
// minutes, and an inquiry sees a few dozen updates in its life.
const maxApplied = 500

// InquiryCommand is the argument of every inquiry update.
type InquiryCommand struct {
	Actor      Actor
	AssigneeID string                // assign
	Category   models.ReportCategory // report
	MessageID  string                // report, respond: the stored text (texts stay out of history)
	SampleID   string                // add_sample
}

// InquiryChange is what ApplyInquiryChange commits to the read model: the
// inquiry's new state and the event, recorded once per Key.
type InquiryChange struct {
	InquiryID string
	Key       string // unique per event: makes a retried commit a no-op
	Action    string // claimed, assigned, reported, responded, sample_added, cancelled, sla_warned, sla_breached, customer_reminded, closed_no_response
	Actor     Actor
	At        time.Time
	Status    models.InquiryStatus
	Assignee  string
	DueAt     time.Time // zero: no due time (paused or closed)
	Breached  bool
	Category  models.ReportCategory
	MessageID string
	SampleID  string
	Period    int // the SLA period after the change
}

// InquiryEmail asks for one email about an inquiry. Event is unique per
// email (it derives the Message-ID); Kind picks the template; Audience is
// contact, assignee, experts or managers.
type InquiryEmail struct {
	InquiryID string
	Event     string
	Kind      string
	Audience  string
	MessageID string // for report emails
}

// Activities of Process B.
const (
	ApplyInquiryChangeActivity    = "ApplyInquiryChange"
	SendInquiryEmailActivity      = "SendInquiryEmail"
	InquiryChangeRecordedActivity = "InquiryChangeRecorded" // reconciles a commit whose outcome is unknown
)

func forbidden(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, models.EFORBIDDEN, nil)
}

func badInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, models.EINVALID, nil)
}

// ExpertInquiryWorkflow runs one inquiry:
//
//   - acknowledge it to the contact; the inquiry waits in the expert queue;
//   - a progress report is due SLA after submission: at WarnAfter the assignee
//     (or, unassigned, every expert) is warned; at SLA the inquiry is marked
//     breached and managers get an escalation;
//   - claim/assign/report/respond/add_sample/cancel are Updates whose
//     validators refuse them out of state, before anything is written;
//   - a report needing information or samples pauses the clock and waits on
//     the customer (reminders, then closed_no_response at CustomerTimeout); an
//     answer resumes it with a new period; more_time_needed starts a new
//     period; concluded closes the inquiry.
func ExpertInquiryWorkflow(ctx workflow.Context, in InquiryParams) (InquiryState, error) {
	ctx = workflow.WithActivityOptions(ctx, mailOptions)
	// Version 1 (issue 18) changes the command sequence; runs recorded before
	// it replay the DefaultVersion paths, kept below unchanged.
	hardened := workflow.GetVersion(ctx, hardening, workflow.DefaultVersion, 1) >= 1
	// Version 1 of expertNotifications tells experts that work arrived: the
	// queue (every expert), an assignment, a cancellation (the assignee).
	notifyStaff := workflow.GetVersion(ctx, expertNotifications, workflow.DefaultVersion, 1) >= 1
	show := visibility(ctx, in.SearchAttributes)
	first := in.State == nil
	st := InquiryState{}
	if first {
		st = InquiryState{Status: models.InquirySubmitted, PeriodStart: in.SubmittedAt, DueAt: in.SubmittedAt.Add(in.SLA), Period: 1,
			Pending: []InquiryEmail{{InquiryID: in.InquiryID, Event: "ack", Kind: "ack", Audience: "contact"}}}
		if notifyStaff {
			st.Pending = append(st.Pending, InquiryEmail{InquiryID: in.InquiryID, Event: "queued", Kind: "queued", Audience: "experts"})
		}
	} else {
		st = *in.State
	}
	view := func() caseView {
		return caseView{Kind: "inquiry", OrgID: in.OrgID, Status: string(st.Status), Assignee: st.Assignee, DueAt: st.DueAt, Breached: st.Breached}
	}
	show(ctx, view())
	version := 0 // bumped on every change, to wake the main loop; also counts this run's changes
	lock := workflow.NewMutex(ctx)

	if err := workflow.SetQueryHandler(ctx, InquiryQuery, func() (InquiryState, error) { return st, nil }); err != nil {
		return st, err
	}

	email := func(event, kind, audience, messageID string) {
		st.Pending = append(st.Pending, InquiryEmail{InquiryID: in.InquiryID, Event: event, Kind: kind, Audience: audience, MessageID: messageID})
	}
	newPeriod := func(s *InquiryState, now time.Time) {
		s.Status, s.PeriodStart, s.DueAt, s.Period = models.InquiryInProgress, now, now.Add(in.SLA), s.Period+1
		s.Warned, s.Breached, s.PausedAt, s.Reminded = false, false, time.Time{}, 0
	}
	// commit writes next to the read model and, once it is there, adopts it.
	// An update's commit gives up after a few tries (a person is waiting and
	// may retry). Before version 1 a timer's commit retried until the
	// database was back, holding the lock (and every update) meanwhile.
	//
	// Version 1: a clock's commit is bounded too (systemCommitOptions), and a
	// commit that gave up without a definite refusal may have landed: the
	// workflow asks the database and adopts the change if it is there, so the
	// row and the workflow never drift apart.
	commit := func(ctx workflow.Context, next InquiryState, ch InquiryChange) error {
		ch.InquiryID, ch.At = in.InquiryID, workflow.Now(ctx)
		ch.Status, ch.Assignee, ch.DueAt, ch.Breached, ch.Period = next.Status, next.Assignee, next.DueAt, next.Breached, next.Period
		opts := commitOptions
		if ch.Actor == system {
			opts = mailOptions
			if hardened {
				opts = systemCommitOptions
			}
		}
		actx := workflow.WithActivityOptions(ctx, opts)
		if err := workflow.ExecuteActivity(actx, ApplyInquiryChangeActivity, ch).Get(ctx, nil); err != nil {
			if !hardened || !outcomeUnknown(err) {
				return err
			}
			var landed bool
			rctx := workflow.WithActivityOptions(ctx, reconcileOptions)
			if rerr := workflow.ExecuteActivity(rctx, InquiryChangeRecordedActivity, ch).Get(ctx, &landed); rerr != nil || !landed {
				return err
			}
			workflow.GetLogger(ctx).Warn("inquiry commit gave up but had landed; adopted", "key", ch.Key, "error", err)
		}
		next.Pending, next.Applied = st.Pending, st.Applied
		st = next
		version++
		show(ctx, view())
		return nil
	}

	// Updates. Validators read st and refuse before anything is written;
	// handlers take the lock, check again (another update may have won the
	// race) and commit.
	type update struct {
		name     string
		validate func(InquiryCommand) error
		apply    func(ctx workflow.Context, c InquiryCommand) error
	}
	// seen reports whether this update's id was applied already (version 1):
	// a client's retry of an applied update is answered with the state.
	seen := func(ctx workflow.Context) bool {
		u := workflow.GetCurrentUpdateInfo(ctx)
		return hardened && u != nil && slices.Contains(st.Applied, u.ID)
	}
	remember := func(ctx workflow.Context) {
		if u := workflow.GetCurrentUpdateInfo(ctx); hardened && u != nil {
			ids := append(slices.Clone(st.Applied), u.ID)
			st.Applied = ids[max(len(ids)-maxApplied, 0):]
		}
	}
	open := func() error {
		if !st.Status.Open() {
			return InvalidState("the inquiry is " + string(st.Status))
		}
		return nil
	}
	updates := []update{
		{InquiryClaim, func(c InquiryCommand) error {
			if err := open(); err != nil {
				return err
			}
			if st.Assignee != "" {
				return InvalidState("the inquiry is already claimed")
			}
			return nil
		}, func(ctx workflow.Context, c InquiryCommand) error {
			next := st
			next.Assignee = c.Actor.UserID
			if next.Status == models.InquirySubmitted {
				next.Status = models.InquiryInProgress
			}
			return commit(ctx, next, InquiryChange{Key: key(ctx, "claimed"), Action: "claimed", Actor: c.Actor})
		}},
		{InquiryAssign, func(c InquiryCommand) error {
			if c.AssigneeID == "" {
				return badInput("user_id is required")
			}
			return open()
		}, func(ctx workflow.Context, c InquiryCommand) error {
			next := st
			next.Assignee = c.AssigneeID
			if next.Status == models.InquirySubmitted {
				next.Status = models.InquiryInProgress
			}
			k := key(ctx, "assigned")
			err := commit(ctx, next, InquiryChange{Key: k, Action: "assigned", Actor: c.Actor})
			if err == nil && notifyStaff {
				email(k, "assigned", "assignee", "")
			}
			return err
		}},
		{InquiryReport, func(c InquiryCommand) error {
			if !c.Category.Valid() || c.MessageID == "" {
				return badInput("a report needs a category and a message")
			}
			if err := open(); err != nil {
				return err
			}
			if st.Status == models.InquiryAwaitingCustomer {
				return InvalidState("the inquiry is waiting on the customer's answer")
			}
			if c.Actor.Role != models.RoleManager && c.Actor.UserID != st.Assignee {
				return forbidden("only the assignee or a manager may report on this inquiry")
			}
			return nil
		}, func(ctx workflow.Context, c InquiryCommand) error {
			now := workflow.Now(ctx)
			next := st
			if next.Assignee == "" {
				next.Assignee = c.Actor.UserID
			}
			switch {
			case c.Category.AwaitsCustomer():
				next.Status, next.DueAt, next.PausedAt, next.Pause, next.Reminded = models.InquiryAwaitingCustomer, time.Time{}, now, next.Pause+1, 0
			case c.Category == models.ReportMoreTime:
				newPeriod(&next, now)
			case c.Category == models.ReportConcluded:
				next.Status, next.DueAt = models.InquiryConcluded, time.Time{}
			}
			next.Reports++
			err := commit(ctx, next, InquiryChange{Key: "reported/" + c.MessageID, Action: "reported", Actor: c.Actor, Category: c.Category, MessageID: c.MessageID})
			if err == nil {
				email("report/"+c.MessageID, "report", "contact", c.MessageID)
			}
			return err
		}},
		{InquiryRespond, func(c InquiryCommand) error {
			if c.MessageID == "" {
				return badInput("a response needs a message")
			}
			if st.Status != models.InquiryAwaitingCustomer {
				return InvalidState("no answer is awaited: the inquiry is " + string(st.Status))
			}
			return nil
		}, func(ctx workflow.Context, c InquiryCommand) error {
			next := st
			newPeriod(&next, workflow.Now(ctx))
			err := commit(ctx, next, InquiryChange{Key: "responded/" + c.MessageID, Action: "responded", Actor: c.Actor, MessageID: c.MessageID})
			if err == nil && st.Assignee != "" {
				email("response/"+c.MessageID, "response", "assignee", c.MessageID)
			}
			return err
		}},
		{InquirySample, func(c InquiryCommand) error {
			if c.SampleID == "" {
				return badInput("sample id is required")
			}
			return open()
		}, func(ctx workflow.Context, c InquiryCommand) error {
			next := st
			resumed := st.Status == models.InquiryAwaitingCustomer
			if resumed { // an answer, as a file: work resumes
				newPeriod(&next, workflow.Now(ctx))
			}
			err := commit(ctx, next, InquiryChange{Key: "sample_added/" + c.SampleID, Action: "sample_added", Actor: c.Actor, SampleID: c.SampleID})
			if err == nil && st.Assignee != "" {
				email("sample/"+c.SampleID, "sample", "assignee", "")
			}
			return err
		}},
		{InquiryCancel, func(c InquiryCommand) error { return open() }, func(ctx workflow.Context, c InquiryCommand) error {
			next := st
			next.Status, next.DueAt = models.InquiryCancelled, time.Time{}
			err := commit(ctx, next, InquiryChange{Key: "cancelled", Action: "cancelled", Actor: c.Actor})
			if err == nil {
				email("cancelled", "cancelled", "contact", "")
				if notifyStaff && next.Assignee != "" {
					email("cancelled", "cancelled_assignee", "assignee", "")
				}
			}
			return err
		}},
	}
	for _, u := range updates {
		u := u
		err := workflow.SetUpdateHandlerWithOptions(ctx, u.name,
			func(ctx workflow.Context, c InquiryCommand) (InquiryState, error) {
				if err := lock.Lock(ctx); err != nil {
					return st, err
				}
				defer lock.Unlock()
				if seen(ctx) {
					return st, nil
				}
				if c.Actor.UserID == "" {
					return st, badInput("actor is required")
				}
				if err := u.validate(c); err != nil { // the state may have moved since validation
					return st, err
				}
				err := u.apply(ctx, c)
				if err == nil {
					remember(ctx)
				}
				return st, err
			},
			workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, c InquiryCommand) error {
				if seen(ctx) {
					return nil
				}
				if c.Actor.UserID == "" {
					return badInput("actor is required")
				}
				return u.validate(c)
			}})
		if err != nil {
			return st, err
		}
	}

	// Timer-driven events, committed under the same lock as updates.
	fire := func(ctx workflow.Context, now time.Time) error {
		if err := lock.Lock(ctx); err != nil {
			return err
		}
		defer lock.Unlock()
		next := st
		switch {
		case st.Status == models.InquiryAwaitingCustomer:
			if !now.Before(st.PausedAt.Add(in.CustomerTimeout)) {
				next.Status = models.InquiryClosedNoResponse
				if err := commit(ctx, next, InquiryChange{Key: "closed_no_response", Action: "closed_no_response", Actor: system}); err != nil {
					return err
				}
				email("closed_no_response", "closed_no_response", "contact", "")
				return nil
			}
			if st.Reminded < len(in.Reminders) && !now.Before(st.PausedAt.Add(in.Reminders[st.Reminded])) {
				next.Reminded++
				ev := sprintf("reminder/%d/%d", st.Pause, next.Reminded)
				if err := commit(ctx, next, InquiryChange{Key: ev, Action: "customer_reminded", Actor: system}); err != nil {
					return err
				}
				email(ev, "reminder", "contact", "")
			}
		case st.Status.Open() && !st.DueAt.IsZero():
			if !st.Breached && !now.Before(st.DueAt) {
				next.Breached, next.Warned = true, true
				ev := sprintf("breach/%d", st.Period)
				if err := commit(ctx, next, InquiryChange{Key: ev, Action: "sla_breached", Actor: system}); err != nil {
					return err
				}
				email(ev, "breach", "managers", "")
				return nil
			}
			if !st.Warned && !now.Before(st.PeriodStart.Add(in.WarnAfter)) {
				next.Warned = true
				ev := sprintf("warning/%d", st.Period)
				if err := commit(ctx, next, InquiryChange{Key: ev, Action: "sla_warned", Actor: system}); err != nil {
					return err
				}
				audience := "experts"
				if st.Assignee != "" {
					audience = "assignee"
				}
				email(ev, "warning", audience, "")
			}
		}
		return nil
	}

	// Version 1: emails go out from their own coroutine, oldest first, so an
	// SMTP outage delays mail and never the clock. The list survives
	// continue-as-new; an email in flight when the run continues is sent
	// again by the next run, and the outbox (same Message-ID) skips it.
	if hardened {
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				if err := workflow.Await(ctx, func() bool { return len(st.Pending) > 0 }); err != nil {
					return
				}
				e := st.Pending[0]
				if err := workflow.ExecuteActivity(ctx, SendInquiryEmailActivity, e).Get(ctx, nil); err != nil {
					if temporal.IsCanceledError(err) {
						return
					}
					// A 5xx refusal or a week of failures: recorded in the
					// outbox (status failed, with the reply) and logged here;
					// one bad email must not stop the case nor the others.
					workflow.GetLogger(ctx).Error("inquiry email failed permanently", "event", e.Event, "audience", e.Audience, "error", err)
				}
				st.Pending = st.Pending[1:]
			}
		})
	}

	maxChanges := in.MaxChanges
	if maxChanges <= 0 {
		maxChanges = 200 // a few thousand events: far below Temporal's limits
	}
	for {
		// Before version 1: send what was decided inline, oldest first.
		for !hardened && len(st.Pending) > 0 {
			e := st.Pending[0]
			if err := workflow.ExecuteActivity(ctx, SendInquiryEmailActivity, e).Get(ctx, nil); err != nil {
				if temporal.IsCanceledError(err) {
					return st, err
				}
				// Only a permanent failure gets here (retries are unlimited):
				// one bad email must not stop the case.
				workflow.GetLogger(ctx).Error("inquiry email failed permanently", "event", e.Event, "error", err)
			}
			st.Pending = st.Pending[1:]
		}
		if !st.Status.Open() {
			break
		}
		info := workflow.GetInfo(ctx)
		if version >= maxChanges || info.GetContinueAsNewSuggested() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return st, err
			}
			if (hardened || len(st.Pending) == 0) && st.Status.Open() {
				next := in
				next.State = &st
				return st, workflow.NewContinueAsNewError(ctx, InquiryWorkflow, next)
			}
			continue
		}
		seen := version
		wait, due, ok := nextDeadline(st, in, workflow.Now(ctx))
		changed := func() bool { return version != seen || (!hardened && len(st.Pending) > 0) }
		if !ok {
			if err := workflow.Await(ctx, changed); err != nil {
				return st, err
			}
			continue
		}
		if wait > 0 && !hardened {
			woke, err := workflow.AwaitWithTimeout(ctx, wait, changed)
			if err != nil {
				return st, err
			}
			if woke {
				continue
			}
		}
		if wait > 0 && hardened {
			// An explicit timer, cancelled when a change wins the race, so no
			// timer outlives its wait (AwaitWithTimeout leaves it running).
			tctx, cancel := workflow.WithCancel(ctx)
			timer := workflow.NewTimerWithOptions(tctx, wait, workflow.TimerOptions{Summary: due})
			err := workflow.Await(ctx, func() bool { return changed() || timer.IsReady() })
			fired := timer.IsReady()
			cancel()
			if err != nil {
				return st, err
			}
			if !fired {
				continue
			}
		}
		if err := fire(ctx, workflow.Now(ctx)); err != nil {
			if !hardened || temporal.IsCanceledError(err) {
				return st, err
			}
			// The database refused the clock's commit for a minute: release
			// the lock (fire did), let updates through, and try again.
			workflow.GetLogger(ctx).Warn("clock event not committed; retrying", "error", err)
			if err := workflow.NewTimerWithOptions(ctx, systemRetry, workflow.TimerOptions{Summary: "retry " + due}).Get(ctx, nil); err != nil {
				return st, err
			}
		}
	}
	// Wait for the last emails (version 1: the sender's) and any update still
	// answering, then finish.
	if err := workflow.Await(ctx, func() bool { return (!hardened || len(st.Pending) == 0) && workflow.AllHandlersFinished(ctx) }); err != nil {
		return st, err
	}
	return st, nil
}

// outcomeUnknown reports whether a commit's error leaves its outcome open:
// anything but a definite, non-retryable refusal (bad input, wrong state),
// e.g. retries exhausted on a database error or a timeout.
func outcomeUnknown(err error) bool {
	var ae *temporal.ApplicationError
	return !temporal.IsCanceledError(err) && !(errors.As(err, &ae) && ae.NonRetryable())
}

// nextDeadline is how long until the next clock event, if any is due, and
// what falls due then (the timer's summary).
func nextDeadline(st InquiryState, in InquiryParams, now time.Time) (time.Duration, string, bool) {
	type due struct {
		at   time.Time
		what string
	}
	var at []due
	switch {
	case st.Status == models.InquiryAwaitingCustomer:
		at = append(at, due{st.PausedAt.Add(in.CustomerTimeout), "close without response"})
		if st.Reminded < len(in.Reminders) {
			at = append(at, due{st.PausedAt.Add(in.Reminders[st.Reminded]), "customer reminder"})
		}
	case st.Status.Open() && !st.DueAt.IsZero():
		if !st.Warned {
			at = append(at, due{st.PeriodStart.Add(in.WarnAfter), "progress report warning"})
		}
		if !st.Breached {
			at = append(at, due{st.DueAt, "progress report due"})
		}
	}
	if len(at) == 0 {
		return 0, "", false
	}
	min := at[0]
	for _, t := range at[1:] {
		if t.at.Before(min.at) {
			min = t
		}
	}
	return max(min.at.Sub(now), 0), min.what, true
}

var system = Actor{UserID: models.SystemActor, Role: "system"}

// key names an update's event by the update's own id, unique per update.
func key(ctx workflow.Context, action string) string {
	if u := workflow.GetCurrentUpdateInfo(ctx); u != nil {
		return action + "/" + u.ID
	}
	return action
}
