package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/cases"
	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

func countActions(q inquiry, action string) int {
	n := 0
	for _, e := range q.Timeline {
		if e.Action == action {
			n++
		}
	}
	return n
}

// TestRetriedUpdatesApplyOnce: an update retried with the same
// Idempotency-Key — after its first attempt applied but its answer was lost
// (a 5xx releases the key) — applies once: the same claim answers success,
// not 409; one report, one period; one sample (issue 18, item 4).
func TestRetriedUpdatesApplyOnce(t *testing.T) {
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	st := stack(t, t.TempDir(), dbURL, time.Hour, fastInquiries(10*time.Minute))
	defer st.Close()
	c := client{t: t, base: st.URL}
	ctx := context.Background()
	fabrikam, expert := st.Tokens["admin@fabrikam.example"], st.Tokens["expert@huntdesk.example"]
	ask := map[string]any{"topic_url": "https://security.microsoft.com/machines/fab-7", "context": "FAB-7 beacons to an odd domain every minute; is it compromised?", "contact_email": "soc@fabrikam.example"}
	var q inquiry
	if r := c.call("POST", "/api/v1/inquiries", fabrikam, ask); r.status != 201 {
		t.Fatalf("submit: %d %s", r.status, r.body)
	} else {
		r.decode(t, &q)
	}
	path := "/api/v1/inquiries/" + q.ID

	// The same claim twice: success both times, one claim.
	for i := 0; i < 2; i++ {
		r := c.call("POST", path+"/claim", expert, nil, "Idempotency-Key", "claim-1")
		r.decode(t, &q)
		if r.status != 200 || q.Status != "in_progress" {
			t.Fatalf("claim attempt %d: %d %s", i+1, r.status, r.body)
		}
	}
	// Another claim (no key) is still refused.
	if r := c.call("POST", path+"/claim", expert, nil); r.status != 409 {
		t.Fatalf("a new claim: %d %s", r.status, r.body)
	}

	// The services as the API calls them, retried with one key.
	svc := &cases.Inquiries{DB: st.DB, Temporal: st.Client, SLA: 10 * time.Minute}
	u, err := st.DB.UserByEmail(ctx, "expert@huntdesk.example")
	if err != nil {
		t.Fatal(err)
	}
	ex := models.Principal{UserID: u.ID, OrgID: u.OrgID, Role: u.Role}
	kctx := cases.WithIdempotencyKey(ctx, "report-1")
	first, err := svc.Report(kctx, ex, q.ID, models.ReportMoreTime, "Still decoding the beacon's payload.")
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.Report(kctx, ex, q.ID, models.ReportMoreTime, "Still decoding the beacon's payload.")
	if err != nil {
		t.Fatalf("retried report: %v", err)
	}
	if first.DueAt == nil || second.DueAt == nil || !first.DueAt.Equal(*second.DueAt) {
		t.Fatalf("the retry moved the due time: %v → %v", first.DueAt, second.DueAt)
	}
	c.call("GET", path, fabrikam, nil).decode(t, &q)
	if len(q.Reports) != 1 || countActions(q, "reported") != 1 {
		t.Fatalf("%d reports, %d reported events after a retried report", len(q.Reports), countActions(q, "reported"))
	}
	c.waitMail("soc@fabrikam.example", "more time")
	if n := c.mailCount("soc@fabrikam.example"); n != 2 { // acknowledgement + one report
		t.Fatalf("%d emails to the contact; want the acknowledgement and one report", n)
	}

	// A sample uploaded twice with one key is one sample.
	cu, _ := st.DB.UserByEmail(ctx, "admin@fabrikam.example")
	cust := models.Principal{UserID: cu.ID, OrgID: cu.OrgID, Role: cu.Role}
	sctx := cases.WithIdempotencyKey(ctx, "sample-1")
	data := []byte("MZ\x90\x00 not really a PE file")
	s1, err := svc.AddSampleStream(sctx, cust, q.ID, "beacon.exe", bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := svc.AddSampleStream(sctx, cust, q.ID, "beacon.exe", bytes.NewReader(data), 1<<20)
	if err != nil || s2.ID != s1.ID {
		t.Fatalf("retried upload: %+v %v; want the first sample %s", s2, err, s1.ID)
	}
	c.call("GET", path, fabrikam, nil).decode(t, &q)
	if len(q.Samples) != 1 || countActions(q, "sample_added") != 1 {
		t.Fatalf("%d samples, %d sample_added events after a retried upload", len(q.Samples), countActions(q, "sample_added"))
	}

	// A cancel and an approval retried with their keys answer success,
	// though their workflows ended with the first attempt.
	for i := 0; i < 2; i++ {
		if r := c.call("POST", path+"/cancel", fabrikam, nil, "Idempotency-Key", "cancel-1"); r.status != 200 {
			t.Fatalf("cancel attempt %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := c.call("POST", path+"/cancel", fabrikam, nil); r.status != 409 {
		t.Fatalf("a new cancel of a cancelled inquiry: %d %s", r.status, r.body)
	}
	var app struct{ ID, Status string }
	c.call("POST", "/api/v1/applications", fabrikam, map[string]any{"contact_name": "Fay", "contact_email": "fay@fabrikam.example", "accept_privacy_statement": true}).decode(t, &app)
	manager := st.Tokens["manager@huntdesk.example"]
	for i := 0; i < 2; i++ {
		r := c.call("POST", "/api/v1/applications/"+app.ID+"/approve", manager, map[string]any{"note": "ok"}, "Idempotency-Key", "approve-1")
		r.decode(t, &app)
		if r.status != 200 || app.Status != "approved" {
			t.Fatalf("approve attempt %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := c.call("POST", "/api/v1/applications/"+app.ID+"/approve", manager, nil); r.status != 409 {
		t.Fatalf("a new approval of an approved application: %d %s", r.status, r.body)
	}
}

var errAfterAccept = errors.New("the API process died after the workflow accepted the update")

// TestAcceptedUpdateKeepsItsText: an update the workflow accepted commits
// even if the API never sees it complete; its text must not be discarded
// (issue 18, item 5). A refused one leaves nothing behind.
func TestAcceptedUpdateKeepsItsText(t *testing.T) {
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	st := stack(t, t.TempDir(), dbURL, time.Hour, fastInquiries(10*time.Minute), func(c *devstack.Config) {})
	defer st.Close()
	c := client{t: t, base: st.URL}
	ctx := context.Background()
	fabrikam, expert := st.Tokens["admin@fabrikam.example"], st.Tokens["expert@huntdesk.example"]
	ask := map[string]any{"topic_url": "https://security.microsoft.com/incidents/77", "context": "An incident with three alerts on two servers; what happened?", "contact_email": "ir@fabrikam.example"}
	var q inquiry
	c.call("POST", "/api/v1/inquiries", fabrikam, ask).decode(t, &q)
	path := "/api/v1/inquiries/" + q.ID
	if r := c.call("POST", path+"/claim", expert, nil); r.status != 200 {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	u, _ := st.DB.UserByEmail(ctx, "expert@huntdesk.example")
	ex := models.Principal{UserID: u.ID, OrgID: u.OrgID, Role: u.Role}
	unposted := func() int64 {
		var n int64
		if err := st.DB.Gorm().Table("inquiry_messages").Where("inquiry_id = ? AND posted = ?", q.ID, false).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Refused by the validator (not the assignee): the draft is discarded.
	other := models.Principal{UserID: "usr_not_the_assignee", Role: models.RoleExpert}
	svc := &cases.Inquiries{DB: st.DB, Temporal: st.Client, SLA: 10 * time.Minute}
	if _, err := svc.Report(ctx, other, q.ID, models.ReportMoreTime, "I am not on this case."); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("report by a non-assignee: %v", err)
	}
	if n := unposted(); n != 0 {
		t.Fatalf("%d drafts left after a refused report", n)
	}

	// Accepted, then the API dies: the report commits with its text.
	svc.Crash = func(step, _ string) error {
		if step == cases.StepAccepted {
			return errAfterAccept
		}
		return nil
	}
	msg := "Lateral movement from SRV-1 to SRV-2 with stolen credentials; reset them."
	if _, err := svc.Report(ctx, ex, q.ID, models.ReportMoreTime, msg); !errors.Is(err, errAfterAccept) {
		t.Fatalf("report: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c.call("GET", path, fabrikam, nil).decode(t, &q)
		if len(q.Reports) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the accepted report never committed: %+v", q)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var full struct {
		Reports []struct{ Message string }
	}
	c.call("GET", path, fabrikam, nil).decode(t, &full)
	if len(full.Reports) != 1 || full.Reports[0].Message != msg {
		t.Fatalf("the committed report lost its text: %+v", full.Reports)
	}
	if mail := c.waitMail("ir@fabrikam.example", "more time"); !strings.Contains(mail.Text, "Lateral movement") {
		t.Fatalf("report email without its text: %q", mail.Text)
	}
}
