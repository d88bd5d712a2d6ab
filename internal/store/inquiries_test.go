package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

func ptr[T any](v T) *T { return &v }

// customer creates a customer org with the given subscription and returns an
// admin principal of it (CreateInquiry does not look the user up).
func customer(t *testing.T, db *store.DB, name string, sub *models.Subscription, devices int) models.Principal {
	t.Helper()
	o, err := db.CreateOrg(context.Background(), models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: sub})
	if err != nil {
		t.Fatal(err)
	}
	return models.Principal{UserID: "usr_" + name, OrgID: o.ID, Role: models.RoleCustomerAdmin}
}

func askInput() models.InquiryInput {
	return models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/da1", Context: "A suspicious PowerShell command line ran.", ContactEmail: "secops@example.com"}
}

// TestTrialAllowanceUnderConcurrency: 30 simultaneous creates on a trial
// with an allowance of 1 make exactly one inquiry (issue 18, item 15). On
// PostgreSQL (DATABASE_URL set) a count-then-insert lets several through.
func TestTrialAllowanceUnderConcurrency(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	p := customer(t, db, "Trial", &models.Subscription{Plan: models.PlanTrial, TrialEndsAt: ptr(time.Now().Add(24 * time.Hour)), TrialAllowance: ptr(1)}, 10)
	const n = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, exhausted := 0, 0
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			in := askInput()
			kind, _ := in.Validate()
			_, err := db.CreateInquiry(ctx, p, in, kind, 48*time.Hour)
			mu.Lock()
			defer mu.Unlock()
			switch models.ErrorCode(err) {
			case "":
				ok++
			case models.ETRIALEXHAUSTED:
				exhausted++
			default:
				t.Errorf("create: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok != 1 || exhausted != n-1 {
		t.Fatalf("allowance 1, %d concurrent creates: %d created, %d refused as exhausted", n, ok, exhausted)
	}
	l, err := db.Inquiries(ctx, models.InquiryFilter{OrgID: p.OrgID})
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("inquiries of the org: %d (%v)", len(l.Items), err)
	}
}

