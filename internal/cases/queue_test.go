package cases

import (
	"context"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

// TestQueueKeepsACustomerToItsOrg: the route admits only staff, but if it
// ever let a customer through, the service still scopes the queue to the
// customer's org.
func TestQueueKeepsACustomerToItsOrg(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	var orgs []*models.Org
	for _, name := range []string{"Alpha", "Bravo"} {
		n, devices := name, 5
		o, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &n, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
		if err != nil {
			t.Fatal(err)
		}
		in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters at least, here.", ContactEmail: "a@example.com"}
		kind, _ := in.Validate()
		if _, err := db.CreateInquiry(ctx, models.Principal{UserID: "usr_" + name, OrgID: o.ID, Role: models.RoleCustomerAdmin}, in, kind, time.Hour); err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, o)
	}
	s := &Inquiries{DB: db}
	l, err := s.Queue(ctx, models.Principal{UserID: "usr_Alpha", OrgID: orgs[0].ID, Role: models.RoleCustomerAdmin}, models.InquiryFilter{})
	if err != nil || len(l.Items) != 1 || l.Items[0].OrgID != orgs[0].ID {
		t.Fatalf("a customer's queue: %+v %v", l.Items, err)
	}
	if l, err := s.Queue(ctx, models.Principal{UserID: "usr_x", Role: models.RoleExpert}, models.InquiryFilter{}); err != nil || len(l.Items) != 2 {
		t.Fatalf("an expert's queue: %d %v", len(l.Items), err)
	}
}
