package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/store/storetest"
)

// TestSLAClocksRunWhileMailIsDown: the SMTP relay is down for the whole test
// (the dev sink is closed: every send is refused at connect), yet an
// inquiry's breach and an application's escalation are committed and show in
// the API while every one of their emails is still unsent. Emails wait; the
// clocks do not.
func TestSLAClocksRunWhileMailIsDown(t *testing.T) {
	st := stack(t, t.TempDir(), storetest.DSN(t), 3*time.Second, fastInquiries(3*time.Second))
	defer st.Close()
	c := client{t: t, base: st.URL}
	if err := st.Mail.Close(); err != nil {
		t.Fatal(err)
	}

	var q inquiry
	r := c.call("POST", "/api/v1/inquiries", st.Tokens["admin@fabrikam.example"], map[string]any{
		"topic_url": "https://security.microsoft.com/machines/abc", "context": "Possible device compromise on a build server.", "contact_email": "soc@fabrikam.example"})
	r.decode(t, &q)
	if r.status != 201 {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	var app struct {
		ID          string
		EscalatedAt *time.Time `json:"escalated_at"`
	}
	r = c.call("POST", "/api/v1/applications", st.Tokens["admin@fabrikam.example"], map[string]any{"contact_name": "F", "contact_email": "f@fabrikam.example", "accept_privacy_statement": true})
	r.decode(t, &app)
	if r.status != 201 {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}

	// A generous deadline: it bounds the wait, it measures nothing.
	deadline := time.Now().Add(90 * time.Second)
	for !q.SLA.Breached || app.EscalatedAt == nil {
		if time.Now().After(deadline) {
			t.Fatalf("clocks stopped while mail is down: inquiry breached=%v, application escalated=%v", q.SLA.Breached, app.EscalatedAt != nil)
		}
		time.Sleep(200 * time.Millisecond)
		c.call("GET", "/api/v1/inquiries/"+q.ID, st.Tokens["manager@huntdesk.example"], nil).decode(t, &q)
		c.call("GET", "/api/v1/applications/"+app.ID, st.Tokens["manager@huntdesk.example"], nil).decode(t, &app)
	}
	// Committed while mail is failing: not one of their emails went out.
	for _, entity := range []string{"inquiry/" + q.ID, "application/" + app.ID} {
		entries, err := st.DB.Outbox().Entries(context.Background(), entity)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Fatalf("%s: no email attempted", entity)
		}
		for _, e := range entries {
			if e.Status == "sent" {
				t.Fatalf("%s: %s was sent, but the relay is down", entity, e.Event)
			}
		}
	}
}
