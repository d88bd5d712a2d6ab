package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
)

func TestApplyValidation(t *testing.T) {
	f := newFixture(t, api.Config{})
	for _, c := range []struct {
		body   any
		fields []string
	}{
		{map[string]any{"contact_name": "A", "contact_email": "a@alpha.example", "accept_privacy_statement": false}, []string{"accept_privacy_statement"}},
		{map[string]any{"contact_name": "A", "contact_email": "a@alpha.example"}, []string{"accept_privacy_statement"}},
		{map[string]any{"contact_name": "", "contact_email": "nope", "accept_privacy_statement": true}, []string{"contact_name", "contact_email"}},
		{map[string]any{"contact_name": "A\r\nBcc: x@y.example", "contact_email": "a@alpha.example", "accept_privacy_statement": true}, []string{"contact_name"}},
	} {
		res := f.do(request{method: "POST", path: "/api/v1/applications", token: f.as("customer_admin"), body: c.body})
		code, fields := res.errorOf(t)
		if res.Status != 400 || code != models.EINVALID {
			t.Fatalf("%v: %d %s", c.body, res.Status, res.Body)
		}
		for _, want := range c.fields {
			if fields[want] == "" {
				t.Fatalf("%v: %q not named in %v", c.body, want, fields)
			}
		}
	}
	l := f.do(request{method: "GET", path: "/api/v1/applications", token: f.as("manager")})
	if !strings.Contains(string(l.Body), `"items":[]`) {
		t.Fatalf("bad applications must create nothing: %s", l.Body)
	}
}

func TestApplyNeedsEnrolledDevices(t *testing.T) {
	f := newFixture(t, api.Config{})
	zero := 0
	if _, err := f.db.UpdateOrg(context.Background(), models.System, f.orgA.ID, models.OrgInput{DevicesEnrolled: &zero}); err != nil {
		t.Fatal(err)
	}
	res := f.do(request{method: "POST", path: "/api/v1/applications", token: f.as("customer_admin"),
		body: map[string]any{"contact_name": "A", "contact_email": "a@alpha.example", "accept_privacy_statement": true}})
	if code, _ := res.errorOf(t); res.Status != 422 || code != models.EPREREQUISITE || !strings.Contains(string(res.Body), "devices") {
		t.Fatalf("no devices: %d %s", res.Status, res.Body)
	}
}

func TestApplicationLifecycleOverHTTP(t *testing.T) {
	f := newFixture(t, api.Config{})
	body := map[string]any{"contact_name": "Ann Alpha", "contact_email": "ann@alpha.example", "accept_privacy_statement": true}
	res := f.do(request{method: "POST", path: "/api/v1/applications", token: f.as("customer_admin"), body: body})
	var app models.Application
	res.json(t, &app)
	if res.Status != 201 || app.Status != models.ApplicationSubmitted || len(app.Timeline) != 1 || app.Timeline[0].Action != "submitted" {
		t.Fatalf("apply: %d %s", res.Status, res.Body)
	}
	again := f.do(request{method: "POST", path: "/api/v1/applications", token: f.as("customer_admin"), body: body})
	if again.Status != 200 || !strings.Contains(string(again.Body), app.ID) {
		t.Fatalf("apply while open: %d %s", again.Status, again.Body)
	}
	settings := f.do(request{method: "GET", path: "/api/v1/settings/advanced-features", token: f.as("customer_viewer")})
	if !strings.Contains(string(settings.Body), `"state":"applied"`) || !strings.Contains(string(settings.Body), app.ID) {
		t.Fatalf("settings while applied: %s", settings.Body)
	}
	toggle := f.do(request{method: "PATCH", path: "/api/v1/settings/advanced-features/endpoint-attack-notifications", token: f.as("customer_admin"), body: map[string]any{"enabled": true}})
	if code, _ := toggle.errorOf(t); toggle.Status != 409 || code != models.EINVALIDSTATE {
		t.Fatalf("toggle before approval: %d %s", toggle.Status, toggle.Body)
	}
	if r := f.do(request{method: "POST", path: "/api/v1/applications/" + app.ID + "/reject", token: f.as("manager"), body: map[string]any{}}); r.Status != 400 {
		t.Fatalf("reject without reason: %d %s", r.Status, r.Body)
	}
	if r := f.do(request{method: "POST", path: "/api/v1/applications/" + app.ID + "/approve", token: f.as("manager"), body: map[string]any{"note": "ok"}}); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	settings = f.do(request{method: "GET", path: "/api/v1/settings/advanced-features", token: f.as("customer_viewer")})
	if !strings.Contains(string(settings.Body), `"state":"approved","visible":true,"enabled":true`) {
		t.Fatalf("settings after approval: %s", settings.Body)
	}
	for _, enabled := range []bool{false, true} {
		r := f.do(request{method: "PATCH", path: "/api/v1/settings/advanced-features/endpoint-attack-notifications", token: f.as("customer_admin"), body: map[string]any{"enabled": enabled}})
		var got struct {
			EAN models.EndpointAttackNotifications `json:"endpoint_attack_notifications"`
		}
		r.json(t, &got)
		if r.Status != 200 || got.EAN.Enabled != enabled || !got.EAN.Visible {
			t.Fatalf("toggle %v: %d %s", enabled, r.Status, r.Body)
		}
	}
	if r := f.do(request{method: "PATCH", path: "/api/v1/settings/advanced-features/endpoint-attack-notifications", token: f.as("customer_admin"), body: map[string]any{}}); r.Status != 400 {
		t.Fatalf("toggle without enabled: %d", r.Status)
	}
	if r := f.do(request{method: "POST", path: "/api/v1/applications", token: f.as("customer_admin"), body: body}); r.Status != 409 {
		t.Fatalf("apply when approved: %d %s", r.Status, r.Body)
	}
	if r := f.do(request{method: "POST", path: "/api/v1/applications/" + app.ID + "/withdraw", token: f.as("customer_admin")}); r.Status != 409 {
		t.Fatalf("withdraw a decided application: %d %s", r.Status, r.Body)
	}
	list := f.do(request{method: "GET", path: "/api/v1/applications?status=approved", token: f.as("manager")})
	if !strings.Contains(string(list.Body), app.ID) {
		t.Fatalf("manager's filtered list: %s", list.Body)
	}
	if r := f.do(request{method: "GET", path: "/api/v1/applications?status=bogus", token: f.as("manager")}); r.Status != 400 {
		t.Fatalf("bad status filter: %d", r.Status)
	}
	other := f.do(request{method: "GET", path: "/api/v1/applications", token: f.as("admin_b")})
	if strings.Contains(string(other.Body), app.ID) {
		t.Fatal("another org sees Alpha's application")
	}
	if r := f.do(request{method: "GET", path: "/api/v1/settings/advanced-features", token: f.as("manager")}); r.Status != 400 {
		t.Fatalf("staff without org_id: %d", r.Status)
	}
}
