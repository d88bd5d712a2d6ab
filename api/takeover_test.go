package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/mocks"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
)

// TestRaiseAlertTakenOverAfterACrashRaisesOnce: an API process that died
// after an alert's commit left its Idempotency-Key in progress; when the
// lease ran out, the client's retry took the key over and ran the request
// again. It must answer the alert the first attempt raised (the fault suite
// found a second alert: the handler did not hand the key to the service).
func TestRaiseAlertTakenOverAfterACrashRaisesOnce(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	ctx := context.Background()
	yes := true
	admin := models.Principal{UserID: f.users["admin_b"].ID, OrgID: f.orgB.ID, Role: models.RoleCustomerAdmin}
	app, _, err := f.db.CreateApplication(ctx, admin, models.ApplicationInput{ContactName: "C", ContactEmail: "c@bravo.example", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.DecideApplication(ctx, app.ID, models.ApplicationApproved, models.Principal{UserID: f.users["manager"].ID, Role: models.RoleManager}, "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	f.temporal.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(&mocks.WorkflowRun{}, nil).Once()
	raise := func() string {
		t.Helper()
		res := f.do(request{method: "POST", path: "/api/v1/alerts", token: f.as("expert"), header: map[string]string{"Idempotency-Key": "raise-1"},
			body: map[string]any{"org_id": f.orgB.ID, "title": "Credential theft", "severity": "high", "category": "CredentialAccess",
				"devices": []map[string]string{{"id": "dev-7", "name": "FIN-LAPTOP-7"}}}})
		if res.Status != http.StatusCreated {
			t.Fatalf("raise: %d %s", res.Status, res.Body)
		}
		var a struct{ ID string }
		res.json(t, &a)
		return a.ID
	}
	first := raise()
	// The process that held the key died before storing the answer; its
	// lease has run out.
	if err := f.db.Gorm().Exec("UPDATE idempotency_keys SET completed = ?, status_code = 0, response_body = '', locked_until = ?",
		false, f.db.Now().Add(-time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	if again := raise(); again != first {
		t.Fatalf("the retry raised another alert: %s, then %s", first, again)
	}
	var n int64
	if err := f.db.Gorm().Table("alerts").Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("%d alerts (%v)", n, err)
	}
}
