package activities_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/activities"
	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// An expert who turned an email off does not get it; the others do; the
// preference is read when the email goes.
func TestWorkArrivedEmailsFollowPreferences(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	var mu sync.Mutex
	var got []string
	m, err := mail.New(mail.Config{Host: "smtp.invalid", Port: 25, TLSPolicy: "none", From: "huntdesk@huntdesk.example"}, db.Outbox(),
		mail.WithSender(func(ctx context.Context, o mail.Outgoing) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, o.To...)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	a := &activities.Activities{DB: db, Mail: m, PublicURL: "https://huntdesk.example"}
	mkOrg := func(name string, kind models.OrgKind) *models.Org {
		devices := 1
		o, err := db.CreateOrg(ctx, models.System, kind, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	prov, cust := mkOrg("provider", models.OrgProvider), mkOrg("Alpha", models.OrgCustomer)
	experts := map[string]*models.User{}
	for _, e := range []string{"e1@huntdesk.example", "e2@huntdesk.example"} {
		u, err := db.CreateUser(ctx, models.System, models.UserInput{OrgID: prov.ID, Email: e, Name: e, Role: models.RoleExpert})
		if err != nil {
			t.Fatal(err)
		}
		experts[e] = u
	}
	off := false
	if _, err := db.SetNotifications(ctx, models.Principal{UserID: experts["e2@huntdesk.example"].ID}, models.NotificationPrefs{Queued: &off}); err != nil {
		t.Fatal(err)
	}
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters at least, here.", ContactEmail: "c@alpha.example"}
	kind, _ := in.Validate()
	q, err := db.CreateInquiry(ctx, models.Principal{UserID: "usr_c", OrgID: cust.ID, Role: models.RoleCustomerAdmin}, in, kind, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SendInquiryEmail(ctx, workflows.InquiryEmail{InquiryID: q.ID, Event: "queued", Kind: "queued", Audience: "experts"}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if len(got) != 1 || got[0] != "e1@huntdesk.example" {
		t.Fatalf("queued email went to %v; e2 turned it off", got)
	}
	// Turned on again (the other switches untouched), it goes to both.
	on := true
	u, err := db.SetNotifications(ctx, models.Principal{UserID: experts["e2@huntdesk.example"].ID}, models.NotificationPrefs{Queued: &on})
	if err != nil || !u.Notifications.Wants("queued") || !u.Notifications.Wants("assigned") {
		t.Fatalf("preferences: %+v %v", u, err)
	}
	got = nil
	if err := a.SendInquiryEmail(ctx, workflows.InquiryEmail{InquiryID: q.ID, Event: "queued-again", Kind: "queued", Audience: "experts"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("queued email went to %v", got)
	}
}
