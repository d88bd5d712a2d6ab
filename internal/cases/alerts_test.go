package cases

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/mocks"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

// approvedOrg is an org whose Endpoint attack notifications are approved.
func approvedOrg(t *testing.T, db *store.DB) *models.Org {
	t.Helper()
	ctx := context.Background()
	name, devices := "Contoso", 10
	o, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	app, _, err := db.CreateApplication(ctx, models.Principal{UserID: "usr_admin", OrgID: o.ID, Role: models.RoleCustomerAdmin},
		models.ApplicationInput{ContactName: "C", ContactEmail: "c@example.com", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DecideApplication(ctx, app.ID, models.ApplicationApproved, models.Principal{UserID: "usr_mgr", Role: models.RoleManager}, "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestRaiseRetriedAfterATakeoverRaisesOnce: an API process that dies after
// an alert's transaction commits and before its answer is stored leaves the
// Idempotency-Key in progress; once its lease runs out the client's retry
// takes the key over and runs the request again. That retry must find the
// alert the first attempt raised, not raise a second one (the fault suite
// found the duplicate).
func TestRaiseRetriedAfterATakeoverRaisesOnce(t *testing.T) {
	db := storetest.Open(t)
	o := approvedOrg(t, db)
	tc := mocks.NewClient(t)
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(&mocks.WorkflowRun{}, nil).Times(2) // two alerts, each started once
	s := &Alerts{DB: db, Temporal: tc}
	expert := models.Principal{UserID: "usr_expert", Role: models.RoleExpert}
	in := models.AlertInput{OrgID: o.ID, Title: "Credential theft", Severity: models.SeverityHigh, Category: "CredentialAccess",
		Devices: []models.AlertDevice{{ID: "dev-7", Name: "FIN-LAPTOP-7"}}}
	ctx := WithIdempotencyKey(context.Background(), "raise-1")
	first, err := s.Raise(ctx, expert, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Raise(ctx, expert, in) // the retry that took the key over
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID {
		t.Fatalf("the retry raised another alert: %s, then %s", first.ID, again.ID)
	}
	other, err := s.Raise(WithIdempotencyKey(context.Background(), "raise-2"), models.Principal{UserID: "usr_other", Role: models.RoleExpert}, in)
	if err == nil && other.ID == first.ID {
		t.Fatal("another caller's request with the same key is another alert")
	}
}
