package e2e

import (
	"strings"
	"testing"
)

// TestExpertsAreToldWhenWorkArrives: on the real stack, the expert gets an
// email when an inquiry enters the queue, when a manager assigns it to them,
// and when the customer cancels it; PATCH /me turns one off.
func TestExpertsAreToldWhenWorkArrives(t *testing.T) {
	st, c := apiStack(t)
	tok := st.Tokens
	expert, manager := tok["expert@huntdesk.example"], tok["manager@huntdesk.example"]
	expertID, _ := me(t, c, expert)
	q := ask(t, c, tok["admin@fabrikam.example"])
	if m := c.waitMail("expert@huntdesk.example", "New inquiry in the queue", q.ID); !strings.Contains(m.Text, "/app/inquiries/"+q.ID) {
		t.Fatalf("queued email: %+v", m)
	}
	step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/assign", manager, map[string]any{"user_id": expertID}, 200)
	c.waitMail("expert@huntdesk.example", "is assigned to you", q.ID)
	step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/cancel", tok["admin@fabrikam.example"], nil, 200)
	c.waitMail("expert@huntdesk.example", "cancelled inquiry", q.ID)

	r := c.api("PATCH", "/api/v1/me", expert, map[string]any{"notifications": map[string]any{"queued": false}})
	if r.status != 200 || !strings.Contains(string(r.body), `"queued":false`) {
		t.Fatalf("PATCH /me: %d %s", r.status, r.body)
	}
	if r := c.api("PATCH", "/api/v1/me", expert, map[string]any{"notifications": map[string]any{"queued": "no"}}); r.status != 400 {
		t.Fatalf("a bad switch: %d %s", r.status, r.body)
	}
}
