package activities_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/textproto"
	"sync"
	"testing"
	"time"

	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/huntdesk/huntdesk/activities"
	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/worker"
	"github.com/huntdesk/huntdesk/workflows"
)

// transport counts what reaches "SMTP".
type transport struct {
	mu        sync.Mutex
	delivered map[string]int // Message-ID → deliveries
}

func (tr *transport) count(id string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.delivered[id]
}

// crashAfterSend is a mailer whose first send of each message is delivered
// and then "crashes" (the worker dies, the connection drops after the server
// accepted): Temporal retries the activity, and the outbox must stop the
// message from going out twice.
type crashAfterSend struct {
	inner   activities.Mailer
	mu      sync.Mutex
	crashed map[string]bool
	calls   int
}

func (c *crashAfterSend) Send(ctx context.Context, m mail.Message) (string, error) {
	id, err := c.inner.Send(ctx, m)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if err == nil && !c.crashed[id] {
		c.crashed[id] = true
		return id, errors.New("worker died after the SMTP server accepted the message")
	}
	return id, err
}

type env struct {
	db   *store.DB
	tr   *transport
	mail *crashAfterSend
	acts *activities.Activities
	org  *models.Org
	user *models.User
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.Open(t)
	tr := &transport{delivered: map[string]int{}}
	m, err := mail.New(mail.Config{Host: "smtp.invalid", Port: 25, TLSPolicy: "none", From: "huntdesk@huntdesk.example"}, db.Outbox(),
		mail.WithSender(func(ctx context.Context, msg mail.Outgoing) error {
			tr.mu.Lock()
			defer tr.mu.Unlock()
			tr.delivered[msg.MessageID]++
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name, devices, sub := "Alpha", 5, models.Subscription{Plan: models.PlanFull}
	org, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &sub})
	if err != nil {
		t.Fatal(err)
	}
	prov, pname := models.OrgInput{}, "provider"
	prov.Name = &pname
	p, err := db.CreateOrg(ctx, models.System, models.OrgProvider, prov)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, models.System, models.UserInput{OrgID: p.ID, Email: "lead@huntdesk.example", Name: "Lead", Role: models.RoleManager}); err != nil {
		t.Fatal(err)
	}
	user, err := db.CreateUser(ctx, models.System, models.UserInput{OrgID: org.ID, Email: "admin@alpha.example", Name: "Admin", Role: models.RoleCustomerAdmin})
	if err != nil {
		t.Fatal(err)
	}
	cm := &crashAfterSend{inner: m, crashed: map[string]bool{}}
	return &env{db: db, tr: tr, mail: cm, org: org, user: user,
		acts: &activities.Activities{DB: db, Mail: cm, PublicURL: "https://huntdesk.example"}}
}

// TestApplicationApprovedSendsEachEmailOnceDespiteRetries runs the real
// workflow with the real activities on a real database: every email activity
// fails once after its message was delivered, Temporal retries it, and each
// message still reaches SMTP exactly once. The decision lands in the read
// model with the org's toggle.
func TestApplicationApprovedSendsEachEmailOnceDespiteRetries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	yes := true
	actor := models.Principal{UserID: e.user.ID, OrgID: e.org.ID, Role: models.RoleCustomerAdmin}
	app, _, err := e.db.CreateApplication(ctx, actor, models.ApplicationInput{ContactName: "Ann", ContactEmail: "ann@alpha.example", AcceptPrivacyStatement: &yes}, 5*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	wenv := s.NewTestWorkflowEnvironment()
	worker.Register(wenv, e.acts)
	wenv.RegisterDelayedCallback(func() {
		wenv.UpdateWorkflow(workflows.ApplicationApprove, "approve-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("approve rejected: %v", err) },
		}, workflows.DecisionRequest{Actor: workflows.Actor{UserID: "usr_lead", Role: models.RoleManager}, Note: "welcome"})
	}, 6*24*time.Hour) // after the reminder and the escalation
	wenv.ExecuteWorkflow(workflows.ApplicationWorkflow, workflows.ApplicationParams{
		ApplicationID: app.ID, OrgID: e.org.ID, SubmittedAt: app.CreatedAt, ReviewSLA: 5 * 24 * time.Hour, RemindAfter: 4 * 24 * time.Hour,
	})
	if !wenv.IsWorkflowCompleted() || wenv.GetWorkflowError() != nil {
		t.Fatalf("workflow: completed=%v err=%v", wenv.IsWorkflowCompleted(), wenv.GetWorkflowError())
	}

	entries, err := e.db.Outbox().Entries(ctx, "application/"+app.ID)
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]bool{}
	for _, o := range entries {
		events[o.Event] = true
		if o.Status != "sent" || e.tr.count(o.MessageID) != 1 {
			t.Errorf("%s: status %s, delivered %d times; want sent once", o.Event, o.Status, e.tr.count(o.MessageID))
		}
	}
	for _, want := range []string{"received/contact", "new_application/managers", "review_reminder/managers", "review_overdue/managers", "approved/contact"} {
		if !events[want] {
			t.Errorf("no %s email in the outbox: %v", want, events)
		}
	}
	if e.mail.calls != 2*len(entries) {
		t.Errorf("each email activity should have run twice (crash, retry): %d calls for %d emails", e.mail.calls, len(entries))
	}

	got, err := e.db.Application(ctx, "", app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != models.ApplicationApproved || got.ReminderSentAt == nil || got.EscalatedAt == nil {
		t.Fatalf("read model: %+v", got)
	}
	actions := []string{}
	for _, a := range got.Timeline {
		actions = append(actions, a.Action)
	}
	want := []string{"submitted", "review_reminder_sent", "review_escalated", "approved"}
	if len(actions) != len(want) {
		t.Fatalf("timeline %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("timeline %v, want %v", actions, want)
		}
	}
	o, _ := e.db.Org(ctx, "", e.org.ID)
	if ean := o.EAN(); ean.State != models.FeatureApproved || !ean.Visible || !ean.Enabled {
		t.Fatalf("org feature after approval: %+v", ean)
	}
}

