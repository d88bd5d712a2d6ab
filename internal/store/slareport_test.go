package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

// TestSLAReportNumbers builds a known month with fixed times and checks every
// number of the report to the second, percentiles included (nearest rank).
func TestSLAReportNumbers(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	h := time.Hour
	mkOrg := func(name string) (*models.Org, models.Principal) {
		devices := 3
		o, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
		if err != nil {
			t.Fatal(err)
		}
		return o, models.Principal{UserID: "usr_admin_" + name, OrgID: o.ID, Role: models.RoleCustomerAdmin}
	}
	alpha, pa := mkOrg("Alpha")
	bravo, pb := mkOrg("Bravo")
	e1 := models.Principal{UserID: "usr_e1", Role: models.RoleExpert}
	ask := func(p models.Principal, at time.Time) *models.Inquiry {
		db.Now = func() time.Time { return at }
		in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters at least, here.", ContactEmail: "a@example.com"}
		kind, _ := in.Validate()
		q, err := db.CreateInquiry(ctx, p, in, kind, 48*h)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	step := func(q *models.Inquiry, key, action string, at time.Time, st models.InquiryStatus, assignee string, cat models.ReportCategory) {
		t.Helper()
		ch := store.InquiryChange{InquiryID: q.ID, Key: key, Action: action, At: at, Actor: e1, Status: st, Assignee: assignee, Category: cat}
		if action == "reported" || action == "responded" {
			kind := map[string]string{"reported": "report", "responded": "response"}[action]
			id, err := db.DraftMessage(ctx, e1, q.ID, kind, cat, "text")
			if err != nil {
				t.Fatal(err)
			}
			ch.MessageID = id
		}
		if err := db.ApplyInquiryChange(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	// q1 (Alpha, e1): first report at 2 h asking for information, answered
	// 3 h later, concluded at 10 h.
	q1 := ask(pa, t0)
	step(q1, "c1", "claimed", t0.Add(1*h), models.InquiryInProgress, "usr_e1", "")
	step(q1, "r1", "reported", t0.Add(2*h), models.InquiryAwaitingCustomer, "usr_e1", models.ReportMoreInfo)
	step(q1, "a1", "responded", t0.Add(5*h), models.InquiryInProgress, "usr_e1", "")
	step(q1, "r2", "reported", t0.Add(10*h), models.InquiryConcluded, "usr_e1", models.ReportConcluded)
	// q2 (Alpha, e1): breached twice, first report at 60 h, still open.
	q2 := ask(pa, t0.Add(24*h))
	step(q2, "c2", "claimed", t0.Add(25*h), models.InquiryInProgress, "usr_e1", "")
	step(q2, "b1", "sla_breached", t0.Add(72*h), models.InquiryInProgress, "usr_e1", "")
	step(q2, "r3", "reported", t0.Add(84*h), models.InquiryInProgress, "usr_e1", models.ReportMoreTime)
	step(q2, "b2", "sla_breached", t0.Add(132*h), models.InquiryInProgress, "usr_e1", "")
	// q3 (Bravo, e2): first report at 1 h, concluded at 4 h.
	q3 := ask(pb, t0.Add(48*h))
	step(q3, "c3", "claimed", t0.Add(48*h+30*time.Minute), models.InquiryInProgress, "usr_e2", "")
	step(q3, "r4", "reported", t0.Add(49*h), models.InquiryConcluded, "usr_e2", models.ReportConcluded)
	// q4 (Bravo): nobody yet. q5: outside the month.
	ask(pb, t0.Add(100*h))
	ask(pb, t0.Add(-1*h))

	// Applications: one decided on time (after 24 h), one late (after 150 h
	// with a 120 h review), one still open.
	yes := true
	apply := func(p models.Principal, at time.Time, decideAfter time.Duration) {
		db.Now = func() time.Time { return at }
		app, _, err := db.CreateApplication(ctx, p, models.ApplicationInput{ContactName: "C", ContactEmail: "c@example.com", AcceptPrivacyStatement: &yes}, 120*h)
		if err != nil {
			t.Fatal(err)
		}
		if decideAfter > 0 {
			if err := db.DecideApplication(ctx, app.ID, models.ApplicationApproved, models.Principal{UserID: "usr_m", Role: models.RoleManager}, "", "", at.Add(decideAfter)); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply(pa, t0, 24*h)
	apply(pb, t0.Add(h), 150*h)

	rep, err := db.SLAReport(ctx, t0, t0.AddDate(0, 1, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	s := func(d time.Duration) float64 { return d.Seconds() }
	i := rep.Inquiries
	if i.Opened != 4 || i.ReportsSent != 4 || i.Breaches != 2 || i.Breached != 1 || *i.BreachRate != 0.25 || i.AnswersAwaited != 1 {
		t.Fatalf("counts: %+v", i)
	}
	// First reports: 1 h (q3), 2 h (q1), 60 h (q2): p50 rank ceil(1.5)=2 → 2 h; p90 rank ceil(2.7)=3 → 60 h.
	if f := i.FirstReport; f.N != 3 || *f.P50 != s(2*h) || *f.P90 != s(60*h) || *f.Max != s(60*h) {
		t.Fatalf("first report: %+v %v %v %v", f, *f.P50, *f.P90, *f.Max)
	}
	// Conclusions: 1 h (q3), 10 h (q1): p50 rank 1 → 1 h, p90 rank 2 → 10 h.
	if c := i.Conclusion; c.N != 2 || *c.P50 != s(h) || *c.P90 != s(10*h) {
		t.Fatalf("conclusion: %+v", c)
	}
	if w := i.CustomerWait; w.N != 1 || *w.P50 != s(3*h) {
		t.Fatalf("customer wait: %+v", w)
	}
	if len(rep.Experts) != 2 || rep.Experts[0].UserID != "usr_e1" || rep.Experts[0].Open != 1 || rep.Experts[0].Concluded != 1 || rep.Experts[0].Breaches != 2 ||
		*rep.Experts[0].FirstReport != s(2*h) || rep.Experts[1].Concluded != 1 || *rep.Experts[1].FirstReport != s(h) {
		t.Fatalf("experts: %+v", rep.Experts)
	}
	byOrg := map[string]models.OrgStats{}
	for _, o := range rep.Orgs {
		byOrg[o.OrgID] = o
	}
	if a, b := byOrg[alpha.ID], byOrg[bravo.ID]; a.Opened != 2 || a.Breaches != 2 || *a.FirstReport != s(2*h) || b.Opened != 2 || b.Name != "Bravo" || *b.FirstReport != s(h) {
		t.Fatalf("orgs: %+v", rep.Orgs)
	}
	if a := rep.Applications; a.Decided != 2 || a.DecidedLate != 1 || *a.ToDecision.P50 != s(24*h) || *a.ToDecision.Max != s(150*h) {
		t.Fatalf("applications: %+v", a)
	}
	// One org only.
	one, err := db.SLAReport(ctx, t0, t0.AddDate(0, 1, 0), bravo.ID)
	if err != nil || one.Inquiries.Opened != 2 || one.Applications.Decided != 1 || len(one.Orgs) != 1 {
		t.Fatalf("Bravo only: %+v %v", one, err)
	}
	// An empty period: nulls, not zeros.
	none, _ := db.SLAReport(ctx, t0.AddDate(1, 0, 0), t0.AddDate(1, 1, 0), "")
	if none.Inquiries.BreachRate != nil || none.Inquiries.FirstReport.P50 != nil || len(none.Experts) != 0 || none.Experts == nil {
		t.Fatalf("empty period: %+v", none.Inquiries)
	}
}
