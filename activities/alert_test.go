package activities_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/huntdesk/huntdesk/activities"
	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/worker"
	"github.com/huntdesk/huntdesk/workflows"
)

// TestAlertNotificationEmailsEachMatchedRecipientOnce runs the real
// notification workflow with the real activities on a real database: each
// email's first send is delivered and then "crashes", Temporal retries it,
// and every recipient the rules matched still gets exactly one email, which
// links to the alert; a recipient of a rule that did not match gets none.
func TestAlertNotificationEmailsEachMatchedRecipientOnce(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	var mu sync.Mutex
	delivered := map[string][]mail.Outgoing{} // recipient → deliveries
	m, err := mail.New(mail.Config{Host: "smtp.invalid", Port: 25, TLSPolicy: "none", From: "huntdesk@huntdesk.example"}, db.Outbox(),
		mail.WithSender(func(ctx context.Context, msg mail.Outgoing) error {
			mu.Lock()
			defer mu.Unlock()
			delivered[msg.To[0]] = append(delivered[msg.To[0]], msg)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	cm := &crashAfterSend{inner: m, crashed: map[string]bool{}}
	acts := &activities.Activities{DB: db, Mail: cm, PublicURL: "https://huntdesk.example"}

	name, devices := "Contoso", 3
	org, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices})
	if err != nil {
		t.Fatal(err)
	}
	admin := models.Principal{UserID: "usr_admin", OrgID: org.ID, Role: models.RoleCustomerAdmin}
	yes := true
	app, _, err := db.CreateApplication(ctx, admin, models.ApplicationInput{ContactName: "C", ContactEmail: "c@contoso.example", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DecideApplication(ctx, app.ID, models.ApplicationApproved, models.Principal{UserID: "usr_mgr", Role: models.RoleManager}, "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, in := range []models.RuleInput{
		{Name: "high", Recipients: []string{"soc@contoso.example", "ciso@contoso.example"}, MinSeverity: "high", IncludeDeviceDetails: true},
		{Name: "edr", Recipients: []string{"edr@contoso.example"}, MinSeverity: "low", ServiceSources: []string{"EDR"}},
	} {
		in.Validate()
		if _, err := db.CreateRule(ctx, admin, org.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	a, err := db.RaiseAlert(ctx, models.Principal{UserID: "usr_expert", Role: models.RoleExpert}, store.NewAlert{
		AlertInput: models.AlertInput{OrgID: org.ID, Title: "Credential theft on FIN-LAPTOP-7", Severity: models.SeverityHigh, Category: "CredentialAccess",
			Devices: []models.AlertDevice{{ID: "dev1", Name: "FIN-LAPTOP-7"}}, RecommendedActions: "Isolate the device."},
		ServiceSource: models.SourceDefenderForEndpoint, DetectionSource: models.SourceDefenderExperts, Tags: []string{models.TagEndpointAttackNotification}}, nil)
	if err != nil {
		t.Fatal(err)
	}

	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	wenv := s.NewTestWorkflowEnvironment()
	worker.Register(wenv, acts)
	wenv.ExecuteWorkflow(workflows.AlertWorkflow, workflows.AlertNotificationParams{AlertID: a.ID, OrgID: org.ID})
	var sent int
	if err := wenv.GetWorkflowResult(&sent); err != nil || sent != 2 {
		t.Fatalf("workflow: sent %d, %v", sent, err)
	}
	if cm.calls != 4 {
		t.Errorf("each email activity should have run twice (crash, retry): %d calls", cm.calls)
	}
	if len(delivered) != 2 || len(delivered["edr@contoso.example"]) != 0 {
		t.Fatalf("recipients: %v", delivered)
	}
	for _, to := range []string{"soc@contoso.example", "ciso@contoso.example"} {
		got := delivered[to]
		if len(got) != 1 {
			t.Fatalf("%s got %d emails, want 1", to, len(got))
		}
		msg := got[0]
		url := "https://huntdesk.example/app/alerts/" + a.ID // the console page
		if !strings.Contains(msg.Text, url) || !strings.Contains(msg.HTML, url) || !strings.Contains(msg.Subject, "[high]") ||
			!strings.Contains(msg.Text, "FIN-LAPTOP-7 (dev1)") || !strings.Contains(msg.Text, "Isolate the device.") {
			t.Fatalf("email to %s:\n%s\n%s", to, msg.Subject, msg.Text)
		}
	}
}
