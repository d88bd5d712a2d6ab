package activities_test

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// TestInquiryRecommitAtAnotherTimeIsANoOp: a change re-committed under the
// same key at another time (a retry after the workflow lost the answer) writes
// no second audit row and counts no second breach; the reconcile activity
// finds the change by its key.
func TestInquiryRecommitAtAnotherTimeIsANoOp(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	actor := models.Principal{UserID: e.user.ID, OrgID: e.org.ID, Role: models.RoleCustomerAdmin}
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/a1", Context: "What does this alert mean for us, please?", ContactEmail: "ann@alpha.example"}
	kind, err := in.Validate()
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.db.CreateInquiry(ctx, actor, in, kind, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(e.acts)

	ch := workflows.InquiryChange{InquiryID: q.ID, Key: "breach/1", Action: "sla_breached", Actor: workflows.Actor{UserID: models.SystemActor, Role: "system"},
		At: time.Now().UTC(), Status: models.InquirySubmitted, DueAt: time.Now().Add(time.Hour), Breached: true}
	recorded := func() bool {
		v, err := aenv.ExecuteActivity(e.acts.InquiryChangeRecorded, ch)
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		if err := v.Get(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if recorded() {
		t.Fatal("nothing committed yet")
	}
	for i := range 2 {
		ch.At = ch.At.Add(time.Duration(i) * 3 * time.Second)
		if _, err := aenv.ExecuteActivity(e.acts.ApplyInquiryChange, ch); err != nil {
			t.Fatal(err)
		}
	}
	if !recorded() {
		t.Fatal("the committed change must be found by its key")
	}
	got, err := e.db.Inquiry(ctx, "", q.ID)
	if err != nil {
		t.Fatal(err)
	}
	tl, _ := e.db.Timeline(ctx, "inquiry", q.ID)
	n := 0
	for _, a := range tl {
		if a.Action == "sla_breached" {
			n++
		}
	}
	if n != 1 || got.BreachCount != 1 {
		t.Fatalf("a re-commit at another time: %d audit rows, breach_count %d; want 1 and 1", n, got.BreachCount)
	}
}

// TestApplicationEventsRefusedOnceDecided: the review clock cannot stamp a
// reminder or escalation on a decided application (invalid_state, not
// retried); the reconcile activity sees the decision.
func TestApplicationEventsRefusedOnceDecided(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	yes := true
	actor := models.Principal{UserID: e.user.ID, OrgID: e.org.ID, Role: models.RoleCustomerAdmin}
	app, _, err := e.db.CreateApplication(ctx, actor, models.ApplicationInput{ContactName: "Ann", ContactEmail: "ann@alpha.example", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(e.acts)
	d := workflows.ApplicationDecision{ApplicationID: app.ID, Status: models.ApplicationApproved, Actor: workflows.Actor{UserID: "usr_lead", Role: models.RoleManager}, At: time.Now()}
	landed := func() bool {
		v, err := aenv.ExecuteActivity(e.acts.ApplicationDecisionRecorded, d)
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		if err := v.Get(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if landed() {
		t.Fatal("not decided yet")
	}
	if _, err := aenv.ExecuteActivity(e.acts.RecordApplicationDecision, d); err != nil {
		t.Fatal(err)
	}
	if !landed() {
		t.Fatal("the decision must be found")
	}
	_, err = aenv.ExecuteActivity(e.acts.RecordApplicationEvent, workflows.ApplicationEvent{ApplicationID: app.ID, Action: "review_escalated", At: time.Now()})
	if !workflows.IsInvalidState(err) {
		t.Fatalf("escalating an approved application: %v, want a non-retryable invalid_state", err)
	}
	got, _ := e.db.Application(ctx, "", app.ID)
	if got.EscalatedAt != nil {
		t.Fatalf("escalation stamped on an approved application: %+v", got)
	}
}
