package api_test

// Process A's HTTP validation over the real cases.Applications and the real
// store; nothing here reaches Temporal. The lifecycle (apply, decide,
// withdraw, toggle) runs over a real Temporal server in
// e2e/api_applications_test.go.

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
		{map[string]any{"contact_name": "A\x00", "contact_email": "a@alpha.example", "accept_privacy_statement": true}, []string{"contact_name"}},
		{map[string]any{"contact_name": "A\tB", "contact_email": "a\x00@alpha.example", "accept_privacy_statement": true}, []string{"contact_name", "contact_email"}},
	} {
		res := f.do(request{method: "POST", path: "/api/v1/applications", token: f.as("customer_admin"), body: c.body})
		code, fields := res.errorOf(t)
		if res.Status != 400 || code != models.EINVALID {
			t.Fatalf("%q: %d %s", c.body, res.Status, res.Body)
		}
		for _, want := range c.fields {
			if fields[want] == "" {
				t.Fatalf("%q: %q not named in %v", c.body, want, fields)
			}
		}
	}
	l := f.do(request{method: "GET", path: "/api/v1/applications", token: f.as("manager")})
	if !strings.Contains(string(l.Body), `"items":[]`) {
		t.Fatalf("bad applications must create nothing: %s", l.Body)
	}
}

func TestDecisionValidation(t *testing.T) {
	f := newFixture(t, api.Config{})
	// Refused on the body alone, before the application is looked up.
	for _, c := range []struct {
		action string
		body   map[string]any
		field  string
	}{
		{"reject", map[string]any{}, "reason"},
		{"reject", map[string]any{"reason": "   "}, "reason"},
		{"reject", map[string]any{"reason": "no\x00"}, "reason"},
		{"reject", map[string]any{"reason": "no", "note": "x"}, "note"},
		{"approve", map[string]any{"note": "welcome\x00"}, "note"},
		{"approve", map[string]any{"reason": "why"}, "reason"},
	} {
		r := f.do(request{method: "POST", path: "/api/v1/applications/app_0/" + c.action, token: f.as("manager"), body: c.body})
		if code, fields := r.errorOf(t); r.Status != 400 || code != models.EINVALID || fields[c.field] == "" {
			t.Errorf("%s %q: %d %s, want 400 naming %s", c.action, c.body, r.Status, r.Body, c.field)
		}
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

func TestSettingsValidation(t *testing.T) {
	f := newFixture(t, api.Config{})
	if r := f.do(request{method: "GET", path: "/api/v1/settings/advanced-features", token: f.as("manager")}); r.Status != 400 {
		t.Fatalf("staff without org_id: %d", r.Status)
	}
	if r := f.do(request{method: "PATCH", path: "/api/v1/settings/advanced-features/endpoint-attack-notifications", token: f.as("customer_admin"), body: map[string]any{}}); r.Status != 400 {
		t.Fatalf("toggle without enabled: %d", r.Status)
	}
	toggle := f.do(request{method: "PATCH", path: "/api/v1/settings/advanced-features/endpoint-attack-notifications", token: f.as("customer_admin"), body: map[string]any{"enabled": true}})
	if code, _ := toggle.errorOf(t); toggle.Status != 409 || code != models.EINVALIDSTATE {
		t.Fatalf("toggle before approval: %d %s", toggle.Status, toggle.Body)
	}
	if r := f.do(request{method: "GET", path: "/api/v1/applications?status=bogus", token: f.as("manager")}); r.Status != 400 {
		t.Fatalf("bad status filter: %d", r.Status)
	}
}
