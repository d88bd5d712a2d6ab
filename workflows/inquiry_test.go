package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// fakeInquiryActivities records commits and emails, with their workflow times.
type fakeInquiryActivities struct {
	mu      sync.Mutex
	changes []workflows.InquiryChange
	emails  []string // "event/audience"
}

func (f *fakeInquiryActivities) ApplyInquiryChange(ctx context.Context, ch workflows.InquiryChange) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, ch)
	return nil
}

func (f *fakeInquiryActivities) SendInquiryEmail(ctx context.Context, e workflows.InquiryEmail) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emails = append(f.emails, e.Event+"/"+e.Audience)
	return nil
}

func (f *fakeInquiryActivities) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.changes))
	for i, c := range f.changes {
		out[i] = c.Action
	}
	return out
}

func (f *fakeInquiryActivities) at(action string) time.Time {
	for _, c := range f.changes {
		if c.Action == action {
			return c.At
		}
	}
	return time.Time{}
}

const h = time.Hour

// newInquiryEnv registers the workflow with recording activities; send, if
// given, replaces the email activity.
func newInquiryEnv(t *testing.T, send ...func(context.Context, workflows.InquiryEmail) error) (*testsuite.TestWorkflowEnvironment, *fakeInquiryActivities) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	f := &fakeInquiryActivities{}
	email := f.SendInquiryEmail
	if len(send) > 0 {
		email = send[0]
	}
	env.RegisterWorkflowWithOptions(workflows.ExpertInquiryWorkflow, workflow.RegisterOptions{Name: workflows.InquiryWorkflow})
	env.RegisterActivityWithOptions(f.ApplyInquiryChange, activity.RegisterOptions{Name: workflows.ApplyInquiryChangeActivity})
	env.RegisterActivityWithOptions(email, activity.RegisterOptions{Name: workflows.SendInquiryEmailActivity})
	return env, f
}

func inquiryParams() workflows.InquiryParams {
	return workflows.InquiryParams{InquiryID: "inq_1", OrgID: "org_1", SubmittedAt: start, SLA: 48 * h, WarnAfter: 36 * h,
		Reminders: []time.Duration{48 * h, 120 * h}, CustomerTimeout: 336 * h}
}

var (
	expert   = workflows.Actor{UserID: "usr_expert", Role: models.RoleExpert}
	expert2  = workflows.Actor{UserID: "usr_expert2", Role: models.RoleExpert}
	customer = workflows.Actor{UserID: "usr_admin", Role: models.RoleCustomerAdmin}
	mgr      = workflows.Actor{UserID: "usr_manager", Role: models.RoleManager}
)

type inqUpdate struct {
	rejected error
	err      error
	st       workflows.InquiryState
}

func (u *inqUpdate) Accept()          {}
func (u *inqUpdate) Reject(err error) { u.rejected = err }
func (u *inqUpdate) Complete(v any, err error) {
	u.err = err
	if st, ok := v.(workflows.InquiryState); ok {
		u.st = st
	}
}

func cmd(env *testsuite.TestWorkflowEnvironment, after time.Duration, name string, c workflows.InquiryCommand) *inqUpdate {
	u := &inqUpdate{}
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(name, name+after.String()+c.MessageID+c.SampleID, u, c) }, after)
	return u
}

func inquiryResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.InquiryState {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	var st workflows.InquiryState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestInquiryConcludedWithinSLA(t *testing.T) {
	env, f := newInquiryEnv(t)
	claim := cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	report := cmd(env, 10*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_1"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())

	st := inquiryResult(t, env)
	if claim.rejected != nil || report.rejected != nil || claim.st.Assignee != expert.UserID || claim.st.Status != models.InquiryInProgress {
		t.Fatalf("claim %+v report %+v", claim, report)
	}
	if st.Status != models.InquiryConcluded || st.Reports != 1 {
		t.Fatalf("final %+v", st)
	}
	equal(t, "changes", f.actions(), []string{"claimed", "reported"})
	equal(t, "emails", f.emails, []string{"ack/contact", "queued/experts", "report/msg_1/contact"})
}

func TestInquiryWarnsAt75PercentThenBreaches(t *testing.T) {
	env, f := newInquiryEnv(t)
	cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	late := cmd(env, 60*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_1"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())

	st := inquiryResult(t, env)
	equal(t, "changes", f.actions(), []string{"claimed", "sla_warned", "sla_breached", "reported"})
	if got := f.at("sla_warned"); !got.Equal(start.Add(36 * h)) {
		t.Fatalf("warning at %v, want 75%% of 48h after submission", got)
	}
	if got := f.at("sla_breached"); !got.Equal(start.Add(48 * h)) {
		t.Fatalf("breach at %v, want 48h after submission", got)
	}
	equal(t, "emails", f.emails, []string{"ack/contact", "queued/experts", "warning/1/assignee", "breach/1/managers", "report/msg_1/contact"})
	if late.rejected != nil || st.Status != models.InquiryConcluded {
		t.Fatalf("a late report still concludes: %+v", st)
	}
}

func TestInquiryUnassignedWarningGoesToEveryExpert(t *testing.T) {
	env, f := newInquiryEnv(t)
	cmd(env, 50*h, workflows.InquiryCancel, workflows.InquiryCommand{Actor: customer})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())
	st := inquiryResult(t, env)
	equal(t, "emails", f.emails, []string{"ack/contact", "queued/experts", "warning/1/experts", "breach/1/managers", "cancelled/contact"})
	if st.Status != models.InquiryCancelled {
		t.Fatalf("final %+v", st)
	}
}

func TestInquiryPausedClockRemindersAndResume(t *testing.T) {
	env, f := newInquiryEnv(t)
	cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	ask := cmd(env, 20*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportSamples, MessageID: "msg_1"})
	// The customer answers 6 days later with a sample: both reminders went out, no breach while paused.
	sample := cmd(env, 20*h+144*h, workflows.InquirySample, workflows.InquiryCommand{Actor: customer, SampleID: "smp_1"})
	done := cmd(env, 20*h+144*h+30*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_2"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())

	st := inquiryResult(t, env)
	if ask.st.Status != models.InquiryAwaitingCustomer || !ask.st.DueAt.IsZero() {
		t.Fatalf("after samples_needed: %+v", ask.st)
	}
	resumeAt := start.Add(20*h + 144*h)
	if sample.rejected != nil || sample.st.Status != models.InquiryInProgress || !sample.st.DueAt.Equal(resumeAt.Add(48*h)) {
		t.Fatalf("a sample while waiting resumes with a new period: %+v %v", sample.st, sample.rejected)
	}
	equal(t, "changes", f.actions(), []string{"claimed", "reported", "customer_reminded", "customer_reminded", "sample_added", "reported"})
	pausedAt := start.Add(20 * h)
	var reminders []time.Time
	for _, c := range f.changes {
		if c.Action == "customer_reminded" {
			reminders = append(reminders, c.At)
		}
	}
	if !reminders[0].Equal(pausedAt.Add(48*h)) || !reminders[1].Equal(pausedAt.Add(120*h)) {
		t.Fatalf("reminders at %v, want 2 and 5 days after the report", reminders)
	}
	equal(t, "emails", f.emails, []string{"ack/contact", "queued/experts", "report/msg_1/contact", "reminder/1/1/contact", "reminder/1/2/contact", "sample/smp_1/assignee", "report/msg_2/contact"})
	if done.rejected != nil || st.Status != models.InquiryConcluded {
		t.Fatalf("final %+v", st)
	}
}

func TestInquiryClosesWithoutResponseAfter14Days(t *testing.T) {
	env, f := newInquiryEnv(t)
	cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	cmd(env, 2*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportMoreInfo, MessageID: "msg_1"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())

	st := inquiryResult(t, env)
	if st.Status != models.InquiryClosedNoResponse {
		t.Fatalf("final %+v", st)
	}
	if got := f.at("closed_no_response"); !got.Equal(start.Add(2*h + 336*h)) {
		t.Fatalf("closed at %v, want 14 days after the report", got)
	}
	equal(t, "changes", f.actions(), []string{"claimed", "reported", "customer_reminded", "customer_reminded", "closed_no_response"})
	equal(t, "emails", f.emails, []string{"ack/contact", "queued/experts", "report/msg_1/contact", "reminder/1/1/contact", "reminder/1/2/contact", "closed_no_response/contact"})
}

func TestInquiryMoreTimeStartsANewPeriodAndResponseResumes(t *testing.T) {
	env, f := newInquiryEnv(t)
	cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	more := cmd(env, 40*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportMoreTime, MessageID: "msg_1"})
	info := cmd(env, 80*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportMoreInfo, MessageID: "msg_2"})
	answer := cmd(env, 90*h, workflows.InquiryRespond, workflows.InquiryCommand{Actor: customer, MessageID: "msg_3"})
	cmd(env, 100*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_4"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())

	inquiryResult(t, env)
	if !more.st.DueAt.Equal(start.Add(40*h+48*h)) || more.st.Period != 2 || more.st.Warned {
		t.Fatalf("more_time_needed: %+v", more.st)
	}
	if info.rejected != nil || answer.rejected != nil || !answer.st.DueAt.Equal(start.Add(90*h+48*h)) || answer.st.Status != models.InquiryInProgress {
		t.Fatalf("answer resumes with a new period: %+v", answer.st)
	}
	// Warned at 36h into period 1 (start+36h); period 2 started at 40h, warned at 76h; paused at 80h.
	equal(t, "changes", f.actions(), []string{"claimed", "sla_warned", "reported", "sla_warned", "reported", "responded", "reported"})
	if n := len(f.emails); n < 6 {
		t.Fatalf("emails %v", f.emails)
	}
}

func TestInquiryValidatorsRefuseOutOfStateCommands(t *testing.T) {
	env, f := newInquiryEnv(t)
	earlyAnswer := cmd(env, h, workflows.InquiryRespond, workflows.InquiryCommand{Actor: customer, MessageID: "msg_x"})
	claim := cmd(env, 2*h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	claimAgain := cmd(env, 3*h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert2})
	notAssignee := cmd(env, 4*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert2, Category: models.ReportMoreTime, MessageID: "msg_y"})
	badCategory := cmd(env, 5*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: "whatever", MessageID: "msg_z"})
	managerReports := cmd(env, 6*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: mgr, Category: models.ReportConcluded, MessageID: "msg_1"})
	afterClose := cmd(env, 7*h, workflows.InquiryCancel, workflows.InquiryCommand{Actor: customer})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())

	st := inquiryResult(t, env)
	if !workflows.IsInvalidState(earlyAnswer.rejected) {
		t.Errorf("a response when nothing is awaited: %v", earlyAnswer.rejected)
	}
	if claim.rejected != nil || !workflows.IsInvalidState(claimAgain.rejected) {
		t.Errorf("claiming a claimed inquiry: %v / %v", claim.rejected, claimAgain.rejected)
	}
	if notAssignee.rejected == nil || workflows.IsInvalidState(notAssignee.rejected) {
		t.Errorf("another expert's report must be forbidden: %v", notAssignee.rejected)
	}
	if badCategory.rejected == nil {
		t.Error("an unknown category must be refused")
	}
	if managerReports.rejected != nil || st.Status != models.InquiryConcluded {
		t.Errorf("a manager may report: %v, %+v", managerReports.rejected, st)
	}
	_ = afterClose // sent after the workflow closed: the environment drops it, as the server would refuse it
	equal(t, "changes", f.actions(), []string{"claimed", "reported"})
}

