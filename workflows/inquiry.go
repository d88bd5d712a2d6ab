package workflows

import (
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
	State           *InquiryState   // carried over by continue-as-new
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
}

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
	ApplyInquiryChangeActivity = "ApplyInquiryChange"
	SendInquiryEmailActivity   = "SendInquiryEmail"
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
	first := in.State == nil
	st := InquiryState{}
	if first {
		st = InquiryState{Status: models.InquirySubmitted, PeriodStart: in.SubmittedAt, DueAt: in.SubmittedAt.Add(in.SLA), Period: 1,
			Pending: []InquiryEmail{{InquiryID: in.InquiryID, Event: "ack", Kind: "ack", Audience: "contact"}}}
	} else {
		st = *in.State
	}
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
	// may retry); a timer's commit (durable) retries until the database is back.
	commit := func(ctx workflow.Context, next InquiryState, ch InquiryChange) error {
		ch.InquiryID, ch.At = in.InquiryID, workflow.Now(ctx)
		ch.Status, ch.Assignee, ch.DueAt, ch.Breached = next.Status, next.Assignee, next.DueAt, next.Breached
		opts := commitOptions
		if ch.Actor == system {
			opts = mailOptions
		}
		actx := workflow.WithActivityOptions(ctx, opts)
		if err := workflow.ExecuteActivity(actx, ApplyInquiryChangeActivity, ch).Get(ctx, nil); err != nil {
			return err
		}
		next.Pending = st.Pending
		st = next
		version++
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
			return commit(ctx, next, InquiryChange{Key: key(ctx, "assigned"), Action: "assigned", Actor: c.Actor})
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
				if c.Actor.UserID == "" {
					return st, badInput("actor is required")
				}
				if err := u.validate(c); err != nil { // the state may have moved since validation
					return st, err
				}
				err := u.apply(ctx, c)
				return st, err
			},
			workflow.UpdateHandlerOptions{Validator: func(c InquiryCommand) error {
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

	maxChanges := in.MaxChanges
	if maxChanges <= 0 {
		maxChanges = 200 // a few thousand events: far below Temporal's limits
	}
	for {
		// Send what was decided, oldest first; each email is its own retried activity.
		for len(st.Pending) > 0 {
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
			if len(st.Pending) == 0 && st.Status.Open() {
				next := in
				next.State = &st
				return st, workflow.NewContinueAsNewError(ctx, InquiryWorkflow, next)
			}
			continue
		}
		seen := version
		wait, ok := nextDeadline(st, in, workflow.Now(ctx))
		changed := func() bool { return version != seen || len(st.Pending) > 0 }
		if !ok {
			if err := workflow.Await(ctx, changed); err != nil {
				return st, err
			}
			continue
		}
		if wait > 0 {
			woke, err := workflow.AwaitWithTimeout(ctx, wait, changed)
			if err != nil {
				return st, err
			}
			if woke {
				continue
			}
		}
		if err := fire(ctx, workflow.Now(ctx)); err != nil {
			return st, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return st, err
	}
	return st, nil
}

// nextDeadline is how long until the next clock event, if any is due.
func nextDeadline(st InquiryState, in InquiryParams, now time.Time) (time.Duration, bool) {
	var at []time.Time
	switch {
	case st.Status == models.InquiryAwaitingCustomer:
		at = append(at, st.PausedAt.Add(in.CustomerTimeout))
		if st.Reminded < len(in.Reminders) {
			at = append(at, st.PausedAt.Add(in.Reminders[st.Reminded]))
		}
	case st.Status.Open() && !st.DueAt.IsZero():
		if !st.Warned {
			at = append(at, st.PeriodStart.Add(in.WarnAfter))
		}
		if !st.Breached {
			at = append(at, st.DueAt)
		}
	}
	if len(at) == 0 {
		return 0, false
	}
	min := at[0]
	for _, t := range at[1:] {
		if t.Before(min) {
			min = t
		}
	}
	return max(min.Sub(now), 0), true
}

var system = Actor{UserID: models.SystemActor, Role: "system"}

// key names an update's event by the update's own id, unique per update.
func key(ctx workflow.Context, action string) string {
	if u := workflow.GetCurrentUpdateInfo(ctx); u != nil {
		return action + "/" + u.ID
	}
	return action
}
