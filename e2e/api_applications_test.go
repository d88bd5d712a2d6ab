package e2e

// Process A's HTTP API over the real services: internal/cases, the store and
// a real Temporal server running EligibilityApplicationWorkflow. Expected
// results are SPEC.md's (Process A) and the README's, written here by hand.

import (
	"strings"
	"testing"
)

func TestAPIApplicationsOverRealServices(t *testing.T) {
	st, c := apiStack(t)
	manager := st.Tokens["manager@huntdesk.example"]
	type application struct {
		ID, Status string
		OrgID      string `json:"org_id"`
		Timeline   []struct{ Action string }
	}
	type features struct {
		EAN struct {
			State            string
			Visible, Enabled bool
			ApplicationID    *string `json:"application_id"`
		} `json:"endpoint_attack_notifications"`
	}
	body := map[string]any{"contact_name": "Ann Alpha", "contact_email": "ann@tenant.example", "accept_privacy_statement": true}

	t.Run("apply, approve, toggle; a decided application stays decided", func(t *testing.T) {
		c := c.on(t)
		a, b := newTenant(t, c, manager, nil), newTenant(t, c, manager, nil)
		var app application
		r := c.api("POST", "/api/v1/applications", a.admin, body)
		r.decode(t, &app)
		if r.status != 201 || app.Status != "submitted" || app.OrgID != a.orgID || len(app.Timeline) != 1 || app.Timeline[0].Action != "submitted" {
			t.Fatalf("apply: %d %s", r.status, r.body)
		}
		// One open application per org: re-applying returns it.
		if again := c.api("POST", "/api/v1/applications", a.admin, body); again.status != 200 || !strings.Contains(string(again.body), app.ID) {
			t.Fatalf("apply while open: %d %s", again.status, again.body)
		}
		var f features
		c.api("GET", "/api/v1/settings/advanced-features", a.viewer, nil).decode(t, &f)
		if f.EAN.State != "applied" || f.EAN.ApplicationID == nil || *f.EAN.ApplicationID != app.ID || f.EAN.Enabled {
			t.Fatalf("settings while applied: %+v", f)
		}
		if r := c.api("PATCH", "/api/v1/settings/advanced-features/endpoint-attack-notifications", a.admin, map[string]any{"enabled": true}); r.status != 409 || r.code(t) != "invalid_state" {
			t.Fatalf("toggle before approval: %d %s", r.status, r.body)
		}
		// Another org neither sees nor finds it.
		if r := c.api("GET", "/api/v1/applications/"+app.ID, b.admin, nil); r.status != 404 {
			t.Fatalf("another org's application: %d", r.status)
		}
		if r := c.api("GET", "/api/v1/applications", b.admin, nil); strings.Contains(string(r.body), app.ID) {
			t.Fatalf("another org lists it: %s", r.body)
		}
		if r := c.api("POST", "/api/v1/applications/"+app.ID+"/withdraw", b.admin, nil); r.status != 404 {
			t.Fatalf("another org withdraws it: %d %s", r.status, r.body)
		}

		if r := c.api("POST", "/api/v1/applications/"+app.ID+"/reject", manager, map[string]any{}); r.status != 400 || r.fields(t)["reason"] == "" {
			t.Fatalf("reject without a reason: %d %s", r.status, r.body)
		}
		r = c.api("POST", "/api/v1/applications/"+app.ID+"/approve", manager, map[string]any{"note": "ok"})
		r.decode(t, &app)
		if r.status != 200 || app.Status != "approved" {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		c.api("GET", "/api/v1/settings/advanced-features", a.viewer, nil).decode(t, &f)
		if f.EAN.State != "approved" || !f.EAN.Visible || !f.EAN.Enabled {
			t.Fatalf("settings after approval: %+v", f)
		}
		for _, enabled := range []bool{false, true} {
			r := c.api("PATCH", "/api/v1/settings/advanced-features/endpoint-attack-notifications", a.admin, map[string]any{"enabled": enabled})
			r.decode(t, &f)
			if r.status != 200 || f.EAN.Enabled != enabled || !f.EAN.Visible {
				t.Fatalf("toggle %v: %d %s", enabled, r.status, r.body)
			}
		}
		if r := c.api("POST", "/api/v1/applications", a.admin, body); r.status != 409 {
			t.Fatalf("apply when approved: %d %s", r.status, r.body)
		}
		for _, action := range []string{"withdraw", "approve", "reject"} {
			token, body := a.admin, any(nil)
			if action != "withdraw" {
				token = manager
			}
			if action == "reject" {
				body = map[string]any{"reason": "too late"}
			}
			if r := c.api("POST", "/api/v1/applications/"+app.ID+"/"+action, token, body); r.status != 409 || r.code(t) != "invalid_state" {
				t.Fatalf("%s a decided application: %d %s", action, r.status, r.body)
			}
		}
		if r := c.api("GET", "/api/v1/applications?status=approved&org_id="+a.orgID, manager, nil); !strings.Contains(string(r.body), app.ID) {
			t.Fatalf("manager's filtered list: %s", r.body)
		}
		if r := c.api("GET", "/api/v1/applications?status=submitted&org_id="+a.orgID, manager, nil); strings.Contains(string(r.body), app.ID) {
			t.Fatalf("status filter: %s", r.body)
		}
	})

	t.Run("reject with the reason, apply again, withdraw", func(t *testing.T) {
		c := c.on(t)
		a := newTenant(t, c, manager, nil)
		var app application
		c.api("POST", "/api/v1/applications", a.admin, body).decode(t, &app)
		if r := c.api("POST", "/api/v1/applications/"+app.ID+"/reject", manager, map[string]any{"reason": "sensor health below threshold"}); r.status != 200 || !strings.Contains(string(r.body), "sensor health below threshold") {
			t.Fatalf("reject: %d %s", r.status, r.body)
		}
		r := c.api("POST", "/api/v1/applications", a.admin, body)
		r.decode(t, &app)
		if r.status != 201 {
			t.Fatalf("apply again after a rejection: %d %s", r.status, r.body)
		}
		if r := c.api("POST", "/api/v1/applications/"+app.ID+"/withdraw", a.viewer, nil); r.status != 403 {
			t.Fatalf("a viewer withdraws: %d", r.status)
		}
		if r := c.api("POST", "/api/v1/applications/"+app.ID+"/withdraw", a.admin, nil); r.status != 200 || !strings.Contains(string(r.body), `"status":"withdrawn"`) {
			t.Fatalf("withdraw: %d %s", r.status, r.body)
		}
		if r := c.api("POST", "/api/v1/applications/"+app.ID+"/approve", manager, nil); r.status != 409 {
			t.Fatalf("approve a withdrawn application: %d %s", r.status, r.body)
		}
	})
}
