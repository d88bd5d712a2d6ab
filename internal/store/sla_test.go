package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

// TestSLATimersAcrossBothKinds builds open cases of both kinds in every
// state with fixed clocks and checks the timers view: order by due time
// (paused last), time left, the filters, and keyset pages across kinds.
func TestSLATimersAcrossBothKinds(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return t0 }
	mk := func(name string) (*models.Org, models.Principal) {
		devices := 3
		o, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
		if err != nil {
			t.Fatal(err)
		}
		return o, models.Principal{UserID: "usr_" + name, OrgID: o.ID, Role: models.RoleCustomerAdmin}
	}
	_, pa := mk("Alpha")
	bravo, pb := mk("Bravo")
	ask := func(p models.Principal, sla time.Duration) *models.Inquiry {
		in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters at least, here.", ContactEmail: "a@example.com"}
		kind, _ := in.Validate()
		q, err := db.CreateInquiry(ctx, p, in, kind, sla)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	change := func(q *models.Inquiry, key string, st models.InquiryStatus, due time.Time, breached bool, assignee string) {
		if err := db.ApplyInquiryChange(ctx, store.InquiryChange{InquiryID: q.ID, Key: key, Action: key, At: t0, Actor: models.System,
			Status: st, DueAt: due, Breached: breached, Assignee: assignee}); err != nil {
			t.Fatal(err)
		}
	}
	running := ask(pa, 10*time.Hour) // due 18:00
	breached := ask(pb, time.Hour)   // due 09:00, breached
	change(breached, "sla_breached", models.InquirySubmitted, t0.Add(time.Hour), true, "")
	paused := ask(pa, 2*time.Hour)
	change(paused, "reported", models.InquiryAwaitingCustomer, time.Time{}, false, "usr_expert")
	closed := ask(pa, 3*time.Hour)
	change(closed, "cancelled", models.InquiryCancelled, time.Time{}, false, "")
	yes := true
	app, _, err := db.CreateApplication(ctx, pb, models.ApplicationInput{ContactName: "B", ContactEmail: "b@example.com", AcceptPrivacyStatement: &yes}, 5*time.Hour) // due 13:00
	if err != nil {
		t.Fatal(err)
	}
	late, _, err := db.CreateApplication(ctx, pa, models.ApplicationInput{ContactName: "A", ContactEmail: "a@example.com", AcceptPrivacyStatement: &yes}, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RecordApplicationEvent(ctx, late.ID, "review_escalated", t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return t0.Add(2 * time.Hour) } // now 10:00

	ids := func(f models.SLATimerFilter) []string {
		t.Helper()
		l, err := db.SLATimers(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range l.Items {
			out = append(out, x.Kind+":"+x.ID)
		}
		return out
	}
	want := []string{"application:" + late.ID, "inquiry:" + breached.ID, "application:" + app.ID, "inquiry:" + running.ID, "inquiry:" + paused.ID}
	if got := ids(models.SLATimerFilter{}); !slices.Equal(got, want) {
		t.Fatalf("all timers:\n got  %v\n want %v", got, want)
	}
	l, _ := db.SLATimers(ctx, models.SLATimerFilter{})
	byID := map[string]models.SLATimer{}
	for _, x := range l.Items {
		byID[x.ID] = x
	}
	if x := byID[breached.ID]; !x.Breached || *x.Seconds != -3600 || *x.TimeLeft != "-1h0m0s" || x.OrgName != "Bravo" || x.BreachCount != 1 {
		t.Fatalf("the breached inquiry: %+v", x)
	}
	if x := byID[running.ID]; x.Breached || *x.Seconds != 8*3600 || x.Paused || x.Period != 1 {
		t.Fatalf("the running inquiry: %+v", x)
	}
	if x := byID[paused.ID]; !x.Paused || x.DueAt != nil || x.TimeLeft != nil || x.PausedSince == nil || !x.PausedSince.Equal(t0) || *x.AssigneeID != "usr_expert" {
		t.Fatalf("the paused inquiry: %+v", x)
	}
	if x := byID[late.ID]; !x.Breached || *x.Seconds != -90*60 {
		t.Fatalf("the escalated application: %+v", x)
	}
	for _, c := range []struct {
		f    models.SLATimerFilter
		want []string
	}{
		{models.SLATimerFilter{Kind: "application"}, []string{"application:" + late.ID, "application:" + app.ID}},
		{models.SLATimerFilter{State: "breached"}, []string{"application:" + late.ID, "inquiry:" + breached.ID}},
		{models.SLATimerFilter{State: "paused"}, []string{"inquiry:" + paused.ID}},
		{models.SLATimerFilter{State: "running"}, []string{"application:" + app.ID, "inquiry:" + running.ID}},
		{models.SLATimerFilter{OrgID: bravo.ID}, []string{"inquiry:" + breached.ID, "application:" + app.ID}},
		{models.SLATimerFilter{AssigneeID: "usr_expert"}, []string{"inquiry:" + paused.ID}},
	} {
		if got := ids(c.f); !slices.Equal(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.f, got, c.want)
		}
	}
	// Pages of 2 across both kinds: the same five, once each, in order.
	var all []string
	cursor := ""
	for range 5 {
		l, err := db.SLATimers(ctx, models.SLATimerFilter{Page: models.Page{Limit: 2, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range l.Items {
			all = append(all, x.Kind+":"+x.ID)
		}
		if cursor = l.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(all, want) {
		t.Fatalf("by pages of 2: %v", all)
	}
}