// TestDecisionActivityIsIdempotent: a retried commit of the same decision is a
// no-op; a different decision on a decided application is a permanent error.
func TestDecisionActivityIsIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	yes := true
	actor := models.Principal{UserID: e.user.ID, OrgID: e.org.ID, Role: models.RoleCustomerAdmin}
	app, _, err := e.db.CreateApplication(ctx, actor, models.ApplicationInput{ContactName: "Ann", ContactEmail: "ann@alpha.example", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	d := workflows.ApplicationDecision{ApplicationID: app.ID, Status: models.ApplicationRejected, Actor: workflows.Actor{UserID: "usr_lead", Role: models.RoleManager}, Reason: "no", At: time.Now()}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(e.acts)
	for i := 0; i < 2; i++ {
		if _, err := aenv.ExecuteActivity(e.acts.RecordApplicationDecision, d); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	tl, _ := e.db.Timeline(ctx, "application", app.ID)
	if len(tl) != 2 || tl[1].Action != "rejected" {
		t.Fatalf("a retried decision must be recorded once: %+v", tl)
	}
	d.Status = models.ApplicationApproved
	if _, err := aenv.ExecuteActivity(e.acts.RecordApplicationDecision, d); !workflows.IsInvalidState(err) {
		t.Fatalf("approving a rejected application: %v, want a non-retryable invalid_state", err)
	}
}

// quiet drops the test environment's debug log.
var quiet = sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// TestPermanentSMTPFailureIsNotRetried: a 5xx from the relay becomes a
// non-retryable error of type smtp_permanent (Temporal stops retrying, the
// workflow records it); a temporary failure stays retryable.
func TestPermanentSMTPFailureIsNotRetried(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	yes := true
	actor := models.Principal{UserID: e.user.ID, OrgID: e.org.ID, Role: models.RoleCustomerAdmin}
	app, _, err := e.db.CreateApplication(ctx, actor, models.ApplicationInput{ContactName: "Ann", ContactEmail: "ann@alpha.example", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"550 bounce", &textproto.Error{Code: 550, Msg: "5.1.1 no such mailbox"}, true},
		{"451 busy", &textproto.Error{Code: 451, Msg: "4.3.0 try again later"}, false},
		{"relay down", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), false},
	} {
		m, err := mail.New(mail.Config{Host: "smtp.invalid", Port: 25, TLSPolicy: "none", From: "huntdesk@huntdesk.example"}, e.db.Outbox(),
			mail.WithSender(func(context.Context, mail.Outgoing) error { return c.err }))
		if err != nil {
			t.Fatal(err)
		}
		acts := &activities.Activities{DB: e.db, Mail: m, PublicURL: "https://huntdesk.example"}
		var s testsuite.WorkflowTestSuite
		s.SetLogger(quiet)
		aenv := s.NewTestActivityEnvironment()
		aenv.RegisterActivity(acts)
		_, err = aenv.ExecuteActivity(acts.SendApplicationEmail, workflows.ApplicationEmail{ApplicationID: app.ID, Event: workflows.EmailApplicationReceived, Audience: "contact"})
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) {
			t.Fatalf("%s: %v, want an application error", c.name, err)
		}
		if ae.NonRetryable() != c.permanent || (c.permanent && ae.Type() != activities.ESMTPPermanent) {
			t.Errorf("%s: non-retryable=%v type=%s, want non-retryable=%v (%v)", c.name, ae.NonRetryable(), ae.Type(), c.permanent, err)
		}
	}
}