func TestInquiryAssignByManager(t *testing.T) {
	env, f := newInquiryEnv(t)
	assign := cmd(env, h, workflows.InquiryAssign, workflows.InquiryCommand{Actor: mgr, AssigneeID: expert2.UserID})
	noUser := cmd(env, 2*h, workflows.InquiryAssign, workflows.InquiryCommand{Actor: mgr})
	cmd(env, 3*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert2, Category: models.ReportConcluded, MessageID: "msg_1"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())
	inquiryResult(t, env)
	if assign.rejected != nil || assign.st.Assignee != expert2.UserID || assign.st.Status != models.InquiryInProgress || noUser.rejected == nil {
		t.Fatalf("assign %+v / %v", assign.st, noUser.rejected)
	}
	equal(t, "changes", f.actions(), []string{"assigned", "reported"})
}

func TestInquiryContinuesAsNewWithItsState(t *testing.T) {
	env, _ := newInquiryEnv(t)
	p := inquiryParams()
	p.MaxChanges = 2 // tiny, to force it
	cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	cmd(env, 2*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportMoreTime, MessageID: "msg_1"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, p)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	err := env.GetWorkflowError()
	if !workflow.IsContinueAsNewError(err) {
		t.Fatalf("expected continue-as-new, got %v", err)
	}
}

func TestInquiryResumesFromCarriedState(t *testing.T) {
	env, f := newInquiryEnv(t)
	p := inquiryParams()
	p.State = &workflows.InquiryState{Status: models.InquiryInProgress, Assignee: expert.UserID, PeriodStart: start, DueAt: start.Add(48 * h), Period: 2, Reports: 1}
	cmd(env, h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_2"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, p)
	st := inquiryResult(t, env)
	if st.Status != models.InquiryConcluded || st.Reports != 2 {
		t.Fatalf("final %+v", st)
	}
	equal(t, "emails (no second acknowledgement)", f.emails, []string{"report/msg_2/contact"})
}

func TestInquiryPermanentEmailFailureDoesNotStopTheCase(t *testing.T) {
	env, _ := newInquiryEnv(t, func(ctx context.Context, e workflows.InquiryEmail) error {
		return temporal.NewNonRetryableApplicationError("contact address refused", models.EINVALID, nil)
	})
	cmd(env, h, workflows.InquiryClaim, workflows.InquiryCommand{Actor: expert})
	cmd(env, 2*h, workflows.InquiryReport, workflows.InquiryCommand{Actor: expert, Category: models.ReportConcluded, MessageID: "msg_1"})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())
	if st := inquiryResult(t, env); st.Status != models.InquiryConcluded {
		t.Fatalf("final %+v", st)
	}
}

// Experts are told when work arrives: every expert when the inquiry enters
// the queue, the assignee when a manager assigns it and when the customer
// cancels it (expertNotifications, version 1).
func TestInquiryTellsExpertsWhenWorkArrives(t *testing.T) {
	env, f := newInquiryEnv(t)
	cmd(env, h, workflows.InquiryAssign, workflows.InquiryCommand{Actor: mgr, AssigneeID: expert2.UserID})
	cmd(env, 2*h, workflows.InquiryCancel, workflows.InquiryCommand{Actor: customer})
	env.ExecuteWorkflow(workflows.InquiryWorkflow, inquiryParams())
	inquiryResult(t, env)
	equal(t, "emails", f.emails, []string{"ack/contact", "queued/experts", "assigned/assign1h0m0s/assignee", "cancelled/contact", "cancelled/assignee"})
}
