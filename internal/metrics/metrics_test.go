package metrics_test

import (
	"context"
	"errors"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/metrics"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

func TestSDKHandlerUnionOfLabels(t *testing.T) {
	h := metrics.NewSDK()
	h.Counter("requests").Inc(2)
	h.WithTags(map[string]string{"operation": "Start"}).Counter("requests").Inc(3)
	h.WithTags(map[string]string{"task-queue": "q"}).Timer("latency").Record(20 * time.Millisecond)
	h.Gauge("pollers").Update(4)
	reg := prometheus.NewRegistry()
	reg.MustRegister(h)
	want := `
# HELP requests Temporal SDK metric requests.
# TYPE requests counter
requests{operation=""} 2
requests{operation="Start"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "requests"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(h, "latency_seconds"); n != 1 {
		t.Fatalf("latency series: %d", n)
	}
}

func TestEmailOutcomes(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := metrics.NewEmails(reg)
	fail := error(nil)
	m, err := mail.New(mail.Config{Host: "smtp.invalid", Port: 25, TLSPolicy: "none", From: "huntdesk@huntdesk.example"}, &mail.MemoryOutbox{},
		mail.WithSender(func(context.Context, mail.Outgoing) error { return fail }), mail.WithObserver(e.Observe))
	if err != nil {
		t.Fatal(err)
	}
	send := func(event string) {
		m.Send(context.Background(), mail.Message{Entity: "x/1", Event: event, To: []string{"a@b.example"}, Template: "test", Data: map[string]any{"Name": "n"}})
	}
	send("one")
	send("one") // the outbox has it: not sent again
	fail = &textproto.Error{Code: 550, Msg: "no such mailbox"}
	send("two")
	fail = errors.New("dial tcp: connection refused")
	send("three")
	for result, want := range map[string]float64{"sent": 1, "skipped_duplicate": 1, "failed_permanent": 1, "failed_temporary": 1} {
		if got := testutil.ToFloat64(e.Vec().WithLabelValues("test", result)); got != want {
			t.Errorf("%s: %v, want %v", result, got, want)
		}
	}
}

// The business gauges from a real store with known rows.
func TestBusinessGauges(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return t0 }
	name, devices := "Alpha", 3
	o, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
	if err != nil {
		t.Fatal(err)
	}
	p := models.Principal{UserID: "usr_a", OrgID: o.ID, Role: models.RoleCustomerAdmin}
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters at least, here.", ContactEmail: "a@example.com"}
	kind, _ := in.Validate()
	q1, _ := db.CreateInquiry(ctx, p, in, kind, 2*time.Hour)
	db.CreateInquiry(ctx, p, in, kind, 5*time.Hour)
	for i, key := range []string{"b1", "b1", "b2"} { // a retried commit counts once
		if err := db.ApplyInquiryChange(ctx, store.InquiryChange{InquiryID: q1.ID, Key: key, Action: "sla_breached", At: t0.Add(time.Duration(i) * time.Minute), Actor: models.System,
			Status: models.InquiryInProgress, DueAt: t0.Add(2 * time.Hour), Breached: true}); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	db.CreateApplication(ctx, p, models.ApplicationInput{ContactName: "C", ContactEmail: "c@example.com", AcceptPrivacyStatement: &yes}, time.Hour)
	b := metrics.NewBusiness(db)
	b.Now = func() time.Time { return t0.Add(30 * time.Minute) }
	reg := prometheus.NewRegistry()
	reg.MustRegister(b)
	want := `
# HELP huntdesk_cases_open Open cases by kind and status.
# TYPE huntdesk_cases_open gauge
huntdesk_cases_open{kind="application",status="submitted"} 1
huntdesk_cases_open{kind="inquiry",status="in_progress"} 1
huntdesk_cases_open{kind="inquiry",status="submitted"} 1
# HELP huntdesk_sla_breaches_total SLA breaches recorded: inquiry periods that ran out, applications whose review was escalated.
# TYPE huntdesk_sla_breaches_total counter
huntdesk_sla_breaches_total{kind="application"} 0
huntdesk_sla_breaches_total{kind="inquiry"} 2
# HELP huntdesk_sla_next_due_seconds Seconds until the earliest running SLA due time (negative when overdue); absent when none runs.
# TYPE huntdesk_sla_next_due_seconds gauge
huntdesk_sla_next_due_seconds{kind="application"} 1800
huntdesk_sla_next_due_seconds{kind="inquiry"} 5400
# HELP huntdesk_outbox_pending Emails recorded in the outbox and not yet sent.
# TYPE huntdesk_outbox_pending gauge
huntdesk_outbox_pending 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