func auditCount(t *testing.T, db *store.DB, entity, id, action string) int {
	t.Helper()
	tl, err := db.Timeline(context.Background(), entity, id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range tl {
		if e.Action == action {
			n++
		}
	}
	return n
}

// TestRetriedInquiryCommitIsNoOp: ApplyInquiryChange retried after its first
// attempt landed (the activity's answer was lost) changes nothing: one audit
// row, the breach counted once, the report posted once (issue 18, item 16).
func TestRetriedInquiryCommitIsNoOp(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	p := customer(t, db, "Full", &models.Subscription{Plan: models.PlanFull}, 10)
	in := askInput()
	kind, _ := in.Validate()
	q, err := db.CreateInquiry(ctx, p, in, kind, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	at := q.CreatedAt.Add(48 * time.Hour)
	breach := store.InquiryChange{InquiryID: q.ID, Key: "breach/1", Action: "sla_breached", Actor: models.System, At: at,
		Status: models.InquirySubmitted, DueAt: *q.DueAt, Breached: true}
	for i := 0; i < 3; i++ {
		if err := db.ApplyInquiryChange(ctx, breach); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	got, err := db.Inquiry(ctx, "", q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.BreachCount != 1 || !got.SLA.Breached {
		t.Fatalf("breach_count %d, breached %v after a retried breach commit; want 1, true", got.BreachCount, got.SLA.Breached)
	}
	if n := auditCount(t, db, "inquiry", q.ID, "sla_breached"); n != 1 {
		t.Fatalf("%d sla_breached audit rows; want 1", n)
	}

	// A report: posted once, first_report_at set by the first attempt only.
	expert := models.Principal{UserID: "usr_expert", Role: models.RoleExpert}
	msg, err := db.DraftMessage(ctx, expert, q.ID, "report", models.ReportMoreTime, "Still looking.")
	if err != nil {
		t.Fatal(err)
	}
	rep := store.InquiryChange{InquiryID: q.ID, Key: "update/rep1", Action: "reported", Actor: expert, At: at.Add(time.Hour),
		Status: models.InquiryInProgress, Assignee: expert.UserID, DueAt: at.Add(49 * time.Hour), Category: models.ReportMoreTime, MessageID: msg}
	if err := db.ApplyInquiryChange(ctx, rep); err != nil {
		t.Fatal(err)
	}
	first, _ := db.Inquiry(ctx, "", q.ID)
	rep2 := rep
	if err := db.ApplyInquiryChange(ctx, rep2); err != nil {
		t.Fatal(err)
	}
	again, _ := db.Inquiry(ctx, "", q.ID)
	if len(again.Reports) != 1 || auditCount(t, db, "inquiry", q.ID, "reported") != 1 {
		t.Fatalf("%d reports, %d reported audit rows after a retried commit", len(again.Reports), auditCount(t, db, "inquiry", q.ID, "reported"))
	}
	if !again.UpdatedAt.Equal(first.UpdatedAt) || again.BreachCount != 1 || again.Breached {
		t.Fatalf("the retry changed the row: updated_at %v → %v, breach_count %d, breached %v", first.UpdatedAt, again.UpdatedAt, again.BreachCount, again.Breached)
	}
}

// TestRetriedApplicationDecisionIsNoOp: the decision commit retried after it
// landed answers success and changes nothing (issue 18, item 16).
func TestRetriedApplicationDecisionIsNoOp(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	p := customer(t, db, "Applicant", nil, 10)
	app, created, err := db.CreateApplication(ctx, p, models.ApplicationInput{ContactName: "C", ContactEmail: "c@example.com", AcceptPrivacyStatement: ptr(true)}, 5*24*time.Hour)
	if err != nil || !created {
		t.Fatalf("apply: %v %v", created, err)
	}
	mgr := models.Principal{UserID: "usr_mgr", Role: models.RoleManager}
	at := app.CreatedAt.Add(time.Hour)
	for i := 0; i < 3; i++ {
		if err := db.DecideApplication(ctx, app.ID, models.ApplicationApproved, mgr, "welcome", "", at); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	got, err := db.Application(ctx, "", app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != models.ApplicationApproved || got.DecidedAt == nil || !got.DecidedAt.Equal(at) {
		t.Fatalf("after retries: %s decided at %v", got.Status, got.DecidedAt)
	}
	if n := auditCount(t, db, "application", app.ID, "approved"); n != 1 {
		t.Fatalf("%d approved audit rows; want 1", n)
	}
	o, _ := db.Org(ctx, "", p.OrgID)
	if o.EANState != models.FeatureApproved || !o.EANEnabled || !o.UpdatedAt.Equal(at) {
		t.Fatalf("org after retried decision: %+v", o.EAN())
	}
}

// TestRetriedCreateFindsTheFirstInquiry: a create retried with the same
// request key (its caller's Idempotency-Key) returns the inquiry the first
// attempt made — even on a trial whose one inquiry that was — and another
// key makes another (issue 18, items 1–2).
func TestRetriedCreateFindsTheFirstInquiry(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	p := customer(t, db, "Retry", &models.Subscription{Plan: models.PlanTrial, TrialEndsAt: ptr(time.Now().Add(24 * time.Hour)), TrialAllowance: ptr(2)}, 10)
	in := askInput()
	kind, _ := in.Validate()
	first, _, created, err := db.CreateInquiryStarting(ctx, p, in, kind, time.Hour, "k1", nil)
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	for i := 0; i < 3; i++ {
		again, _, created, err := db.CreateInquiryStarting(ctx, p, in, kind, time.Hour, "k1", nil)
		if err != nil || created || again.ID != first.ID {
			t.Fatalf("retry %d: %+v created %v, %v; want %s", i+1, again, created, err, first.ID)
		}
	}
	other, _, created, err := db.CreateInquiryStarting(ctx, p, in, kind, time.Hour, "k2", nil)
	if err != nil || !created || other.ID == first.ID {
		t.Fatalf("another key: %v %v", created, err)
	}
	if _, err := db.CreateInquiry(ctx, p, in, kind, time.Hour); models.ErrorCode(err) != models.ETRIALEXHAUSTED {
		t.Fatalf("a third inquiry on an allowance of 2: %v", err)
	}
}
