package e2e

import (
	"context"
	"testing"
	"time"

	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/workflows"
)

type timerJSON struct {
	Kind, ID string
	DueAt    *time.Time `json:"due_at"`
	Paused   bool
	Breached bool
	Period   int
}

// TestSLATimersAreWhatTheWorkflowsSay moves an inquiry and an application
// through their clocks' states (running, paused, resumed, warned, breached,
// closed) and checks at each step that /sla/timers shows exactly what the
// workflow reports through its query: one source of truth.
func TestSLATimersAreWhatTheWorkflowsSay(t *testing.T) {
	st, c := apiStack(t, fastInquiries(6*time.Second), func(cfg *devstack.Config) { cfg.ReviewSLA = 3 * time.Second })
	tok := st.Tokens
	manager, expert, fab := tok["manager@huntdesk.example"], tok["expert@huntdesk.example"], tok["admin@fabrikam.example"]
	timer := func(id string) (timerJSON, bool) {
		var l struct{ Items []timerJSON }
		c.api("GET", "/api/v1/sla/timers?limit=200", manager, nil).decode(t, &l)
		for _, x := range l.Items {
			if x.ID == id {
				return x, true
			}
		}
		return timerJSON{}, false
	}
	query := func(wfID string, v any) {
		t.Helper()
		r, err := st.Client.QueryWorkflow(context.Background(), wfID, "", "state")
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Get(v); err != nil {
			t.Fatal(err)
		}
	}
	same := func(a *time.Time, b time.Time) bool {
		if a == nil {
			return b.IsZero()
		}
		d := a.Sub(b)
		return d < time.Millisecond && d > -time.Millisecond
	}
	checkInquiry := func(what, id string, open bool) {
		t.Helper()
		var w workflows.InquiryState
		query(workflows.InquiryWorkflowID(id), &w)
		x, listed := timer(id)
		if listed != open || open && (!same(x.DueAt, w.DueAt) || x.Paused != (w.Status == "awaiting_customer") || x.Breached != w.Breached || x.Period != w.Period) {
			t.Fatalf("%s: timers %+v (listed %v), workflow %+v", what, x, listed, w)
		}
	}

	q := ask(t, c, fab)
	checkInquiry("running", q.ID, true)
	step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/claim", expert, nil, 200)
	step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/reports", expert, map[string]any{"category": "more_info_needed", "message": "Which host?"}, 201)
	checkInquiry("paused", q.ID, true)
	step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/responses", fab, map[string]any{"message": "HR-DESKTOP-2"}, 201)
	checkInquiry("resumed", q.ID, true)
	for _, state := range []string{"warned", "breached"} {
		deadline := time.Now().Add(time.Minute)
		for {
			var w workflows.InquiryState
			query(workflows.InquiryWorkflowID(q.ID), &w)
			if state == "warned" && w.Warned || w.Breached {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("never %s", state)
			}
			time.Sleep(50 * time.Millisecond)
		}
		checkInquiry(state, q.ID, true)
	}
	step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/reports", expert, map[string]any{"category": "concluded", "message": "Done."}, 201)
	checkInquiry("closed", q.ID, false)

	// An application: running, then escalated (breached), then decided.
	var app struct{ ID string }
	c.api("POST", "/api/v1/applications", tok["admin@contoso.example"], map[string]any{"contact_name": "C", "contact_email": "c@contoso.example", "accept_privacy_statement": true}).decode(t, &app)
	checkApp := func(what string, open bool) {
		t.Helper()
		var w workflows.ApplicationStatus
		query(workflows.ApplicationWorkflowID(app.ID), &w)
		x, listed := timer(app.ID)
		if listed != open || open && (!same(x.DueAt, w.ReviewDueAt) || x.Breached != (w.EscalatedAt != nil)) {
			t.Fatalf("%s: timers %+v (listed %v), workflow %+v", what, x, listed, w)
		}
	}
	checkApp("running", true)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		var w workflows.ApplicationStatus
		query(workflows.ApplicationWorkflowID(app.ID), &w)
		if w.EscalatedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never escalated")
		}
	}
	checkApp("escalated", true)
	c.api("POST", "/api/v1/applications/"+app.ID+"/approve", manager, map[string]any{})
	checkApp("decided", false)
}
